import Compute
import Foundation
import Layers

/// Moving a model's tensors between the device and safetensors archives, under PyTorch's names and shapes so
/// that `safetensors.torch.load_file` + `load_state_dict` loads them into the equivalent PyTorch module.
extension Autoencoder {
    /// Every parameter and state tensor, read back from the device. Integer state (BatchNorm's
    /// `num_batches_tracked`) is written as I64, as PyTorch stores it.
    public func weights() -> [String: HostTensor] {
        let values = device.read(store.values), states = device.read(store.states)
        var tensors: [String: HostTensor] = [:]
        for entry in store.entries {
            let source = entry.isState ? states : values
            let slice = Array(source[entry.offset..<(entry.offset + entry.count)])
            tensors[entry.name] = entry.declaration.isInteger
                ? HostTensor(shape: entry.shape, elements: .int64(slice.map { Int64($0) }))
                : HostTensor(shape: entry.shape, float32: slice)
        }
        return tensors
    }

    /// Writes the model's tensors to a safetensors file (atomically), loadable with
    /// `safetensors.torch.load_file` into the equivalent PyTorch module.
    public func save(to url: URL) throws {
        try SafeTensorsFormat.write(SafeTensorsArchive(tensors: weights(), metadata: ["format": "pt"]), to: url)
    }

    /// Writes tensors named like ``weights()`` onto the device. Every tensor of the model must be present with
    /// its shape; other names (optimizer state) are ignored.
    public func load(weights tensors: [String: HostTensor], file: String) throws {
        var values = device.read(store.values), states = device.read(store.states)
        for entry in store.entries {
            guard let tensor = tensors[entry.name] else {
                throw DataError(file: file, .invalidArgument("checkpoint lacks the tensor \(entry.name) of this model"))
            }
            guard tensor.shape == entry.shape else {
                throw DataError(file: file, .invalidArgument("tensor \(entry.name) has shape \(tensor.shape), the model needs \(entry.shape)"))
            }
            let floats: [Float]
            switch tensor.elements {
            case .float32(let v): floats = v
            case .int64(let v) where entry.declaration.isInteger: floats = v.map(Float.init)
            default:
                throw DataError(file: file, .invalidArgument("tensor \(entry.name) has the wrong element type for this model"))
            }
            guard floats.allSatisfy(\.isFinite) else {
                throw DataError(file: file, .invalidArgument("tensor \(entry.name) holds NaN or infinite values"))
            }
            if entry.isState {
                states.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: floats)
            } else {
                values.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: floats)
            }
        }
        device.write(values, to: store.values)
        device.write(states, to: store.states)
    }
}
