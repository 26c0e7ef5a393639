import AutoencoderKit
import Foundation

/// One primitive timed at one shape: its operands (filled identically on every device), the call, and the
/// amount of work that turns a time into GFLOP/s or GB/s.
struct KernelCase {
    /// How an operand starts (a `float32` buffer unless the fill says otherwise).
    enum Fill {
        case uniform(low: Float, high: Float)
        case zero
        /// `uint8` storage: bytes uniform in 0…255.
        case bytes
        /// `float16` storage: values uniform in [low, high), rounded to half.
        case halves(low: Float, high: Float)
        /// `int32` row indices uniform in 0..<rows.
        case indices(rows: Int)
    }

    /// What one call does: floating-point operations, or bytes moved.
    enum Work {
        case flops(Double)
        case bytes(Double)
    }

    let name: String
    let shape: String
    let work: Work
    /// Operand sizes and initial contents, in the order `body` receives them.
    let operands: [(count: Int, fill: Fill)]
    /// Indices of the operands compared against the CPU backend after one call.
    let outputs: [Int]
    /// Only run when large kernels are asked for or the device is an OpenCL GPU.
    var large = false
    let body: (any Device, [BufferSlice]) -> Void

    /// The same case under another name.
    func renamed(_ newName: String) -> KernelCase {
        var copy = KernelCase(name: newName, shape: shape, work: work, operands: operands, outputs: outputs, body: body)
        copy.large = large
        return copy
    }

    /// Allocates and fills the operands on `device` (the same values on every device).
    func makeOperands(on device: any Device) throws -> [BufferSlice] {
        var random = UniformFloats(seed: 0xBE4C_5EED)
        return try operands.map { operand in
            let n = operand.count
            switch operand.fill {
            case .zero:
                return try device.makeBuffer(count: n, dtype: .float32).whole
            case .uniform(let low, let high):
                return try device.makeBuffer(random.next(n, low: low, high: high)).whole
            case .bytes:
                return try device.makeBuffer(bytes: random.next(n, low: 0, high: 256).map { UInt8(min($0, 255)) },
                                             dtype: .uint8).whole
            case .halves(let low, let high):
                let halves = random.next(n, low: low, high: high).map { Float16($0).bitPattern }
                return try device.makeBuffer(bytes: halves.withUnsafeBytes { Array($0) }, dtype: .float16).whole
            case .indices(let rows):
                return try device.makeBuffer(random.next(n, low: 0, high: Float(rows)).map { Int32(min(Int($0), rows - 1)) }).whole
            }
        }
    }

    /// The compared outputs after one call on fresh operands, concatenated.
    func result(on device: any Device) throws -> [Float] {
        let slices = try makeOperands(on: device)
        body(device, slices)
        return outputs.flatMap { device.read(slices[$0]) }
    }
}

extension KernelCase {
    /// C = op(A)·op(B) of M×N×K.
    static func gemm(_ m: Int, _ n: Int, _ k: Int, transposeA: Bool = false, transposeB: Bool = false,
                     label: String, large: Bool = false) -> KernelCase {
        let layout = (transposeA ? "T" : "N") + (transposeB ? "T" : "N")
        var c = KernelCase(name: "gemm " + label, shape: "\(m)×\(n)×\(k) \(layout)", work: .flops(2 * Double(m * n * k)),
                           operands: [(m * k, .uniform(low: -1, high: 1)), (k * n, .uniform(low: -1, high: 1)), (m * n, .zero)],
                           outputs: [2]) { device, x in
            device.gemm(x[0], transposeA: transposeA, x[1], transposeB: transposeB, into: x[2], m: m, n: n, k: k)
        }
        c.large = large
        return c
    }

    /// The forward pass and both gradients of one convolution.
    static func convolution(_ g: ConvGeometry, label: String) -> [KernelCase] {
        let flops = 2 * Double(g.multiplyAdds)
        let shape = "\(g.batch)×\(g.inChannels)×\(g.inHeight)×\(g.inWidth)→\(g.outChannels)×\(g.outHeight)×\(g.outWidth) k\(g.kernelHeight)s\(g.strideH)p\(g.padH)"
        let random = Fill.uniform(low: -1, high: 1)
        return [
            KernelCase(name: "conv forward " + label, shape: shape, work: .flops(flops),
                       operands: [(g.inputCount, random), (g.weightCount, random), (g.outChannels, random), (g.outputCount, .zero)],
                       outputs: [3]) { device, x in
                device.conv2dForward(x[0], weight: x[1], bias: x[2], into: x[3], geometry: g, activation: .relu)
            },
            KernelCase(name: "conv backward input " + label, shape: shape, work: .flops(flops),
                       operands: [(g.outputCount, random), (g.weightCount, random), (g.inputCount, .zero)],
                       outputs: [2]) { device, x in
                device.conv2dBackwardInput(x[0], weight: x[1], into: x[2], geometry: g, accumulate: false)
            },
            KernelCase(name: "conv backward weight " + label, shape: shape, work: .flops(flops),
                       operands: [(g.inputCount, random), (g.outputCount, random), (g.weightCount, .zero)],
                       outputs: [2]) { device, x in
                device.conv2dBackwardWeight(x[0], x[1], into: x[2], geometry: g, accumulate: false)
            },
        ]
    }

    /// The fused latent forward pass: z = μ + exp(½·logvar)·ε with ε drawn, the KL per sample and per dimension,
    /// the latter added to running sums.
    static func reparameterizeKL(batch: Int, dim: Int) -> KernelCase {
        let n = batch * dim
        // reads μ, logvar twice; writes ε, z; per-sample and per-dimension sums are small
        return KernelCase(name: "reparameterize + KL", shape: "\(batch)×\(dim)", work: .bytes(Double(6 * n * 4)),
                          operands: [(n, .uniform(low: -1, high: 1)), (n, .uniform(low: -2, high: 1)), (n, .zero), (n, .zero),
                                     (batch, .zero), (dim, .zero), (dim, .zero)],
                          outputs: [3, 4, 5]) { device, x in
            device.gaussianLatent(mu: x[0], logvar: x[1], batch: batch, dim: dim, eps: x[2], into: x[3],
                                  random: RandomStream(seed: 7, stream: 1), klPerSample: x[4], klPerDimension: x[5],
                                  klDimensionSums: x[6])
        }
    }

    /// Binary cross-entropy from logits with its gradient, per row of `rows`×`cols` (reads x and t, writes the
    /// gradient).
    static func bceWithLogits(rows: Int, cols: Int) -> KernelCase {
        let n = rows * cols
        return KernelCase(name: "bce from logits + gradient", shape: "\(rows)×\(cols)", work: .bytes(Double(3 * n * 4)),
                          operands: [(n, .uniform(low: -6, high: 6)), (n, .uniform(low: 0, high: 1)), (rows, .zero), (n, .zero)],
                          outputs: [2, 3]) { device, x in
            device.reconstructionLoss(.bceWithLogits, prediction: x[0], target: x[1], rows: rows, cols: cols,
                                      perRow: x[2], gradient: x[3], gradientScale: 1 / Float(rows))
        }
    }

    /// One Adam step over `count` parameters (reads θ, g, m, v; writes θ, m, v).
    static func adam(count: Int) -> KernelCase {
        KernelCase(name: "adam update", shape: "\(count) params", work: .bytes(Double(7 * count * 4)),
                   operands: [(count, .uniform(low: -1, high: 1)), (count, .uniform(low: -1, high: 1)),
                              (count, .uniform(low: -0.1, high: 0.1)), (count, .uniform(low: 0, high: 0.01))],
                   outputs: [0, 2, 3]) { device, x in
            device.adamUpdate(parameters: x[0], gradients: x[1], m: x[2], v: x[3], step: 10,
                              hyper: AdamParameters(), gradientScale: nil)
        }
    }

    /// A batch of `batch` rows gathered from `rows`×`cols` data stored as `storage`: the plain float32 copy
    /// (`gather_rows`) for float32, else the converting gather (uint8 images scaled by 1/255, float16 as stored).
    /// Moves the rows read, the indices and the float32 rows written.
    static func gather(_ storage: DType, rows: Int, cols: Int, batch: Int) -> KernelCase {
        let fill: Fill
        switch storage {
        case .uint8: fill = .bytes
        case .float16: fill = .halves(low: -4, high: 4)
        default: fill = .uniform(low: -1, high: 1)
        }
        let name = storage == .float32 ? "gather rows float32" : "gather rows \(storage)→float32"
        let bytes = Double(batch * cols * (storage.size + 4) + batch * 4)
        return KernelCase(name: name, shape: "\(batch) of \(rows)×\(cols)", work: .bytes(bytes),
                          operands: [(rows * cols, fill), (batch, .indices(rows: rows)), (batch * cols, .zero)],
                          outputs: [2]) { device, x in
            switch storage {
            case .float32: device.gatherRows(x[0], indices: x[1], cols: cols, into: x[2])
            case .uint8: device.gatherRows(x[0], indices: x[1], cols: cols, scale: 1 / 255, shift: 0, into: x[2])
            default: device.gatherRows(x[0], indices: x[1], cols: cols, scale: 1, shift: 0, into: x[2])
            }
        }
    }

    /// One launch of the smallest kernel (`fill` of one float), back to back: the cost of a launch itself, host
    /// and device, through the library's launch path (on the CPU backend, the cost of a call).
    static let launch = KernelCase(name: "launch: fill 1 float", shape: "1", work: .bytes(4),
                                   operands: [(1, .uniform(low: 0, high: 1))], outputs: [0]) { device, x in
        device.fill(x[0], with: 0.5)
    }

    /// The suite: products of the reference workloads (forward and both backward products of the MLP VAE's
    /// widest layers), square products, the conv VAE's convolutions at batch 128, the latent, the loss, Adam, the
    /// batch gathers from float32, uint8 and float16 storage, and a bare launch.
    static let suite: [KernelCase] = {
        var cases: [KernelCase] = [
            gemm(128, 256, 784, transposeB: true, label: "fwd x·W1ᵀ"),
            gemm(128, 784, 256, transposeB: true, label: "fwd h·W6ᵀ"),
            gemm(128, 784, 256, label: "bwd dx = dy·W1"),
            gemm(128, 256, 784, label: "bwd dh = dy·W6"),
            gemm(256, 784, 128, transposeA: true, label: "bwd dW1 = dyᵀ·x"),
            gemm(784, 256, 128, transposeA: true, label: "bwd dW6 = dyᵀ·h"),
            gemm(1024, 1024, 1024, label: "square"),
            gemm(4096, 4096, 4096, label: "square", large: true),
        ]
        cases += convolution(ConvGeometry(batch: 128, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 32,
                                          kernel: (4, 4), stride: (2, 2), padding: (1, 1)), label: "1→32")
        cases += convolution(ConvGeometry(batch: 128, inChannels: 32, inHeight: 14, inWidth: 14, outChannels: 64,
                                          kernel: (4, 4), stride: (2, 2), padding: (1, 1)), label: "32→64")
        cases.append(reparameterizeKL(batch: 128, dim: 32))
        cases.append(reparameterizeKL(batch: 65_536, dim: 32))
        cases.append(bceWithLogits(rows: 128, cols: 784))
        cases.append(adam(count: 1 << 20))
        cases.append(gather(.float32, rows: 10_000, cols: 784, batch: 4096))
        cases.append(gather(.uint8, rows: 10_000, cols: 784, batch: 4096))
        cases.append(gather(.float16, rows: 10_000, cols: 256, batch: 4096))
        cases.append(launch)
        return cases
    }()
}

/// Largest `max_rel_error` of a TF32 product row before the tool warns (TF32 rounds inputs to 2⁻¹¹).
let tf32Tolerance = 5e-3

/// Runs the kernel suite on `devices`: each result is checked against the CPU backend's, then timed.
/// Returns one record per (kernel, device). With `precision` TF32, each device that grants it
/// (``PrecisionPrimitives/enableTF32()``) then runs the products again at TF32 (rows `gemm tf32 …`);
/// a device that does not is named on standard error with the reason. `only` keeps the kernels whose name
/// starts with it.
func runKernelBenchmarks(devices: [any Device], large: Bool, precision: MatmulPrecision = .fp32, only: String? = nil,
                         progress: (BenchRecord) -> Void) throws -> [BenchRecord] {
    let reference = devices.first { $0.info.kind == .cpu } ?? CPUDevice()
    let suite = KernelCase.suite.filter { only.map($0.name.hasPrefix) ?? true }
    var records = try runKernelCases(suite, devices: devices, reference: reference, large: large, progress: progress)
    guard precision == .tf32 else { return records }
    let products = suite.filter { $0.name.hasPrefix("gemm ") }
        .map { $0.renamed("gemm tf32 " + $0.name.dropFirst("gemm ".count)) }
    for device in devices where device.info.kind != .cpu {
        if case .unavailable(let reason) = device.enableTF32() {
            FileHandle.standardError.write(Data("note: no TF32 rows for \(device.info.selector): \(reason)\n".utf8))
            continue
        }
        defer { device.disableTF32() }
        let rows = try runKernelCases(products, devices: [device], reference: reference, large: large, progress: progress)
        for row in rows {
            if case .number(let error)? = row["max_rel_error"], !(error <= tf32Tolerance) {
                FileHandle.standardError.write(Data("warning: \(row.jsonLine) exceeds the TF32 tolerance \(tf32Tolerance)\n".utf8))
            }
        }
        records += rows
    }
    return records
}

/// Checks each case on each device against `reference`, then times it.
private func runKernelCases(_ cases: [KernelCase], devices: [any Device], reference: any Device, large: Bool,
                            progress: (BenchRecord) -> Void) throws -> [BenchRecord] {
    var records: [BenchRecord] = []
    for kernel in cases {
        var cpuSeconds: Double?
        var expected: [Float]?
        for device in devices {
            if kernel.large && !large && !device.info.isGPU { continue }
            if expected == nil { expected = try kernel.result(on: reference) }
            var record = BenchRecord()
            record["benchmark"] = .text("kernel")
            record["kernel"] = .text(kernel.name)
            record["shape"] = .text(kernel.shape)
            record["device"] = .text(device.info.selector)
            record["precision"] = .text(device.matmulPrecision.rawValue)
            if device.info.kind != .cpu, let expected {
                record["max_rel_error"] = .number(maxRelativeError(try kernel.result(on: device), expected))
            } else {
                record["max_rel_error"] = .number(0)
            }
            let operands = try kernel.makeOperands(on: device)
            let seconds = Timing.median(on: device) { kernel.body(device, operands) }
            record["us"] = .number(seconds * 1e6)
            switch kernel.work {
            case .flops(let flops): record["gflops"] = .number(flops / seconds * 1e-9)
            case .bytes(let bytes): record["gbps"] = .number(bytes / seconds * 1e-9)
            }
            if device.info.kind == .cpu {
                cpuSeconds = seconds
            } else if let cpuSeconds {
                record["cpu_time_ratio"] = .number(cpuSeconds / seconds)
            }
            progress(record)
            records.append(record)
        }
    }
    return records
}

/// max |a − b| over max |b|: the error relative to the reference's magnitude.
func maxRelativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    precondition(actual.count == expected.count, "results of different sizes")
    var difference = 0.0, scale = 0.0
    for (a, b) in zip(actual, expected) {
        difference = max(difference, abs(Double(a) - Double(b)))
        scale = max(scale, abs(Double(b)))
    }
    return difference / max(scale, .leastNormalMagnitude)
}

/// Table columns of kernel records.
let kernelColumns: [(key: String, title: String)] = [
    ("kernel", "kernel"), ("shape", "shape"), ("device", "device"), ("precision", "precision"), ("us", "µs"), ("gflops", "GFLOP/s"),
    ("gbps", "GB/s"), ("max_rel_error", "max rel. error vs CPU"), ("cpu_time_ratio", "CPU time ÷ this"),
]
