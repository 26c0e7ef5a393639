import AutoencoderKit
import FuzzSupport

/// CSV decoding (`CSVFormat.decode`), unlabelled and with the first header field as the label column;
/// an accepted table must hold whole samples and one label per sample.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    expectingDataError {
        let dataset = try CSVFormat.decode(bytes, file: "fuzz.csv")
        require(dataset.count > 0 && dataset.features.count == dataset.count * dataset.dimension, "partial samples")
        require(dataset.features.allSatisfy(\.isFinite), "a non-finite feature was accepted")
    }
    // The first field of the first line, unquoted, as the label column (exercises the label path).
    let firstLine = bytes.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "\r") }
    if let label = String(validating: firstLine, as: UTF8.self)?.trimmingCharacters(in: .whitespaces), !label.isEmpty {
        expectingDataError {
            let dataset = try CSVFormat.decode(bytes, file: "fuzz.csv", options: CSVOptions(labelColumn: label))
            require(dataset.labels?.count == dataset.count, "labels do not match samples")
        }
    }
    return 0
}
