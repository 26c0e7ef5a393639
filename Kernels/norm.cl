// Batch normalization over x laid out as [N, C, S]: channel c's M = N*S values sit at (b*C + c)*S + s.

#define BN_GROUP 256   // work items per channel; a power of two for the tree reduction

// Sum of v over the work group: a tree in local memory. Every work item gets the total.
static inline float bn_group_sum(__local float* scratch, float v) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = BN_GROUP / 2; stride > 0; stride >>= 1) {
        if (lid < stride) scratch[lid] += scratch[lid + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

// Training-mode forward: one work group per channel. Two passes for the statistics (mean, then the
// biased variance about it), then y = (x - mean) * gamma * inv_std + beta; work item 0 saves mean and
// inv_std and updates the running statistics (unbiased variance, PyTorch's momentum rule).
// global = C * BN_GROUP; local = BN_GROUP.
__kernel void batch_norm_train(__global const float* x, const int x_off, __global const float* gamma, const int gamma_off,
                               __global const float* beta, const int beta_off,
                               __global float* rmean, const int rmean_off, __global float* rvar, const int rvar_off,
                               __global float* smean, const int smean_off, __global float* sinv, const int sinv_off,
                               __global float* y, const int y_off,
                               const int N, const int C, const int S, const float momentum, const float eps) {
    __local float scratch[BN_GROUP];
    const int c = get_group_id(0), lid = get_local_id(0), M = N * S;
    float acc = 0.0f;
    for (int i = lid; i < M; i += BN_GROUP) {
        const int b = i / S;
        acc += x[x_off + (b * C + c) * S + (i - b * S)];
    }
    const float mean = bn_group_sum(scratch, acc) / (float)M;
    acc = 0.0f;
    for (int i = lid; i < M; i += BN_GROUP) {
        const int b = i / S;
        const float t = x[x_off + (b * C + c) * S + (i - b * S)] - mean;
        acc += t * t;
    }
    const float var = bn_group_sum(scratch, acc) / (float)M;
    const float inv_std = 1.0f / sqrt(var + eps);
    const float scale = gamma[gamma_off + c] * inv_std, shift = beta[beta_off + c];
    for (int i = lid; i < M; i += BN_GROUP) {
        const int b = i / S;
        const int o = (b * C + c) * S + (i - b * S);
        y[y_off + o] = (x[x_off + o] - mean) * scale + shift;
    }
    if (lid == 0) {
        smean[smean_off + c] = mean;
        sinv[sinv_off + c] = inv_std;
        const float unbiased = var * (float)M / (float)max(M - 1, 1);
        rmean[rmean_off + c] = (1.0f - momentum) * rmean[rmean_off + c] + momentum * mean;
        rvar[rvar_off + c] = (1.0f - momentum) * rvar[rvar_off + c] + momentum * unbiased;
    }
}

// Evaluation-mode forward with the running statistics, one work item per element. global = N*C*S.
__kernel void batch_norm_eval(__global const float* x, const int x_off, __global const float* gamma, const int gamma_off,
                              __global const float* beta, const int beta_off,
                              __global const float* rmean, const int rmean_off, __global const float* rvar, const int rvar_off,
                              __global float* y, const int y_off, const int count, const int C, const int S,
                              const float eps) {
    const int i = get_global_id(0);
    if (i >= count) return;
    const int c = (i / S) % C;
    const float scale = gamma[gamma_off + c] * (1.0f / sqrt(rvar[rvar_off + c] + eps));
    y[y_off + i] = (x[x_off + i] - rmean[rmean_off + c]) * scale + beta[beta_off + c];
}

// Training-mode backward: one work group per channel reduces sum(dy) and sum(dy * x_hat), then writes
// dx = gamma * inv_std * (dy - sum(dy)/M - x_hat * sum(dy * x_hat)/M); work item 0 adds to dgamma and dbeta.
// global = C * BN_GROUP; local = BN_GROUP.
__kernel void batch_norm_backward(__global const float* dy, const int dy_off, __global const float* x, const int x_off,
                                  __global const float* gamma, const int gamma_off,
                                  __global const float* smean, const int smean_off, __global const float* sinv, const int sinv_off,
                                  __global float* dx, const int dx_off, __global float* dgamma, const int dgamma_off,
                                  __global float* dbeta, const int dbeta_off, const int N, const int C, const int S) {
    __local float scratch[BN_GROUP];
    const int c = get_group_id(0), lid = get_local_id(0), M = N * S;
    const float mean = smean[smean_off + c], inv_std = sinv[sinv_off + c];
    float acc_dy = 0.0f, acc_dyxc = 0.0f;
    for (int i = lid; i < M; i += BN_GROUP) {
        const int b = i / S;
        const int o = (b * C + c) * S + (i - b * S);
        const float g = dy[dy_off + o];
        acc_dy += g;
        acc_dyxc += g * (x[x_off + o] - mean);
    }
    const float sum_dy = bn_group_sum(scratch, acc_dy);
    const float sum_dy_xhat = bn_group_sum(scratch, acc_dyxc) * inv_std;
    const float mean_dy = sum_dy / (float)M, mean_dy_xhat = sum_dy_xhat / (float)M;
    const float scale = gamma[gamma_off + c] * inv_std;
    for (int i = lid; i < M; i += BN_GROUP) {
        const int b = i / S;
        const int o = (b * C + c) * S + (i - b * S);
        const float x_hat = (x[x_off + o] - mean) * inv_std;
        dx[dx_off + o] = scale * (dy[dy_off + o] - mean_dy - x_hat * mean_dy_xhat);
    }
    if (lid == 0) {
        dgamma[dgamma_off + c] += sum_dy_xhat;
        dbeta[dbeta_off + c] += sum_dy;
    }
}
