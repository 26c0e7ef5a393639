import AutoencoderKit
import FuzzSupport

/// `.npy` decoding (`NPYFormat.decode`); an accepted tensor must survive `encode` → `decode` unchanged
/// (compared as bytes, so NaN payloads count as equal).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    expectingDataError {
        let tensor = try NPYFormat.decode(bytes, file: "fuzz.npy")
        expectingDataError { _ = try tensor.finiteFloats(file: "fuzz.npy") }
        expectingDataError { _ = try tensor.labels(file: "fuzz.npy") }
        let encoded = NPYFormat.encode(tensor)
        do {
            let again = try NPYFormat.decode(encoded, file: "roundtrip.npy")
            require(NPYFormat.encode(again) == encoded, "encode → decode → encode changed the bytes")
        } catch {
            fatalError("re-decoding an encoded tensor failed: \(error)")
        }
    }
    return 0
}
