// 2-D convolution over NCHW images with OIHW weights (cross-correlation, as in PyTorch) and its gradients,
// without an im2col buffer: the patch matrix col[(c,u,v), (n,i,j)] = x[n, c, i*SH - PH + u, j*SW - PW + v]
// (0 outside the image) is read straight from x where a kernel needs it.
//
// Every kernel takes the geometry as N, C, H, W (input), O (output channels), KH, KW, SH, SW, PH, PW and the
// output size HO, WO.

#define CONV_TILE 16
#define CONV_WEIGHT_GROUP 64
#define CONV_BIAS_GROUP 256

// Forward as an implicit GEMM: y[n, o, i, j] = act(sum_k w[o, k] * col[k, (n,i,j)] + bias[o]), k = (c,u,v).
// A 16 x 16 work group computes 16 output channels by 16 output positions; 16 x 16 tiles of the weight and of
// the patch matrix are staged in local memory, each weight reused by 16 positions and each input by 16 channels.
// global = (N*HO*WO, O) rounded up to the tile; local = (16, 16).
__kernel void conv2d_forward(__global const float* x, const int x_off,
                             __global const float* w, const int w_off,
                             __global const float* bias, const int bias_off,
                             __global float* y, const int y_off,
                             const int N, const int C, const int H, const int W, const int O,
                             const int KH, const int KW, const int SH, const int SW, const int PH, const int PW,
                             const int HO, const int WO, const int hasBias, const int act, const float slope) {
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
        const float v = acc + (hasBias ? bias[bias_off + o] : 0.0f);
        y[y_off + (n * O + o) * P + q] = act_apply(v, act, slope);
    }
}

// The first tap t in 0..<K with (p - t) divisible by S and (p - t) / S < OUT, for input coordinate p (padded).
// The taps that touch p are t, t + S, t + 2S, ... while t <= p and t < K.
inline int conv_first_tap(const int p, const int S, const int OUT) {
    int t = p % S;
    const int lowest = p - S * (OUT - 1);
    if (lowest > t) t += (lowest - t + S - 1) / S * S;
    return t;
}

// Input gradient in gather form (no atomics): each dx element sums the dy elements whose patches held it,
// dx[n, c, h, w] = sum over o and the taps (u, v) with h = i*SH - PH + u, w = j*SW - PW + v, 0 <= i < HO,
// 0 <= j < WO, of w[o, c, u, v] * dy[n, o, i, j]; added to dx when `accumulate`.
// One work item per dx element; global = N*C*H*W.
__kernel void conv2d_backward_input(__global const float* dy, const int dy_off,
                                    __global const float* w, const int w_off,
                                    __global float* dx, const int dx_off,
                                    const int N, const int C, const int H, const int W, const int O,
                                    const int KH, const int KW, const int SH, const int SW, const int PH, const int PW,
                                    const int HO, const int WO, const int accumulate) {
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
    const int at = dx_off + index;
    dx[at] = (accumulate ? dx[at] : 0.0f) + acc;
}

// Weight gradient: dw[o, c, u, v] = sum over n, i, j of dy[n, o, i, j] * x[n, c, i*SH - PH + u, j*SW - PW + v];
// added to dw when `accumulate`. One work group of 64 per weight element: each work item sums a strided share
// of the N*HO*WO positions (consecutive items read consecutive positions), then a tree reduction in local memory.
// global = 64 * O*C*KH*KW; local = 64.
__kernel void conv2d_backward_weight(__global const float* x, const int x_off,
                                     __global const float* dy, const int dy_off,
                                     __global float* dw, const int dw_off,
                                     const int N, const int C, const int H, const int W, const int O,
                                     const int KH, const int KW, const int SH, const int SW, const int PH, const int PW,
                                     const int HO, const int WO, const int accumulate) {
    __local float partial[CONV_WEIGHT_GROUP];
    const int e = get_group_id(0), lid = get_local_id(0);
    if (e >= O * C * KH * KW) return;
    const int v = e % KW, u = (e / KW) % KH, c = (e / (KW * KH)) % C, o = e / (KW * KH * C);
    const int P = HO * WO, total = N * P;
    float acc = 0.0f;
    for (int t = lid; t < total; t += CONV_WEIGHT_GROUP) {
        const int n = t / P, q = t - n * P, i = q / WO, j = q - i * WO;
        const int h = i * SH - PH + u, ww = j * SW - PW + v;
        if (h >= 0 && h < H && ww >= 0 && ww < W)
            acc += dy[dy_off + (n * O + o) * P + q] * x[x_off + ((n * C + c) * H + h) * W + ww];
    }
    partial[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = CONV_WEIGHT_GROUP / 2; span > 0; span >>= 1) {
        if (lid < span) partial[lid] += partial[lid + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        const int at = dw_off + e;
        dw[at] = (accumulate ? dw[at] : 0.0f) + partial[0];
    }
}

// Bias gradient: dbias[o] = sum over n, i, j of dy[n, o, i, j]; added when `accumulate`. One work group of 256
// per channel: each work item sums a strided share of the N*HO*WO positions (coalesced), then a tree reduction in local memory.
// global = 256 * O; local = 256.
__kernel void conv2d_backward_bias(__global const float* dy, const int dy_off,
                                   __global float* dbias, const int dbias_off,
                                   const int N, const int O, const int P, const int accumulate) {
    __local float partial[CONV_BIAS_GROUP];
    const int o = get_group_id(0), lid = get_local_id(0);
    if (o >= O) return;
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
