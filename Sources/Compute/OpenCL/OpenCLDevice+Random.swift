extension RandomStream {
    /// Work items of a fill that draws four stream elements per work item (one Philox block) for `count`
    /// elements from ``offset`` on.
    func quadBlocks(_ count: Int) -> Int { (Int(offset % 4) + count + 3) / 4 }
    /// Work items of a fill that draws one Box–Muller pair per work item.
    func pairBlocks(_ count: Int) -> Int { (Int(offset % 2) + count + 1) / 2 }
}

extension OpenCLDevice: RandomPrimitives {
    public func fillUniform(_ x: BufferSlice, low: Float, high: Float, random: RandomStream) {
        launch("random_uniform", global: [random.quadBlocks(x.count)], local: [Self.elementGroup], [
            .buffer(x), .int(x.count), .float(low), .float(high), .ulong(random.seed), .ulong(random.stream), .ulong(random.offset),
        ])
    }

    public func fillNormal(_ x: BufferSlice, mean: Float, std: Float, random: RandomStream) {
        launch("random_normal", global: [random.pairBlocks(x.count)], local: [Self.elementGroup], [
            .buffer(x), .int(x.count), .float(mean), .float(std), .ulong(random.seed), .ulong(random.stream), .ulong(random.offset),
        ])
    }

    public func fillBernoulli(_ x: BufferSlice, keep: Float, scale: Float, random: RandomStream) {
        launch("random_bernoulli", global: [random.quadBlocks(x.count)], local: [Self.elementGroup], [
            .buffer(x), .int(x.count), .float(keep), .float(scale), .ulong(random.seed), .ulong(random.stream), .ulong(random.offset),
        ])
    }

    public func corrupt(_ x: BufferSlice, into y: BufferSlice, corruption: Corruption, random: RandomStream) {
        precondition(x.count == y.count, "corrupt: input of \(x.count) and output of \(y.count) elements")
        let n = x.count
        switch corruption {
        case .gaussian(let sigma):
            launch("corrupt_gaussian", global: [random.pairBlocks(n)], local: [Self.elementGroup], [
                .buffer(x), .buffer(y), .int(n), .float(sigma), .ulong(random.seed), .ulong(random.stream), .ulong(random.offset),
            ])
        case .masking(let p):
            replace(x, y, p: p, half: p, low: 0, high: 0, random)
        case .saltAndPepper(let p, let low, let high):
            replace(x, y, p: p, half: p * 0.5, low: low, high: high, random)
        }
    }

    /// y = u < half ? low : (u < p ? high : x), one uniform draw u per element.
    private func replace(_ x: BufferSlice, _ y: BufferSlice, p: Float, half: Float, low: Float, high: Float,
                         _ random: RandomStream) {
        launch("corrupt_replace", global: [random.quadBlocks(x.count)], local: [Self.elementGroup], [
            .buffer(x), .buffer(y), .int(x.count), .float(p), .float(half), .float(low), .float(high),
            .ulong(random.seed), .ulong(random.stream), .ulong(random.offset),
        ])
    }
}
