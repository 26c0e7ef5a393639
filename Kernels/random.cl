// Random fills and input corruption from Philox4x32-10 (philox_block in common.cl). The element -> counter
// mapping is the one documented on RandomStream (Sources/Compute/Primitives/Random.swift):
// uniform-based draws use word i mod 4 of block i/4, normal draws use words 0 and 1 of block i/2 (cos, sin).
// Contraction is off so that affine maps of uniform draws round exactly as the CPU backend's do.
#pragma OPENCL FP_CONTRACT OFF

// x[i] = low + (high - low) * u_i. One work item per block of four elements; global = ceil(n / 4).
__kernel void random_uniform(__global float* x, const int x_off, const int n, const float low, const float high,
                             const ulong seed, const ulong stream) {
    const int b = get_global_id(0);
    const int i = b * 4;
    if (i >= n) return;
    const uint4 r = philox_block(seed, stream, (ulong)b);
    const float width = high - low;
    const int m = min(4, n - i);
    for (int k = 0; k < m; k++) x[x_off + i + k] = low + width * philox_uniform(philox_word(r, k));
}

// x[i] = mean + std * n_i. One work item per Box-Muller pair; global = ceil(n / 2).
__kernel void random_normal(__global float* x, const int x_off, const int n, const float mean, const float stddev,
                            const ulong seed, const ulong stream) {
    const int b = get_global_id(0);
    const int i = b * 2;
    if (i >= n) return;
    const float2 z = philox_normal_pair(seed, stream, (ulong)b);
    x[x_off + i] = mean + stddev * z.x;
    if (i + 1 < n) x[x_off + i + 1] = mean + stddev * z.y;
}

// x[i] = u_i < keep ? scale : 0. One work item per block of four elements; global = ceil(n / 4).
__kernel void random_bernoulli(__global float* x, const int x_off, const int n, const float keep, const float scale,
                               const ulong seed, const ulong stream) {
    const int b = get_global_id(0);
    const int i = b * 4;
    if (i >= n) return;
    const uint4 r = philox_block(seed, stream, (ulong)b);
    const int m = min(4, n - i);
    for (int k = 0; k < m; k++) x[x_off + i + k] = philox_uniform(philox_word(r, k)) < keep ? scale : 0.0f;
}

// y[i] = x[i] + sigma * n_i. One work item per Box-Muller pair; global = ceil(n / 2).
__kernel void corrupt_gaussian(__global const float* x, const int x_off, __global float* y, const int y_off,
                               const int n, const float sigma, const ulong seed, const ulong stream) {
    const int b = get_global_id(0);
    const int i = b * 2;
    if (i >= n) return;
    const float2 z = philox_normal_pair(seed, stream, (ulong)b);
    y[y_off + i] = x[x_off + i] + sigma * z.x;
    if (i + 1 < n) y[y_off + i + 1] = x[x_off + i + 1] + sigma * z.y;
}

// Masking (low = high = 0, half = p) and salt-and-pepper (half = p / 2):
// y[i] = u_i < half ? low : (u_i < p ? high : x[i]). One work item per block of four; global = ceil(n / 4).
__kernel void corrupt_replace(__global const float* x, const int x_off, __global float* y, const int y_off,
                              const int n, const float p, const float half_p, const float low, const float high,
                              const ulong seed, const ulong stream) {
    const int b = get_global_id(0);
    const int i = b * 4;
    if (i >= n) return;
    const uint4 r = philox_block(seed, stream, (ulong)b);
    const int m = min(4, n - i);
    for (int k = 0; k < m; k++) {
        const float u = philox_uniform(philox_word(r, k));
        y[y_off + i + k] = u < half_p ? low : (u < p ? high : x[x_off + i + k]);
    }
}
