// optimizer kernels
