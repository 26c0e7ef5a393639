import Compute
import Foundation
import Testing
import TestSupport

@Suite struct DeviceTests {
    @Test func parsesDeviceStrings() throws {
        #expect(try DeviceSelection(parsing: "cpu") == .cpu)
        #expect(try DeviceSelection(parsing: "AUTO") == .auto)
        #expect(try DeviceSelection(parsing: "opencl") == .opencl(index: 0))
        #expect(try DeviceSelection(parsing: "opencl:3") == .opencl(index: 3))
        #expect(try DeviceSelection(parsing: "gpu") == .gpu)
        #expect(throws: ComputeError.unknownDevice("tpu")) { try DeviceSelection(parsing: "tpu") }
        #expect(throws: ComputeError.unknownDevice("opencl:-1")) { try DeviceSelection(parsing: "opencl:-1") }
    }

    @Test func listsTheCPUFirst() {
        let devices = Devices.available()
        #expect(devices.first?.kind == .cpu)
        #expect(devices.dropFirst().allSatisfy { $0.kind == .opencl })
    }

    @Test func ciHasOpenCL() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Devices.openCLProblem == nil, "CI must run the OpenCL tests: \(Devices.openCLProblem ?? "")")
            #expect(TestDevices.selectors.contains("opencl:0"))
        }
    }

    @Test(arguments: TestDevices.selectors)
    func roundTripsBuffersAndViews(selector: String) throws {
        let device = try TestDevices.device(selector)
        let buffer = try device.makeBuffer(count: 10, dtype: .float32)
        #expect(device.read(buffer.whole) == [Float](repeating: 0, count: 10))
        device.write([1, 2, 3] as [Float], to: buffer.slice(4, 3))
        device.fill(buffer.slice(0, 2), with: 7)
        device.copy(buffer.slice(4, 3), to: buffer.slice(7, 3))
        #expect(device.read(buffer.whole) == [7, 7, 0, 0, 1, 2, 3, 1, 2, 3])
        let ints = try device.makeBuffer([Int32(-5), 9, 1 << 30])
        #expect(device.readInts(ints.whole) == [-5, 9, 1 << 30])
        try device.checkHealth()
    }
}

@Suite struct AllocationFailureTests {
    /// An allocation the device cannot satisfy is a typed error naming the device, not a crash.
    @Test(arguments: TestDevices.selectors)
    func impossibleAllocationsThrow(selector: String) throws {
        let device = try TestDevices.device(selector)
        do {
            _ = try device.makeBuffer(count: 1 << 40, dtype: .float32)
            Issue.record("allocating 4 TiB succeeded on \(selector)")
        } catch let error as ComputeError {
            guard case .outOfMemory = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains(device.info.description) && error.description.contains("--batch-size"))
        }
        // the device still works afterwards
        let buffer = try device.makeBuffer([1, 2, 3] as [Float])
        #expect(device.read(buffer.whole) == [1, 2, 3])
        try device.checkHealth()
    }
}
