// gemm_arm64.c - the arm64 GEMM micro-kernels (../native_gemm.h says what every native kernel
// computes and how exactly), and the probe that says which this CPU runs.
//
//   f32         NEON fmla (Advanced SIMD is part of every arm64 CPU): one fused multiply-add
//               per k, so the results are those of the x86 FMA kernels, bit for bit.
//   int8 sdot   ARMv8.2 dot product (optional before ARMv8.4; Cortex-A55/A75 and later,
//               Neoverse, Apple M): 4 byte products into each int32 lane per instruction, signed
//               x signed, so activations go in as they are (no correction).
//   int8 smull  every arm64 CPU (Cortex-A53, A72 ...): byte products widened into int16 (smull,
//               smull2: at most 128 * 128, no overflow), pairs added into int32 (sadalp), and
//               the pair sums of a channel joined at the end (addp). Exact too.
//
// The dot product is compiled with a target attribute, so the rest of the build stays at the
// baseline (armv8-a) and it runs only where the kernel says the CPU has it
// (getauxval(AT_HWCAP) & HWCAP_ASIMDDP on Linux and Android; sysctl on macOS, where every
// arm64 CPU has it).
//
// Tiles (32 vector registers):
//   f32   8 rows x 1 panel: 16 accumulators + 8 rows of 4 k (fmla by lane) + 2 weights
//   sdot  8 x 1: 16 accumulators + 8 rows of 4 quads (sdot by lane) + 2 weights
//   smull 4 x 1: 16 accumulators (channel pairs) + 2 weights + 1 broadcast + 2 products
//   q4 sdot  5 x 1 (the 4-bit GEMM's tile): 10 accumulators + 5 rows of a block (2 registers
//         each) + the nibbles (low: channels 0-3, high: 4-7, both 0..15: exact as signed bytes)
// Rows beyond the matrix come as repeated row pointers (the caller clamps them).
#include "../native_gemm.h"

#if defined(WE_NATIVE_GEMM) && defined(__aarch64__)

#include <arm_neon.h>
#include <stdbool.h>
#include <string.h>

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)      // the kernel's ABI (asm/hwcap.h), for older C libraries
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif

// -----------------------------------------------------------------------------------------
// The probe

static bool has_dotprod(void) {
    static int cached = -1;            // a race computes the same answer twice
    int c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (c < 0) {
#if defined(__linux__)
        c = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
        int v = 0;
        size_t n = sizeof v;
        c = sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &n, NULL, 0) == 0 && v != 0;
#else
        c = 0;
#endif
        __atomic_store_n(&cached, c, __ATOMIC_RELAXED);
    }
    return c != 0;
}

#define T_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

#define EACH8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define EACH4(X) X(0) X(1) X(2) X(3)

static inline int32_t load32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// -----------------------------------------------------------------------------------------
// f32: 8 rows x 1 panel. Four k at a time, a row's 4 values in one register and each taken by
// lane; the rest one k at a time from a broadcast. Either way one fmla per k, in k order.

static void f32_neon_tile(float *c, int ldc, const float *const *xr, const float *wp, size_t ps, int npu, int K) {
    (void)ps, (void)npu;               // np = 1
#define ROW(i) const float *x##i = xr[i]; float32x4_t a##i = vdupq_n_f32(0.0f), b##i = a##i;
    EACH8(ROW)
#undef ROW
    int k = 0;
    for (; k + 4 <= K; k += 4) {
#define LOAD(i) float32x4_t v##i = vld1q_f32(x##i + k);
        EACH8(LOAD)
#undef LOAD
#define FMA(i, l) a##i = vfmaq_laneq_f32(a##i, u, v##i, l); b##i = vfmaq_laneq_f32(b##i, w, v##i, l);
#define LANE(l) { const float *p = wp + 8 * (k + l); float32x4_t u = vld1q_f32(p), w = vld1q_f32(p + 4); \
                  FMA(0, l) FMA(1, l) FMA(2, l) FMA(3, l) FMA(4, l) FMA(5, l) FMA(6, l) FMA(7, l) }
        LANE(0) LANE(1) LANE(2) LANE(3)
#undef LANE
#undef FMA
    }
    for (; k < K; k++) {
        float32x4_t u = vld1q_f32(wp + 8 * k), w = vld1q_f32(wp + 8 * k + 4);
#define FMA(i) { float32x4_t s = vdupq_n_f32(x##i[k]); a##i = vfmaq_f32(a##i, u, s); b##i = vfmaq_f32(b##i, w, s); }
        EACH8(FMA)
#undef FMA
    }
#define STORE(i) vst1q_f32(c + ldc * i, a##i); vst1q_f32(c + ldc * i + 4, b##i);
    EACH8(STORE)
#undef STORE
}

// -----------------------------------------------------------------------------------------
// int8, sdot: 8 rows x 1 panel. Four quads of k at a time, a row's 16 bytes in one register
// and each quad taken by lane (the row's bytes are zero-padded to 16: ops.h's scratch);
// the rest one quad at a time from a broadcast.

T_DOTPROD static void q8_sdot_tile(int32_t *c, const uint8_t *const *xr, const int8_t *wp, size_t ps, int npu,
                                   int KQ, const int32_t *corr) {
    (void)ps, (void)npu, (void)corr;   // np = 1; signed activations: no correction
#define ROW(i) const uint8_t *x##i = xr[i]; int32x4_t a##i = vdupq_n_s32(0), b##i = a##i;
    EACH8(ROW)
#undef ROW
    int k = 0;
    for (; k + 4 <= KQ; k += 4) {
#define LOAD(i) int8x16_t v##i = vreinterpretq_s8_u8(vld1q_u8(x##i + 4 * k));
        EACH8(LOAD)
#undef LOAD
#define DOT(i, l) a##i = vdotq_laneq_s32(a##i, u, v##i, l); b##i = vdotq_laneq_s32(b##i, w, v##i, l);
#define LANE(l) { const int8_t *p = wp + 32 * (k + l); int8x16_t u = vld1q_s8(p), w = vld1q_s8(p + 16); \
                  DOT(0, l) DOT(1, l) DOT(2, l) DOT(3, l) DOT(4, l) DOT(5, l) DOT(6, l) DOT(7, l) }
        LANE(0) LANE(1) LANE(2) LANE(3)
#undef LANE
#undef DOT
    }
    for (; k < KQ; k++) {
        int8x16_t u = vld1q_s8(wp + 32 * k), w = vld1q_s8(wp + 32 * k + 16);
#define DOT(i) { int8x16_t s = vreinterpretq_s8_s32(vdupq_n_s32(load32(x##i + 4 * k))); \
                 a##i = vdotq_s32(a##i, u, s); b##i = vdotq_s32(b##i, w, s); }
        EACH8(DOT)
#undef DOT
    }
#define STORE(i) vst1q_s32(c + 8 * i, a##i); vst1q_s32(c + 8 * i + 4, b##i);
    EACH8(STORE)
#undef STORE
}

// -----------------------------------------------------------------------------------------
// int8, smull + sadalp: 4 rows x 1 panel. Per quad of k, a weight register holds 4 channels x
// 4 k; times the row's quad broadcast, smull gives channels 0-1 (8 int16), smull2 channels
// 2-3, and sadalp adds each pair of k into int32: lanes (c0 k0+k1, c0 k2+k3, c1 .., c1 ..).
// addp joins a channel's two lanes at the end.

static void q8_smull_tile(int32_t *c, const uint8_t *const *xr, const int8_t *wp, size_t ps, int npu, int KQ,
                          const int32_t *corr) {
    (void)ps, (void)npu, (void)corr;   // np = 1; signed activations: no correction
#define ROW(i) const uint8_t *x##i = xr[i]; int32x4_t p##i = vdupq_n_s32(0), q##i = p##i, r##i = p##i, s##i = p##i;
    EACH4(ROW)
#undef ROW
    for (int k = 0; k < KQ; k++) {
        int8x16_t u = vld1q_s8(wp + 32 * k), w = vld1q_s8(wp + 32 * k + 16);
#define MAC(i) { int8x16_t x = vreinterpretq_s8_s32(vdupq_n_s32(load32(x##i + 4 * k)));            \
                 p##i = vpadalq_s16(p##i, vmull_s8(vget_low_s8(u), vget_low_s8(x)));               \
                 q##i = vpadalq_s16(q##i, vmull_high_s8(u, x));                                     \
                 r##i = vpadalq_s16(r##i, vmull_s8(vget_low_s8(w), vget_low_s8(x)));                \
                 s##i = vpadalq_s16(s##i, vmull_high_s8(w, x)); }
        EACH4(MAC)
#undef MAC
    }
#define STORE(i) vst1q_s32(c + 8 * i, vpaddq_s32(p##i, q##i)); vst1q_s32(c + 8 * i + 4, vpaddq_s32(r##i, s##i));
    EACH4(STORE)
#undef STORE
}

// -----------------------------------------------------------------------------------------
// 4-bit, sdot: one block (32 k) of 5 rows x 1 panel. Per group of 4 k, 16 bytes of nibbles:
// channel c's 4 k in byte lanes 4c..4c+3, low nibbles channels 0-3, high ones 4-7 (ops.h).

T_DOTPROD static void q4_sdot_tile(int32_t *c, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                                   const int8_t *x3, const int8_t *x4, const uint8_t *wp) {
    const int8_t *xr[5] = {x0, x1, x2, x3, x4};
    const uint8x16_t low = vdupq_n_u8(0x0F);
#define ROW(i) int8x16_t u##i = vld1q_s8(xr[i]), v##i = vld1q_s8(xr[i] + 16); \
               int32x4_t a##i = vdupq_n_s32(0), b##i = a##i;
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4)
#undef ROW
#define DOT(i, x, l) a##i = vdotq_laneq_s32(a##i, lo, x##i, l); b##i = vdotq_laneq_s32(b##i, hi, x##i, l);
#define GROUP(g, x, l) { uint8x16_t n = vld1q_u8(wp + 16 * g);                                                  \
                         int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(n, low)), hi = vreinterpretq_s8_u8(vshrq_n_u8(n, 4)); \
                         DOT(0, x, l) DOT(1, x, l) DOT(2, x, l) DOT(3, x, l) DOT(4, x, l) }
    GROUP(0, u, 0) GROUP(1, u, 1) GROUP(2, u, 2) GROUP(3, u, 3)
    GROUP(4, v, 0) GROUP(5, v, 1) GROUP(6, v, 2) GROUP(7, v, 3)
#undef GROUP
#undef DOT
#define STORE(i) vst1q_s32(c + 8 * i, a##i); vst1q_s32(c + 8 * i + 4, b##i);
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4)
#undef STORE
}

// -----------------------------------------------------------------------------------------

static const we_native_f32_kernel F32[] = {
    {WE_F32_KERNEL_NEON, 8, 1, f32_neon_tile},
};

static const we_native_q8_kernel Q8[] = {
    {WE_Q8_KERNEL_NEON_SMULL, 4, 1, false, q8_smull_tile},
    {WE_Q8_KERNEL_NEON_SDOT, 8, 1, false, q8_sdot_tile},
};

const we_native_f32_kernel *we_native_f32(we_f32_kernel id) {
    return id == WE_F32_KERNEL_NEON ? &F32[0] : NULL;
}

const we_native_q8_kernel *we_native_q8(we_q8_kernel id) {
    if (id == WE_Q8_KERNEL_NEON_SMULL) return &Q8[0];
    if (id == WE_Q8_KERNEL_NEON_SDOT && has_dotprod()) return &Q8[1];
    return NULL;
}

const we_native_f32_kernel *we_native_f32_best(void) { return &F32[0]; }

const we_native_q8_kernel *we_native_q8_best(void) {
    const we_native_q8_kernel *k = we_native_q8(WE_Q8_KERNEL_NEON_SDOT);
    return k ? k : we_native_q8(WE_Q8_KERNEL_NEON_SMULL);
}

we_native_q4_tile we_native_q4(void) { return has_dotprod() ? q4_sdot_tile : NULL; }

const we_native_vec *we_native_vec_of(we_f32_kernel id) { (void)id; return NULL; }   // SIMD128 row code

#endif
