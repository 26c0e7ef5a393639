/// Why a picture could not be produced (writing files fails with `DataError.writeFailed`, see `AtomicFile`).
public enum PictureError: Error, Equatable, CustomStringConvertible {
    /// zlib's `compress2` failed with the given status code.
    case compressionFailed(status: Int32)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .compressionFailed(let status):
            return "PNG compression failed (zlib status \(status))"
        }
    }
}
