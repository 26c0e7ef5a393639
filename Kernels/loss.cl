// Loss terms summed per row, with their gradients. prediction, target, gradient: rows x cols, row-major.

// Work-group size of the row reductions (the Swift side launches with the same local size).
#define LOSS_WG 128

// Codes of ReconstructionLoss (Sources/Compute/Primitives/Loss.swift).
#define LOSS_BCE_WITH_LOGITS 0
#define LOSS_BCE 1
#define LOSS_MSE 2

// Sum of `v` over the LOSS_WG work items of a group, in a fixed tree order (deterministic).
static inline float loss_group_sum(float v, __local float* part) {
    const int l = get_local_id(0);
    part[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = LOSS_WG / 2; w > 0; w >>= 1) {
        if (l < w) part[l] += part[l + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}

// The loss of prediction x against target t, and its derivative in *grad.
static inline float loss_term(int kind, float x, float t, float* grad) {
    if (kind == LOSS_BCE_WITH_LOGITS) {
        // max(x, 0) - x t + log(1 + e^-|x|); gradient sigmoid(x) - t.
        const float e = exp(-fabs(x));
        *grad = (x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e)) - t;
        return fmax(x, 0.0f) - x * t + log1p(e);
    }
    if (kind == LOSS_BCE) {
        // -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)); gradient (p - t) / max(p (1 - p), 1e-12).
        const float lp = fmax(log(x), -100.0f), lq = fmax(log1p(-x), -100.0f);
        *grad = (x - t) / fmax(x * (1.0f - x), 1e-12f);
        return -(t * lp + (1.0f - t) * lq);
    }
    // (x - t)^2; gradient 2 (x - t).
    const float d = x - t;
    *grad = 2.0f * d;
    return d * d;
}

// per_row[r] = sum over c of loss(x, t); gradient[i] = scale * dloss/dx (overwritten) when has_grad.
// One work group of LOSS_WG per row; global = rows * LOSS_WG.
__kernel void loss_reconstruction(__global const float* x, const int x_off, __global const float* t, const int t_off,
                                  __global float* per_row, const int per_row_off, __global float* gradient,
                                  const int gradient_off, const int rows, const int cols, const int kind,
                                  const int has_grad, const float scale) {
    __local float part[LOSS_WG];
    const int row = get_group_id(0);
    if (row >= rows) return;
    const int base = row * cols;
    float s = 0.0f;
    for (int c = get_local_id(0); c < cols; c += LOSS_WG) {
        float g;
        s += loss_term(kind, x[x_off + base + c], t[t_off + base + c], &g);
        if (has_grad) gradient[gradient_off + base + c] = scale * g;
    }
    s = loss_group_sum(s, part);
    if (get_local_id(0) == 0) per_row[per_row_off + row] = s;
}

// per_row[r] = lambda * sum over c of |x|; gradient[i] += scale * sign(x) when has_grad (scale includes lambda).
// One work group of LOSS_WG per row; global = rows * LOSS_WG.
__kernel void loss_l1(__global const float* x, const int x_off, __global float* per_row, const int per_row_off,
                      __global float* gradient, const int gradient_off, const int rows, const int cols,
                      const float lambda, const int has_grad, const float scale) {
    __local float part[LOSS_WG];
    const int row = get_group_id(0);
    if (row >= rows) return;
    const int base = row * cols;
    float s = 0.0f;
    for (int c = get_local_id(0); c < cols; c += LOSS_WG) {
        const float v = x[x_off + base + c];
        s += fabs(v);
        if (has_grad) gradient[gradient_off + base + c] += scale * (v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f));
    }
    s = loss_group_sum(s, part);
    if (get_local_id(0) == 0) per_row[per_row_off + row] = lambda * s;
}
