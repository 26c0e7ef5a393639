import CZlib

/// gzip decompression through zlib, with a cap on the output so a small file cannot expand without bound.
enum Gzip {
    /// Decompressed output larger than this (4 GiB) is refused.
    static let defaultLimit = 4 << 30

    /// True when `bytes` starts with the gzip magic `1f 8b`.
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed content of the gzip stream `bytes` (concatenated members are joined), growing the
    /// output as data arrives and refusing to go past `limit` bytes.
    static func decompress(_ bytes: [UInt8], file: String, limit: Int = defaultLimit) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(file: file, .decompression("cannot initialise zlib"))
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var consumed = 0
        while true {
            let status: Int32 = bytes.withUnsafeBufferPointer { input in
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                    stream.avail_in = UInt32(clamping: input.count - consumed)
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let before = stream.avail_in
                    let result = inflate(&stream, Z_NO_FLUSH)
                    consumed += Int(before - stream.avail_in)
                    return result
                }
            }
            let produced = chunk.count - Int(stream.avail_out)
            if output.count + produced > limit {
                throw DataError(file: file, .absurdSize("decompresses to more than \(limit) bytes"))
            }
            output.append(contentsOf: chunk[0..<produced])
            switch status {
            case Z_STREAM_END:
                // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is an error.
                let rest = bytes.count - consumed
                if rest == 0 { return output }
                guard isCompressed(Array(bytes[consumed..<min(bytes.count, consumed + 2)])) else {
                    throw DataError(file: file, .decompression("\(rest) bytes of trailing garbage after the stream"))
                }
                guard inflateReset(&stream) == Z_OK else {
                    throw DataError(file: file, .decompression("cannot reset zlib for the next member"))
                }
            case Z_OK:
                if produced == 0 && consumed == bytes.count {
                    throw DataError(file: file, .decompression("unexpected end of compressed data"))
                }
            case Z_BUF_ERROR:
                throw DataError(file: file, .decompression("unexpected end of compressed data"))
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw DataError(file: file, .decompression(reason))
            }
        }
    }
}
