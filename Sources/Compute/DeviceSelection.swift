import Foundation

/// How the user names a device: `cpu`, `opencl` (the first OpenCL device), `opencl:N`, `gpu` (the first OpenCL
/// GPU, an error when there is none) or `auto` (the first OpenCL GPU, else the CPU backend).
public enum DeviceSelection: Equatable, Sendable, CustomStringConvertible {
    case auto
    case cpu
    case gpu
    case opencl(index: Int)

    /// The environment variable consulted when no device is given on the command line.
    public static let environmentVariable = "AUTOENCODERKIT_DEVICE"

    /// Parses a device string.
    public init(parsing text: String) throws {
        let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
        switch lower {
        case "auto": self = .auto
        case "cpu": self = .cpu
        case "gpu": self = .gpu
        case "opencl": self = .opencl(index: 0)
        default:
            guard lower.hasPrefix("opencl:"), let index = Int(lower.dropFirst("opencl:".count)), index >= 0 else {
                throw ComputeError.unknownDevice(text)
            }
            self = .opencl(index: index)
        }
    }

    /// The selection from `AUTOENCODERKIT_DEVICE`, or `auto` when it is unset.
    public static func fromEnvironment() throws -> DeviceSelection {
        guard let value = ProcessInfo.processInfo.environment[environmentVariable], !value.isEmpty else { return .auto }
        return try DeviceSelection(parsing: value)
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .cpu: return "cpu"
        case .gpu: return "gpu"
        case .opencl(let index): return "opencl:\(index)"
        }
    }
}

/// Lists and opens devices.
public enum Devices {
    /// The CPU backend's description, then every OpenCL device found (none when OpenCL is absent).
    public static func available() -> [DeviceInfo] {
        [CPUDevice().info] + ((try? OpenCLRuntime.discovery.get()) ?? []).map(\.info)
    }

    /// Why OpenCL devices are missing, or `nil` when the loader found a platform.
    public static var openCLProblem: String? {
        if case .failure(let error) = OpenCLRuntime.discovery { return error.description }
        return nil
    }

    /// What `auto` resolves to: the first OpenCL GPU, else the CPU backend.
    public static func automaticChoice() -> DeviceSelection {
        let entries = (try? OpenCLRuntime.discovery.get()) ?? []
        if let gpu = entries.first(where: { $0.info.isGPU }) { return .opencl(index: gpu.info.index ?? 0) }
        return .cpu
    }

    /// Opens the selected device. With `auto`, an OpenCL GPU that fails to start is reported through
    /// `warn` and the CPU backend is used instead; an explicitly chosen device that fails throws.
    public static func open(_ selection: DeviceSelection, warn: (String) -> Void = { _ in }) throws -> any Device {
        switch selection {
        case .cpu:
            return CPUDevice()
        case .opencl(let index):
            if case .failure(let error) = OpenCLRuntime.discovery { throw error }
            return try OpenCLDevice(index: index)
        case .gpu:
            let entries = try OpenCLRuntime.discovery.get()
            guard let gpu = entries.first(where: { $0.info.isGPU }) else {
                throw ComputeError.noGPU(found: entries.map(\.info.description))
            }
            return try OpenCLDevice(index: gpu.info.index ?? 0)
        case .auto:
            guard case .opencl(let index) = automaticChoice() else { return CPUDevice() }
            do {
                return try OpenCLDevice(index: index)
            } catch {
                warn("warning: opencl:\(index) failed to start (\(error)); using the CPU backend")
                return CPUDevice()
            }
        }
    }
}
