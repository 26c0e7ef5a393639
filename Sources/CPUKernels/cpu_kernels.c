#include "cpu_kernels.h"

#include <stdint.h>
#include <string.h>

// One clone per instruction set on x86-64 Linux (an ifunc resolver picks one at load time); elsewhere the plain
// function, vectorized for the build's baseline.
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define AEK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AEK_CLONES
#endif

static inline float from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t to_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static inline float minf(float a, float b) { return a < b ? a : b; }
static inline float maxf(float a, float b) { return a > b ? a : b; }

/// 1.5·2²³: a float in [−2²², 2²²] plus this is rounded to an integer held in the low mantissa bits.
#define ROUNDING_SHIFT 12582912.0f

/// eˣ for x ≤ 0 (the caller passes −|x|): x = n·ln 2 + r with |r| ≤ ½ ln 2, e^r by a degree-6 polynomial, then
/// 2ⁿ in the exponent bits; inputs below −87.33 give 0 (no subnormal results).
static inline float exp_nonpositive(float x) {
    const float clamped = maxf(x, -87.33654f);
    const float shifted = clamped * 1.442695041f + ROUNDING_SHIFT;
    const float n = shifted - ROUNDING_SHIFT;
    const float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = p * (r * r) + r + 1;
    const int32_t integer = (int32_t)to_bits(shifted) - (int32_t)to_bits(ROUNDING_SHIFT);
    const float result = er * from_bits((uint32_t)(integer + 127) << 23);
    return x < -87.33654f ? 0 : result;
}

/// ln x for positive normal x: x = 2ᵉ·m with m in [√½, √2), ln m = f − f²/2 + f³·P(f) with f = m − 1.
static inline float log_positive(float x) {
    const int32_t bits = (int32_t)to_bits(x);
    // the biased exponent as a float: its bits under the exponent of 2²³, minus 2²³
    const float biased = from_bits((uint32_t)(bits >> 23) | 0x4B000000u) - 8388608.0f;
    const float mantissa = from_bits(((uint32_t)bits & 0x007FFFFFu) | 0x3F000000u);  // in [0.5, 1)
    const int small = mantissa < 0.707106781186547524f;
    const float e = small ? biased - 127 : biased - 126;
    const float f = (small ? mantissa + mantissa : mantissa) - 1;
    const float z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y += e * -2.12194440e-4f;
    y -= z * 0.5f;
    return f + y + e * 0.693359375f;
}

/// ln(1 + e) for e = e^−|x| in (0, 1], from u = 1 + e (rounded) and 1/u: ln u − ((u − 1) − e)/u, the first-order
/// correction for the rounding of u, which reuses the gradient's 1/u instead of dividing again.
static inline float log1p_of_exp(float e, float u, float inverse) {
    return log_positive(u) - ((u - 1) - e) * inverse;
}

AEK_CLONES
void aek_bce_with_logits(const float *restrict x, const float *restrict t, float *restrict terms,
                         float *restrict gradient, float scale, long count) {
    if (gradient) {
        for (long i = 0; i < count; i++) {
            const float xi = x[i], ti = t[i];
            const float e = exp_nonpositive(minf(xi, -xi)), u = 1 + e, inverse = 1 / u;
            terms[i] = maxf(xi, 0) - xi * ti + log1p_of_exp(e, u, inverse);
            gradient[i] = scale * ((xi >= 0 ? inverse : e * inverse) - ti);
        }
    } else {
        for (long i = 0; i < count; i++) {
            const float xi = x[i], ti = t[i];
            const float e = exp_nonpositive(minf(xi, -xi)), u = 1 + e;
            terms[i] = maxf(xi, 0) - xi * ti + log1p_of_exp(e, u, 1 / u);
        }
    }
}

AEK_CLONES
void aek_adam(float *restrict parameters, float *restrict gradients, float *restrict m, float *restrict v,
              long count, aek_adam_constants c) {
    for (long i = 0; i < count; i++) {
        const float p = parameters[i];
        const float g = gradients[i] * c.gradient_scale + c.l2 * p;
        gradients[i] = 0;
        const float mi = c.beta1 * m[i] + c.one_minus_beta1 * g;
        const float vi = c.beta2 * v[i] + c.one_minus_beta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        // the square root without errno handling, so the loop vectorizes
        parameters[i] = p * c.decay - c.step_size * mi / (__builtin_elementwise_sqrt(vi) / c.bias_correction2_sqrt + c.epsilon);
    }
}

/// sin and cos of θ in [0, 2π]: θ = q·π/2 + r with |r| ≤ π/4 (π/2 in three parts, exact for these q), minimax
/// polynomials for sin r and cos r, then the quadrant's swap and signs.
static inline __attribute__((always_inline)) void sincos_turn(float theta, float *sine, float *cosine) {
    const float q = (float)(int32_t)(theta * 0.636619772367581343f + 0.5f);
    const float r = ((theta - q * 1.5703125f) - q * 4.837512969970703125e-4f) - q * 7.54978995489188216e-8f;
    const float z = r * r;
    const float s = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
    const float c = 1 - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
    const int quadrant = (int32_t)q & 3;
    const float sv = (quadrant & 1) ? c : s, cv = (quadrant & 1) ? s : c;
    *sine = (quadrant & 2) ? -sv : sv;
    *cosine = (quadrant == 1 || quadrant == 2) ? -cv : cv;
}

/// The Box–Muller pair of Philox block `index`: √(−2 ln u₁)·cos 2πu₂ and √(−2 ln u₁)·sin 2πu₂.
static inline __attribute__((always_inline)) void normal_pair(uint64_t index, uint32_t key0, uint32_t key1, uint32_t s0, uint32_t s1,
                               float *first, float *second) {
    uint32_t c0 = (uint32_t)index, c1 = (uint32_t)(index >> 32), c2 = s0, c3 = s1, k0 = key0, k1 = key1;
    _Pragma("clang loop unroll(full)")
    for (int round = 0; round < 10; round++) {
        const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    const float u1 = (float)((c0 >> 8) + 1) * 5.9604644775390625e-8f;
    const float u2 = (float)(c1 >> 8) * 5.9604644775390625e-8f;
    const float radius = __builtin_elementwise_sqrt(-2 * log_positive(u1));
    float sine, cosine;
    sincos_turn(6.283185307179586f * u2, &sine, &cosine);
    *first = radius * cosine;
    *second = radius * sine;
}

AEK_CLONES
void aek_normals(uint64_t seed, uint64_t stream, uint64_t first_pair, long count, float *restrict out) {
    const uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
    const uint32_t s0 = (uint32_t)stream, s1 = (uint32_t)(stream >> 32);
    const long pairs = count / 2;
    for (long b = 0; b < pairs; b++) {
        normal_pair(first_pair + (uint64_t)b, key0, key1, s0, s1, &out[2 * b], &out[2 * b + 1]);
    }
    if (count & 1) {
        float unused;
        normal_pair(first_pair + (uint64_t)pairs, key0, key1, s0, s1, &out[count - 1], &unused);
    }
}

void aek_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
