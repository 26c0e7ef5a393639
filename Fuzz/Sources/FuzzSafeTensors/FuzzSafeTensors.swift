import AutoencoderKit
import FuzzSupport

/// safetensors decoding (`SafeTensorsFormat.decode`) with and without the finite-value check; an accepted
/// archive must survive `encode` → `decode` unchanged (compared as bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    expectingDataError { _ = try SafeTensorsFormat.decode(bytes, file: "fuzz.safetensors") }
    expectingDataError {
        let archive = try SafeTensorsFormat.decode(bytes, file: "fuzz.safetensors", allowNonFinite: true)
        let encoded = SafeTensorsFormat.encode(archive)
        do {
            let again = try SafeTensorsFormat.decode(encoded, file: "roundtrip.safetensors", allowNonFinite: true)
            require(SafeTensorsFormat.encode(again) == encoded, "encode → decode → encode changed the bytes")
        } catch {
            fatalError("re-decoding an encoded archive failed: \(error)")
        }
    }
    return 0
}
