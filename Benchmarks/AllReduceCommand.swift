import ArgumentParser
import AutoencoderKit
import Foundation

/// `allreduce`: times the in-place all-reduce of the communicator the process joins and checks its sums exactly.
struct AllReduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Under mpirun, all-reduce a buffer of floats on every rank, check the sums exactly, and time it.",
        discussion: """
            Rank 0 prints one line: ranks, floats, bytes, the median over the repeats of rank 0's seconds per \
            all-reduce (each one after a barrier), and bytes / median in GB/s. Without mpirun it runs alone (size 1).
            """)

    @Option(name: .long, help: "Floats in the buffer.")
    var count = 500_000
    @Option(name: .long, help: "Timed all-reduces.")
    var repeats = 20

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
    }

    func run() throws {
        let communicator = try Communicators.fromEnvironment()
        do {
            let check = AllReduceCheck(count: count, communicator: communicator)
            let mismatches = try check.broadcastMismatches() + check.allReduceMismatches(repeats: repeats)
            let seconds = Timing.median(check.seconds)
            // The mismatch counts are summed over ranks, so every rank takes the same branch.
            var total = [Double(mismatches)]
            try communicator.allReduceSum(&total)
            try communicator.finalize()
            guard total[0] == 0 else {
                if communicator.isRoot { printError("allreduce: \(Int(total[0])) values differ from the exact sums") }
                throw ExitCode(1)
            }
            if communicator.isRoot {
                let bytes = count * MemoryLayout<Float>.size
                print("allreduce: \(communicator.size) rank\(communicator.size == 1 ? "" : "s"), \(count) floats, \(bytes) bytes, "
                      + "median \(String(format: "%.3g", seconds)) s, "
                      + "\(String(format: "%.3f", Double(bytes) / seconds / 1e9)) GB/s")
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            // A failed collective leaves the other ranks waiting: end them all.
            printError("rank \(communicator.rank): error: \(error)")
            communicator.abort(code: 1)
        }
    }

    private func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Buffers whose sums over ranks are exact in Float, all-reduced and broadcast, with the rank's timings.
final class AllReduceCheck {
    let count: Int
    let communicator: any Communicator
    /// Seconds of each timed all-reduce on this rank.
    private(set) var seconds: [Double] = []

    init(count: Int, communicator: any Communicator) {
        self.count = count
        self.communicator = communicator
    }

    /// Rank `rank`'s value at `index`: a small integer, so the sum over up to 4096 ranks stays below 2²⁴ and exact.
    static func value(rank: Int, index: Int) -> Float { Float(index % 1021 + 3 * (rank % 1024)) }

    /// Broadcasts rank 0's values to the others; returns how many values differ from rank 0's on this rank.
    func broadcastMismatches() throws -> Int {
        var values = (0..<count).map { communicator.isRoot ? Self.value(rank: 0, index: $0) : -1 }
        try communicator.broadcast(&values, root: 0)
        return values.indices.filter { values[$0] != Self.value(rank: 0, index: $0) }.count
    }

    /// All-reduces a freshly filled buffer `repeats` times, timing each call after a barrier; returns how many
    /// sums differ from the exact ones on this rank, over all repeats.
    func allReduceMismatches(repeats: Int) throws -> Int {
        let rankTerm = (0..<communicator.size).reduce(0) { $0 + 3 * ($1 % 1024) }
        var mismatches = 0
        var values = [Float](repeating: 0, count: count)
        for _ in 0..<repeats {
            for index in 0..<count { values[index] = Self.value(rank: communicator.rank, index: index) }
            try communicator.barrier()
            let start = Timing.now()
            try communicator.allReduceSum(&values)
            seconds.append(Timing.now() - start)
            for index in 0..<count where values[index] != Float(communicator.size * (index % 1021) + rankTerm) {
                mismatches += 1
            }
        }
        return mismatches
    }
}
