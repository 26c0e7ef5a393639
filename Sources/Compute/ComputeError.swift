/// Errors raised by devices and primitives. Each prints as one line that names the device.
public enum ComputeError: Error, CustomStringConvertible, Equatable {
    /// The device string given by the user does not name a device (`cpu`, `opencl`, `opencl:N`, `auto`).
    case unknownDevice(String)
    /// `--device gpu` on a machine whose OpenCL devices (`found`) are none of them GPUs.
    case noGPU(found: [String])
    /// OpenCL was asked for but is not usable.
    case openCLUnavailable(String)
    /// An OpenCL call failed.
    case openCL(call: String, code: Int32, device: String)
    /// A kernel program did not compile; carries the build log.
    case buildFailed(family: String, device: String, log: String)
    /// The device could not allocate memory.
    case outOfMemory(bytes: Int, device: String)
    /// Operand sizes do not fit the requested operation.
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case .unknownDevice(let s):
            return "unknown device '\(s)': use cpu, opencl, opencl:N, gpu or auto (see `autoencoder devices`)"
        case .noGPU(let found):
            return "no OpenCL GPU found (OpenCL devices: \(found.isEmpty ? "none" : found.joined(separator: ", "))): use --device cpu, opencl:N or auto"
        case .openCLUnavailable(let why):
            return "OpenCL is not available: \(why)"
        case .openCL(let call, let code, let device):
            return "\(call) failed with \(OpenCLStatus.name(code)) (\(code)) on \(device)"
        case .buildFailed(let family, let device, let log):
            let oneLine = log.split(whereSeparator: \.isNewline).prefix(20).joined(separator: " | ")
            return "kernel family '\(family)' failed to build on \(device): \(oneLine.isEmpty ? "no build log" : oneLine); try --device cpu or another OpenCL driver"
        case .outOfMemory(let bytes, let device):
            return "\(device) could not allocate \(bytes == 0 ? "the memory it needed" : "\(bytes) bytes"): try a smaller --batch-size or model, or --device cpu"
        case .shapeMismatch(let what):
            return "shape mismatch: \(what)"
        }
    }
}

/// Names of OpenCL status codes, for error messages.
enum OpenCLStatus {
    static func name(_ code: Int32) -> String {
        switch code {
        case -1: return "CL_DEVICE_NOT_FOUND"
        case -2: return "CL_DEVICE_NOT_AVAILABLE"
        case -3: return "CL_COMPILER_NOT_AVAILABLE"
        case -4: return "CL_MEM_OBJECT_ALLOCATION_FAILURE"
        case -5: return "CL_OUT_OF_RESOURCES"
        case -6: return "CL_OUT_OF_HOST_MEMORY"
        case -11: return "CL_BUILD_PROGRAM_FAILURE"
        case -30: return "CL_INVALID_VALUE"
        case -33: return "CL_INVALID_DEVICE"
        case -36: return "CL_INVALID_COMMAND_QUEUE"
        case -38: return "CL_INVALID_MEM_OBJECT"
        case -42: return "CL_INVALID_BINARY"
        case -44: return "CL_INVALID_PROGRAM"
        case -45: return "CL_INVALID_PROGRAM_EXECUTABLE"
        case -46: return "CL_INVALID_KERNEL_NAME"
        case -48: return "CL_INVALID_KERNEL"
        case -49: return "CL_INVALID_ARG_INDEX"
        case -50: return "CL_INVALID_ARG_VALUE"
        case -51: return "CL_INVALID_ARG_SIZE"
        case -52: return "CL_INVALID_KERNEL_ARGS"
        case -54: return "CL_INVALID_WORK_GROUP_SIZE"
        case -55: return "CL_INVALID_WORK_ITEM_SIZE"
        case -61: return "CL_INVALID_BUFFER_SIZE"
        case -1001: return "CL_PLATFORM_NOT_FOUND_KHR"
        default: return "OpenCL error"
        }
    }
}
