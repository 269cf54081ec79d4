// simd.h - the one SIMD vocabulary of the optimized kernels: WebAssembly SIMD128
// (wasm_simd128.h), compiled for wasm as is and natively through SIMDe.
//
// Why one source and not hand-written x86 kernels: the product ships as WebAssembly, so the
// code worth testing is the wasm kernels. With SIMDe's wasm_simd128.h the native build runs
// that very source on SSE/AVX, so the native tests (fast, and under ASan+UBSan) check the
// code that ships, and a native x86 speed-up would be a second kernel set with its own
// bugs. The cost: a few wasm ops are slow in SIMDe (f32x4.min/max with NaN rules,
// trunc_sat), so the kernels stick to ops that map to one SSE instruction (pmin/pmax, add,
// mul, dot_i16x8, load splats) and build integers from floats with the 1.5*2^23 trick.
// (The native builds run native kernels where the CPU has them - GEMM tiles, and on x86-64 the
// row kernels, which restate this code's arithmetic at 256 and 512 bits: arch/native_gemm.h -
// and this code otherwise; the tests compare the two.)
//
// Only files under src/ops/arch/wasm/ include this header. It is not part of ops.h.
#ifndef WE_OPS_SIMD_H
#define WE_OPS_SIMD_H

#if !defined(WEMBED_SIMD)
#error "simd.h is for the SIMD128 kernels (WEMBED_SIMD builds only)"
#endif

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define WE_SIMD_IMPL "simd128"
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#define WE_SIMD_IMPL "simd128 via SIMDe"
#endif

#include <stdint.h>
#include <string.h>

// Bit casts between float lanes and int lanes are free (v128_t is untyped); these spell out
// intent.
#define WE_F32(x) wasm_f32x4_splat(x)
#define WE_I32(x) wasm_i32x4_splat(x)

// Loads n (< 4) floats into the low lanes, zero elsewhere; stores the low n lanes. For
// row tails: every element still goes through the same vector code as the others, so a
// value never depends on where a row or a thread's share happens to end.
static inline v128_t we_v_load_partial(const float *p, int n) {
    float t[4] = {0, 0, 0, 0};
    memcpy(t, p, (size_t)n * sizeof(float));
    return wasm_v128_load(t);
}
static inline void we_v_store_partial(float *p, v128_t v, int n) {
    float t[4];
    wasm_v128_store(t, v);
    memcpy(p, t, (size_t)n * sizeof(float));
}

// Horizontal reductions in a fixed order: (l0 + l2) + (l1 + l3).
static inline float we_v_hsum(v128_t v) {
    v128_t s = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    s = wasm_f32x4_add(s, wasm_i32x4_shuffle(s, s, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(s, 0);
}
static inline float we_v_hmax(v128_t v) {           // pmax: NaN lanes may be dropped
    v128_t s = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    s = wasm_f32x4_pmax(s, wasm_i32x4_shuffle(s, s, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(s, 0);
}

#endif // WE_OPS_SIMD_H
