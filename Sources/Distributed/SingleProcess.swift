#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The communicator of a process that runs alone: size 1, rank 0, and every collective leaves its values as they are.
public struct SingleProcess: Communicator {
    /// The one process.
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var localRank: Int { 0 }
    public func allReduceSum(_ values: inout [Float]) throws {}
    public func allReduceSum(_ values: inout [Double]) throws {}
    public func broadcast(_ values: inout [Float], root: Int) throws {
        guard root == 0 else { throw CommunicatorError.invalidRoot(root, size: 1) }
    }
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
    public func finalize() throws {}
}
