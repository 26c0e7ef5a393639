// Small maps the models need: affine maps, threshold masks, per-row scaling.

__kernel void tensor_affine(__global const float* x, const int x_off, __global float* y, const int y_off,
                            const int n, const float scale, const float shift) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = scale * x[x_off + i] + shift;
}

__kernel void tensor_threshold_mask(__global const float* x, const int x_off, __global float* y, const int y_off,
                                    const int n, const float threshold) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = x[x_off + i] >= threshold ? 1.0f : 0.0f;
}

__kernel void tensor_scale_rows(__global const float* x, const int x_off, __global const float* s, const int s_off,
                                __global float* y, const int y_off, const int rows, const int cols,
                                const int divide, const int accumulate) {
    int i = get_global_id(0);
    if (i >= rows * cols) return;
    float f = s[s_off + i / cols];
    float v = divide ? x[x_off + i] / f : x[x_off + i] * f;
    y[y_off + i] = accumulate ? y[y_off + i] + v : v;
}
