// gemm_x86.c - the x86-64 GEMM micro-kernels at 256 and 512 bits (../native_gemm.h says what
// every native kernel computes and how exactly), and the cpuid probe that says which this CPU
// runs.
//
// f32: vfmadd231ps. int8 on the dot layout:
//   AVX512-VNNI / AVX-VNNI  vpdpbusd, activations as unsigned bytes x + 128 and the correction
//                           128 * sum_k w subtracted;
//   AVX2                    vpmaddubsw on |w| and x * sign(w) (at most 2 * 128 * 127 per pair:
//                           no saturation) then vpmaddwd by ones; activations as signed bytes.
//
// Each kernel is compiled for its instruction set with a target attribute, so the rest of the
// build stays at its baseline (the addon's is x86-64-v2) and a kernel runs only where cpuid
// and the OS (xgetbv: the registers are saved on context switches) say it can.
//
// Tiles, sized to the registers: AVX2 has 16 ymm, AVX-512 32 zmm.
//   f32 AVX2      6 rows x 2 panels: 12 accumulators + 2 weights + 1 broadcast
//   f32 AVX-512   8 rows x 4 panels: 16 zmm accumulators (2 panels each: a zmm holds panel j
//                 in its low half and panel j+1 in its high half, joined as loaded)
//   q8 AVX-VNNI   6 x 2, as f32 AVX2;  q8 AVX512-VNNI 8 x 4, as f32 AVX-512
//   q8 AVX2       4 x 2: 8 accumulators + 2 weights + 2 |weights| + ones + 2 temporaries
// A lone panel (an odd count at the matrix's edge) goes through the 256-bit form of the same
// arithmetic. Rows beyond the matrix come as repeated row pointers (the caller clamps them).
#include "../native_gemm.h"

#if defined(WE_NATIVE_GEMM) && defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

// -----------------------------------------------------------------------------------------
// cpuid

typedef struct x86_caps { bool avx2, fma, avx512, avx512vnni, avxvnni; } x86_caps;

static x86_caps probe(void) {
    x86_caps c = {0};
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
    bool osxsave = cx & (1u << 27), fma = cx & (1u << 12);
    if (!osxsave) return c;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    bool ymm = (lo & 0x6) == 0x6;              // SSE and AVX state saved by the OS
    bool zmm = ymm && (lo & 0xe0) == 0xe0;     // opmask and the upper zmm halves too
    if (__get_cpuid_max(0, NULL) < 7) return c;
    __cpuid_count(7, 0, a, b, cx, d);
    c.avx2 = ymm && (b & (1u << 5));
    c.fma = ymm && fma;
    bool f = b & (1u << 16), bw = b & (1u << 30), vl = b & (1u << 31);
    c.avx512 = zmm && f && bw && vl && c.avx2 && c.fma;
    c.avx512vnni = c.avx512 && (cx & (1u << 11));
    __cpuid_count(7, 1, a, b, cx, d);
    c.avxvnni = c.avx2 && (a & (1u << 4));
    return c;
}

static const x86_caps *caps(void) {
    static x86_caps c;
    static int done;                           // a race computes the same answer twice
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        c = probe();
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    return &c;
}

#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw")))
#define T_AVXVNNI __attribute__((target("avx2,fma,avxvnni")))
#define T_AVX512VNNI __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw,avx512vnni")))

#define EACH6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define EACH8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define EACH4(X) X(0) X(1) X(2) X(3)
#define XROW(i) const float *x##i = xr[i];
#define QROW(i) const uint8_t *x##i = xr[i];

static inline int32_t load32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// vpdpbusd (acc += unsigned bytes a . signed bytes b, per 32-bit lane) in inline assembly: GCC 12
// compiles the intrinsics' accumulator as a fresh destination and so copies every accumulator
// on every k (30 register moves, some through the stack, per 16 vpdpbusd in the 8 x 4 tile,
// which then ran at a third of the instruction's throughput); a tied operand leaves none.
// AT&T operand order: b, a, acc. {vex} (escaped: %{ %}): the AVX-VNNI encoding (registers 0-15).
T_AVX512VNNI static inline __m512i dpbusd512(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}
T_AVX512VNNI static inline __m256i dpbusd256(__m256i acc, __m256i a, __m256i b) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}
T_AVXVNNI static inline __m256i dpbusd256_vex(__m256i acc, __m256i a, __m256i b) {
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
    return acc;
}

// -----------------------------------------------------------------------------------------
// f32, AVX2 + FMA: 6 rows x 2 panels, or 6 x 1.

T_AVX2 static void f32_avx2_y2(float *c, int ldc, const float *const *xr, const float *wa, const float *wb, int K) {
    EACH6(XROW)
#define ZERO(i) __m256 a##i = _mm256_setzero_ps(), b##i = a##i;
    EACH6(ZERO)
#undef ZERO
    for (int k = 0; k < K; k++) {
        __m256 u = _mm256_loadu_ps(wa + 8 * k), v = _mm256_loadu_ps(wb + 8 * k);
#define STEP(i) { __m256 s = _mm256_broadcast_ss(x##i + k); a##i = _mm256_fmadd_ps(s, u, a##i); b##i = _mm256_fmadd_ps(s, v, b##i); }
        EACH6(STEP)
#undef STEP
    }
#define STORE(i) _mm256_storeu_ps(c + i * ldc, a##i); _mm256_storeu_ps(c + i * ldc + 8, b##i);
    EACH6(STORE)
#undef STORE
}

T_AVX2 static void f32_avx2_y1(float *c, int ldc, const float *const *xr, const float *wa, int K) {
    EACH6(XROW)
#define ZERO(i) __m256 a##i = _mm256_setzero_ps();
    EACH6(ZERO)
#undef ZERO
    for (int k = 0; k < K; k++) {
        __m256 u = _mm256_loadu_ps(wa + 8 * k);
#define STEP(i) a##i = _mm256_fmadd_ps(_mm256_broadcast_ss(x##i + k), u, a##i);
        EACH6(STEP)
#undef STEP
    }
#define STORE(i) _mm256_storeu_ps(c + i * ldc, a##i);
    EACH6(STORE)
#undef STORE
}

T_AVX2 static void f32_tile_avx2(float *c, int ldc, const float *const *xr, const float *wp, size_t ps, int npu, int K) {
    if (npu == 2) f32_avx2_y2(c, ldc, xr, wp, wp + ps, K);
    else f32_avx2_y1(c, ldc, xr, wp, K);
}

// -----------------------------------------------------------------------------------------
// f32, AVX-512: 8 rows x 4 panels (2 zmm), 8 x 2 (1 zmm), 8 x 1 (1 ymm).

// zmm of panels a (low half) and b (high half) at k
// (vinsertf64x4: AVX512F; the f32x8 form would need AVX512DQ)
#define JOIN_PS(a, b, k) _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps((a) + 8 * (k)))), \
                                                             _mm256_castps_pd(_mm256_loadu_ps((b) + 8 * (k))), 1))

T_AVX512 static void f32_512_z2(float *c, int ldc, const float *const *xr, const float *w0, const float *w1,
                                const float *w2, const float *w3, int K) {
    EACH8(XROW)
#define ZERO(i) __m512 a##i = _mm512_setzero_ps(), b##i = a##i;
    EACH8(ZERO)
#undef ZERO
    for (int k = 0; k < K; k++) {
        __m512 u = JOIN_PS(w0, w1, k), v = JOIN_PS(w2, w3, k);
#define STEP(i) { __m512 s = _mm512_set1_ps(x##i[k]); a##i = _mm512_fmadd_ps(s, u, a##i); b##i = _mm512_fmadd_ps(s, v, b##i); }
        EACH8(STEP)
#undef STEP
    }
#define STORE(i) _mm512_storeu_ps(c + i * ldc, a##i); _mm512_storeu_ps(c + i * ldc + 16, b##i);
    EACH8(STORE)
#undef STORE
}

T_AVX512 static void f32_512_z1(float *c, int ldc, const float *const *xr, const float *w0, const float *w1, int K) {
    EACH8(XROW)
#define ZERO(i) __m512 a##i = _mm512_setzero_ps();
    EACH8(ZERO)
#undef ZERO
    for (int k = 0; k < K; k++) {
        __m512 u = JOIN_PS(w0, w1, k);
#define STEP(i) a##i = _mm512_fmadd_ps(_mm512_set1_ps(x##i[k]), u, a##i);
        EACH8(STEP)
#undef STEP
    }
#define STORE(i) _mm512_storeu_ps(c + i * ldc, a##i);
    EACH8(STORE)
#undef STORE
}

T_AVX512 static void f32_512_y1(float *c, int ldc, const float *const *xr, const float *w0, int K) {
    EACH8(XROW)
#define ZERO(i) __m256 a##i = _mm256_setzero_ps();
    EACH8(ZERO)
#undef ZERO
    for (int k = 0; k < K; k++) {
        __m256 u = _mm256_loadu_ps(w0 + 8 * k);
#define STEP(i) a##i = _mm256_fmadd_ps(_mm256_broadcast_ss(x##i + k), u, a##i);
        EACH8(STEP)
#undef STEP
    }
#define STORE(i) _mm256_storeu_ps(c + i * ldc, a##i);
    EACH8(STORE)
#undef STORE
}

T_AVX512 static void f32_tile_avx512(float *c, int ldc, const float *const *xr, const float *wp, size_t ps, int npu, int K) {
    if (npu == 4) {
        f32_512_z2(c, ldc, xr, wp, wp + ps, wp + 2 * ps, wp + 3 * ps, K);
        return;
    }
    int j = 0;
    if (npu >= 2) {
        f32_512_z1(c, ldc, xr, wp, wp + ps, K);
        j = 2;
    }
    if (j < npu) f32_512_y1(c + 8 * j, ldc, xr, wp + j * ps, K);
}

// -----------------------------------------------------------------------------------------
// int8, AVX-VNNI (vpdpbusd ymm): 6 rows x 2 panels, or 6 x 1. Activations unsigned (x + 128).

T_AVXVNNI static void q8_avxvnni_tile(int32_t *c, const uint8_t *const *xr, const int8_t *wp, size_t ps, int npu,
                                      int KQ, const int32_t *corr) {
    EACH6(QROW)
    const int ldc = 16;
#define ZERO(i) __m256i a##i = _mm256_setzero_si256(), b##i = a##i;
    EACH6(ZERO)
#undef ZERO
    const int8_t *wb = npu == 2 ? wp + ps : wp;     // one panel: the second pass is discarded
    for (int k = 0; k < KQ; k++) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(wp + 32 * k));
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(wb + 32 * k));
#define STEP(i) { __m256i s = _mm256_set1_epi32(load32(x##i + 4 * k)); a##i = dpbusd256_vex(a##i, s, u); b##i = dpbusd256_vex(b##i, s, v); }
        EACH6(STEP)
#undef STEP
    }
    __m256i ra = _mm256_loadu_si256((const __m256i *)(const void *)corr);
    __m256i rb = npu == 2 ? _mm256_loadu_si256((const __m256i *)(const void *)(corr + 8)) : ra;
#define STORE(i) _mm256_storeu_si256((__m256i *)(void *)(c + i * ldc), _mm256_sub_epi32(a##i, ra)); \
                 _mm256_storeu_si256((__m256i *)(void *)(c + i * ldc + 8), _mm256_sub_epi32(b##i, rb));
    EACH6(STORE)
#undef STORE
}

// -----------------------------------------------------------------------------------------
// int8, AVX512-VNNI (vpdpbusd zmm): 8 rows x 4 panels (2 zmm), 8 x 2, 8 x 1 (ymm, VL).

#define JOIN_EPI8(a, b, k) _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)((a) + 32 * (k)))), \
                                              _mm256_loadu_si256((const __m256i *)(const void *)((b) + 32 * (k))), 1)
#define LOAD_CORR16(p) _mm512_loadu_si512((const void *)(p))

T_AVX512VNNI static void q8_512_z2(int32_t *c, int ldc, const uint8_t *const *xr, const int8_t *w0, const int8_t *w1,
                                   const int8_t *w2, const int8_t *w3, int KQ, const int32_t *corr) {
    EACH8(QROW)
#define ZERO(i) __m512i a##i = _mm512_setzero_si512(), b##i = a##i;
    EACH8(ZERO)
#undef ZERO
    for (int k = 0; k < KQ; k++) {
        __m512i u = JOIN_EPI8(w0, w1, k), v = JOIN_EPI8(w2, w3, k);
#define STEP(i) { __m512i s = _mm512_set1_epi32(load32(x##i + 4 * k)); a##i = dpbusd512(a##i, s, u); b##i = dpbusd512(b##i, s, v); }
        EACH8(STEP)
#undef STEP
    }
    __m512i ra = LOAD_CORR16(corr), rb = LOAD_CORR16(corr + 16);
#define STORE(i) _mm512_storeu_si512((void *)(c + i * ldc), _mm512_sub_epi32(a##i, ra)); \
                 _mm512_storeu_si512((void *)(c + i * ldc + 16), _mm512_sub_epi32(b##i, rb));
    EACH8(STORE)
#undef STORE
}

T_AVX512VNNI static void q8_512_z1(int32_t *c, int ldc, const uint8_t *const *xr, const int8_t *w0, const int8_t *w1,
                                   int KQ, const int32_t *corr) {
    EACH8(QROW)
#define ZERO(i) __m512i a##i = _mm512_setzero_si512();
    EACH8(ZERO)
#undef ZERO
    for (int k = 0; k < KQ; k++) {
        __m512i u = JOIN_EPI8(w0, w1, k);
#define STEP(i) a##i = dpbusd512(a##i, _mm512_set1_epi32(load32(x##i + 4 * k)), u);
        EACH8(STEP)
#undef STEP
    }
    __m512i ra = LOAD_CORR16(corr);
#define STORE(i) _mm512_storeu_si512((void *)(c + i * ldc), _mm512_sub_epi32(a##i, ra));
    EACH8(STORE)
#undef STORE
}

T_AVX512VNNI static void q8_512_y1(int32_t *c, int ldc, const uint8_t *const *xr, const int8_t *w0, int KQ,
                                   const int32_t *corr) {
    EACH8(QROW)
#define ZERO(i) __m256i a##i = _mm256_setzero_si256();
    EACH8(ZERO)
#undef ZERO
    for (int k = 0; k < KQ; k++) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(w0 + 32 * k));
#define STEP(i) a##i = dpbusd256(a##i, _mm256_set1_epi32(load32(x##i + 4 * k)), u);
        EACH8(STEP)
#undef STEP
    }
    __m256i ra = _mm256_loadu_si256((const __m256i *)(const void *)corr);
#define STORE(i) _mm256_storeu_si256((__m256i *)(void *)(c + i * ldc), _mm256_sub_epi32(a##i, ra));
    EACH8(STORE)
#undef STORE
}

T_AVX512VNNI static void q8_avx512vnni_tile(int32_t *c, const uint8_t *const *xr, const int8_t *wp, size_t ps,
                                            int npu, int KQ, const int32_t *corr) {
    const int ldc = 32;
    if (npu == 4) {
        q8_512_z2(c, ldc, xr, wp, wp + ps, wp + 2 * ps, wp + 3 * ps, KQ, corr);
        return;
    }
    int j = 0;
    if (npu >= 2) {
        q8_512_z1(c, ldc, xr, wp, wp + ps, KQ, corr);
        j = 2;
    }
    if (j < npu) q8_512_y1(c + 8 * j, ldc, xr, wp + j * ps, KQ, corr + 8 * j);
}

// -----------------------------------------------------------------------------------------
// int8, AVX2 (vpmaddubsw): 4 rows x 2 panels. Activations signed; no correction.

T_AVX2 static void q8_avx2_tile(int32_t *c, const uint8_t *const *xr, const int8_t *wp, size_t ps, int npu, int KQ,
                                const int32_t *corr) {
    (void)corr;
    EACH4(QROW)
    const int ldc = 16;
    const __m256i ones = _mm256_set1_epi16(1);
#define ZERO(i) __m256i a##i = _mm256_setzero_si256(), b##i = a##i;
    EACH4(ZERO)
#undef ZERO
    const int8_t *wb = npu == 2 ? wp + ps : wp;
    for (int k = 0; k < KQ; k++) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(wp + 32 * k));
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(wb + 32 * k));
        __m256i ua = _mm256_abs_epi8(u), va = _mm256_abs_epi8(v);
#define DOT(acc, wa, w, s) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(wa, _mm256_sign_epi8(s, w)), ones))
#define STEP(i) { __m256i s = _mm256_set1_epi32(load32(x##i + 4 * k)); DOT(a##i, ua, u, s); DOT(b##i, va, v, s); }
        EACH4(STEP)
#undef STEP
#undef DOT
    }
#define STORE(i) _mm256_storeu_si256((__m256i *)(void *)(c + i * ldc), a##i); \
                 _mm256_storeu_si256((__m256i *)(void *)(c + i * ldc + 8), b##i);
    EACH4(STORE)
#undef STORE
}

// -----------------------------------------------------------------------------------------

static const we_native_f32_kernel F32[] = {
    {WE_F32_KERNEL_AVX2, 6, 2, f32_tile_avx2},
    {WE_F32_KERNEL_AVX512, 8, 4, f32_tile_avx512},
};

static const we_native_q8_kernel Q8[] = {
    {WE_Q8_KERNEL_AVX2, 4, 2, false, q8_avx2_tile},
    {WE_Q8_KERNEL_AVX_VNNI, 6, 2, true, q8_avxvnni_tile},
    {WE_Q8_KERNEL_AVX512_VNNI, 8, 4, true, q8_avx512vnni_tile},
};

const we_native_f32_kernel *we_native_f32(we_f32_kernel id) {
    const x86_caps *c = caps();
    if (id == WE_F32_KERNEL_AVX2 && c->avx2 && c->fma) return &F32[0];
    if (id == WE_F32_KERNEL_AVX512 && c->avx512) return &F32[1];
    return NULL;
}

const we_native_q8_kernel *we_native_q8(we_q8_kernel id) {
    const x86_caps *c = caps();
    if (id == WE_Q8_KERNEL_AVX2 && c->avx2) return &Q8[0];
    if (id == WE_Q8_KERNEL_AVX_VNNI && c->avxvnni) return &Q8[1];
    if (id == WE_Q8_KERNEL_AVX512_VNNI && c->avx512vnni) return &Q8[2];
    return NULL;
}

const we_native_f32_kernel *we_native_f32_best(void) {
    const we_native_f32_kernel *k = we_native_f32(WE_F32_KERNEL_AVX512);
    return k ? k : we_native_f32(WE_F32_KERNEL_AVX2);
}

const we_native_q8_kernel *we_native_q8_best(void) {
    const we_native_q8_kernel *k = we_native_q8(WE_Q8_KERNEL_AVX512_VNNI);
    if (!k) k = we_native_q8(WE_Q8_KERNEL_AVX_VNNI);
    return k ? k : we_native_q8(WE_Q8_KERNEL_AVX2);
}

we_native_q4_tile we_native_q4(void) { return NULL; }   // the 4-bit GEMM runs SIMD128's i16 kernel

#endif
