import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// Checkpoints load in Python: `safetensors` + numpy read the tensors under PyTorch's names and shapes and
/// recompute a reconstruction that matches ours. In CI (CI=true) python3 with safetensors and numpy must be there.
@Suite struct InteropTests {
    static var python: String? {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import safetensors, numpy"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return nil }
        check.waitUntilExit()
        return check.terminationStatus == 0 ? "python3" : nil
    }

    @Test(arguments: TestDevices.selectors)
    func pythonReadsTheCheckpointAndReproducesAReconstruction(selector: String) throws {
        guard Self.python != nil else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CI needs python3 with safetensors and numpy")
            return
        }
        let device = try TestDevices.device(selector)
        let digits = try BundledData.digits(split: .train)
        var config = ModelConfig(kind: .vae, inputShape: [64])
        config.hidden = [48, 24]
        config.latentDim = 6
        var training = TrainingConfig()
        training.epochs = 2
        training.batchSize = 50
        training.validationFraction = 0
        let model = try Autoencoder(config: config, device: device, batchSize: 50, seed: 9)
        try Trainer(model: model, config: training, training: Dataset(name: "digits", shape: [64], features: digits.features),
                    validation: nil).run()

        let folder = try TemporaryDirectory()
        let run = RunDirectory(url: folder.url)
        try run.write(model: model)
        let inputs = try device.makeBuffer(Array(digits.features.prefix(50 * 64)))
        let reconstruction = device.read(model.reconstruct(inputs.whole))
        try NPYFormat.write(HostTensor(shape: [50, 64], float32: Array(digits.features.prefix(50 * 64))),
                            to: folder.url.appendingPathComponent("x.npy"))
        try NPYFormat.write(HostTensor(shape: [50, 64], float32: reconstruction), to: folder.url.appendingPathComponent("y.npy"))

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Interop/check_vae.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, run.modelURL.path, folder.url.appendingPathComponent("x.npy").path,
                             folder.url.appendingPathComponent("y.npy").path, "64", "48,24", "6"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.hasPrefix("ok: 14 tensors"), "\(output)")
    }
}
