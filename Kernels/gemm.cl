// Matrix products C = act(alpha * op(A) * op(B) + beta * C + bias) * g'(Y), row-major, and optionally the row
// sums of op(A), rs = alpha * op(A) * 1 + beta * rs (a layer's bias gradient beside its weight gradient).
// g'(Y) is act_grad formed from an activation's output Y (M x N), present when hasGrad is set.
//
// Two kernels compute them (OpenCLDevice+GEMM.swift chooses):
// - gemm_blocked: a TM x TN output tile per work group, a WM x WN register block per work item, and
//   TK-deep slices of op(A) and op(B) staged in local memory. Tile sizes are compile-time macros set per
//   device (GEMMTiling.swift); with a K range per work group along dimension 2 it also computes split-K
//   partial products, which gemm_splitk_reduce then sums.
// - gemm_tiled: one output per work item over 16 x 16 tiles, for products too small to fill the device
//   with blocked tiles (batch-sized M or N).

// ---------------------------------------------------------------------------------------------------
// Register-blocked kernel.

#ifndef GEMM_TM
#define GEMM_TM 64
#endif
#ifndef GEMM_TN
#define GEMM_TN 64
#endif
#ifndef GEMM_TK
#define GEMM_TK 16
#endif
#ifndef GEMM_WM
#define GEMM_WM 4
#endif
#ifndef GEMM_WN
#define GEMM_WN 4
#endif

// Work items along N (local dimension 0) and M (local dimension 1), and elements of op(A) and op(B)
// each work item moves from global to local memory per K slice.
#define GEMM_RN (GEMM_TN / GEMM_WN)
#define GEMM_RM (GEMM_TM / GEMM_WM)
#define GEMM_THREADS (GEMM_RM * GEMM_RN)
#define GEMM_LA (GEMM_TM * GEMM_TK / GEMM_THREADS)
#define GEMM_LB (GEMM_TN * GEMM_TK / GEMM_THREADS)
// Row strides of the local tiles in floats: one float4 of padding, so that column-wise stores of a
// K-contiguous operand spread over the banks while float4 reads stay aligned.
#define GEMM_SA (GEMM_TM + 4)
#define GEMM_SB (GEMM_TN + 4)

#if GEMM_WM % 4 != 0 || GEMM_WN % 4 != 0 || GEMM_TM % GEMM_WM != 0 || GEMM_TN % GEMM_WN != 0
#error "GEMM_WM and GEMM_WN must be multiples of 4 dividing GEMM_TM and GEMM_TN"
#endif
#if (GEMM_TM * GEMM_TK) % GEMM_THREADS != 0 || (GEMM_TN * GEMM_TK) % GEMM_THREADS != 0
#error "each work item must load whole elements of the A and B slices"
#endif
#if GEMM_THREADS % GEMM_TK != 0 || GEMM_THREADS % GEMM_TM != 0 || GEMM_THREADS % GEMM_TN != 0
#error "the work items of a group must cover whole rows of a slice (gemm_share)"
#endif

// The elements of a K slice one work item moves from global to local memory: element l of its share of the
// TK x TM slice of op(A) is (m + l * dm, k + l * dk), consecutive work items taking consecutive addresses of A
// whether or not it is transposed; likewise (n, k) of the TK x TN slice of op(B), with n in the field m.
// Loads read zero outside the matrix and past kEnd; stores put A as As[k][m] (transposed, so that reads along
// M are contiguous) and B as Bs[k][n].
typedef struct { int m, k, dm, dk; } gemm_share;

static inline gemm_share gemm_share_a(const int transA, const int tid) {
    gemm_share s;
    s.m = transA ? tid % GEMM_TM : tid / GEMM_TK;
    s.k = transA ? tid / GEMM_TM : tid % GEMM_TK;
    s.dm = transA ? 0 : GEMM_THREADS / GEMM_TK;
    s.dk = transA ? GEMM_THREADS / GEMM_TM : 0;
    return s;
}

static inline gemm_share gemm_share_b(const int transB, const int tid) {
    gemm_share s;
    s.m = transB ? tid / GEMM_TK : tid % GEMM_TN;
    s.k = transB ? tid % GEMM_TK : tid / GEMM_TN;
    s.dm = transB ? GEMM_THREADS / GEMM_TK : 0;
    s.dk = transB ? 0 : GEMM_THREADS / GEMM_TN;
    return s;
}

static inline void gemm_load_a(__global const float* a, const int a_off, const int transA, const int M, const int K,
                        const int m0, const int t, const int kEnd, const gemm_share s, float* r) {
#pragma unroll
    for (int l = 0; l < GEMM_LA; l++) {
        const int row = m0 + s.m + l * s.dm, kk = t + s.k + l * s.dk;
        r[l] = (row < M && kk < kEnd) ? a[a_off + (transA ? kk * M + row : row * K + kk)] : 0.0f;
    }
}

static inline void gemm_store_a(__local float* as, const gemm_share s, const float* r) {
#pragma unroll
    for (int l = 0; l < GEMM_LA; l++) as[(s.k + l * s.dk) * GEMM_SA + s.m + l * s.dm] = r[l];
}

static inline void gemm_load_b(__global const float* b, const int b_off, const int transB, const int N, const int K,
                        const int n0, const int t, const int kEnd, const gemm_share s, float* r) {
#pragma unroll
    for (int l = 0; l < GEMM_LB; l++) {
        const int col = n0 + s.m + l * s.dm, kk = t + s.k + l * s.dk;
        r[l] = (col < N && kk < kEnd) ? b[b_off + (transB ? col * K + kk : kk * N + col)] : 0.0f;
    }
}

static inline void gemm_store_b(__local float* bs, const gemm_share s, const float* r) {
#pragma unroll
    for (int l = 0; l < GEMM_LB; l++) bs[(s.k + l * s.dk) * GEMM_SB + s.m + l * s.dm] = r[l];
}

// Work item (tn, tm) owns rows m0 + (v * RM + tm) * 4 + q for v < WM / 4, q < 4, and likewise columns,
// so that its float4 reads of the local tiles and a warp's stores to C are contiguous.
// global = (ceil(N / TN) * RN, ceil(M / TM) * RM, splits); local = (RN, RM, 1).
// Work group z sums k in [z * kChunk, min(K, (z + 1) * kChunk)) and writes C at c_off + z * M * N; a
// split-K launch passes the workspace as C with alpha = 1, beta = 0, no bias, identity activation, no
// derivative, and the row sums' workspace (splits x M after C's) as rs. The row sums of op(A) are formed in the
// groups holding the first columns, one row per work item (tid < TM), from each slice staged in local memory.
__kernel void gemm_blocked(__global const float* a, const int a_off,
                           __global const float* b, const int b_off,
                           __global float* c, const int c_off,
                           const int M, const int N, const int K, const int transA, const int transB,
                           PRODUCT_BLEND_PARAMS, const int kChunk, EPILOGUE_PARAMS) {
    __local float4 As[GEMM_TK * GEMM_SA / 4];
    __local float4 Bs[GEMM_TK * GEMM_SB / 4];
    const int tn = get_local_id(0), tm = get_local_id(1);
    const int tid = tm * GEMM_RN + tn;
    const int n0 = get_group_id(0) * GEMM_TN, m0 = get_group_id(1) * GEMM_TM;
    const int kBegin = get_group_id(2) * kChunk, kEnd = min(K, kBegin + kChunk);

    float acc[GEMM_WM][GEMM_WN];
#pragma unroll
    for (int i = 0; i < GEMM_WM; i++)
#pragma unroll
        for (int j = 0; j < GEMM_WN; j++) acc[i][j] = 0.0f;

    // The row sums of op(A): work item tid < TM of a group holding the first columns sums row m0 + tid.
    const int sumRows = hasRowSums && get_group_id(0) == 0 && tid < GEMM_TM;
    float rsum = 0.0f;

    float ra[GEMM_LA], rb[GEMM_LB];
    const gemm_share sa = gemm_share_a(transA, tid), sb = gemm_share_b(transB, tid);
    gemm_load_a(a, a_off, transA, M, K, m0, kBegin, kEnd, sa, ra);
    gemm_load_b(b, b_off, transB, N, K, n0, kBegin, kEnd, sb, rb);
    for (int t = kBegin; t < kEnd; t += GEMM_TK) {
        gemm_store_a((__local float*)As, sa, ra);
        gemm_store_b((__local float*)Bs, sb, rb);
        barrier(CLK_LOCAL_MEM_FENCE);
        // Fetch the next slice into registers while this one is multiplied (zeros past kEnd).
        gemm_load_a(a, a_off, transA, M, K, m0, t + GEMM_TK, kEnd, sa, ra);
        gemm_load_b(b, b_off, transB, N, K, n0, t + GEMM_TK, kEnd, sb, rb);
#pragma unroll
        for (int k = 0; k < GEMM_TK; k++) {
            float av[GEMM_WM], bv[GEMM_WN];
#pragma unroll
            for (int v = 0; v < GEMM_WM / 4; v++) {
                const float4 x = As[k * (GEMM_SA / 4) + v * GEMM_RM + tm];
                av[4 * v] = x.x; av[4 * v + 1] = x.y; av[4 * v + 2] = x.z; av[4 * v + 3] = x.w;
            }
#pragma unroll
            for (int v = 0; v < GEMM_WN / 4; v++) {
                const float4 y = Bs[k * (GEMM_SB / 4) + v * GEMM_RN + tn];
                bv[4 * v] = y.x; bv[4 * v + 1] = y.y; bv[4 * v + 2] = y.z; bv[4 * v + 3] = y.w;
            }
#pragma unroll
            for (int i = 0; i < GEMM_WM; i++)
#pragma unroll
                for (int j = 0; j < GEMM_WN; j++) acc[i][j] += av[i] * bv[j];
        }
        if (sumRows) {
#pragma unroll
            for (int k = 0; k < GEMM_TK; k++) rsum += ((__local float*)As)[k * GEMM_SA + tid];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    if (sumRows && m0 + tid < M) {
        const int idx = rs_off + get_group_id(2) * M + m0 + tid;
        rs[idx] = product_blend(rsum, alpha, beta, rs, idx);
    }
    // The store: the blend alpha * acc + beta * C unrolled over the register block, then the rest of the epilogue
    // (bias, activation, g'(Y)) in a rolled loop over what this work item just stored, so the activation's code
    // is emitted once rather than once per accumulator.
    const int cz = c_off + get_group_id(2) * M * N;
#pragma unroll
    for (int i = 0; i < GEMM_WM; i++) {
        const int row = m0 + ((i / 4) * GEMM_RM + tm) * 4 + i % 4;
        if (row >= M) continue;
#pragma unroll
        for (int j = 0; j < GEMM_WN; j++) {
            const int col = n0 + ((j / 4) * GEMM_RN + tn) * 4 + j % 4;
            if (col >= N) continue;
            const int idx = cz + row * N + col;
            c[idx] = product_blend(acc[i][j], alpha, beta, c, idx);
        }
    }
    if (EPILOGUE_NONE) return;
#pragma unroll 1
    for (int i = 0; i < GEMM_WM; i++) {
        const int row = m0 + ((i / 4) * GEMM_RM + tm) * 4 + i % 4;
        if (row >= M) continue;
#pragma unroll 1
        for (int j = 0; j < GEMM_WN; j++) {
            const int col = n0 + ((j / 4) * GEMM_RN + tn) * 4 + j % 4;
            if (col >= N) continue;
            const int idx = cz + row * N + col;
            c[idx] = EPILOGUE_APPLY(c[idx], col, row * N + col);
        }
    }
}

// Sums the split-K partial products (splits consecutive M x N blocks of w, then splits blocks of M row sums)
// and applies the epilogue. global = M * N.
__kernel void gemm_splitk_reduce(__global const float* w, const int w_off,
                                 __global float* c, const int c_off,
                                 const int M, const int N, const int splits,
                                 PRODUCT_BLEND_PARAMS, EPILOGUE_PARAMS) {
    const int i = get_global_id(0);
    if (i >= M * N) return;
    float s = 0.0f;
    for (int z = 0; z < splits; z++) s += w[w_off + z * M * N + i];
    const int idx = c_off + i;
    c[idx] = EPILOGUE_APPLY(product_blend(s, alpha, beta, c, idx), i % N, i);
    if (hasRowSums && i < M) {
        float r = 0.0f;
        for (int z = 0; z < splits; z++) r += w[w_off + splits * M * N + z * M + i];
        rs[rs_off + i] = product_blend(r, alpha, beta, rs, rs_off + i);
    }
}

// ---------------------------------------------------------------------------------------------------
// Simple kernel for batch-sized products.

#define GEMM_TILE 16

// op(A)[row, kk] and op(B)[kk, col], with A stored M x K (or K x M) and B stored K x N (or N x K).
#define A_AT(row, kk) (transA ? a[a_off + (kk) * M + (row)] : a[a_off + (row) * K + (kk)])
#define B_AT(kk, col) (transB ? b[b_off + (col) * K + (kk)] : b[b_off + (kk) * N + (col)])

// One output per work item, 16 x 16 tiles of A and B staged in local memory.
// global = (N, M) rounded up to the tile; local = (16, 16).
__kernel void gemm_tiled(__global const float* a, const int a_off,
                         __global const float* b, const int b_off,
                         __global float* c, const int c_off,
                         const int M, const int N, const int K, const int transA, const int transB,
                         PRODUCT_BLEND_PARAMS, EPILOGUE_PARAMS) {
    __local float As[GEMM_TILE][GEMM_TILE];
    __local float Bs[GEMM_TILE][GEMM_TILE + 1];
    const int col = get_global_id(0), row = get_global_id(1);
    const int lc = get_local_id(0), lr = get_local_id(1);
    // the row sums of op(A): one work item per row, in the groups holding the first columns
    const int sumRows = hasRowSums && get_group_id(0) == 0 && lc == 0;
    float acc = 0.0f, rsum = 0.0f;
    for (int t = 0; t < K; t += GEMM_TILE) {
        int ak = t + lc, bk = t + lr;
        As[lr][lc] = (row < M && ak < K) ? A_AT(row, ak) : 0.0f;
        Bs[lr][lc] = (col < N && bk < K) ? B_AT(bk, col) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < GEMM_TILE; kk++) acc += As[lr][kk] * Bs[kk][lc];
        if (sumRows) {
            for (int kk = 0; kk < GEMM_TILE; kk++) rsum += As[lr][kk];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < M && col < N) {
        const int idx = c_off + row * N + col;
        c[idx] = EPILOGUE_APPLY(product_blend(acc, alpha, beta, c, idx), col, row * N + col);
    }
    if (sumRows && row < M) rs[rs_off + row] = product_blend(rsum, alpha, beta, rs, rs_off + row);
}
