/// The CPU backend multiplies in FP32 only (OpenBLAS has no TF32 path).
extension CPUDevice: PrecisionPrimitives {
    public var matmulPrecision: MatmulPrecision { .fp32 }

    public func enableTF32() -> TF32Availability {
        .unavailable(reason: "TF32 tensor cores need an NVIDIA GPU through OpenCL; \(info.description) is the CPU backend")
    }

    public func disableTF32() {}
}
