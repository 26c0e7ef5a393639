/// Why a picture or report could not be produced or saved.
public enum PictureError: Error, Equatable, CustomStringConvertible {
    /// zlib's `compress2` failed with the given status code.
    case compressionFailed(status: Int32)
    /// Writing, syncing or renaming the file at `path` failed.
    case writeFailed(path: String, reason: String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .compressionFailed(let status):
            return "PNG compression failed (zlib status \(status))"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
