// Elementwise maps: fill, activations and their gradients, axpby, products, top-k, masks.
// Pointwise kernels take one work item per element (1-D, rounded up to the work-group size).

__kernel void fill(__global float* y, const int y_off, const int n, const float value) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = value;
}

// y = act(x). y may be x.
__kernel void activate(__global const float* x, const int x_off, __global float* y, const int y_off,
                       const int n, const int act, const float slope) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = act_apply(x[x_off + i], act, slope);
}

// dx = dy * act'(x, y), added to dx when accumulate. dx may be dy.
__kernel void activation_backward(__global const float* dy, const int dy_off, __global const float* x, const int x_off,
                                  __global const float* y, const int y_off, __global float* dx, const int dx_off,
                                  const int n, const int act, const float slope, const int accumulate) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = dy[dy_off + i] * act_grad(x[x_off + i], y[y_off + i], act, slope);
    dx[dx_off + i] = accumulate ? dx[dx_off + i] + g : g;
}

// y = alpha * x + beta * y; with beta = 0 the old y is never read (NaN included).
__kernel void axpby(__global const float* x, const int x_off, __global float* y, const int y_off,
                    const int n, const float alpha, const float beta) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = alpha * x[x_off + i];
    y[y_off + i] = beta == 0.0f ? v : v + beta * y[y_off + i];
}

// c = a * b elementwise.
__kernel void multiply(__global const float* a, const int a_off, __global const float* b, const int b_off,
                       __global float* c, const int c_off, const int n) {
    int i = get_global_id(0);
    if (i < n) c[c_off + i] = a[a_off + i] * b[b_off + i];
}

// dx = dy where mask != 0, else 0.
__kernel void masked_gradient(__global const float* dy, const int dy_off, __global const float* mask, const int mask_off,
                              __global float* dx, const int dx_off, const int n) {
    int i = get_global_id(0);
    if (i < n) dx[dx_off + i] = mask[mask_off + i] != 0.0f ? dy[dy_off + i] : 0.0f;
}

#define TOPK_GROUP 256

// A key whose unsigned order is the float order (-0 and +0 equal, NaN above +inf). Same as CPUDevice+Elementwise.swift.
static inline uint topk_key(float v) {
    uint u = as_uint(v);
    if ((u << 1) == 0u) return 0x80000000u;
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Keeps the k largest values of each row of a rows x cols matrix (ties to the lower column), zeroing the rest;
// requires 0 < k < cols (the host handles the other cases). One work group of TOPK_GROUP items per row:
// global = (rows * TOPK_GROUP), local = (TOPK_GROUP). y may be x.
// The k-th largest key is found by a radix select, 8 bits per pass, with a 256-bin histogram in local memory;
// then each work item owns a contiguous run of columns, and a scan of the runs' counts of keys equal to the
// threshold decides which of those ties are kept.
__kernel void top_k_rows(__global const float* x, const int x_off, __global float* y, const int y_off,
                         const int rows, const int cols, const int k) {
    __local int hist[256];
    __local int ties[TOPK_GROUP];
    __local uint chosen[2];
    const int row = get_group_id(0), lid = get_local_id(0);
    __global const float* xr = x + x_off + row * cols;
    __global float* yr = y + y_off + row * cols;
    // Radix select: the k-th largest key (`prefix`), and how many keys equal to it are kept (`remaining`).
    uint prefix = 0u, mask = 0u;
    int remaining = k;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = lid; b < 256; b += TOPK_GROUP) hist[b] = 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int j = lid; j < cols; j += TOPK_GROUP) {
            uint key = topk_key(xr[j]);
            if ((key & mask) == prefix) atomic_inc(&hist[(key >> shift) & 255u]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0) {
            int r = remaining, d = 255;
            while (d > 0 && hist[d] < r) { r -= hist[d]; d--; }
            chosen[0] = prefix | ((uint)d << shift);
            chosen[1] = (uint)r;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        prefix = chosen[0];
        remaining = (int)chosen[1];
        mask |= 255u << shift;
    }
    const int run = (cols + TOPK_GROUP - 1) / TOPK_GROUP;
    const int start = min(cols, lid * run), end = min(cols, start + run);
    int equal = 0;
    for (int j = start; j < end; j++) equal += topk_key(xr[j]) == prefix;
    ties[lid] = equal;
    // a global fence too: with y = x, a work item's writes below overwrite columns other items read above
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    int before = 0;
    for (int t = 0; t < lid; t++) before += ties[t];
    for (int j = start; j < end; j++) {
        float v = xr[j];
        uint key = topk_key(v);
        bool keep = key > prefix || (key == prefix && before++ < remaining);
        yr[j] = keep ? v : 0.0f;
    }
}
