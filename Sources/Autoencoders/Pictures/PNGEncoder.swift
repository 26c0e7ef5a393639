import CZlib
import Foundation

/// Encodes 8-bit gray and RGB images as PNG (ISO/IEC 15948) files.
///
/// The file is the 8-byte signature followed by three chunks, each `length · type · data · CRC-32(type · data)`:
/// `IHDR` (width, height, bit depth 8, colour type 0 or 2, no interlace), `IDAT` (the zlib stream of the
/// filtered rows, split into pieces of at most 1 MiB) and `IEND`. Each row is prefixed by its filter byte; the
/// encoder tries filters None (0), Sub (1: `x − left`) and Up (2: `x − above`), all mod 256, and keeps the one with
/// the smallest sum of |byte as signed Int8|, the usual heuristic for a small compressed size.
public struct PNGEncoder: Sendable {
    /// zlib compression level, 0 (store) … 9 (smallest); values outside are clamped.
    public var compressionLevel: Int

    /// An encoder compressing at `compressionLevel` (zlib's default is 6).
    public init(compressionLevel: Int = 6) {
        self.compressionLevel = compressionLevel
    }

    /// The PNG file bytes of `image`.
    public func encode(_ image: PixelImage) throws -> [UInt8] {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        header += [8, image.format == .gray8 ? 0 : 2, 0, 0, 0]
        Self.appendChunk("IHDR", header, to: &png)
        let compressed = try compress(Self.filteredRows(of: image))
        let piece = 1 << 20
        for start in stride(from: 0, to: compressed.count, by: piece) {
            Self.appendChunk("IDAT", compressed[start..<min(start + piece, compressed.count)], to: &png)
        }
        Self.appendChunk("IEND", [], to: &png)
        return png
    }

    /// Encodes `image` and atomically replaces the file at `url` with it (temporary file, fsync, rename).
    public func write(_ image: PixelImage, to url: URL) throws {
        try AtomicFile.write(encode(image), to: url)
    }

    /// The rows, each as its filter byte followed by the filtered bytes.
    static func filteredRows(of image: PixelImage) -> [UInt8] {
        let stride = image.width * image.format.channels
        let bpp = image.format.channels
        var output = [UInt8](repeating: 0, count: image.height * (stride + 1))
        var sub = [UInt8](repeating: 0, count: stride)
        var up = [UInt8](repeating: 0, count: stride)
        image.bytes.withUnsafeBufferPointer { pixels in
            output.withUnsafeMutableBufferPointer { out in
                for y in 0..<image.height {
                    let row = pixels.baseAddress! + y * stride
                    var costNone = 0, costSub = 0, costUp = 0
                    for i in 0..<stride {
                        let left: UInt8 = i >= bpp ? row[i - bpp] : 0
                        let above: UInt8 = y > 0 ? row[i - stride] : 0
                        sub[i] = row[i] &- left
                        up[i] = row[i] &- above
                        costNone += Self.cost(row[i])
                        costSub += Self.cost(sub[i])
                        costUp += Self.cost(up[i])
                    }
                    let target = out.baseAddress! + y * (stride + 1)
                    if costSub < costNone && costSub <= costUp {
                        target[0] = 1
                        for i in 0..<stride { target[1 + i] = sub[i] }
                    } else if costUp < costNone {
                        target[0] = 2
                        for i in 0..<stride { target[1 + i] = up[i] }
                    } else {
                        target[0] = 0
                        for i in 0..<stride { target[1 + i] = row[i] }
                    }
                }
            }
        }
        return output
    }

    /// |b| with b read as a signed byte.
    @inline(__always) private static func cost(_ byte: UInt8) -> Int {
        let signed = Int(Int8(bitPattern: byte))
        return signed < 0 ? -signed : signed
    }

    /// The zlib stream (RFC 1950) of `data`.
    private func compress(_ data: [UInt8]) throws -> [UInt8] {
        var capacity = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let level = Int32(min(max(compressionLevel, 0), 9))
        let status = output.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &capacity, input.baseAddress, uLong(input.count), level)
            }
        }
        guard status == Z_OK else { throw PictureError.compressionFailed(status: status) }
        output.removeSubrange(Int(capacity)...)
        return output
    }

    /// Appends `length · type · data · CRC-32(type · data)`.
    private static func appendChunk(_ type: String, _ data: some Collection<UInt8>, to png: inout [UInt8]) {
        png.appendBigEndian(UInt32(data.count))
        let start = png.count
        png += Array(type.utf8)
        png += data
        let crc = png[start...].withContiguousStorageIfAvailable { bytes in
            crc32(0, bytes.baseAddress, uInt(bytes.count))
        }!
        png.appendBigEndian(UInt32(crc))
    }
}

extension [UInt8] {
    /// Appends the four bytes of `value`, most significant first.
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }
}
