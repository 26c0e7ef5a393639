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
void aek_adam(float *restrict parameters, const float *restrict gradients, float *restrict m, float *restrict v,
              long count, aek_adam_constants c) {
    for (long i = 0; i < count; i++) {
        const float p = parameters[i];
        const float g = gradients[i] * c.gradient_scale + c.l2 * p;
        const float mi = c.beta1 * m[i] + c.one_minus_beta1 * g;
        const float vi = c.beta2 * v[i] + c.one_minus_beta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        // the square root without errno handling, so the loop vectorizes
        parameters[i] = p * c.decay - c.step_size * mi / (__builtin_elementwise_sqrt(vi) / c.bias_correction2_sqrt + c.epsilon);
    }
}
