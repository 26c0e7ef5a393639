// TF32 tensor-core products C = act(alpha * op(A) * op(B) + beta * C + bias) * g'(Y) and the row sums of op(A),
// row-major, with the semantics of `gemm_tiled` except that A and B are rounded to TF32 (10 mantissa bits, round to nearest,
// ties away from zero) before they are multiplied; products are accumulated in FP32.
//
// Built only on request (`OpenCLDevice.enableTF32()`), never at device start:
// - with -DAEK_MMA_PTX the warp-level product is the inline PTX `mma.sync.aligned.m16n8k8` (NVIDIA GPUs
//   of compute capability 8.0 or newer; other compilers reject the asm);
// - without it, the same product is emulated with per-warp local memory and barriers, so the whole
//   kernel (fragment loads, tiling, edges, epilogue) runs and is tested on any OpenCL device.

// Block tile: TF32_BM x TF32_BN outputs per work group of 8 warps (256 work items), K in slices of
// TF32_BK. Warps form a 2 x 4 grid, each computing 64 x 16 outputs as 4 x 2 tiles of 16 x 8 (32 accumulators per
// work item: with 128 x 128 blocks and 64 each, ptxas needed 215 registers, one group per SM).
#define TF32_BM 128
#define TF32_BN 64
#define TF32_BK 16
#define TF32_THREADS 256
#define TF32_WARP_M 64
#define TF32_WARP_N 16
#define TF32_TILES_M 4
#define TF32_TILES_N 2
// The slices sit in local memory in fragment order, so that a warp reads each fragment as one vector per lane
// (uint4 for A, uint2 for B, consecutive across the lanes: no bank conflicts): see tf32_a_slot and tf32_b_slot.
// Floats of per-warp scratch the emulated product needs (a 16 x 8 A tile and an 8 x 8 B tile).
#define TF32_SCRATCH 192

// Fixed-count loops are unrolled for the tensor cores, so the accumulators stay in registers; the emulation
// keeps them rolled (PoCL compiles one region per barrier).
#ifdef AEK_MMA_PTX
#define TF32_UNROLL _Pragma("unroll")
#else
#define TF32_UNROLL
#endif

// The TF32 bit pattern of x, as `cvt.rna.tf32.f32` gives it: an FP32 pattern whose low 13 mantissa bits
// are zero, rounded to nearest with ties away from zero. Infinities stay, NaNs stay NaN.
static inline uint tf32_bits(float x) {
#ifdef AEK_MMA_PTX
    uint r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
#else
    uint u = as_uint(x);
    if ((u & 0x7f800000u) == 0x7f800000u) return (u & 0xffffe000u) | ((u & 0x1fffu) != 0u ? 0x00400000u : 0u);
    // Sign and magnitude: adding half a TF32 unit to the magnitude and truncating rounds half away from
    // zero; a carry out of the mantissa moves to the next binade (or to infinity) as it should.
    return (u + 0x1000u) & 0xffffe000u;
#endif
}

// One warp-level product d = a * b + c on a 16 x 8 x 8 tile, with the fragment layouts of PTX
// `mma.m16n8k8` for .tf32 (lane = 4 * groupID + threadID_in_group):
//   a.x: A[g][t], a.y: A[g + 8][t], a.z: A[g][t + 4], a.w: A[g + 8][t + 4]   (TF32 bit patterns)
//   b.x: B[t][g], b.y: B[t + 4][g]                                             (TF32 bit patterns)
//   c[0], c[1]: C[g][2t], C[g][2t + 1];  c[2], c[3]: C[g + 8][2t], C[g + 8][2t + 1]
// Every work item of the group must call it together (the emulation synchronizes the group).
static inline void mma_tf32_m16n8k8(float* c, uint4 a, uint2 b, __local float* scratch, int lane) {
#ifdef AEK_MMA_PTX
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a.x), "r"(a.y), "r"(a.z), "r"(a.w), "r"(b.x), "r"(b.y));
#else
    const int g = lane >> 2, t = lane & 3;
    __local float* as = scratch;        // 16 x 8, row-major
    __local float* bs = scratch + 128;  // 8 x 8, [k][n]
    // The tensor cores read only the TF32 bits of each operand.
    as[g * 8 + t] = as_float(a.x & 0xffffe000u);
    as[(g + 8) * 8 + t] = as_float(a.y & 0xffffe000u);
    as[g * 8 + t + 4] = as_float(a.z & 0xffffe000u);
    as[(g + 8) * 8 + t + 4] = as_float(a.w & 0xffffe000u);
    bs[t * 8 + g] = as_float(b.x & 0xffffe000u);
    bs[(t + 4) * 8 + g] = as_float(b.y & 0xffffe000u);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int q = 0; q < 4; q++) {
        const int row = g + (q >> 1) * 8, col = 2 * t + (q & 1);
        float s = c[q];
        for (int kk = 0; kk < 8; kk++) s += as[row * 8 + kk] * bs[kk * 8 + col];
        c[q] = s;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
#endif
}

// op(A)[row, kk] and op(B)[kk, col], zero outside the matrices.
static inline float tf32_a_at(__global const float* a, int a_off, int M, int K, int transA, int row, int kk) {
    if (row >= M || kk >= K) return 0.0f;
    return transA ? a[a_off + kk * M + row] : a[a_off + row * K + kk];
}

static inline float tf32_b_at(__global const float* b, int b_off, int K, int N, int transB, int kk, int col) {
    if (kk >= K || col >= N) return 0.0f;
    return transB ? b[b_off + col * K + kk] : b[b_off + kk * N + col];
}

// Which element of a TF32_BM x TF32_BK slice of op(A) (or a TF32_BK x TF32_BN slice of op(B)) work item
// `tid` loads in its load number i: consecutive work items read consecutive addresses of the stored
// layout, whichever way it is transposed.
#define TF32_LOADS_A ((TF32_BM * TF32_BK) / TF32_THREADS)
#define TF32_LOADS_B ((TF32_BK * TF32_BN) / TF32_THREADS)

// Where element (m, k) of the A slice is kept: fragment a of the 16 x 8 tile (m / 16, k / 8) for lane
// 4 * (m % 8) + k % 4, component (m % 16) / 8 + 2 * ((k % 8) / 4) -- the order of mma_tf32_m16n8k8's a.
static inline int tf32_a_slot(const int m, const int k) {
    const int tile = (k >> 3) * (TF32_BM / 16) + (m >> 4), lane = (m & 7) * 4 + (k & 3);
    return (tile * 32 + lane) * 4 + ((m >> 3) & 1) + 2 * ((k >> 2) & 1);
}

// Where element (k, n) of the B slice is kept: fragment b of the 8 x 8 tile (k / 8, n / 8) for lane
// 4 * (n % 8) + k % 4, component (k % 8) / 4.
static inline int tf32_b_slot(const int k, const int n) {
    const int tile = (k >> 3) * (TF32_BN / 8) + (n >> 3), lane = (n & 7) * 4 + (k & 3);
    return (tile * 32 + lane) * 2 + ((k >> 2) & 1);
}

// Where output (i, j, q) of work item (warpRow, warpCol, g, t)'s fragments lies in C, or -1 past its edges.
static inline int tf32_c_at(const int i, const int j, const int q, const int blockRow, const int blockCol, const int warpRow,
                            const int warpCol, const int g, const int t, const int M, const int N) {
    const int row = blockRow + warpRow + i * 16 + g + (q >> 1) * 8;
    const int col = blockCol + warpCol + j * 8 + 2 * t + (q & 1);
    return row < M && col < N ? row * N + col : -1;
}

// global = (ceil(N / TF32_BN) * 256, ceil(M / TF32_BM)); local = (256, 1).
__kernel void gemm_tf32(__global const float* a, const int a_off,
                        __global const float* b, const int b_off,
                        __global float* c, const int c_off,
                        const int M, const int N, const int K, const int transA, const int transB,
                        PRODUCT_BLEND_PARAMS, EPILOGUE_PARAMS) {
    __local uint4 As[TF32_BM * TF32_BK / 4];
    __local uint2 Bs[TF32_BK * TF32_BN / 2];
    __local float scratch[(TF32_THREADS / 32) * TF32_SCRATCH];
    const int tid = get_local_id(0);
    const int warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, t = lane & 3;
    const int warpRow = (warp >> 2) * TF32_WARP_M, warpCol = (warp & 3) * TF32_WARP_N;
    const int blockRow = get_group_id(1) * TF32_BM, blockCol = get_group_id(0) * TF32_BN;
    __local float* warpScratch = scratch + warp * TF32_SCRATCH;
    // The row sums of op(A), from the TF32 values the product multiplies: work item tid < TF32_BM of the groups
    // holding the first columns sums row tid of each staged slice.
    const int sumRows = hasRowSums && get_group_id(0) == 0 && tid < TF32_BM;
    float rsum = 0.0f;

    float acc[TF32_TILES_M][TF32_TILES_N][4];
    TF32_UNROLL
    for (int i = 0; i < TF32_TILES_M; i++)
        TF32_UNROLL
        for (int j = 0; j < TF32_TILES_N; j++)
            TF32_UNROLL
            for (int q = 0; q < 4; q++) acc[i][j][q] = 0.0f;

    // The next K slice is read from global memory into registers while the current one is multiplied.
    float nextA[TF32_LOADS_A], nextB[TF32_LOADS_B];
    TF32_UNROLL
    for (int i = 0; i < TF32_LOADS_A; i++) {
        const int e = tid + i * TF32_THREADS;
        const int am = transA ? e % TF32_BM : e / TF32_BK, ak = transA ? e / TF32_BM : e % TF32_BK;
        nextA[i] = tf32_a_at(a, a_off, M, K, transA, blockRow + am, ak);
    }
    TF32_UNROLL
    for (int i = 0; i < TF32_LOADS_B; i++) {
        const int e = tid + i * TF32_THREADS;
        const int bk = transB ? e % TF32_BK : e / TF32_BN, bn = transB ? e / TF32_BK : e % TF32_BN;
        nextB[i] = tf32_b_at(b, b_off, K, N, transB, bk, blockCol + bn);
    }

    for (int k0 = 0; k0 < K; k0 += TF32_BK) {
        TF32_UNROLL
        for (int i = 0; i < TF32_LOADS_A; i++) {
            const int e = tid + i * TF32_THREADS;
            const int am = transA ? e % TF32_BM : e / TF32_BK, ak = transA ? e / TF32_BM : e % TF32_BK;
            ((__local uint*)As)[tf32_a_slot(am, ak)] = tf32_bits(nextA[i]);
        }
        TF32_UNROLL
        for (int i = 0; i < TF32_LOADS_B; i++) {
            const int e = tid + i * TF32_THREADS;
            const int bk = transB ? e % TF32_BK : e / TF32_BN, bn = transB ? e / TF32_BK : e % TF32_BN;
            ((__local uint*)Bs)[tf32_b_slot(bk, bn)] = tf32_bits(nextB[i]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (sumRows) {
            TF32_UNROLL
            for (int kk = 0; kk < TF32_BK; kk++) rsum += as_float(((__local uint*)As)[tf32_a_slot(tid, kk)]);
        }
        const int kn = k0 + TF32_BK;
        if (kn < K) {  // no barrier inside: the prefetch of the next slice only
            TF32_UNROLL
            for (int i = 0; i < TF32_LOADS_A; i++) {
                const int e = tid + i * TF32_THREADS;
                const int am = transA ? e % TF32_BM : e / TF32_BK, ak = transA ? e / TF32_BM : e % TF32_BK;
                nextA[i] = tf32_a_at(a, a_off, M, K, transA, blockRow + am, kn + ak);
            }
            TF32_UNROLL
            for (int i = 0; i < TF32_LOADS_B; i++) {
                const int e = tid + i * TF32_THREADS;
                const int bk = transB ? e % TF32_BK : e / TF32_BN, bn = transB ? e / TF32_BK : e % TF32_BN;
                nextB[i] = tf32_b_at(b, b_off, K, N, transB, kn + bk, blockCol + bn);
            }
        }
        TF32_UNROLL
        for (int ks = 0; ks < TF32_BK / 8; ks++) {
            uint4 fa[TF32_TILES_M];
            uint2 fb[TF32_TILES_N];
            TF32_UNROLL
            for (int i = 0; i < TF32_TILES_M; i++) fa[i] = As[(ks * (TF32_BM / 16) + (warpRow >> 4) + i) * 32 + lane];
            TF32_UNROLL
            for (int j = 0; j < TF32_TILES_N; j++) fb[j] = Bs[(ks * (TF32_BN / 8) + (warpCol >> 3) + j) * 32 + lane];
            TF32_UNROLL
            for (int i = 0; i < TF32_TILES_M; i++)
                TF32_UNROLL
                for (int j = 0; j < TF32_TILES_N; j++) mma_tf32_m16n8k8(acc[i][j], fa[i], fb[j], warpScratch, lane);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    if (sumRows && blockRow + tid < M) {
        const int idx = rs_off + blockRow + tid;
        rs[idx] = product_blend(rsum, alpha, beta, rs, idx);
    }
    // The blend stored unrolled over the fragments, then the rest of the epilogue rolled over what this work item
    // stored, so the activation's code is emitted once (as in gemm_blocked).
    TF32_UNROLL
    for (int i = 0; i < TF32_TILES_M; i++)
        TF32_UNROLL
        for (int j = 0; j < TF32_TILES_N; j++)
            TF32_UNROLL
            for (int q = 0; q < 4; q++) {
                const int at = tf32_c_at(i, j, q, blockRow, blockCol, warpRow, warpCol, g, t, M, N);
                if (at >= 0) c[c_off + at] = product_blend(acc[i][j][q], alpha, beta, c, c_off + at);
            }
    if (EPILOGUE_NONE) return;
#pragma unroll 1
    for (int i = 0; i < TF32_TILES_M; i++)
#pragma unroll 1
        for (int j = 0; j < TF32_TILES_N; j++)
#pragma unroll 1
            for (int q = 0; q < 4; q++) {
                const int at = tf32_c_at(i, j, q, blockRow, blockCol, warpRow, warpCol, g, t, M, N);
                if (at >= 0) c[c_off + at] = EPILOGUE_APPLY(c[c_off + at], at % N, at);
            }
}

// y = the TF32 value of x, elementwise (what the product rounds its inputs to); used by the tests.
__kernel void tf32_round(__global const float* x, const int x_off, __global float* y, const int y_off, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[y_off + i] = as_float(tf32_bits(x[x_off + i]));
}
