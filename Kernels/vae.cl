// The Gaussian latent of a VAE: reparameterization z = mu + exp(logvar / 2) * eps and the KL term
// KL = 1/2 (mu^2 + exp(logvar) - 1 - logvar) against N(0, I), with their gradients. mu, logvar: batch x dim.

// 1/2 (mu^2 + (expm1(logvar) - logvar)): the same value as -1/2 (1 + logvar - mu^2 - exp(logvar)), accurate
// when logvar is small.
static inline float kl_term(float mu, float logvar) { return 0.5f * (mu * mu + (expm1(logvar) - logvar)); }

// eps[i] = n_(offset + i) (the normal stream of fillNormal), z[i] = mu[i] + exp(logvar[i] / 2) * eps[i].
// One work item per Box-Muller pair; global = ceil((offset % 2 + n) / 2).
__kernel void vae_reparameterize(__global const float* mu, const int mu_off, __global const float* logvar,
                                 const int logvar_off, __global float* eps, const int eps_off,
                                 __global float* z, const int z_off, const int n, const ulong seed, const ulong stream,
                                 const ulong offset) {
    const ulong b = offset / 2 + (ulong)get_global_id(0);
    const int i = (int)((long)(2 * b) - (long)offset);
    if (i >= n) return;
    const float2 e = philox_normal_pair(seed, stream, b);
    if (i >= 0) {
        eps[eps_off + i] = e.x;
        z[z_off + i] = mu[mu_off + i] + exp(0.5f * logvar[logvar_off + i]) * e.x;
    }
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

// Work-group size of the fused latent pass (the Swift side launches with the same local size).
#define LATENT_WG 256

// The whole forward pass of the Gaussian latent for the rows [r0, r1) of one work group: eps (the normal stream of
// fillNormal), z = mu + exp(logvar / 2) eps, kl_rows[r] = sum over j of KL(r, j), and the sum over the group's
// rows of KL(r, j) for each dimension j. That column sum is written to partials[group * dim + j] when `partial`
// (several groups: vae_kl_dimension_final finishes it), else as the batch mean to kl_cols[j], also added to sums[j]
// when has_sums. global = groups * LATENT_WG, local = LATENT_WG, each group `rows_per_group` rows. Every sum runs in
// an order fixed by the shape (deterministic).
__kernel void vae_latent_forward(__global const float* mu, const int mu_off, __global const float* logvar,
                                 const int logvar_off, __global float* eps, const int eps_off, __global float* z,
                                 const int z_off, __global float* kl_rows, const int kl_rows_off,
                                 __global float* kl_cols, const int kl_cols_off, __global float* sums,
                                 const int sums_off, const int batch, const int dim, const int rows_per_group,
                                 const int partial, const int has_sums, const ulong seed, const ulong stream,
                                 const ulong offset) {
    __local float part[LATENT_WG];
    const int l = get_local_id(0), g = get_group_id(0);
    const int r0 = g * rows_per_group, r1 = min(r0 + rows_per_group, batch);
    const int e0 = r0 * dim, e1 = r1 * dim;
    // z and eps, one Box-Muller pair (stream elements 2p, 2p + 1: view elements i, i + 1) per work item at a time
    for (ulong p = (offset + (ulong)e0) / 2 + (ulong)l; 2 * p < offset + (ulong)e1; p += LATENT_WG) {
        const float2 e = philox_normal_pair(seed, stream, p);
        const int i = (int)((long)(2 * p) - (long)offset);
        if (i >= e0) {
            eps[eps_off + i] = e.x;
            z[z_off + i] = mu[mu_off + i] + exp(0.5f * logvar[logvar_off + i]) * e.x;
        }
        if (i + 1 < e1) {
            eps[eps_off + i + 1] = e.y;
            z[z_off + i + 1] = mu[mu_off + i + 1] + exp(0.5f * logvar[logvar_off + i + 1]) * e.y;
        }
    }
    // KL per sample: a row per work item
    for (int r = r0 + l; r < r1; r += LATENT_WG) {
        float s = 0.0f;
        for (int i = r * dim; i < (r + 1) * dim; i++) s += kl_term(mu[mu_off + i], logvar[logvar_off + i]);
        kl_rows[kl_rows_off + r] = s;
    }
    // KL per dimension: `width` adjacent columns at a time, `lanes` work items per column (rows strided by lanes),
    // the lanes combined in a tree in local memory
    const int width = min(dim, LATENT_WG), lanes = LATENT_WG / width;
    const int lane = l / width, c = l - lane * width;
    const float inverse_batch = 1.0f / (float)batch;
    for (int j0 = 0; j0 < dim; j0 += width) {
        const int j = j0 + c;
        const bool active = lane < lanes && j < dim;
        float s = 0.0f;
        if (active) {
            for (int r = r0 + lane; r < r1; r += lanes) s += kl_term(mu[mu_off + r * dim + j], logvar[logvar_off + r * dim + j]);
        }
        part[l] = s;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int w = 1; w < lanes; w <<= 1) {
            if (active && (lane & (2 * w - 1)) == 0 && lane + w < lanes) part[l] += part[l + w * width];
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (active && lane == 0) {
            if (partial) {
                kl_cols[kl_cols_off + g * dim + j] = part[l];
            } else {
                const float mean = part[l] * inverse_batch;
                kl_cols[kl_cols_off + j] = mean;
                if (has_sums) sums[sums_off + j] += mean;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

// Finishes the per-dimension KL of a several-group vae_latent_forward: kl_cols[j] = (sum over groups of
// partials[g * dim + j], in group order) / batch, also added to sums[j] when has_sums. One work item per dimension.
__kernel void vae_kl_dimension_final(__global const float* partials, const int partials_off, __global float* kl_cols,
                                     const int kl_cols_off, __global float* sums, const int sums_off, const int groups,
                                     const int dim, const int batch, const int has_sums) {
    const int j = get_global_id(0);
    if (j >= dim) return;
    float s = 0.0f;
    for (int g = 0; g < groups; g++) s += partials[partials_off + g * dim + j];
    const float mean = s / (float)batch;
    kl_cols[kl_cols_off + j] = mean;
    if (has_sums) sums[sums_off + j] += mean;
}

// The gradient through z = mu + exp(logvar / 2) eps plus that of weight * KL, written over dmu and dlogvar:
// dmu = dz + w_j mu, dlogvar = dz eps 1/2 exp(logvar / 2) + w_j 1/2 (exp(logvar) - 1), w_j = weight * mask[j] when
// has_mask, else weight. One work item per element.
__kernel void vae_latent_backward(__global const float* dz, const int dz_off, __global const float* mu, const int mu_off,
                                  __global const float* logvar, const int logvar_off, __global const float* eps,
                                  const int eps_off, __global const float* mask, const int mask_off,
                                  __global float* dmu, const int dmu_off, __global float* dlogvar, const int dlogvar_off,
                                  const int n, const int dim, const float weight, const int has_mask) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float w = has_mask ? weight * mask[mask_off + i % dim] : weight;
    const float g = dz[dz_off + i], lv = logvar[logvar_off + i];
    dmu[dmu_off + i] = g + w * mu[mu_off + i];
    dlogvar[dlogvar_off + i] = g * eps[eps_off + i] * 0.5f * exp(0.5f * lv) + w * 0.5f * expm1(lv);
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
