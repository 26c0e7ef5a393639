// Vector-quantizer kernels: nearest codebook vector per row, and the deterministic row scatter-add.

#define NC_ROWS 64    // rows (work items) per work group
#define NC_CODES 32   // codes per local-memory tile, each with a private accumulator
#define NC_DIMS 128   // dimensions per local-memory tile

// codes[i] = argmin_k sum_j (z[i, j] - e[k, j])^2, ties to the lower index; NaN distances never win, and a
// row without a finite distance gets code 0. One work item per row; the codebook passes through local
// memory in tiles of NC_CODES codes x NC_DIMS dimensions, and each z element read from global memory
// serves NC_CODES distances. global = N rounded up to NC_ROWS; local = NC_ROWS.
__kernel void nearest_code(__global const float* z, const int z_off, __global const float* e, const int e_off,
                           __global int* codes, const int codes_off, __global float* dist, const int dist_off,
                           const int has_dist, const int N, const int K, const int D) {
    __local float tile[NC_CODES * NC_DIMS];
    const int row = get_global_id(0), lid = get_local_id(0);
    float best = INFINITY, first = INFINITY;
    int code = 0;
    for (int c0 = 0; c0 < K; c0 += NC_CODES) {
        float acc[NC_CODES];
        for (int t = 0; t < NC_CODES; t++) acc[t] = 0.0f;
        for (int j0 = 0; j0 < D; j0 += NC_DIMS) {
            const int jn = min(NC_DIMS, D - j0);
            for (int q = lid; q < NC_CODES * jn; q += NC_ROWS) {
                const int t = q / jn, j = q - t * jn;
                tile[q] = c0 + t < K ? e[e_off + (c0 + t) * D + j0 + j] : 0.0f;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            if (row < N) {
                __global const float* zr = z + z_off + row * D + j0;
                for (int j = 0; j < jn; j++) {
                    const float zj = zr[j];
                    #pragma unroll
                    for (int t = 0; t < NC_CODES; t++) {
                        const float diff = zj - tile[t * jn + j];
                        acc[t] += diff * diff;
                    }
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (c0 == 0) first = acc[0];
        const int tn = min(NC_CODES, K - c0);
        for (int t = 0; t < tn; t++) {
            if (acc[t] < best) {
                best = acc[t];
                code = c0 + t;
            }
        }
    }
    if (row >= N) return;
    codes[codes_off + row] = code;
    if (has_dist) dist[dist_off + row] = best < INFINITY ? best : first;
}

#define SCATTER_COLS 64   // columns (work items) per work group, sharing one tile of indices

// y[k, c] (+)= sum over i with idx[i] == k of x[i, c], in increasing i; counts[k] (+)= their number.
// One work item per (column, row k); the indices pass through local memory in tiles. No atomics, so
// the result is the same on every run. global = (max(cols, 1) rounded up to SCATTER_COLS, rows);
// local = (SCATTER_COLS, 1).
__kernel void scatter_add_rows(__global const float* x, const int x_off, __global const int* idx, const int idx_off,
                               __global float* y, const int y_off, __global float* counts, const int counts_off,
                               const int has_counts, const int n, const int cols, const int accumulate) {
    __local int tile[SCATTER_COLS];
    const int c = get_global_id(0), k = get_global_id(1), lid = get_local_id(0);
    float acc = 0.0f, hits = 0.0f;
    for (int i0 = 0; i0 < n; i0 += SCATTER_COLS) {
        if (i0 + lid < n) tile[lid] = idx[idx_off + i0 + lid];
        barrier(CLK_LOCAL_MEM_FENCE);
        const int len = min(SCATTER_COLS, n - i0);
        for (int t = 0; t < len; t++) {
            if (tile[t] == k) {
                if (c < cols) acc += x[x_off + (i0 + t) * cols + c];
                hits += 1.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (c < cols) {
        const int o = y_off + k * cols + c;
        y[o] = accumulate ? y[o] + acc : acc;
    }
    if (has_counts && c == 0) {
        const int o = counts_off + k;
        counts[o] = accumulate ? counts[o] + hits : hits;
    }
}
