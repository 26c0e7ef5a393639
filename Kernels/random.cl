// Random fills and input corruption from Philox4x32-10 (philox_block in common.cl). The element -> counter
// mapping is the one documented on RandomStream (Sources/Compute/Primitives/Random.swift):
// uniform-based draws use word i mod 4 of block i/4, normal draws use words 0 and 1 of block i/2 (cos, sin), where
// i = offset + j for element j of the view: work item w takes the block offset / 4 + w (or the pair offset / 2 + w),
// whose first element is view element `first` (negative for a block that starts before the view).
// Contraction is off so that affine maps of uniform draws round exactly as the CPU backend's do.
#pragma OPENCL FP_CONTRACT OFF

// The block of four uniform words work item get_global_id(0) draws, and the view element its word 0 is for.
#define RANDOM_QUAD_BLOCK (offset / 4 + (ulong)get_global_id(0))
#define RANDOM_FIRST(block, per) ((int)((long)((block) * (per)) - (long)offset))

// x[i] = low + (high - low) * u_i. One work item per block of four stream elements; global = ceil((offset % 4 + n) / 4).
__kernel void random_uniform(__global float* x, const int x_off, const int n, const float low, const float high,
                             const ulong seed, const ulong stream, const ulong offset) {
    const ulong b = RANDOM_QUAD_BLOCK;
    const int first = RANDOM_FIRST(b, 4);
    if (first >= n) return;
    const uint4 r = philox_block(seed, stream, b);
    const float width = high - low;
    for (int k = max(0, -first); k < min(4, n - first); k++)
        x[x_off + first + k] = low + width * philox_uniform(philox_word(r, k));
}

// x[i] = mean + std * n_i. One work item per Box-Muller pair; global = ceil((offset % 2 + n) / 2).
__kernel void random_normal(__global float* x, const int x_off, const int n, const float mean, const float stddev,
                            const ulong seed, const ulong stream, const ulong offset) {
    const ulong b = offset / 2 + (ulong)get_global_id(0);
    const int i = RANDOM_FIRST(b, 2);
    if (i >= n) return;
    const float2 z = philox_normal_pair(seed, stream, b);
    if (i >= 0) x[x_off + i] = mean + stddev * z.x;
    if (i + 1 < n) x[x_off + i + 1] = mean + stddev * z.y;
}

// x[i] = u_i < keep ? scale : 0. One work item per block of four; global = ceil((offset % 4 + n) / 4).
__kernel void random_bernoulli(__global float* x, const int x_off, const int n, const float keep, const float scale,
                               const ulong seed, const ulong stream, const ulong offset) {
    const ulong b = RANDOM_QUAD_BLOCK;
    const int first = RANDOM_FIRST(b, 4);
    if (first >= n) return;
    const uint4 r = philox_block(seed, stream, b);
    for (int k = max(0, -first); k < min(4, n - first); k++)
        x[x_off + first + k] = philox_uniform(philox_word(r, k)) < keep ? scale : 0.0f;
}

// y[i] = x[i] + sigma * n_i. One work item per Box-Muller pair; global = ceil((offset % 2 + n) / 2).
__kernel void corrupt_gaussian(__global const float* x, const int x_off, __global float* y, const int y_off,
                               const int n, const float sigma, const ulong seed, const ulong stream, const ulong offset) {
    const ulong b = offset / 2 + (ulong)get_global_id(0);
    const int i = RANDOM_FIRST(b, 2);
    if (i >= n) return;
    const float2 z = philox_normal_pair(seed, stream, b);
    if (i >= 0) y[y_off + i] = x[x_off + i] + sigma * z.x;
    if (i + 1 < n) y[y_off + i + 1] = x[x_off + i + 1] + sigma * z.y;
}

// Masking (low = high = 0, half = p) and salt-and-pepper (half = p / 2):
// y[i] = u_i < half ? low : (u_i < p ? high : x[i]). One work item per block of four;
// global = ceil((offset % 4 + n) / 4).
__kernel void corrupt_replace(__global const float* x, const int x_off, __global float* y, const int y_off,
                              const int n, const float p, const float half_p, const float low, const float high,
                              const ulong seed, const ulong stream, const ulong offset) {
    const ulong b = RANDOM_QUAD_BLOCK;
    const int first = RANDOM_FIRST(b, 4);
    if (first >= n) return;
    const uint4 r = philox_block(seed, stream, b);
    for (int k = max(0, -first); k < min(4, n - first); k++) {
        const float u = philox_uniform(philox_word(r, k));
        y[y_off + first + k] = u < half_p ? low : (u < p ? high : x[x_off + first + k]);
    }
}
