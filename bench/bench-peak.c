// bench-peak.c - this machine's peak for the instructions the wasm kernels run, one thread:
// the bound a SIMD128 GEMM can reach, measured rather than taken from a data sheet.
//
//   build/bench-peak [--json] [--seconds S]
//
// WebAssembly's v128 operations compile to 128-bit SSE/AVX instructions, so the peak of a
// wasm kernel is the peak of those instructions at 128 bits, not the CPU's AVX-512 peak:
//   f32 mul+add   f32x4.mul and f32x4.add, as the f32 kernel issues them (no FMA): 8 flop
//                 per pair
//   f32 fma       relaxed SIMD's f32x4.relaxed_madd (vfmadd on x86): 8 flop
//   int8 dot16    i32x4.dot_i16x8_s + i32x4.add (pmaddwd + paddd), the SIMD128 int8 kernel:
//                 8 multiply-adds = 16 ops per pair
//   int8 dot8     i32x4.relaxed_dot_i8x16_i7x16_add_s (vpdpbusd xmm with AVX-VNNI), the relaxed
//                 int8 kernel: 16 multiply-adds = 32 ops
// Each runs enough independent chains to cover the instruction's latency, on registers only.
// And the same at 256 and 512 bits where the build's -march has them: the bounds of the native
// kernels (src/ops/arch/x86/), f32 FMA, int8 vpmaddubsw (AVX2) and vpdpbusd (VNNI).
// x86-64 only (the intrinsics); elsewhere the program says so and exits 0.
#define _POSIX_C_SOURCE 200809L   // clock_gettime under -std=c11
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__SSE4_1__)
#include <immintrin.h>

// The thread's CPU time, not the wall clock: on a shared, time-sliced machine the wall clock
// measures the share of a core the process got; a probe is one thread on registers only.
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHAINS 8
#define STEPS 4096

// Eight named chains (an array would live in memory at -O2), and a value out that depends on
// every one of them.
#define EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

static float probe_muladd(float m, float c) {
    __m128 vm = _mm_set1_ps(m), vc = _mm_set1_ps(c);
#define INIT(j) __m128 a##j = _mm_set1_ps(1.0f + j), b##j = a##j;
    EACH(INIT)
#undef INIT
    for (int i = 0; i < STEPS; i++) {   // independent multiply and add streams
#define STEP(j) a##j = _mm_mul_ps(a##j, vm); b##j = _mm_add_ps(b##j, vc);
        EACH(STEP)
#undef STEP
    }
    __m128 s = _mm_setzero_ps();
#define SUM(j) s = _mm_add_ps(s, _mm_add_ps(a##j, b##j));
    EACH(SUM)
#undef SUM
    return _mm_cvtss_f32(s);
}

#if defined(__FMA__)
static float probe_fma(float m, float c) {
    __m128 vm = _mm_set1_ps(m), vc = _mm_set1_ps(c);
#define INIT(j) __m128 a##j = _mm_set1_ps(1.0f + j);
    EACH(INIT)
#undef INIT
    for (int i = 0; i < STEPS; i++) {
#define STEP(j) a##j = _mm_fmadd_ps(a##j, vm, vc);
        EACH(STEP)
#undef STEP
    }
    __m128 s = _mm_setzero_ps();
#define SUM(j) s = _mm_add_ps(s, a##j);
    EACH(SUM)
#undef SUM
    return _mm_cvtss_f32(s);
}
#endif

static int probe_dot16(int seed) {
    __m128i w = _mm_set1_epi16(3);
    // each pmaddwd takes the last one's result (so it cannot be hoisted), each paddd adds it
#define INIT(j) __m128i a##j = _mm_set1_epi32(j), x##j = _mm_set1_epi16((short)((seed + j) & 7));
    EACH(INIT)
#undef INIT
    for (int i = 0; i < STEPS; i++) {
#define STEP(j) x##j = _mm_madd_epi16(x##j, w); a##j = _mm_add_epi32(a##j, x##j);
        EACH(STEP)
#undef STEP
    }
    __m128i s = _mm_setzero_si128();
#define SUM(j) s = _mm_add_epi32(s, a##j);
    EACH(SUM)
#undef SUM
    return _mm_cvtsi128_si32(s);
}

#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
#define HAVE_DOT8 1
#if defined(__AVXVNNI__)
#define DPBUSD _mm_dpbusd_avx_epi32
#else
#define DPBUSD _mm_dpbusd_epi32
#endif
static int probe_dot8(int seed) {
    __m128i x = _mm_set1_epi8((char)(seed & 7)), w = _mm_set1_epi8(3);
#define INIT(j) __m128i a##j = _mm_set1_epi32(j);
    EACH(INIT)
#undef INIT
    for (int i = 0; i < STEPS; i++) {
#define STEP(j) a##j = DPBUSD(a##j, x, w);
        EACH(STEP)
#undef STEP
    }
    __m128i s = _mm_setzero_si128();
#define SUM(j) s = _mm_add_epi32(s, a##j);
    EACH(SUM)
#undef SUM
    return _mm_cvtsi128_si32(s);
}
#else
#define HAVE_DOT8 0
#endif

// The same probes at 256 and 512 bits: the bound of the native kernels (src/ops/arch/x86/).
// Twelve chains: with 8, 512-bit FMA (latency 4+ and two pipes on recent cores) was
// latency-bound, below what the GEMM itself reached.
#define CHAINS_W 12
#define EACHW(X) EACH(X) X(8) X(9) X(10) X(11)
#define PROBE_FMA(name, V, SET1, CAST) \
    static float name(float m, float c) { \
        V vm = SET1(m), vc = SET1(c); \
        EACHW(PINIT) \
        for (int i = 0; i < STEPS; i++) { EACHW(PSTEP) } \
        V s = SET1(0.0f); \
        EACHW(PSUM) \
        return CAST(s); \
    }
#define PINIT(j) __typeof__(vm) a##j = SET1_(1.0f + j);
#if defined(__AVX2__) && defined(__FMA__)
#define SET1_ _mm256_set1_ps
#define PSTEP(j) a##j = _mm256_fmadd_ps(a##j, vm, vc);
#define PSUM(j) s = _mm256_add_ps(s, a##j);
PROBE_FMA(probe_fma256, __m256, _mm256_set1_ps, _mm256_cvtss_f32)
#undef SET1_
#undef PSTEP
#undef PSUM
// vpmaddubsw + vpmaddwd + vpaddd: the AVX2 int8 kernel's 32 byte multiply-adds (64 ops)
static int probe_maddubs256(int seed) {
    __m256i x = _mm256_set1_epi8((char)(seed & 7)), ones = _mm256_set1_epi16(1);
#define INIT(j) __m256i a##j = _mm256_set1_epi32(j), w##j = _mm256_set1_epi8((char)(3 + j));
    EACHW(INIT)
#undef INIT
    for (int i = 0; i < STEPS; i++) {
#define STEP(j) a##j = _mm256_add_epi32(a##j, _mm256_madd_epi16(_mm256_maddubs_epi16(w##j, x), ones));
        EACHW(STEP)
#undef STEP
    }
    __m256i s = _mm256_setzero_si256();
#define SUM(j) s = _mm256_add_epi32(s, a##j);
    EACHW(SUM)
#undef SUM
    return _mm256_cvtsi256_si32(s);
}
#endif
#if defined(__AVX512F__)
#define SET1_ _mm512_set1_ps
#define PSTEP(j) a##j = _mm512_fmadd_ps(a##j, vm, vc);
#define PSUM(j) s = _mm512_add_ps(s, a##j);
PROBE_FMA(probe_fma512, __m512, _mm512_set1_ps, _mm512_cvtss_f32)
#undef SET1_
#undef PSTEP
#undef PSUM
#endif
#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
#if defined(__AVXVNNI__)
#define DPBUSD256 _mm256_dpbusd_avx_epi32
#else
#define DPBUSD256 _mm256_dpbusd_epi32
#endif
static int probe_dot8_256(int seed) {
    __m256i x = _mm256_set1_epi8((char)(seed & 7)), w = _mm256_set1_epi8(3);
#define INIT(j) __m256i a##j = _mm256_set1_epi32(j);
    EACHW(INIT)
#undef INIT
    for (int i = 0; i < STEPS; i++) {
#define STEP(j) a##j = DPBUSD256(a##j, x, w);
        EACHW(STEP)
#undef STEP
    }
    __m256i s = _mm256_setzero_si256();
#define SUM(j) s = _mm256_add_epi32(s, a##j);
    EACHW(SUM)
#undef SUM
    return _mm256_cvtsi256_si32(s);
}
#endif
#if defined(__AVX512VNNI__)
// 24 chains, vpdpbusd in inline assembly as the kernel (src/ops/arch/x86/gemm_x86.c) issues it
// (through the intrinsic GCC 12 copies each chain's accumulator at every step): with 12 chains
// through the intrinsic this probe read 735-771 GOP/s here, below the kernel itself (up to 845).
#define CHAINS_Z 24
#define EACHZ(X) EACHW(X) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
static inline __m512i dp512(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}
static int probe_dot8_512(int seed) {
    __m512i x = _mm512_set1_epi8((char)(seed & 7)), w = _mm512_set1_epi8(3);
#define INIT(j) __m512i a##j = _mm512_set1_epi32(j);
    EACHZ(INIT)
#undef INIT
    for (int i = 0; i < STEPS; i++) {
#define STEP(j) a##j = dp512(a##j, x, w);
        EACHZ(STEP)
#undef STEP
    }
    __m512i s = _mm512_setzero_si512();
#define SUM(j) s = _mm512_add_epi32(s, a##j);
    EACHZ(SUM)
#undef SUM
    return _mm512_cvtsi512_si32(s);
}
#endif

typedef struct probe { const char *name, *what; double ops_per_step; int kind; } probe;

// Best of 5 rounds of >= seconds/5 each: the machine is shared, the best round is the bound.
static double measure(int kind, double ops_per_call, double seconds) {
    volatile double sink = 0;
    double best = 0;
    for (int round = 0; round < 5; round++) {
        long calls = 0;
        double t0 = now(), t;
        do {
            switch (kind) {
            case 0: sink += probe_muladd(0.9999999f, 1e-7f); break;
#if defined(__FMA__)
            case 1: sink += probe_fma(0.9999999f, 1e-7f); break;
#endif
            case 2: sink += probe_dot16((int)calls); break;
#if HAVE_DOT8
            case 3: sink += probe_dot8((int)calls); break;
#endif
#if defined(__AVX2__) && defined(__FMA__)
            case 4: sink += probe_fma256(0.9999999f, 1e-7f); break;
            case 5: sink += probe_maddubs256((int)calls); break;
#endif
#if defined(__AVX512F__)
            case 6: sink += probe_fma512(0.9999999f, 1e-7f); break;
#endif
#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
            case 7: sink += probe_dot8_256((int)calls); break;
#endif
#if defined(__AVX512VNNI__)
            case 8: sink += probe_dot8_512((int)calls); break;
#endif
            default: break;
            }
            calls++;
            t = now() - t0;
        } while (t < seconds / 5);
        double r = ops_per_call * (double)calls / t / 1e9;
        if (r > best) best = r;
    }
    (void)sink;
    return best;
}

int main(int argc, char **argv) {
    bool json = false;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else { fprintf(stderr, "usage: bench-peak [--json] [--seconds S]\n"); return 2; }
    }
    const double per = (double)STEPS * CHAINS, perw = (double)STEPS * CHAINS_W;
    const probe probes[] = {
        {"f32_muladd", "f32x4.mul + f32x4.add (mulps + addps)", 8 * per, 0},
#if defined(__FMA__)
        {"f32_fma", "f32x4.relaxed_madd (vfmadd231ps xmm)", 8 * per, 1},
#endif
        {"int8_dot16", "i32x4.dot_i16x8_s + i32x4.add (pmaddwd + paddd)", 16 * per, 2},
#if HAVE_DOT8
        {"int8_dot8", "i32x4.relaxed_dot_i8x16_i7x16_add_s (vpdpbusd xmm)", 32 * per, 3},
#endif
#if defined(__AVX2__) && defined(__FMA__)
        {"f32_fma256", "native AVX2 f32 kernel (vfmadd231ps ymm)", 16 * perw, 4},
        {"int8_maddubs256", "native AVX2 int8 kernel (vpmaddubsw + vpmaddwd + vpaddd ymm)", 64 * perw, 5},
#endif
#if defined(__AVX512F__)
        {"f32_fma512", "native AVX-512 f32 kernel (vfmadd231ps zmm)", 32 * perw, 6},
#endif
#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
        {"int8_dot8_256", "native VNNI int8 kernel (vpdpbusd ymm)", 64 * perw, 7},
#endif
#if defined(__AVX512VNNI__)
        {"int8_dot8_512", "native AVX512-VNNI int8 kernel (vpdpbusd zmm)", 128 * (double)STEPS * CHAINS_Z, 8},
#endif
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        double g = measure(probes[i].kind, probes[i].ops_per_step, seconds);
        if (json) printf("{\"name\":\"%s\",\"what\":\"%s\",\"gops\":%.2f}\n", probes[i].name, probes[i].what, g);
        else printf("%-15s %7.1f G%s/s  %s\n", probes[i].name, g, strstr(probes[i].name, "f32") ? "FLOP" : "OP", probes[i].what);
    }
    return 0;
}

#else
int main(void) {
    printf("bench-peak: x86-64 with SSE4.1 only\n");
    return 0;
}
#endif
