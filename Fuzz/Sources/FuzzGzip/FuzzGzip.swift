import AutoencoderKit
import FuzzSupport

/// gzip inflation as the IDX loader does it: inputs that start with the gzip magic `1f 8b` are decompressed
/// (members joined, output capped, trailing garbage refused) and the result parsed as IDX. Other inputs are
/// rejected (returning -1 keeps them out of the corpus) so the fuzzer spends its time inside zlib's input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    guard bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B else { return -1 }
    expectingDataError { _ = try IDXFormat.decode(bytes, file: "fuzz.idx.gz") }
    return 0
}
