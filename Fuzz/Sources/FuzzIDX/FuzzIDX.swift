import AutoencoderKit
import FuzzSupport

/// IDX decoding (`IDXFormat.decode`) and the data set built from it (`IDXFormat.dataset`), on raw or gzipped
/// input; the decoded tensor's element count must match its shape.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    expectingDataError {
        let tensor = try IDXFormat.decode(bytes, file: "fuzz.idx")
        require(tensor.shape.reduce(1, *) == tensor.elements.count, "shape \(tensor.shape) vs \(tensor.elements.count) elements")
        if tensor.shape.count == 1 { expectingDataError { _ = try tensor.labels(file: "fuzz.idx") } }
        let dataset = try IDXFormat.dataset(images: bytes, labels: nil, name: "fuzz.idx")
        require(dataset.features.count == dataset.count * dataset.dimension, "data set does not fill whole samples")
    }
    return 0
}
