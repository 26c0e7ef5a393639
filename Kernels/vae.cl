// The Gaussian latent of a VAE: reparameterization z = mu + exp(logvar / 2) * eps and the KL term
// KL = 1/2 (mu^2 + exp(logvar) - 1 - logvar) against N(0, I), with their gradients. mu, logvar: batch x dim.

// Work-group size of the KL reductions (the Swift side launches with the same local size).
#define KL_WG 64

// 1/2 (mu^2 + (expm1(logvar) - logvar)): the same value as -1/2 (1 + logvar - mu^2 - exp(logvar)), accurate
// when logvar is small.
inline float kl_term(float mu, float logvar) { return 0.5f * (mu * mu + (expm1(logvar) - logvar)); }

// Sum of `v` over the KL_WG work items of a group, in a fixed tree order (deterministic).
inline float kl_group_sum(float v, __local float* part) {
    const int l = get_local_id(0);
    part[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = KL_WG / 2; w > 0; w >>= 1) {
        if (l < w) part[l] += part[l + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}

// eps[i] = n_i (the normal stream of fillNormal), z[i] = mu[i] + exp(logvar[i] / 2) * eps[i].
// One work item per Box-Muller pair; global = ceil(n / 2).
__kernel void vae_reparameterize(__global const float* mu, const int mu_off, __global const float* logvar,
                                 const int logvar_off, __global float* eps, const int eps_off,
                                 __global float* z, const int z_off, const int n, const ulong seed, const ulong stream) {
    const int b = get_global_id(0);
    const int i = b * 2;
    if (i >= n) return;
    const float2 e = philox_normal_pair(seed, stream, (ulong)b);
    eps[eps_off + i] = e.x;
    z[z_off + i] = mu[mu_off + i] + exp(0.5f * logvar[logvar_off + i]) * e.x;
    if (i + 1 < n) {
        eps[eps_off + i + 1] = e.y;
        z[z_off + i + 1] = mu[mu_off + i + 1] + exp(0.5f * logvar[logvar_off + i + 1]) * e.y;
    }
}

// dmu = dz, dlogvar = dz * eps * 1/2 exp(logvar / 2); added to the old values when `accumulate`.
__kernel void vae_reparameterize_backward(__global const float* dz, const int dz_off, __global const float* logvar,
                                          const int logvar_off, __global const float* eps, const int eps_off,
                                          __global float* dmu, const int dmu_off, __global float* dlogvar,
                                          const int dlogvar_off, const int n, const int accumulate) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float g = dz[dz_off + i];
    const float gl = g * eps[eps_off + i] * 0.5f * exp(0.5f * logvar[logvar_off + i]);
    if (accumulate) {
        dmu[dmu_off + i] += g;
        dlogvar[dlogvar_off + i] += gl;
    } else {
        dmu[dmu_off + i] = g;
        dlogvar[dlogvar_off + i] = gl;
    }
}

// per_sample[r] = sum over j of KL(r, j). One work group of KL_WG per row; global = batch * KL_WG.
__kernel void vae_kl_per_sample(__global const float* mu, const int mu_off, __global const float* logvar,
                                const int logvar_off, __global float* out, const int out_off,
                                const int batch, const int dim) {
    __local float part[KL_WG];
    const int row = get_group_id(0);
    if (row >= batch) return;
    const int base = row * dim;
    float s = 0.0f;
    for (int j = get_local_id(0); j < dim; j += KL_WG) s += kl_term(mu[mu_off + base + j], logvar[logvar_off + base + j]);
    s = kl_group_sum(s, part);
    if (get_local_id(0) == 0) out[out_off + row] = s;
}

// per_dimension[j] = (1 / batch) sum over rows of KL(r, j). One work group of KL_WG per dimension, each work
// item summing rows l, l + KL_WG, ... before the tree; global = dim * KL_WG.
__kernel void vae_kl_per_dimension(__global const float* mu, const int mu_off, __global const float* logvar,
                                   const int logvar_off, __global float* out, const int out_off,
                                   const int batch, const int dim) {
    __local float part[KL_WG];
    const int col = get_group_id(0);
    if (col >= dim) return;
    float s = 0.0f;
    for (int r = get_local_id(0); r < batch; r += KL_WG) {
        const int idx = r * dim + col;
        s += kl_term(mu[mu_off + idx], logvar[logvar_off + idx]);
    }
    s = kl_group_sum(s, part);
    if (get_local_id(0) == 0) out[out_off + col] = batch > 0 ? s / (float)batch : 0.0f;
}

// dmu += w m_j mu, dlogvar += w m_j 1/2 (exp(logvar) - 1), m_j = mask[j] when has_mask, else 1.
__kernel void vae_kl_backward(__global const float* mu, const int mu_off, __global const float* logvar,
                              const int logvar_off, __global const float* mask, const int mask_off,
                              __global float* dmu, const int dmu_off, __global float* dlogvar, const int dlogvar_off,
                              const int n, const int dim, const float weight, const int has_mask) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float w = has_mask ? weight * mask[mask_off + i % dim] : weight;
    dmu[dmu_off + i] += w * mu[mu_off + i];
    dlogvar[dlogvar_off + i] += w * 0.5f * expm1(logvar[logvar_off + i]);
}
