import Compute

/// The `top` largest positive activations of each latent over rows seen one batch at a time, with the sample
/// index of each: a bounded heap per latent, so memory holds latents × `top` entries whatever the number of
/// rows. The order is ``LatentAnalysis/topActivations(codes:count:latents:top:)``'s: largest first, ties to the
/// lower index.
public struct TopActivations {
    /// Entries kept per latent.
    public let top: Int
    /// Latents, L.
    public let latents: Int
    /// Per latent, a min-heap on ``worse(_:_:)``: its root is the entry the next better one replaces.
    private var heaps: [[(index: Int, activation: Float)]]
    /// Rows seen so far; the next row's index.
    public private(set) var rows = 0

    /// An empty selection of `top` entries for each of `latents` latents.
    public init(latents: Int, top: Int) {
        precondition(latents > 0, "at least one latent")
        self.latents = latents
        self.top = max(top, 0)
        heaps = Array(repeating: [], count: latents)
    }

    /// Takes in the codes of the next rows: whole rows of ``latents`` values, numbered on from ``rows``.
    public mutating func add(_ codes: [Float]) {
        precondition(codes.count % latents == 0, "whole rows of \(latents) codes")
        guard top > 0 else {
            rows += codes.count / latents
            return
        }
        codes.withUnsafeBufferPointer { z in
            for row in 0..<(z.count / latents) {
                let index = rows + row
                for j in 0..<latents where z[row * latents + j] > 0 {
                    let entry = (index: index, activation: z[row * latents + j])
                    if heaps[j].count < top {
                        heaps[j].append(entry)
                        siftUp(&heaps[j], heaps[j].count - 1)
                    } else if Self.worse(heaps[j][0], entry) {
                        heaps[j][0] = entry
                        siftDown(&heaps[j], 0)
                    }
                }
            }
        }
        rows += codes.count / latents
    }

    /// Each latent's entries, best first; empty for a latent that never fired.
    public var lists: [[(index: Int, activation: Float)]] {
        heaps.map { $0.sorted { Self.worse($1, $0) } }
    }

    /// Whether `a` ranks below `b`: a smaller activation, or an equal one of a later sample.
    static func worse(_ a: (index: Int, activation: Float), _ b: (index: Int, activation: Float)) -> Bool {
        a.activation < b.activation || (a.activation == b.activation && a.index > b.index)
    }

    private func siftUp(_ heap: inout [(index: Int, activation: Float)], _ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.worse(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func siftDown(_ heap: inout [(index: Int, activation: Float)], _ start: Int) {
        var parent = start
        while true {
            var worst = parent
            for child in [2 * parent + 1, 2 * parent + 2] where child < heap.count && Self.worse(heap[child], heap[worst]) {
                worst = child
            }
            guard worst != parent else { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
    }
}

extension LatentAnalysis {
    /// For each latent, the `top` rows of `rows` that activate it most (z > 0), read a batch at a time, as
    /// ``topActivations(codes:count:latents:top:)`` finds them in the codes of the whole data set
    /// (``codes(model:data:)``), but holding latents × `top` entries, not the n × latents codes: the data may
    /// be streamed from disk (``StreamedDataset``). Indices count rows in the order of `rows`.
    ///
    /// - Throws: `DataError.mismatch` when the rows do not have the model's input size, errors of the pass (a
    ///   streamed file that changed), device faults.
    public static func topActivations(model: Autoencoder, rows: any BatchedRows, top: Int) throws -> [[(index: Int, activation: Float)]] {
        let l = model.latentDim
        var selection = TopActivations(latents: l, top: top)
        try model.forEachCode(of: rows, name: "data") { batch, z in
            selection.add(model.device.read(z.slice(0, batch.valid * l)))
            return true
        }
        return selection.lists
    }
}
