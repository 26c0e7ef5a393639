/// An opaque 8-bit sRGB colour.
public struct RGBColor: Hashable, Sendable {
    /// Red, 0…255.
    public var red: UInt8
    /// Green, 0…255.
    public var green: UInt8
    /// Blue, 0…255.
    public var blue: UInt8

    /// A colour from its three channels.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
    }

    /// The gray with all three channels equal to `level`.
    public init(gray level: UInt8) {
        self.init(red: level, green: level, blue: level)
    }

    /// Pure white.
    public static let white = RGBColor(gray: 255)
    /// Pure black.
    public static let black = RGBColor(gray: 0)
    /// Middle gray (128).
    public static let gray = RGBColor(gray: 128)
    /// A light gray (230) for grid lines.
    public static let lightGray = RGBColor(gray: 230)

    /// Ten well-separated colours (matplotlib's "tab10"): blue, orange, green, red, purple, brown, pink, gray,
    /// olive, cyan.
    public static let palette: [RGBColor] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map(RGBColor.init(hex:))

    /// Colour number `index` of `palette`, cycling (negative indices count from the end).
    public static func palette(_ index: Int) -> RGBColor {
        let count = palette.count
        return palette[((index % count) + count) % count]
    }
}
