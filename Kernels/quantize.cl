// quantize kernels
