import AutoencoderKit
import Foundation

/// A `--device` value (or `AUTOENCODERKIT_DEVICE`) as the user wrote it: the selection, and whether it named an
/// OpenCL device by number (`opencl:K`), which a rank of a data-parallel job keeps while plain `opencl` follows
/// the rank's place on its node.
struct DeviceChoice {
    let selection: DeviceSelection
    /// Whether the text was `opencl:K`.
    let namesIndex: Bool

    /// Parses a device string (``DeviceSelection/init(parsing:)``).
    init(parsing text: String) throws {
        selection = try DeviceSelection(parsing: text)
        namesIndex = text.lowercased().trimmingCharacters(in: .whitespaces).hasPrefix("opencl:")
    }

    init(_ selection: DeviceSelection, namesIndex: Bool) {
        self.selection = selection
        self.namesIndex = namesIndex
    }

    /// The choice in `AUTOENCODERKIT_DEVICE`, or `auto` when it is unset.
    static func fromEnvironment() throws -> DeviceChoice {
        guard let text = ProcessInfo.processInfo.environment[DeviceSelection.environmentVariable], !text.isEmpty else {
            return DeviceChoice(.auto, namesIndex: false)
        }
        return try DeviceChoice(parsing: text)
    }

    /// The device of the rank `localRank` of its node, among `devices` (``Devices/available()``): plain
    /// `opencl` is OpenCL device number `localRank`; `gpu` is the node's GPU number `localRank`, and so is
    /// `auto` when the node has a GPU (else the CPU); `opencl:K` and `cpu` stay as given.
    ///
    /// - Throws: ``RankDeviceError`` when the node has too few such devices for this rank.
    func selection(localRank: Int, devices: [DeviceInfo]) throws -> DeviceSelection {
        let openCL = devices.compactMap { $0.kind == .opencl ? $0.index : nil }
        let gpus = devices.compactMap { $0.isGPU ? $0.index : nil }
        switch selection {
        case .cpu: return .cpu
        case .opencl where namesIndex: return selection
        case .opencl:
            guard localRank < openCL.count else { throw RankDeviceError(option: "opencl", localRank: localRank, found: openCL.count, noun: "OpenCL device") }
            return .opencl(index: openCL[localRank])
        case .auto where gpus.isEmpty: return .cpu
        case .gpu, .auto:
            guard localRank < gpus.count else { throw RankDeviceError(option: selection.description, localRank: localRank, found: gpus.count, noun: "OpenCL GPU") }
            return .opencl(index: gpus[localRank])
        }
    }
}

/// A rank of a data-parallel job found fewer devices on its node than its local rank needs.
struct RankDeviceError: UsageFailure {
    /// The `--device` value.
    let option: String
    let localRank: Int
    /// Devices of the kind on the node.
    let found: Int
    /// What was counted ("OpenCL device", "OpenCL GPU").
    let noun: String

    var description: String {
        "--device \(option) gives local rank \(localRank) the \(noun) number \(localRank), but this node has \(Terminal.count(found, noun)): "
            + "start at most \(found) rank\(found == 1 ? "" : "s") per node, or name one device with --device opencl:K or cpu"
    }
}
