// Matrix products C = act(alpha * op(A) * op(B) + beta * C + bias), row-major.

#define GEMM_TILE 16

// op(A)[row, kk] and op(B)[kk, col], with A stored M x K (or K x M) and B stored K x N (or N x K).
#define A_AT(row, kk) (transA ? a[a_off + (kk) * M + (row)] : a[a_off + (row) * K + (kk)])
#define B_AT(kk, col) (transB ? b[b_off + (col) * K + (kk)] : b[b_off + (kk) * N + (col)])

// One output per work item, 16 x 16 tiles of A and B staged in local memory.
// global = (N, M) rounded up to the tile; local = (16, 16).
__kernel void gemm_tiled(__global const float* a, const int a_off,
                         __global const float* b, const int b_off,
                         __global float* c, const int c_off,
                         __global const float* bias, const int bias_off,
                         const int M, const int N, const int K, const int transA, const int transB,
                         const float alpha, const float beta, const int hasBias, const int act, const float slope) {
    __local float As[GEMM_TILE][GEMM_TILE];
    __local float Bs[GEMM_TILE][GEMM_TILE + 1];
    const int col = get_global_id(0), row = get_global_id(1);
    const int lc = get_local_id(0), lr = get_local_id(1);
    float acc = 0.0f;
    for (int t = 0; t < K; t += GEMM_TILE) {
        int ak = t + lc, bk = t + lr;
        As[lr][lc] = (row < M && ak < K) ? A_AT(row, ak) : 0.0f;
        Bs[lr][lc] = (col < N && bk < K) ? B_AT(bk, col) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < GEMM_TILE; kk++) acc += As[lr][kk] * Bs[kk][lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < M && col < N) {
        int idx = c_off + row * N + col;
        float v = alpha * acc;
        if (beta != 0.0f) v += beta * c[idx];
        if (hasBias) v += bias[bias_off + col];
        c[idx] = act_apply(v, act, slope);
    }
}
