// 2-D convolution over NCHW images with OIHW weights (cross-correlation, as in PyTorch) and its gradients,
// without an im2col buffer: the patch matrix col[(c,u,v), (n,i,j)] = x[n, c, i*SH - PH + u, j*SW - PW + v]
// (0 outside the image) is read straight from x where a kernel needs it.
//
// Every kernel takes the geometry as N, C, H, W (input), O (output channels), KH, KW, SH, SW, PH, PW and the
// output size HO, WO. OpenCLDevice+Convolution.swift chooses the kernels (ConvPlan in ConvTiling.swift):
// - the three passes as register-blocked implicit GEMMs (conv2d_*_blocked): a TM x TN output tile per work
//   group, a WM x WN register block per work item, TK-deep slices of both operands gathered from the tensors
//   into local memory (the next slice fetched into registers while the current one is multiplied); the kernels
//   writing y or dx end with their EPILOGUE_PARAMS (bias, activation, a factor g'(Y)), the weight gradient also forms
//   the bias gradient from the dy slices it stages;
// - for products with very few rows (O or C of 1 to 4), the forward pass as a 16 x 16 tile with one output per
//   work item (conv2d_forward_tiled) and the input gradient as a gather (conv2d_backward_input_gather).

// ---------------------------------------------------------------------------------------------------
// Register-blocked implicit GEMMs. Tile sizes are compile-time macros set per device (ConvTiling.swift).

// The geometry every convolution kernel takes: input N x C x H x W, O output channels, KH x KW taps, strides, padding,
// output HO x WO.
#define CONV_GEOMETRY_PARAMS const int N, const int C, const int H, const int W, const int O, const int KH, const int KW, \
    const int SH, const int SW, const int PH, const int PW, const int HO, const int WO

#ifndef CONV_TM
#define CONV_TM 32
#endif
#ifndef CONV_TN
#define CONV_TN 64
#endif
#ifndef CONV_TK
#define CONV_TK 16
#endif
#ifndef CONV_WM
#define CONV_WM 4
#endif
#ifndef CONV_WN
#define CONV_WN 4
#endif

// Work items along N (local dimension 0) and M (local dimension 1), elements of the A and B slices each work
// item moves per K slice, and the row strides of the local tiles (one float4 of padding).
#define CONV_RN (CONV_TN / CONV_WN)
#define CONV_RM (CONV_TM / CONV_WM)
#define CONV_THREADS (CONV_RM * CONV_RN)
#define CONV_LA (CONV_TM * CONV_TK / CONV_THREADS)
#define CONV_LB (CONV_TN * CONV_TK / CONV_THREADS)
#define CONV_SA (CONV_TM + 4)
#define CONV_SB (CONV_TN + 4)

#if CONV_WM % 4 != 0 || CONV_WN % 4 != 0 || CONV_TM % CONV_WM != 0 || CONV_TN % CONV_WN != 0
#error "CONV_WM and CONV_WN must be multiples of 4 dividing CONV_TM and CONV_TN"
#endif
#if CONV_THREADS % CONV_TM != 0 || CONV_THREADS % CONV_TN != 0 || CONV_THREADS % CONV_TK != 0
#error "the work items of a group must be a multiple of CONV_TM, CONV_TN and CONV_TK"
#endif
#if (CONV_TM * CONV_TK) % CONV_THREADS != 0 || (CONV_TN * CONV_TK) % CONV_THREADS != 0
#error "each work item must load whole elements of the A and B slices"
#endif

// Row of the tile that element i of work item tm's register block belongs to (columns likewise with RN):
// blocks of 4 consecutive rows, so that the float4 reads of the local tiles are contiguous.
#define CONV_ROW(i, tm) ((((i) / 4) * CONV_RM + (tm)) * 4 + (i) % 4)
#define CONV_COL(j, tn) ((((j) / 4) * CONV_RN + (tn)) * 4 + (j) % 4)

// acc += As^T * Bs over one TK slice, As stored [k][m] and Bs [k][n] with strides SA and SB.
static inline void conv_multiply(__local const float4* As, __local const float4* Bs, const int tm, const int tn,
                          float acc[CONV_WM][CONV_WN]) {
#pragma unroll
    for (int k = 0; k < CONV_TK; k++) {
        float av[CONV_WM], bv[CONV_WN];
#pragma unroll
        for (int v = 0; v < CONV_WM / 4; v++) {
            const float4 x = As[k * (CONV_SA / 4) + v * CONV_RM + tm];
            av[4 * v] = x.x; av[4 * v + 1] = x.y; av[4 * v + 2] = x.z; av[4 * v + 3] = x.w;
        }
#pragma unroll
        for (int v = 0; v < CONV_WN / 4; v++) {
            const float4 y = Bs[k * (CONV_SB / 4) + v * CONV_RN + tn];
            bv[4 * v] = y.x; bv[4 * v + 1] = y.y; bv[4 * v + 2] = y.z; bv[4 * v + 3] = y.w;
        }
#pragma unroll
        for (int i = 0; i < CONV_WM; i++)
#pragma unroll
            for (int j = 0; j < CONV_WN; j++) acc[i][j] += av[i] * bv[j];
    }
}

// rsum[i] += the TK entries of slice row i of work item tm's register block (As stored [k][m], as
// conv_multiply reads it): the row sums of the A operand, a weight gradient's bias gradient.
static inline void conv_sum_rows(__local const float4* As, const int tm, float rsum[CONV_WM]) {
#pragma unroll
    for (int k = 0; k < CONV_TK; k++)
#pragma unroll
        for (int v = 0; v < CONV_WM / 4; v++) {
            const float4 x = As[k * (CONV_SA / 4) + v * CONV_RM + tm];
            rsum[4 * v] += x.x; rsum[4 * v + 1] += x.y; rsum[4 * v + 2] += x.z; rsum[4 * v + 3] += x.w;
        }
}

static inline void conv_zero(float acc[CONV_WM][CONV_WN]) {
#pragma unroll
    for (int i = 0; i < CONV_WM; i++)
#pragma unroll
        for (int j = 0; j < CONV_WN; j++) acc[i][j] = 0.0f;
}

// Stores r[l] at tile[(k0 + l) * stride + m]: LB consecutive rows of column m (a warp's stores go to
// consecutive columns).
static inline void conv_store_column(__local float* tile, const int stride, const int m, const int k0, const float* r) {
#pragma unroll
    for (int l = 0; l < CONV_LB; l++) tile[(k0 + l) * stride + m] = r[l];
}

// Forward pass: C[o, (n,i,j)] = sum_k w[o, k] * col[k, (n,i,j)], k = (c,u,v), stored to y as
// act(C + bias[o]) * g'(Y) in NCHW (product_epilogue).
// - A (the weight, O x K, K contiguous): element e = tid + l * THREADS of a slice is (e / TK, e % TK), so a
//   warp reads runs of TK consecutive weights.
// - B (the patches): work item tid gathers column tid % TN of the slice, rows (tid / TN) * LB + l; the column's
//   image, top-left corner (h0, w0) are computed once, the row's (c, u, v) once per slice and then stepped.
// global = (ceil(N*HO*WO / TN) * RN, ceil(O / TM) * RM); local = (RN, RM).
static inline void conv_forward_load_w(__global const float* w, const int w_off, const int O, const int K,
                                const int m0, const int t, const int tid, float* r) {
#pragma unroll
    for (int l = 0; l < CONV_LA; l++) {
        const int e = tid + l * CONV_THREADS, m = m0 + e / CONV_TK, k = t + e % CONV_TK;
        r[l] = (m < O && k < K) ? w[w_off + m * K + k] : 0.0f;
    }
}

static inline void conv_forward_store_w(__local float* as, const int tid, const float* r) {
#pragma unroll
    for (int l = 0; l < CONV_LA; l++) {
        const int e = tid + l * CONV_THREADS;
        as[(e % CONV_TK) * CONV_SA + e / CONV_TK] = r[l];
    }
}

// r[l] = col[k0 + l, one position] for l < LB: the patch entries (c, u, v) from k0 on of the window with top-left
// corner (h0, w0) in the image at xBase (0 outside it, or for every l when !live or k0 + l >= K); (c, u, v) is
// decomposed once, then stepped. The forward pass and the weight gradient both gather their patches with it.
static inline void conv_load_patches(__global const float* x, const int xBase, const int live, const int h0, const int w0,
                              const int H, const int W, const int KH, const int KW, const int K,
                              const int k0, float* r) {
    const int taps = KH * KW;
    int c = k0 / taps;
    int u = (k0 - c * taps) / KW;
    int v = k0 - c * taps - u * KW;
#pragma unroll
    for (int l = 0; l < CONV_LB; l++) {
        const int h = h0 + u, ww = w0 + v;
        r[l] = (live && k0 + l < K && h >= 0 && h < H && ww >= 0 && ww < W) ? x[xBase + (c * H + h) * W + ww] : 0.0f;
        if (++v == KW) { v = 0; if (++u == KH) { u = 0; c++; } }
    }
}

// Where output (i, j) of work item (tm, tn)'s register block goes in y (NCHW), or -1 past the edges.
static inline int conv_forward_at(const int i, const int j, const int tm, const int tn, const int m0, const int n0,
                                  const int O, const int P, const int columns) {
    const int c = n0 + CONV_COL(j, tn), o = m0 + CONV_ROW(i, tm);
    if (c >= columns || o >= O) return -1;
    const int n = c / P;
    return (n * O + o) * P + c - n * P;
}

__kernel void conv2d_forward_blocked(__global const float* x, const int x_off,
                                     __global const float* w, const int w_off,
                                     __global float* y, const int y_off,
                                     CONV_GEOMETRY_PARAMS, EPILOGUE_PARAMS) {
    __local float4 As[CONV_TK * CONV_SA / 4];
    __local float4 Bs[CONV_TK * CONV_SB / 4];
    const int tn = get_local_id(0), tm = get_local_id(1), tid = tm * CONV_RN + tn;
    const int n0 = get_group_id(0) * CONV_TN, m0 = get_group_id(1) * CONV_TM;
    const int P = HO * WO, K = C * KH * KW, columns = N * P;

    // The patch column this work item gathers.
    const int bn = tid % CONV_TN, bk = (tid / CONV_TN) * CONV_LB;
    const int live = n0 + bn < columns, col = live ? n0 + bn : 0;
    const int n = col / P, q = col - n * P, oi = q / WO, oj = q - oi * WO;
    const int h0 = oi * SH - PH, w0 = oj * SW - PW, xBase = x_off + n * C * H * W;

    float acc[CONV_WM][CONV_WN];
    conv_zero(acc);
    float ra[CONV_LA], rb[CONV_LB];
    conv_forward_load_w(w, w_off, O, K, m0, 0, tid, ra);
    conv_load_patches(x, xBase, live, h0, w0, H, W, KH, KW, K, bk, rb);
    for (int t = 0; t < K; t += CONV_TK) {
        conv_forward_store_w((__local float*)As, tid, ra);
        conv_store_column((__local float*)Bs, CONV_SB, bn, bk, rb);
        barrier(CLK_LOCAL_MEM_FENCE);
        conv_forward_load_w(w, w_off, O, K, m0, t + CONV_TK, tid, ra);
        conv_load_patches(x, xBase, live, h0, w0, H, W, KH, KW, K, t + CONV_TK + bk, rb);
        conv_multiply(As, Bs, tm, tn, acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    // The sums are stored unrolled over the register block; the epilogue (EPILOGUE_APPLY) then runs rolled over what
    // this work item stored, so the activation's code is emitted once rather than once per accumulator.
#pragma unroll
    for (int j = 0; j < CONV_WN; j++) {
#pragma unroll
        for (int i = 0; i < CONV_WM; i++) {
            const int at = conv_forward_at(i, j, tm, tn, m0, n0, O, P, columns);
            if (at >= 0) y[y_off + at] = acc[i][j];
        }
    }
    if (EPILOGUE_NONE) return;
#pragma unroll 1
    for (int j = 0; j < CONV_WN; j++) {
#pragma unroll 1
        for (int i = 0; i < CONV_WM; i++) {
            const int at = conv_forward_at(i, j, tm, tn, m0, n0, O, P, columns);
            if (at >= 0) y[y_off + at] = EPILOGUE_APPLY(y[y_off + at], m0 + CONV_ROW(i, tm), at);
        }
    }
}

// Input gradient: dx[n, c, h, w] = sum over o and the taps (u, v) with h + PH - u = i*SH, w + PW - v = j*SW,
// 0 <= i < HO, 0 <= j < WO, of w[o, c, u, v] * dy[n, o, i, j]; added to dx when `accumulate`, then
// dx = act(dx + bias[c]) * g'(Y) (product_epilogue).
// An implicit GEMM per stride phase (ph, pw) = group id z = ph * SW + pw: the pixels with (h + PH) % SH == ph
// and (w + PW) % SW == pw are exactly those reached by the taps u = ph + a*SH, v = pw + b*SW, so
// dx[c, (n,h,w)] = sum_k A[c, k] * B[k, (n,h,w)] with k = (o, a, b) over O * ceil((KH - ph) / SH) *
// ceil((KW - pw) / SW) taps, A[c, k] = w[o, c, u, v] and B[k, (n,h,w)] = dy[n, o, (h + PH - u) / SH, (w + PW - v) / SW]
// (0 outside dy). No tap is skipped by the stride: a stride-2 product does a quarter of the dense work.
// - A: work item tid loads row tid % TM, rows (tid / TM) * LA + l of the slice, (o, a, b) stepped.
// - B: work item tid gathers column tid % TN, rows (tid / TN) * LB + l, (o, a, b) stepped.
// global = (ceil(N * ceil(H/SH) * ceil(W/SW) / TN) * RN, ceil(C / TM) * RM, SH * SW); local = (RN, RM, 1).
static inline void conv_input_load_w(__global const float* w, const int w_off, const int live, const int c, const int C,
                              const int KH, const int KW, const int SH, const int SW, const int ph, const int pw,
                              const int TUh, const int TUw, const int K, const int k0, float* r) {
    const int T = max(TUh * TUw, 1);
    int o = k0 / T;
    int a = (k0 - o * T) / max(TUw, 1);
    int b = k0 - o * T - a * TUw;
#pragma unroll
    for (int l = 0; l < CONV_LA; l++) {
        r[l] = (live && k0 + l < K) ? w[w_off + ((o * C + c) * KH + ph + a * SH) * KW + pw + b * SW] : 0.0f;
        if (++b == TUw) { b = 0; if (++a == TUh) { a = 0; o++; } }
    }
}

static inline void conv_input_load_dy(__global const float* dy, const int dyBase, const int live, const int i0, const int j0,
                               const int HO, const int WO, const int TUh, const int TUw, const int K,
                               const int k0, float* r) {
    const int T = max(TUh * TUw, 1);
    int o = k0 / T;
    int a = (k0 - o * T) / max(TUw, 1);
    int b = k0 - o * T - a * TUw;
#pragma unroll
    for (int l = 0; l < CONV_LB; l++) {
        const int i = i0 - a, j = j0 - b;
        r[l] = (live && k0 + l < K && i >= 0 && i < HO && j >= 0 && j < WO) ? dy[dyBase + (o * HO + i) * WO + j] : 0.0f;
        if (++b == TUw) { b = 0; if (++a == TUh) { a = 0; o++; } }
    }
}

// Where output (i, j) of work item (tm, tn)'s register block goes in dx (NCHW) for the phase starting at pixel
// (hs, ws) with Wp pixels per row and `plane` per image, or -1 past the edges.
static inline int conv_input_at(const int i, const int j, const int tm, const int tn, const int m0, const int n0,
                                const int C, const int H, const int W, const int SH, const int SW, const int hs, const int ws,
                                const int Wp, const int plane, const int columns) {
    const int col = n0 + CONV_COL(j, tn), ch = m0 + CONV_ROW(i, tm);
    if (col >= columns || ch >= C) return -1;
    const int n = col / plane, q = col - n * plane, a = q / Wp, b = q - a * Wp;
    return (n * C + ch) * H * W + (hs + a * SH) * W + ws + b * SW;
}

__kernel void conv2d_backward_input_blocked(__global const float* dy, const int dy_off,
                                            __global const float* w, const int w_off,
                                            __global float* dx, const int dx_off,
                                            CONV_GEOMETRY_PARAMS, const int accumulate, EPILOGUE_PARAMS) {
    __local float4 As[CONV_TK * CONV_SA / 4];
    __local float4 Bs[CONV_TK * CONV_SB / 4];
    const int tn = get_local_id(0), tm = get_local_id(1), tid = tm * CONV_RN + tn;
    const int n0 = get_group_id(0) * CONV_TN, m0 = get_group_id(1) * CONV_TM;
    // The phase: its first pixel (hs, ws), its Hp x Wp pixels per image and its TUh x TUw taps.
    const int ph = get_group_id(2) / SW, pw = get_group_id(2) - ph * SW;
    const int hs = ((ph - PH) % SH + SH) % SH, ws = ((pw - PW) % SW + SW) % SW;
    const int Hp = hs < H ? (H - hs + SH - 1) / SH : 0, Wp = ws < W ? (W - ws + SW - 1) / SW : 0;
    const int TUh = ph < KH ? (KH - ph + SH - 1) / SH : 0, TUw = pw < KW ? (KW - pw + SW - 1) / SW : 0;
    const int plane = Hp * Wp, columns = N * plane, K = O * TUh * TUw;

    // The dx pixel this work item gathers dy for, and the index (i0, j0) of dy that its tap a = b = 0 reads.
    const int bn = tid % CONV_TN, bk = (tid / CONV_TN) * CONV_LB;
    const int live = n0 + bn < columns, col = live ? n0 + bn : 0;
    const int n = col / max(plane, 1), q = col - n * plane, pa = q / max(Wp, 1), pb = q - pa * Wp;
    const int i0 = (hs + pa * SH + PH - ph) / SH, j0 = (ws + pb * SW + PW - pw) / SW;
    const int dyBase = dy_off + n * O * HO * WO;
    // The channel whose weights this work item loads.
    const int am = tid % CONV_TM, ak = (tid / CONV_TM) * CONV_LA, c = m0 + am, cLive = c < C;

    float acc[CONV_WM][CONV_WN];
    conv_zero(acc);
    float ra[CONV_LA], rb[CONV_LB];
    conv_input_load_w(w, w_off, cLive, c, C, KH, KW, SH, SW, ph, pw, TUh, TUw, K, ak, ra);
    conv_input_load_dy(dy, dyBase, live, i0, j0, HO, WO, TUh, TUw, K, bk, rb);
    for (int t = 0; t < K; t += CONV_TK) {
#pragma unroll
        for (int l = 0; l < CONV_LA; l++) ((__local float*)As)[(ak + l) * CONV_SA + am] = ra[l];
        conv_store_column((__local float*)Bs, CONV_SB, bn, bk, rb);
        barrier(CLK_LOCAL_MEM_FENCE);
        conv_input_load_w(w, w_off, cLive, c, C, KH, KW, SH, SW, ph, pw, TUh, TUw, K, t + CONV_TK + ak, ra);
        conv_input_load_dy(dy, dyBase, live, i0, j0, HO, WO, TUh, TUw, K, t + CONV_TK + bk, rb);
        conv_multiply(As, Bs, tm, tn, acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    // As in the forward pass: the sums (added to dx under `accumulate`) stored unrolled, the epilogue rolled.
#pragma unroll
    for (int j = 0; j < CONV_WN; j++) {
#pragma unroll
        for (int i = 0; i < CONV_WM; i++) {
            const int at = conv_input_at(i, j, tm, tn, m0, n0, C, H, W, SH, SW, hs, ws, Wp, plane, columns);
            if (at >= 0) dx[dx_off + at] = acc[i][j] + (accumulate ? dx[dx_off + at] : 0.0f);
        }
    }
    if (EPILOGUE_NONE) return;
#pragma unroll 1
    for (int j = 0; j < CONV_WN; j++) {
#pragma unroll 1
        for (int i = 0; i < CONV_WM; i++) {
            const int at = conv_input_at(i, j, tm, tn, m0, n0, C, H, W, SH, SW, hs, ws, Wp, plane, columns);
            if (at >= 0) dx[dx_off + at] = EPILOGUE_APPLY(dx[dx_off + at], m0 + CONV_ROW(i, tm), at);
        }
    }
}

// Weight gradient: dw[o, k] = sum over r = (n,i,j) of dy[n, o, i, j] * col[k, r], k = (c,u,v); a GEMM of
// O x N*HO*WO by N*HO*WO x K. Work group z sums r in [z * rChunk, min(N*HO*WO, (z + 1) * rChunk)) and writes
// out[z * O * K + o * K + k], added to what is there when `accumulate`: with one range, out is dw itself;
// with several, a workspace that conv2d_backward_weight_reduce sums into dw. When hasRowSums, the bias gradient
// sum over r of dy[n, o, i, j] is formed alongside by the groups of the first column of tiles, from the dy slices
// staged in As, and written (likewise accumulated) by their work items with tn = 0 to rs[rs_off + z * O + o].
// Work item tid loads slice row tid % TK (one position r per slice, decomposed once), for A the channels
// o = tid / TK + l * THREADS / TK, for B the LB consecutive columns from (tid / TK) * LB, stepped.
// global = (ceil(K / TN) * RN, ceil(O / TM) * RM, ranges); local = (RN, RM, 1).
static inline void conv_weight_load(__global const float* x, const int x_off, __global const float* dy, const int dy_off,
                             const int C, const int H, const int W, const int O, const int KH, const int KW,
                             const int SH, const int SW, const int PH, const int PW, const int HO, const int WO,
                             const int K, const int m0, const int kb, const int r, const int rEnd, const int tid,
                             float* ra, float* rb) {
    const int P = HO * WO, live = r < rEnd, rr = live ? r : 0;
    const int n = rr / P, p = rr - n * P, oi = p / WO, oj = p - oi * WO;
    const int dyBase = dy_off + n * O * P + p;
#pragma unroll
    for (int l = 0; l < CONV_LA; l++) {
        const int o = m0 + tid / CONV_TK + l * (CONV_THREADS / CONV_TK);
        ra[l] = (live && o < O) ? dy[dyBase + o * P] : 0.0f;
    }
    conv_load_patches(x, x_off + n * C * H * W, live, oi * SH - PH, oj * SW - PW, H, W, KH, KW, K, kb, rb);
}

__kernel void conv2d_backward_weight_blocked(__global const float* x, const int x_off,
                                             __global const float* dy, const int dy_off,
                                             __global float* out, const int out_off,
                                             CONV_GEOMETRY_PARAMS, const int accumulate, const int rChunk,
                                             __global float* rs, const int rs_off, const int hasRowSums) {
    __local float4 As[CONV_TK * CONV_SA / 4];
    __local float4 Bs[CONV_TK * CONV_SB / 4];
    const int tn = get_local_id(0), tm = get_local_id(1), tid = tm * CONV_RN + tn;
    const int n0 = get_group_id(0) * CONV_TN, m0 = get_group_id(1) * CONV_TM;
    const int K = C * KH * KW;
    const int rBegin = get_group_id(2) * rChunk, rEnd = min(N * HO * WO, rBegin + rChunk);
    const int rl = tid % CONV_TK, kl = (tid / CONV_TK) * CONV_LB;
    // the bias gradient, in the groups holding the first columns: every work item of such a group sums its rows
    // (the same branch for the whole group: no divergence, and PoCL keeps its work-item loops vectorized), and
    // those with tn = 0 store them
    const int sumRows = hasRowSums && get_group_id(0) == 0;
    float rsum[CONV_WM];
#pragma unroll
    for (int i = 0; i < CONV_WM; i++) rsum[i] = 0.0f;

    float acc[CONV_WM][CONV_WN];
    conv_zero(acc);
    float ra[CONV_LA], rb[CONV_LB];
    conv_weight_load(x, x_off, dy, dy_off, C, H, W, O, KH, KW, SH, SW, PH, PW, HO, WO, K, m0, n0 + kl,
                     rBegin + rl, rEnd, tid, ra, rb);
    for (int t = rBegin; t < rEnd; t += CONV_TK) {
#pragma unroll
        for (int l = 0; l < CONV_LA; l++)
            ((__local float*)As)[rl * CONV_SA + tid / CONV_TK + l * (CONV_THREADS / CONV_TK)] = ra[l];
#pragma unroll
        for (int l = 0; l < CONV_LB; l++) ((__local float*)Bs)[rl * CONV_SB + kl + l] = rb[l];
        barrier(CLK_LOCAL_MEM_FENCE);
        conv_weight_load(x, x_off, dy, dy_off, C, H, W, O, KH, KW, SH, SW, PH, PW, HO, WO, K, m0, n0 + kl,
                         t + CONV_TK + rl, rEnd, tid, ra, rb);
        conv_multiply(As, Bs, tm, tn, acc);
        if (sumRows) conv_sum_rows(As, tm, rsum);
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const int base = out_off + get_group_id(2) * O * K;
#pragma unroll
    for (int i = 0; i < CONV_WM; i++) {
        const int o = m0 + CONV_ROW(i, tm);
        if (o >= O) continue;
#pragma unroll
        for (int j = 0; j < CONV_WN; j++) {
            const int k = n0 + CONV_COL(j, tn);
            if (k >= K) continue;
            const int at = base + o * K + k;
            out[at] = (accumulate ? out[at] : 0.0f) + acc[i][j];
        }
        if (sumRows && tn == 0) {
            const int at = rs_off + get_group_id(2) * O + o;
            rs[at] = (accumulate ? rs[at] : 0.0f) + rsum[i];
        }
    }
}

// Sums the `ranges` partial weight gradients (consecutive blocks of `count` in ws) into dw and, when hasRowSums,
// the `ranges` partial bias gradients (consecutive blocks of O after them) into db; each added to what is there
// when `accumulate`. global = max(count, O).
__kernel void conv2d_backward_weight_reduce(__global const float* ws, const int ws_off,
                                            __global float* dw, const int dw_off,
                                            const int count, const int ranges, const int accumulate,
                                            __global float* db, const int db_off, const int hasRowSums, const int O) {
    const int e = get_global_id(0);
    if (e < count) {
        float s = 0.0f;
        for (int z = 0; z < ranges; z++) s += ws[ws_off + z * count + e];
        const int at = dw_off + e;
        dw[at] = (accumulate ? dw[at] : 0.0f) + s;
    }
    if (hasRowSums && e < O) {
        float s = 0.0f;
        for (int z = 0; z < ranges; z++) s += ws[ws_off + ranges * count + z * O + e];
        const int at = db_off + e;
        db[at] = (accumulate ? db[at] : 0.0f) + s;
    }
}

// ---------------------------------------------------------------------------------------------------
// Simple kernels for products with very few rows, and the bias gradient.

#define CONV_TILE 16
#define CONV_BIAS_GROUP 256

// Forward as an implicit GEMM: y[n, o, i, j] = act(sum_k w[o, k] * col[k, (n,i,j)] + bias[o]), k = (c,u,v).
// A 16 x 16 work group computes 16 output channels by 16 output positions; 16 x 16 tiles of the weight and of
// the patch matrix are staged in local memory, each weight reused by 16 positions and each input by 16 channels.
// global = (N*HO*WO, O) rounded up to the tile; local = (16, 16).
__kernel void conv2d_forward_tiled(__global const float* x, const int x_off,
                             __global const float* w, const int w_off,
                             __global float* y, const int y_off,
                             CONV_GEOMETRY_PARAMS, EPILOGUE_PARAMS) {
    __local float Ws[CONV_TILE][CONV_TILE];
    __local float Xs[CONV_TILE][CONV_TILE + 1];
    const int col = get_global_id(0), o = get_global_id(1);
    const int lc = get_local_id(0), lr = get_local_id(1);
    const int P = HO * WO, taps = KH * KW, K = C * taps, columns = N * P;
    // The output position of this work item's column, where it gathers its share of each patch tile.
    const int n = col / P, q = col - n * P, i = q / WO, j = q - i * WO;
    const int h0 = i * SH - PH, w0 = j * SW - PW;
    float acc = 0.0f;
    for (int t = 0; t < K; t += CONV_TILE) {
        const int kw = t + lc, kx = t + lr;
        Ws[lr][lc] = (o < O && kw < K) ? w[w_off + o * K + kw] : 0.0f;
        float value = 0.0f;
        if (col < columns && kx < K) {
            const int c = kx / taps, r = kx - c * taps, u = r / KW, v = r - u * KW;
            const int h = h0 + u, ww = w0 + v;
            if (h >= 0 && h < H && ww >= 0 && ww < W) value = x[x_off + ((n * C + c) * H + h) * W + ww];
        }
        Xs[lr][lc] = value;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < CONV_TILE; kk++) acc += Ws[lr][kk] * Xs[kk][lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (o < O && col < columns) {
        const int at = (n * O + o) * P + q;
        y[y_off + at] = EPILOGUE_APPLY(acc, o, at);
    }
}

// The first tap t in 0..<K with (p - t) divisible by S and (p - t) / S < OUT, for input coordinate p (padded).
// The taps that touch p are t, t + S, t + 2S, ... while t <= p and t < K.
static inline int conv_first_tap(const int p, const int S, const int OUT) {
    int t = p % S;
    const int lowest = p - S * (OUT - 1);
    if (lowest > t) t += (lowest - t + S - 1) / S * S;
    return t;
}

// Input gradient in gather form (no atomics): each dx element sums the dy elements whose patches held it,
// dx[n, c, h, w] = sum over o and the taps (u, v) with h = i*SH - PH + u, w = j*SW - PW + v, 0 <= i < HO,
// 0 <= j < WO, of w[o, c, u, v] * dy[n, o, i, j]; added to dx when `accumulate`, then dx = act(dx + bias[c]) * g'(Y).
// One work item per dx element; global = N*C*H*W.
__kernel void conv2d_backward_input_gather(__global const float* dy, const int dy_off,
                                    __global const float* w, const int w_off,
                                    __global float* dx, const int dx_off,
                                    CONV_GEOMETRY_PARAMS, const int accumulate, EPILOGUE_PARAMS) {
    const int index = get_global_id(0);
    if (index >= N * C * H * W) return;
    const int wq = index % W, hq = (index / W) % H, c = (index / (W * H)) % C, n = index / (W * H * C);
    const int hp = hq + PH, wp = wq + PW, P = HO * WO, taps = KH * KW;
    const int u0 = conv_first_tap(hp, SH, HO), v0 = conv_first_tap(wp, SW, WO);
    float acc = 0.0f;
    for (int u = u0; u < KH && u <= hp; u += SH) {
        const int i = (hp - u) / SH;
        for (int v = v0; v < KW && v <= wp; v += SW) {
            const int j = (wp - v) / SW;
            const __global float* wt = w + w_off + (c * KH + u) * KW + v;
            const __global float* g = dy + dy_off + n * O * P + i * WO + j;
            for (int o = 0; o < O; o++) acc += wt[o * C * taps] * g[o * P];
        }
    }
    const float v = acc + (accumulate ? dx[dx_off + index] : 0.0f);
    dx[dx_off + index] = EPILOGUE_APPLY(v, c, index);
}

// Bias gradient: dbias[o] = sum over n, i, j of dy[n, o, i, j]; added when `accumulate`. One work group of 256
// per channel: each work item sums a strided share of the N*HO*WO positions (coalesced), then a tree reduction in local memory.
// global = 256 * O; local = 256.
__kernel void conv2d_backward_bias(__global const float* dy, const int dy_off,
                                   __global float* dbias, const int dbias_off,
                                   const int N, const int O, const int P, const int accumulate) {
    __local float partial[CONV_BIAS_GROUP];
    // global is exactly 256 * O, so every group has a channel (and no early return precedes the barriers).
    const int o = get_group_id(0), lid = get_local_id(0);
    float acc = 0.0f;
    for (int t = lid; t < N * P; t += CONV_BIAS_GROUP) {
        const int n = t / P, q = t - n * P;
        acc += dy[dy_off + (n * O + o) * P + q];
    }
    partial[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = CONV_BIAS_GROUP / 2; span > 0; span >>= 1) {
        if (lid < span) partial[lid] += partial[lid + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        const int at = dbias_off + o;
        dbias[at] = (accumulate ? dbias[at] : 0.0f) + partial[0];
    }
}
