import CZlib

/// A deliberately small, strict PNG reader for the picture tests: 8-bit gray, RGB or RGBA, no interlace. It checks the
/// signature, every chunk's CRC-32, the chunk order and that the zlib stream inflates to exactly the expected
/// number of bytes, then undoes all five PNG row filters.
enum PNGTestDecoder {
    struct Image: Equatable {
        let width: Int
        let height: Int
        /// 1 for gray, 3 for RGB, 4 for RGBA.
        let channels: Int
        let pixels: [UInt8]
        /// Filter byte of each row as stored in the file.
        let filters: [UInt8]
    }

    enum Failure: Error, Equatable {
        case badSignature
        case truncated
        case badCRC(chunk: String)
        case badLayout(String)
        case unsupported(String)
        case inflate(status: Int32, produced: Int, expected: Int)
        case badFilter(UInt8)
    }

    static func decode(_ bytes: [UInt8]) throws -> Image {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Failure.badSignature }
        var chunks: [(type: String, data: [UInt8])] = []
        var offset = 8
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Failure.truncated }
            let length = Int(bigEndian(bytes, at: offset))
            guard offset + 12 + length <= bytes.count else { throw Failure.truncated }
            let typeAndData = Array(bytes[(offset + 4)..<(offset + 8 + length)])
            let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
            let stored = bigEndian(bytes, at: offset + 8 + length)
            let computed = typeAndData.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            guard stored == computed else { throw Failure.badCRC(chunk: type) }
            chunks.append((type, Array(typeAndData.dropFirst(4))))
            offset += 12 + length
        }
        guard chunks.first?.type == "IHDR", chunks.last?.type == "IEND", chunks.last?.data.isEmpty == true else {
            throw Failure.badLayout("chunks \(chunks.map(\.type))")
        }
        let header = chunks[0].data
        guard header.count == 13 else { throw Failure.badLayout("IHDR of \(header.count) bytes") }
        let width = Int(bigEndian(header, at: 0)), height = Int(bigEndian(header, at: 4))
        guard width > 0, height > 0 else { throw Failure.badLayout("size \(width)×\(height)") }
        guard header[8] == 8, header[10] == 0, header[11] == 0, header[12] == 0 else {
            throw Failure.unsupported("depth, compression, filter, interlace \(Array(header[8...]))")
        }
        let channels: Int
        switch header[9] {
        case 0: channels = 1
        case 2: channels = 3
        case 6: channels = 4  // RGBA, as browsers write screenshots
        default: throw Failure.unsupported("colour type \(header[9])")
        }
        let compressed = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        let stride = width * channels
        let expected = height * (stride + 1)
        var raw = [UInt8](repeating: 0, count: expected + 1)  // one spare byte exposes streams that are too long
        var produced = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &produced, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(produced) == expected else {
            throw Failure.inflate(status: status, produced: Int(produced), expected: expected)
        }

        var pixels = [UInt8](repeating: 0, count: height * stride)
        var filters: [UInt8] = []
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            filters.append(filter)
            for i in 0..<stride {
                let value = raw[y * (stride + 1) + 1 + i]
                let a = i >= channels ? Int(pixels[y * stride + i - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + i]) : 0
                let c = i >= channels && y > 0 ? Int(pixels[(y - 1) * stride + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure.badFilter(filter)
                }
                pixels[y * stride + i] = UInt8((Int(value) + predictor) & 0xFF)
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels, filters: filters)
    }

    private static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
