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
// TF32_BK. Warps form a 2 x 4 grid, each computing 64 x 32 outputs as 4 x 4 tiles of 16 x 8.
#define TF32_BM 128
#define TF32_BN 128
#define TF32_BK 16
#define TF32_THREADS 256
#define TF32_WARP_M 64
#define TF32_WARP_N 32
#define TF32_TILES_M 4
#define TF32_TILES_N 4
// Local row strides, padded so the fragment reads of a warp hit 32 distinct banks:
// A is kept [m][k] (stride 20: 20*g + t covers 0..31), B is kept [k][n] (stride 136: 8*t + g covers 0..31).
#define TF32_A_STRIDE (TF32_BK + 4)
#define TF32_B_STRIDE (TF32_BN + 8)
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
// `tid` loads in its load number i (0..7): consecutive work items read consecutive addresses of the stored
// layout, whichever way it is transposed.
#define TF32_LOADS ((TF32_BM * TF32_BK) / TF32_THREADS)

// global = (ceil(N / 128) * 256, ceil(M / 128)); local = (256, 1).
__kernel void gemm_tf32(__global const float* a, const int a_off,
                        __global const float* b, const int b_off,
                        __global float* c, const int c_off,
                        __global const float* bias, const int bias_off,
                        const int M, const int N, const int K, const int transA, const int transB,
                        const float alpha, const float beta, const int hasBias, const int act, const float slope,
                        __global const float* gy, const int gy_off, const int hasGrad, const int gact, const float gslope,
                        __global float* rs, const int rs_off, const int hasRowSums) {
    __local uint As[TF32_BM * TF32_A_STRIDE];
    __local uint Bs[TF32_BK * TF32_B_STRIDE];
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
    float nextA[TF32_LOADS], nextB[TF32_LOADS];
    TF32_UNROLL
    for (int i = 0; i < TF32_LOADS; i++) {
        const int e = tid + i * TF32_THREADS;
        const int am = transA ? e % TF32_BM : e / TF32_BK, ak = transA ? e / TF32_BM : e % TF32_BK;
        const int bk = transB ? e % TF32_BK : e / TF32_BN, bn = transB ? e / TF32_BK : e % TF32_BN;
        nextA[i] = tf32_a_at(a, a_off, M, K, transA, blockRow + am, ak);
        nextB[i] = tf32_b_at(b, b_off, K, N, transB, bk, blockCol + bn);
    }

    for (int k0 = 0; k0 < K; k0 += TF32_BK) {
        TF32_UNROLL
        for (int i = 0; i < TF32_LOADS; i++) {
            const int e = tid + i * TF32_THREADS;
            const int am = transA ? e % TF32_BM : e / TF32_BK, ak = transA ? e / TF32_BM : e % TF32_BK;
            const int bk = transB ? e % TF32_BK : e / TF32_BN, bn = transB ? e / TF32_BK : e % TF32_BN;
            As[am * TF32_A_STRIDE + ak] = tf32_bits(nextA[i]);
            Bs[bk * TF32_B_STRIDE + bn] = tf32_bits(nextB[i]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (sumRows) {
            TF32_UNROLL
            for (int kk = 0; kk < TF32_BK; kk++) rsum += as_float(As[tid * TF32_A_STRIDE + kk]);
        }
        const int kn = k0 + TF32_BK;
        if (kn < K) {  // no barrier inside: the prefetch of the next slice only
            TF32_UNROLL
            for (int i = 0; i < TF32_LOADS; i++) {
                const int e = tid + i * TF32_THREADS;
                const int am = transA ? e % TF32_BM : e / TF32_BK, ak = transA ? e / TF32_BM : e % TF32_BK;
                const int bk = transB ? e % TF32_BK : e / TF32_BN, bn = transB ? e / TF32_BK : e % TF32_BN;
                nextA[i] = tf32_a_at(a, a_off, M, K, transA, blockRow + am, kn + ak);
                nextB[i] = tf32_b_at(b, b_off, K, N, transB, kn + bk, blockCol + bn);
            }
        }
        TF32_UNROLL
        for (int ks = 0; ks < TF32_BK; ks += 8) {
            uint4 fa[TF32_TILES_M];
            uint2 fb[TF32_TILES_N];
            TF32_UNROLL
            for (int i = 0; i < TF32_TILES_M; i++) {
                const int r = (warpRow + i * 16 + g) * TF32_A_STRIDE + ks + t;
                fa[i] = (uint4)(As[r], As[r + 8 * TF32_A_STRIDE], As[r + 4], As[r + 8 * TF32_A_STRIDE + 4]);
            }
            TF32_UNROLL
            for (int j = 0; j < TF32_TILES_N; j++) {
                const int r = (ks + t) * TF32_B_STRIDE + warpCol + j * 8 + g;
                fb[j] = (uint2)(Bs[r], Bs[r + 4 * TF32_B_STRIDE]);
            }
            TF32_UNROLL
            for (int i = 0; i < TF32_TILES_M; i++)
                TF32_UNROLL
                for (int j = 0; j < TF32_TILES_N; j++) mma_tf32_m16n8k8(acc[i][j], fa[i], fb[j], warpScratch, lane);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    TF32_UNROLL
    for (int i = 0; i < TF32_TILES_M; i++) {
        TF32_UNROLL
        for (int j = 0; j < TF32_TILES_N; j++) {
            TF32_UNROLL
            for (int q = 0; q < 4; q++) {
                const int row = blockRow + warpRow + i * 16 + g + (q >> 1) * 8;
                const int col = blockCol + warpCol + j * 8 + 2 * t + (q & 1);
                if (row < M && col < N) {
                    const int idx = c_off + row * N + col;
                    c[idx] = product_epilogue(product_blend(acc[i][j][q], alpha, beta, c, idx),
                                              hasBias ? bias[bias_off + col] : 0.0f, act, slope, gy, gy_off + row * N + col,
                                              hasGrad, gact, gslope);
                }
            }
        }
    }
    if (sumRows && blockRow + tid < M) {
        const int idx = rs_off + blockRow + tid;
        rs[idx] = product_blend(rsum, alpha, beta, rs, idx);
    }
}

// y = the TF32 value of x, elementwise (what the product rounds its inputs to); used by the tests.
__kernel void tf32_round(__global const float* x, const int x_off, __global float* y, const int y_off, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[y_off + i] = as_float(tf32_bits(x[x_off + i]));
}
