/// An 8-bit-per-channel image: rows top to bottom, pixels left to right, channels interleaved.
///
/// The byte of channel `c` of the pixel in column `x`, row `y` is `bytes[(y · width + x) · channels + c]`.
public struct PixelImage: Equatable, Sendable {
    /// How many channels a pixel has and what they mean.
    public enum Format: Sendable, Equatable {
        /// One luminance byte per pixel (PNG colour type 0).
        case gray8
        /// Red, green and blue bytes per pixel (PNG colour type 2).
        case rgb8

        /// Bytes per pixel: 1 for gray, 3 for RGB.
        public var channels: Int {
            switch self {
            case .gray8: return 1
            case .rgb8: return 3
            }
        }
    }

    /// Width in pixels (at least 1).
    public let width: Int
    /// Height in pixels (at least 1).
    public let height: Int
    /// The channel layout.
    public let format: Format
    /// `width · height · format.channels` bytes, row-major with interleaved channels.
    public let bytes: [UInt8]

    /// Wraps `bytes` as a `width` × `height` image of `format`. The size must match exactly.
    public init(width: Int, height: Int, format: Format, bytes: [UInt8]) {
        precondition(width > 0 && height > 0, "PixelImage needs a positive size, got \(width)×\(height)")
        precondition(
            bytes.count == width * height * format.channels,
            "PixelImage \(width)×\(height) \(format) needs \(width * height * format.channels) bytes, "
                + "got \(bytes.count)")
        self.width = width
        self.height = height
        self.format = format
        self.bytes = bytes
    }
}
