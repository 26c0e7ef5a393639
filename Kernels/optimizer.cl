// Fused optimizer updates over one flat parameter buffer (torch.optim semantics), and the clip coefficient.
// Every update reads an optional one-element gradient scale s (has_scale = 0: s = 1), and consumes the
// gradients: each is set to 0 once read, so the next backward pass accumulates from zero.

// Adam / AdamW, one work item per element. The host forms the per-step scalars:
// step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t), l2 = lambda (Adam) or 0,
// decay = 1 - lr * lambda (AdamW) or 1.
__kernel void adam_update(__global float* p, const int p_off, __global float* g, const int g_off,
                          __global float* m, const int m_off, __global float* v, const int v_off,
                          __global const float* scale, const int scale_off, const int has_scale, const int count,
                          const float beta1, const float one_minus_beta1, const float beta2, const float one_minus_beta2,
                          const float epsilon, const float step_size, const float bc2_sqrt, const float l2,
                          const float decay) {
    const int i = get_global_id(0);
    if (i >= count) return;
    const float s = has_scale ? scale[scale_off] : 1.0f;
    const float theta = p[p_off + i];
    const float gi = g[g_off + i] * s + l2 * theta;
    g[g_off + i] = 0.0f;
    const float mi = beta1 * m[m_off + i] + one_minus_beta1 * gi;
    const float vi = beta2 * v[v_off + i] + one_minus_beta2 * gi * gi;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    p[p_off + i] = theta * decay - step_size * mi / (sqrt(vi) / bc2_sqrt + epsilon);
}

// SGD with L2 weight decay and, when has_velocity, momentum: buf = mu * buf + g; theta -= lr * buf.
__kernel void sgd_update(__global float* p, const int p_off, __global float* g, const int g_off,
                         __global float* buf, const int buf_off, const int has_velocity,
                         __global const float* scale, const int scale_off, const int has_scale, const int count,
                         const float lr, const float momentum, const float weight_decay) {
    const int i = get_global_id(0);
    if (i >= count) return;
    const float s = has_scale ? scale[scale_off] : 1.0f;
    const float theta = p[p_off + i];
    float d = g[g_off + i] * s + weight_decay * theta;
    g[g_off + i] = 0.0f;
    if (has_velocity) {
        d = momentum * buf[buf_off + i] + d;
        buf[buf_off + i] = d;
    }
    p[p_off + i] = theta - lr * d;
}

// scale = min(1, max_norm / (sqrt(squared_norm) + 1e-6)); a NaN norm gives NaN. One work item.
__kernel void clip_scale(__global const float* sq, const int sq_off, __global float* scale, const int scale_off,
                         const float max_norm) {
    if (get_global_id(0) != 0) return;
    const float c = max_norm / (sqrt(sq[sq_off]) + 1e-6f);
    scale[scale_off] = c > 1.0f ? 1.0f : c;
}
