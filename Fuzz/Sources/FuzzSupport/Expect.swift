import AutoencoderKit

/// The fuzzer's input as an array of bytes.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Runs `body`, accepting a `DataError` (a bad file reported as it should be) and turning any other
/// error into a crash, so the fuzzer records the input that caused it.
public func expectingDataError(_ body: () throws -> Void) {
    do {
        try body()
    } catch is DataError {
        return
    } catch {
        fatalError("a parser threw a non-DataError: \(String(reflecting: error))")
    }
}

/// Crashes with `message` unless `condition` holds: a broken invariant on data the parser accepted.
public func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
