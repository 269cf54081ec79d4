// gemm_q8_dot.c - the relaxed-SIMD int8 micro-kernel and its probe (gemm_q8_dot.h says why
// and how the activations are encoded).
//
// The same 5x8 tile shape as the SIMD128 kernel. V8 compiles the instruction to one vpdpbusd
// on x86 with VNNI; per k-quad the loop is 2 weight loads, 5 broadcasts and 10 dot-adds for
// 160 multiply-adds. i16x8.relaxed_dot_i8x16_i7x16_s + i32x4.extadd_pairwise is not used:
// two more instructions, and pairs saturate on pmaddubsw hosts unless activations lose a
// bit. Speeds of both: bench/results/design-notes.md.
#include "gemm_q8_dot.h"

#if defined(__wasm__)
#include <wasm_simd128.h>
#else
#include "../../simd.h"
#endif

#define NR 8

#if defined(__wasm_relaxed_simd__)

// clang 16 has the builtin but not yet the wasm_simd128.h name.
#define DOT(w, x, acc) \
    ((v128_t)__builtin_wasm_relaxed_dot_i8x16_i7x16_add_s_i32x4((__i8x16)(w), (__i8x16)(x), (__i32x4)(acc)))
#define HAVE_DOT 1

#elif !defined(__wasm__)

// Native: the instruction, exactly, with the second operand read as the emulated host would.
static bool emulate_signed = false;
void we_q8_dot_emulate_signed(bool is_signed) { emulate_signed = is_signed; }

static inline v128_t dot_emulated(v128_t w, v128_t x, v128_t acc) {
    v128_t w0 = wasm_i16x8_extend_low_i8x16(w), w1 = wasm_i16x8_extend_high_i8x16(w);
    v128_t x0 = emulate_signed ? wasm_i16x8_extend_low_i8x16(x) : wasm_u16x8_extend_low_u8x16(x);
    v128_t x1 = emulate_signed ? wasm_i16x8_extend_high_i8x16(x) : wasm_u16x8_extend_high_u8x16(x);
    v128_t d0 = wasm_i32x4_dot_i16x8(w0, x0), d1 = wasm_i32x4_dot_i16x8(w1, x1);   // byte pairs
    v128_t quads = wasm_i32x4_add(wasm_i32x4_shuffle(d0, d1, 0, 2, 4, 6), wasm_i32x4_shuffle(d0, d1, 1, 3, 5, 7));
    return wasm_i32x4_add(acc, quads);
}
#define DOT(w, x, acc) dot_emulated(w, x, acc)
#define HAVE_DOT 1

#else
#define HAVE_DOT 0     // a plain SIMD128 wasm module: the probe says NONE
#endif

// -----------------------------------------------------------------------------------------

#if HAVE_DOT

bool we_q8_dot_run(int32_t *out, const int8_t *w, const uint8_t *x, const int32_t *acc) {
    wasm_v128_store(out, DOT(wasm_v128_load(w), wasm_v128_load(x), wasm_v128_load(acc)));
    return true;
}

// A small leaf function called once per tile, no unrolling, 10 accumulators + 2 weight
// vectors + 1 broadcast live: the shape V8 compiles well (gemm.c's kernels say why).
__attribute__((noinline))
void we_q8_dot_kernel_5x8(int32_t *c, const uint8_t *x0, const uint8_t *x1, const uint8_t *x2,
                          const uint8_t *x3, const uint8_t *x4, const int8_t *wp, int KQ,
                          const int32_t *corr) {
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
    v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    for (int k = 0; k < 4 * KQ; k += 4) {
        v128_t w0 = wasm_v128_load(wp), w1 = wasm_v128_load(wp + 16);
        wp += 32;
        v128_t a = wasm_v128_load32_splat(x0 + k);
        c00 = DOT(w0, a, c00);
        c01 = DOT(w1, a, c01);
        a = wasm_v128_load32_splat(x1 + k);
        c10 = DOT(w0, a, c10);
        c11 = DOT(w1, a, c11);
        a = wasm_v128_load32_splat(x2 + k);
        c20 = DOT(w0, a, c20);
        c21 = DOT(w1, a, c21);
        a = wasm_v128_load32_splat(x3 + k);
        c30 = DOT(w0, a, c30);
        c31 = DOT(w1, a, c31);
        a = wasm_v128_load32_splat(x4 + k);
        c40 = DOT(w0, a, c40);
        c41 = DOT(w1, a, c41);
    }
    v128_t r0 = wasm_v128_load(corr), r1 = wasm_v128_load(corr + 4);
    wasm_v128_store(c + 0, wasm_i32x4_sub(c00, r0));  wasm_v128_store(c + 4, wasm_i32x4_sub(c01, r1));
    wasm_v128_store(c + 8, wasm_i32x4_sub(c10, r0));  wasm_v128_store(c + 12, wasm_i32x4_sub(c11, r1));
    wasm_v128_store(c + 16, wasm_i32x4_sub(c20, r0)); wasm_v128_store(c + 20, wasm_i32x4_sub(c21, r1));
    wasm_v128_store(c + 24, wasm_i32x4_sub(c30, r0)); wasm_v128_store(c + 28, wasm_i32x4_sub(c31, r1));
    wasm_v128_store(c + 32, wasm_i32x4_sub(c40, r0)); wasm_v128_store(c + 36, wasm_i32x4_sub(c41, r1));
}

// Activations first (signed), nibbles second (0..15: the 7-bit operand).
__attribute__((noinline))
void we_q4_dot_kernel_5x8(int32_t *c, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                          const int8_t *x3, const int8_t *x4, const uint8_t *wp) {
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
    v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    for (int k = 0; k < 32; k += 4) {
        v128_t v = wasm_v128_load(wp);
        wp += 16;
        v128_t w0 = wasm_v128_and(v, wasm_i8x16_splat(0x0F)), w1 = wasm_u8x16_shr(v, 4);
        v128_t a = wasm_v128_load32_splat(x0 + k);
        c00 = DOT(a, w0, c00);
        c01 = DOT(a, w1, c01);
        a = wasm_v128_load32_splat(x1 + k);
        c10 = DOT(a, w0, c10);
        c11 = DOT(a, w1, c11);
        a = wasm_v128_load32_splat(x2 + k);
        c20 = DOT(a, w0, c20);
        c21 = DOT(a, w1, c21);
        a = wasm_v128_load32_splat(x3 + k);
        c30 = DOT(a, w0, c30);
        c31 = DOT(a, w1, c31);
        a = wasm_v128_load32_splat(x4 + k);
        c40 = DOT(a, w0, c40);
        c41 = DOT(a, w1, c41);
    }
    wasm_v128_store(c + 0, c00);  wasm_v128_store(c + 4, c01);
    wasm_v128_store(c + 8, c10);  wasm_v128_store(c + 12, c11);
    wasm_v128_store(c + 16, c20); wasm_v128_store(c + 20, c21);
    wasm_v128_store(c + 24, c30); wasm_v128_store(c + 28, c31);
    wasm_v128_store(c + 32, c40); wasm_v128_store(c + 36, c41);
}

#else

bool we_q8_dot_run(int32_t *out, const int8_t *w, const uint8_t *x, const int32_t *acc) {
    (void)out, (void)w, (void)x, (void)acc;
    return false;
}

// Never called (we_q8_dot_run says false, so gemm.c runs the SIMD128 kernel); they exist
// so that plain and relaxed modules link the same engine library.
void we_q8_dot_kernel_5x8(int32_t *c, const uint8_t *x0, const uint8_t *x1, const uint8_t *x2,
                          const uint8_t *x3, const uint8_t *x4, const int8_t *wp, int KQ,
                          const int32_t *corr) {
    (void)c, (void)x0, (void)x1, (void)x2, (void)x3, (void)x4, (void)wp, (void)KQ, (void)corr;
    __builtin_trap();
}

void we_q4_dot_kernel_5x8(int32_t *c, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                          const int8_t *x3, const int8_t *x4, const uint8_t *wp) {
    (void)c, (void)x0, (void)x1, (void)x2, (void)x3, (void)x4, (void)wp;
    __builtin_trap();
}

#endif
