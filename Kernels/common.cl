// Definitions shared by every kernel family; prepended to each family's source before it is built.

// Activation codes: the same numbers as `Activation.code` in Sources/Compute/Primitives/GEMM.swift.
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID 3
#define ACT_TANH 4
#define ACT_SOFTPLUS 5
#define ACT_EXP 6

static inline float act_apply(float x, int act, float slope) {
    switch (act) {
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_LEAKY_RELU: return x > 0.0f ? x : slope * x;
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_TANH: return tanh(x);
    case ACT_SOFTPLUS: return x > 20.0f ? x : log1p(exp(x));
    case ACT_EXP: return exp(x);
    default: return x;
    }
}

// Derivative of the activation from its input x and output y.
static inline float act_grad(float x, float y, int act, float slope) {
    switch (act) {
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_LEAKY_RELU: return x > 0.0f ? 1.0f : slope;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    case ACT_SOFTPLUS: return 1.0f / (1.0f + exp(-x));
    case ACT_EXP: return y;
    default: return 1.0f;
    }
}

// alpha * s + beta * old[at], the old value read only when beta != 0 (so beta = 0 ignores it, NaN included):
// how every product kernel blends a sum into its result C and into its row sums.
static inline float product_blend(const float s, const float alpha, const float beta, __global const float* old, const int at) {
    const float v = alpha * s;
    return beta != 0.0f ? v + beta * old[at] : v;
}

// The epilogue of every kernel that writes a product or a convolution: act(v + b) * g'(Y[at]), the factor
// present when hasGrad (g' formed from the activation g's output Y, shaped like the result).
static inline float product_epilogue(const float v, const float b, const int act, const float slope,
                              __global const float* gy, const int at, const int hasGrad, const int gact, const float gslope) {
    const float r = act_apply(v + b, act, slope);
    if (!hasGrad) return r;
    const float y = gy[at];
    return r * act_grad(y, y, gact, gslope);
}

// The argument blocks of the kernels that write a product or a convolution, declared once here and passed by
// OpenCLDevice+GEMM.swift (appendBlend, appendEpilogue; ProductEpilogue in Sources/Compute/Primitives/GEMM.swift):
// - PRODUCT_BLEND_PARAMS: C = alpha * sum + beta * C, and the row sums rs (present when hasRowSums);
// - EPILOGUE_PARAMS: then act(C + bias) * g'(Y) (product_epilogue), the bias present when hasBias, the factor
//   g'(Y) when hasGrad.
#define PRODUCT_BLEND_PARAMS const float alpha, const float beta, __global float* rs, const int rs_off, const int hasRowSums
#define EPILOGUE_PARAMS __global const float* bias, const int bias_off, const int hasBias, const int act, const float slope, \
    __global const float* gy, const int gy_off, const int hasGrad, const int gact, const float gslope
// The epilogue of EPILOGUE_PARAMS applied to v, written at element `at` of an output whose bias index is `ch`.
#define EPILOGUE_APPLY(v, ch, at) \
    product_epilogue((v), hasBias ? bias[bias_off + (ch)] : 0.0f, act, slope, gy, gy_off + (at), hasGrad, gact, gslope)
// Whether EPILOGUE_PARAMS leave every value as it is (a kernel then skips its epilogue pass).
#define EPILOGUE_NONE (!hasBias && act == ACT_IDENTITY && !hasGrad)

// Philox4x32-10 (Salmon et al., 2011): counter c, key k. Identical to Sources/Compute/Philox.swift.
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline uint4 philox4x32_10(uint4 c, uint2 k) {
    for (int round = 0; round < 10; round++) {
        uint hi0 = mul_hi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
        uint hi1 = mul_hi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
        c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k.x += PHILOX_W0;
        k.y += PHILOX_W1;
    }
    return c;
}

// The block with index `block` of stream `stream` under key `seed`.
static inline uint4 philox_block(ulong seed, ulong stream, ulong block) {
    uint4 c = (uint4)((uint)block, (uint)(block >> 32), (uint)stream, (uint)(stream >> 32));
    return philox4x32_10(c, (uint2)((uint)seed, (uint)(seed >> 32)));
}

// A 32-bit word to a float in [0, 1).
static inline float philox_uniform(uint w) { return (float)(w >> 8) * 5.9604644775390625e-8f; }

static inline uint philox_word(uint4 r, int i) {
    switch (i & 3) { case 0: return r.x; case 1: return r.y; case 2: return r.z; default: return r.w; }
}

// Element i of a uniform [0, 1) stream.
static inline float philox_uniform_at(ulong seed, ulong stream, ulong i) {
    return philox_uniform(philox_word(philox_block(seed, stream, i >> 2), (int)(i & 3)));
}

// The standard normal pair of block `block` (Box-Muller on words 0 and 1): elements 2*block (cos) and
// 2*block + 1 (sin) of a normal stream.
static inline float2 philox_normal_pair(ulong seed, ulong stream, ulong block) {
    uint4 r = philox_block(seed, stream, block);
    float u1 = (float)((r.x >> 8) + 1u) * 5.9604644775390625e-8f;
    float u2 = (float)(r.y >> 8) * 5.9604644775390625e-8f;
    float radius = sqrt(-2.0f * log(u1));
    float theta = 6.283185307179586f * u2;
    return (float2)(radius * cos(theta), radius * sin(theta));
}

// Element i of a standard normal stream: Box-Muller on words 0 and 1 of block i/2, cos for even i, sin for odd.
static inline float philox_normal_at(ulong seed, ulong stream, ulong i) {
    float2 pair = philox_normal_pair(seed, stream, i >> 1);
    return (i & 1) ? pair.y : pair.x;
}
