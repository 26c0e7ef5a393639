import Compute

/// The weight and optional bias of a product layer (Linear, Conv2d, ConvTranspose2d), declared under PyTorch's
/// names `weight` and `bias`, both U(±1/√fanIn) as PyTorch initializes them.
struct WeightAndBias {
    private(set) var weightID: ParameterID?
    private(set) var biasID: ParameterID?

    /// Declares `prefix + "weight"` with `weightShape` and, when `biasCount` is given, `prefix + "bias"` with that many
    /// elements; without a bias its initialization stream is kept, so the weight and every later parameter start as
    /// they would with one.
    mutating func declare(in layout: inout ParameterLayout, prefix: String, weightShape: [Int], biasCount: Int?,
                          fanIn: Int) {
        weightID = layout.parameter(prefix + "weight", shape: weightShape, initializer: .fanIn(fanIn))
        if let biasCount {
            biasID = layout.parameter(prefix + "bias", shape: [biasCount], initializer: .fanIn(fanIn))
        } else {
            layout.reserveInitializationStream()
        }
    }

    /// The declared parameters' value and gradient views in `store`; `layer` names the layer when nothing was declared.
    func views(in store: ParameterStore, layer: String) -> (weight: BufferSlice, dweight: BufferSlice,
                                                            bias: BufferSlice?, dbias: BufferSlice?) {
        guard let weightID else { preconditionFailure("\(layer): declareParameters before prepare") }
        return (store.value(weightID), store.gradient(weightID), biasID.map(store.value), biasID.map(store.gradient))
    }
}

/// What a product layer holds for one batch size: its device, the layer's own `shape` (rows, or convolution
/// geometries), its parameters' value and gradient views, and its workspaces: the output y, dpre = dy·act′ of the
/// fused epilogue (both the output's size) and the input gradient dx (the input's size).
struct PreparedProduct<Shape> {
    let device: any Device
    let shape: Shape
    /// The layer's part in its chain's fusions.
    let fusion: Fusion
    let weight: BufferSlice, dweight: BufferSlice
    let bias: BufferSlice?, dbias: BufferSlice?
    let output: Buffer
    let dpre: Buffer
    let dinput: Buffer

    /// Looks `parameters` up in `store` and allocates the workspaces on `device`.
    init(device: any Device, store: ParameterStore, parameters: WeightAndBias, layer: String, shape: Shape,
         fusion: Fusion, outputCount: Int, inputCount: Int) throws {
        self.device = device
        self.shape = shape
        self.fusion = fusion
        (weight, dweight, bias, dbias) = parameters.views(in: store, layer: layer)
        output = try device.makeBuffer(count: outputCount, dtype: .float32)
        dpre = try device.makeBuffer(count: outputCount, dtype: .float32)
        dinput = try device.makeBuffer(count: inputCount, dtype: .float32)
    }
}
