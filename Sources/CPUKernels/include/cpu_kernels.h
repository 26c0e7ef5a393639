#ifndef AEK_CPU_KERNELS_H
#define AEK_CPU_KERNELS_H

#include <stdint.h>

/// The CPU backend's element-wise hot loops, in C so that each is compiled for several instruction sets
/// (AVX-512, AVX2 + FMA, baseline x86-64) and the best one the processor supports is picked when the program
/// loads. The Swift package builds for baseline x86-64, whose loops run four lanes wide.

/// Binary cross-entropy from logits x against targets t, element by element:
/// terms[i] = max(x, 0) − x·t + ln(1 + e^−|x|) and, when `gradient` is not NULL,
/// gradient[i] = scale·(σ(x) − t). exp and log are branch-free Cephes polynomials (about 2 ulp).
void aek_bce_with_logits(const float *x, const float *t, float *terms, float *gradient, float scale, long count);

/// Constants of one Adam (or AdamW) step.
typedef struct {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon;
    /// lr / (1 − β₁ᵗ)
    float step_size;
    /// √(1 − β₂ᵗ)
    float bias_correction2_sqrt;
    /// λ added to the gradient (Adam) or 0 (AdamW)
    float l2;
    /// 1 − lr·λ multiplying θ (AdamW) or 1 (Adam)
    float decay;
    /// multiplies every gradient (clipping), 1 when unclipped
    float gradient_scale;
} aek_adam_constants;

/// One Adam step over `count` parameters: g' = s·g + λθ; m ← β₁m + (1 − β₁)g'; v ← β₂v + (1 − β₂)g'²;
/// θ ← decay·θ − step·m / (√v / √(1 − β₂ᵗ) + ε); then g ← 0.
void aek_adam(float *parameters, float *gradients, float *m, float *v, long count, aek_adam_constants c);

/// Standard normal draws of a Philox4x32-10 stream (key `seed`, counter words 2–3 `stream`), as
/// `Kernels/common.cl` makes them: block b gives the Box–Muller pair
/// √(−2 ln u₁)·(cos 2πu₂, sin 2πu₂) from words 0 and 1, elements 2b and 2b + 1 of the stream. Writes `count`
/// elements starting at element 2·first_pair into `out`. ln, sin and cos are Cephes-style polynomials (about
/// 2 ulp), so the draws agree with the C library's to about 10⁻⁷ relative.
void aek_normals(uint64_t seed, uint64_t stream, uint64_t first_pair, long count, float *out);

/// A spin-wait hint to the processor (`pause` on x86-64, `yield` on ARM), for threads polling a flag.
void aek_spin_pause(void);

/// The processors this process may run on (its CPU affinity mask: `sched_getaffinity` and `CPU_COUNT_S`), or 0
/// where the mask cannot be read. An MPI launcher binds each rank to its own cores, so this is the rank's share.
long aek_allowed_processors(void);

#endif
