import COpenCL
import Foundation

/// Finds OpenCL devices through the ICD loader, which is opened with dlopen on first use.
enum OpenCLRuntime {
    /// One OpenCL device as found on its platform.
    struct Entry {
        let platform: cl_platform_id
        let device: cl_device_id
        let info: DeviceInfo
        let platformName: String
    }

    /// Every OpenCL device on every platform, in platform order, or why there are none.
    static let discovery: Result<[Entry], ComputeError> = discover()

    private static func discover() -> Result<[Entry], ComputeError> {
        var message = [CChar](repeating: 0, count: 512)
        if aek_cl_load(&message, UInt(message.count)) != 0 {
            return .failure(.openCLUnavailable(String(cString: message)))
        }
        var platformCount: cl_uint = 0
        let status = aek_clGetPlatformIDs(0, nil, &platformCount)
        guard status == CL_SUCCESS, platformCount > 0 else {
            return .failure(.openCLUnavailable("the OpenCL loader found no platform (status \(status))"))
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        guard aek_clGetPlatformIDs(platformCount, &platforms, nil) == CL_SUCCESS else {
            return .failure(.openCLUnavailable("clGetPlatformIDs failed"))
        }
        var entries: [Entry] = []
        for case let platform? in platforms {
            let platformName = string { aek_clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2) }
            var deviceCount: cl_uint = 0
            guard aek_clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount) == CL_SUCCESS,
                  deviceCount > 0 else { continue }
            var devices = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            guard aek_clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &devices, nil) == CL_SUCCESS
            else { continue }
            for case let device? in devices {
                let type: cl_device_type = scalar(device, CL_DEVICE_TYPE)
                let info = DeviceInfo(
                    kind: .opencl, index: entries.count,
                    name: string { aek_clGetDeviceInfo(device, cl_device_info(CL_DEVICE_NAME), $0, $1, $2) },
                    vendor: string { aek_clGetDeviceInfo(device, cl_device_info(CL_DEVICE_VENDOR), $0, $1, $2) },
                    driver: string { aek_clGetDeviceInfo(device, cl_device_info(CL_DRIVER_VERSION), $0, $1, $2) },
                    computeUnits: Int(scalar(device, CL_DEVICE_MAX_COMPUTE_UNITS) as cl_uint),
                    memoryBytes: Int(scalar(device, CL_DEVICE_GLOBAL_MEM_SIZE) as cl_ulong),
                    isGPU: type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0)
                entries.append(Entry(platform: platform, device: device, info: info, platformName: platformName))
            }
        }
        return .success(entries)
    }

    /// Reads a string property through a `clGet*Info`-shaped call.
    static func string(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String {
        var size = 0
        guard query(0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        guard query(size, &bytes, nil) == CL_SUCCESS else { return "" }
        return String(cString: bytes).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Reads a fixed-size device property.
    static func scalar<T: FixedWidthInteger>(_ device: cl_device_id, _ name: Int32) -> T {
        var value: T = 0
        _ = aek_clGetDeviceInfo(device, cl_device_info(name), MemoryLayout<T>.size, &value, nil)
        return value
    }
}
