import CPUKernels
import Foundation
import Synchronization

/// Splits loops over the CPU's cores.
enum Parallel {
    /// Threads the CPU backend runs its loops on (see ``CoreCount``).
    static let cores = CoreCount.resolve(environment: ProcessInfo.processInfo.environment,
                                         processors: CoreCount.allowedProcessors(),
                                         quota: CoreCount.cgroupQuota())

    /// Runs `body` over disjoint chunks covering `0..<count`, in parallel when each chunk would hold at
    /// least `grain` iterations.
    static func chunks(_ count: Int, grain: Int = 16_384, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = min(cores, max(1, count / max(grain, 1)))
        if parts == 1 {
            body(0..<count)
            return
        }
        let size = (count + parts - 1) / parts
        WorkerPool.shared.run(parts: parts) { p in
            let start = p * size
            let end = min(count, start + size)
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spreading the indices over the cores when the
    /// total work (`count · costPerItem`) is large enough.
    static func forEach(_ count: Int, costPerItem: Int = 1, _ body: (Int) -> Void) {
        let grain = max(1, 16_384 / max(costPerItem, 1))
        chunks(count, grain: grain) { range in
            for i in range { body(i) }
        }
    }
}

/// How many threads the CPU backend uses: `AUTOENCODERKIT_THREADS` when it holds a positive integer, else the
/// processors the process may run on (its CPU affinity: `mpirun` binds each rank to its own cores, `taskset`
/// restricts a process), capped by the CPU quota of its cgroup (a container started with `--cpus 2` on a 64-core
/// host gets 2: its workers spin between loops, and 63 of them on a 2-CPU quota would be throttled).
enum CoreCount {
    /// The processors in the process's CPU affinity mask, else (the mask unreadable) the processors online.
    static func allowedProcessors() -> Int {
        let allowed = aek_allowed_processors()
        return allowed > 0 ? allowed : ProcessInfo.processInfo.activeProcessorCount
    }

    /// The variable that sets the thread count.
    static let variable = "AUTOENCODERKIT_THREADS"

    static func resolve(environment: [String: String], processors: Int, quota: Int?) -> Int {
        if let threads = setting(environment) { return threads }
        return max(1, min(processors, quota ?? .max))
    }

    /// The thread count the variable sets: a positive integer, else nil (unset or unusable).
    static func setting(_ environment: [String: String]) -> Int? {
        guard let text = environment[variable], let threads = Int(text.trimmingCharacters(in: .whitespaces)),
              threads > 0 else { return nil }
        return threads
    }

    /// Why the variable is unusable (set and not empty, but not a positive integer), or nil.
    static func problem(_ environment: [String: String]) -> String? {
        guard let text = environment[variable], !text.trimmingCharacters(in: .whitespaces).isEmpty,
              setting(environment) == nil else { return nil }
        return "\(variable) must be a positive number of threads, got '\(text)'"
    }

    /// Whole CPUs of the cgroup quota (rounded up), or nil when there is none: cgroup v2's `cpu.max`, else v1's
    /// `cpu.cfs_quota_us` and `cpu.cfs_period_us`.
    static func cgroupQuota() -> Int? {
        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
        if let line = read("/sys/fs/cgroup/cpu.max") { return quota(cpuMax: line) }
        guard let quota = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
              let period = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us") else { return nil }
        return self.quota(cpuMax: quota.trimmingCharacters(in: .whitespacesAndNewlines) + " " + period)
    }

    /// ⌈quota / period⌉ from "QUOTA PERIOD" in microseconds; nil for "max" or a negative quota (no limit) and for
    /// anything unreadable.
    static func quota(cpuMax line: String) -> Int? {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else {
            return nil
        }
        return (quota + period - 1) / period
    }
}

/// The threads that run the parts of the CPU backend's parallel loops with the calling thread: one per core
/// beyond the first, started once and kept.
///
/// A training step runs dozens of short parallel loops with serial host code between them. Waking a sleeping
/// thread for each (as `DispatchQueue.concurrentPerform` does) costs 10–20 µs per loop, about as long as a short
/// loop itself, so an idle worker here first spins for about ``spinNanoseconds``, watching for the next loop,
/// and only then sleeps on a condition.
///
/// A loop is published as one atomic ticket holding its generation, the next unclaimed part and the part count;
/// a thread claims a part by advancing the ticket, so it can never take a part of a loop other than the one
/// whose body it runs. One loop runs at a time: a loop started while another runs (from a second thread, or
/// nested inside a part) runs on its caller alone.
final class WorkerPool: @unchecked Sendable {
    /// The pool of the CPU backend: ``Parallel/cores`` − 1 workers.
    static let shared = WorkerPool(workers: Parallel.cores - 1)

    /// How long an idle worker spins before it sleeps.
    static let spinNanoseconds: UInt64 = 50_000

    /// generation (bits 32…63), next part (bits 16…31), part count (bits 0…15).
    private let ticket = Atomic<Int>(0)
    /// Parts claimed but not finished, or not claimed yet, of the current loop.
    private let pending = Atomic<Int>(0)
    /// Held by the thread running a loop.
    private let running = Atomic<Bool>(false)
    /// The current loop's body: written before its ticket is published, read after a part is claimed.
    private var body: ((Int) -> Void)?
    private let sleep = NSCondition()
    private var sleepers = 0

    private init(workers: Int) {
        for index in 0..<max(workers, 0) {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "autoencoderkit-cpu-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(p)` for p in 0..<parts (at most 65,535) on the calling thread and the workers; returns when
    /// every part has finished.
    func run(parts: Int, _ body: (Int) -> Void) {
        precondition(parts >= 0 && parts < 1 << 16, "parallel loop of \(parts) parts")
        guard parts > 1, running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<parts { body(p) }
            return
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            pending.store(parts, ordering: .relaxed)
            let generation = (ticket.load(ordering: .relaxed) >> 32) &+ 1
            ticket.store(generation << 32 | parts, ordering: .releasing)
            sleep.lock()
            if sleepers > 0 { sleep.broadcast() }
            sleep.unlock()
            claimParts(of: generation)
            // the other parts end about when this thread's did; past ~1,000 pauses, a worker has probably lost its
            // core, so let it have this one
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins < 1 << 10 { aek_spin_pause() } else { sched_yield() }
            }
            self.body = nil
        }
        running.store(false, ordering: .releasing)
    }

    /// Claims and runs parts of loop `generation` until none is left unclaimed.
    private func claimParts(of generation: Int) {
        var current = ticket.load(ordering: .acquiring)
        while current >> 32 == generation {
            let next = current >> 16 & 0xFFFF, parts = current & 0xFFFF
            guard next < parts else { return }
            let (claimed, seen) = ticket.compareExchange(expected: current, desired: current &+ 1 << 16,
                                                         ordering: .acquiringAndReleasing)
            if claimed {
                // The loop cannot end before this part does, so `body` is still this loop's.
                body!(next)
                pending.subtract(1, ordering: .releasing)
                current = ticket.load(ordering: .acquiring)
            } else {
                current = seen
            }
        }
    }

    /// A worker: waits for each new loop (spinning, then asleep) and takes parts of it.
    private func work() {
        var seen = ticket.load(ordering: .acquiring) >> 32
        while true {
            var generation = ticket.load(ordering: .acquiring) >> 32
            if generation == seen {
                let start = DispatchTime.now().uptimeNanoseconds
                while generation == seen && DispatchTime.now().uptimeNanoseconds &- start < Self.spinNanoseconds {
                    for _ in 0..<64 { aek_spin_pause() }
                    generation = ticket.load(ordering: .acquiring) >> 32
                }
                if generation == seen {
                    sleep.lock()
                    sleepers += 1
                    while ticket.load(ordering: .acquiring) >> 32 == seen { sleep.wait() }
                    sleepers -= 1
                    sleep.unlock()
                    generation = ticket.load(ordering: .acquiring) >> 32
                }
            }
            seen = generation
            claimParts(of: generation)
        }
    }
}
