// vmath.h - vector exp, GELU (erf and tanh forms), quick GELU and SiLU on f32x4, for the
// SIMD128 kernels.
//
// No FMA (SIMD128 has none, and the native build compiles with -ffp-contract=off), so each
// step rounds. Errors measured against double-precision libm on every 2nd float of each
// range (about 10^9 points per function; tests/test-kernels.c "VMATH_*" re-measures every
// 1024th float against the double `_ref`s and holds them to these bounds), in ulp of the
// exact result:
//
//   we_v_exp          [-87.3, 88.7] (normal results): max 0.98 ulp. Below, subnormals within
//                     1 subnormal ulp, 0 from -104; above, +Inf. -Inf -> 0, NaN -> NaN.
//   we_v_gelu         max 6.7 ulp (x < -0.75, at x = -2.2: the rounding of u = 1/(1 + z/2)
//                     is amplified by the tail fit), 6.2 ulp on [-1.4, 1.4], 1.1 ulp for
//                     x > 1.4; where |gelu(x)| < 1e-30 the absolute error is < 3e-37.
//                     +Inf -> +Inf, -Inf -> NaN (as 0.5 x erfc(..) in double), NaN -> NaN.
//   we_v_silu         [-90, 90]: max 2.4 ulp; beyond, x or -0 as the formula rounds.
//   we_v_gelu_quick   [-60, 60]: max 2.3 ulp (1.702 x is carried as a pair, see below).
//   we_v_gelu_tanh    [-20, 20]: max 3.4 ulp (x < 0, at x = -2.98: x t / (1 + t) rounds three
//                     times after the exp), 1.5 ulp for x >= 0; where the result is below
//                     1e-30 (x < -9.25) the absolute error is < 1.1e-37. Beyond: x for x > 20,
//                     -0 for x < -20, exactly. +Inf -> +Inf, -Inf -> NaN, NaN -> NaN.
//
// A relative error of 6.7 ulp is 4e-7 of the value: far below what the model tests need
// (hidden states within 1e-4 of a float64 reference) and below torch's own float erf GELU
// for x << 0, which computes 1 + erf(z) with cancellation.
//
// Constants are spelled inline; V8 re-materializes v128.const at each use, which costs a
// little in the elementwise loops but nothing in the GEMM inner loops (they hold none).
#ifndef WE_OPS_VMATH_H
#define WE_OPS_VMATH_H

#include "../../simd.h"

// exp(r) for r in [-ln2/2, ln2/2]: Cephes expf's polynomial, 1 + r + r^2 P(r).
static inline v128_t we_v_exp_poly(v128_t r) {
    v128_t z = wasm_f32x4_mul(r, r);
    v128_t p = WE_F32(1.9875691500e-4f);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), WE_F32(1.3981999507e-3f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), WE_F32(8.3334519073e-3f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), WE_F32(4.1665795894e-2f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), WE_F32(1.6666665459e-1f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), WE_F32(5.0000001201e-1f));
    return wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, z), r), WE_F32(1.0f));
}

// exp(A + B) where A + B is given unrounded as a pair (A exact, B small): the reduction
// subtracts n*ln2 from A first, exactly, then adds B, so A's bits are not lost to a rounded
// A + B. Plain exp(x) is the pair (x, 0). Cody-Waite reduction with ln2 in two parts,
// we_v_exp_poly on [-ln2/2, ln2/2], and 2^n applied as two factors (2^(n>>1) and
// 2^(n - (n>>1)), both normal) so that n from -150 to 129 needs no special case: results
// that overflow or go subnormal do so in the last multiply, rounded once.
static inline v128_t we_v_exp2(v128_t a, v128_t b) {
    const v128_t magic = WE_F32(12582912.0f);            // 1.5 * 2^23: adding rounds to int
    v128_t v = wasm_f32x4_add(a, b);
    // clamp (NaN passes: pmax(x, lo) is x < lo ? lo : x)
    v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, WE_F32(-104.0f)), WE_F32(89.0f));
    a = wasm_f32x4_pmin(wasm_f32x4_pmax(a, WE_F32(-104.0f)), WE_F32(89.0f));
    v128_t t = wasm_f32x4_add(wasm_f32x4_mul(v, WE_F32(1.44269504088896341f)), magic);
    v128_t n = wasm_f32x4_sub(t, magic);                  // round(v / ln2), exact
    v128_t r = wasm_f32x4_sub(a, wasm_f32x4_mul(n, WE_F32(0.693359375f)));   // exact
    r = wasm_f32x4_add(r, b);
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, WE_F32(-2.12194440e-4f)));
    v128_t p = we_v_exp_poly(r);
    v128_t ni = wasm_i32x4_sub(t, magic);                 // n as int32 (bits of t - magic)
    v128_t n1 = wasm_i32x4_shr(ni, 1);
    v128_t n2 = wasm_i32x4_sub(ni, n1);
    v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, WE_I32(127)), 23);
    v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, WE_I32(127)), 23);
    return wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
}

static inline v128_t we_v_exp(v128_t x) { return we_v_exp2(x, WE_F32(0.0f)); }

// exp(x) for x in [-64 ln 2, 0] (attention's weights, x = s - max): we_v_exp's arithmetic
// without its range handling (no clamps; 2^n, n in [-64, 0], applied as one factor, which
// is exact where the two factors were), so bit-identical to we_v_exp there, in 10 fewer
// operations. Outside that range the result is wrong: callers clamp.
static inline v128_t we_v_exp_neg(v128_t x) {
    const v128_t magic = WE_F32(12582912.0f);
    v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, WE_F32(1.44269504088896341f)), magic);
    v128_t n = wasm_f32x4_sub(t, magic);
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, WE_F32(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, WE_F32(-2.12194440e-4f)));
    v128_t p = we_v_exp_poly(r);
    v128_t s = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_sub(t, magic), WE_I32(127)), 23);
    return wasm_f32x4_mul(p, s);
}

// x * sigmoid(x) = x / (1 + exp(-x)); IEEE division, so -Inf gives NaN as the formula does.
static inline v128_t we_v_silu(v128_t x) {
    v128_t e = we_v_exp(wasm_f32x4_neg(x));
    return wasm_f32x4_div(x, wasm_f32x4_add(WE_F32(1.0f), e));
}

// 1.702 x is carried as a pair too (1.702 = ch + cl, ch of 12 bits, and x = xh + xl), so
// that for x << 0, where exp(-1.702 x) is huge and the result tiny, the rounding of 1.702 x
// does not cost up to |1.702 x| * 2^-24 of relative error.
// The exp argument is clamped to |x| <= 100 (exp(-170) = 0, exp(170) = Inf: no result
// changes) so that xh, xl stay finite; NaN passes the clamp.
static inline v128_t we_v_gelu_quick(v128_t x) {
    v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, WE_F32(-100.0f)), WE_F32(100.0f));
    v128_t xh = wasm_v128_and(xc, WE_I32((int32_t)0xfffff000u));
    v128_t xl = wasm_f32x4_sub(xc, xh);
    v128_t a = wasm_f32x4_mul(xh, WE_F32(-1.7021484375f));                      // exact
    v128_t b = wasm_f32x4_add(wasm_f32x4_mul(xl, WE_F32(-1.7021484375f)),
                              wasm_f32x4_mul(xc, WE_F32(1.484374952269718e-4f)));
    v128_t e = we_v_exp2(a, b);
    return wasm_f32x4_div(x, wasm_f32x4_add(WE_F32(1.0f), e));
}

// GELU(x) = x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2, in two pieces chosen so that no
// step cancels:
//   |x| < 0.75:  Phi = 1/2 + x S(x^2) / 2 with erf(x / sqrt 2) = x S(x^2), S of degree 4;
//   |x| >= 0.75: with z = |x| / sqrt 2, Phi = erfc(z) / 2 for x < 0 and 1 - erfc(z) / 2 for
//                x > 0, where erfc(z) = u H(u) exp(-z^2), u = 1 / (1 + z/2), H of degree 8.
// -z^2 = -x^2/2 is carried exactly as a pair: x = xh + xl with xh the top 12 bits of |x|,
// so xh^2 is exact and x^2 = xh^2 + xl (|x| + xh). For |x| >= 14, erfc(z) < 1e-43: taken
// as 0. The coefficients are relative-minimax fits (Lawson's iteration in double: S to
// 2.4e-9, H to 7.5e-9 relative), so the error left is float rounding.
static inline v128_t we_v_gelu(v128_t x) {
    v128_t ax = wasm_f32x4_abs(x);
    v128_t big = wasm_f32x4_ge(ax, WE_F32(14.0f));        // NaN: false
    v128_t mid = wasm_f32x4_lt(ax, WE_F32(0.75f));        // NaN: false
    ax = wasm_f32x4_pmin(ax, WE_F32(14.0f));
    // tail: erfc(z) / 2
    v128_t z = wasm_f32x4_mul(ax, WE_F32(0.70710678118654752f));
    v128_t u = wasm_f32x4_div(WE_F32(1.0f),
                              wasm_f32x4_add(WE_F32(1.0f), wasm_f32x4_mul(z, WE_F32(0.5f))));
    v128_t h = WE_F32(-0.061249829828739166f);
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(0.29662591218948364f));
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(-0.51312655210495f));
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(0.3072817623615265f));
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(-0.04572433978319168f));
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(0.21014584600925446f));
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(0.24140027165412903f));
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(0.2825835347175598f));
    h = wasm_f32x4_add(wasm_f32x4_mul(h, u), WE_F32(0.282075971364975f));
    v128_t xh = wasm_v128_and(ax, WE_I32((int32_t)0xfffff000u));
    v128_t xl = wasm_f32x4_sub(ax, xh);
    v128_t a = wasm_f32x4_mul(wasm_f32x4_mul(xh, xh), WE_F32(-0.5f));
    v128_t b = wasm_f32x4_mul(wasm_f32x4_mul(xl, wasm_f32x4_add(ax, xh)), WE_F32(-0.5f));
    v128_t e = wasm_f32x4_mul(wasm_f32x4_mul(u, h), we_v_exp2(a, b));      // erfc(z)
    e = wasm_v128_andnot(wasm_f32x4_mul(e, WE_F32(0.5f)), big);
    v128_t neg = wasm_f32x4_lt(x, WE_F32(0.0f));
    v128_t phi = wasm_v128_bitselect(e, wasm_f32x4_sub(WE_F32(1.0f), e), neg);
    // middle: 1/2 + x S(x^2) / 2
    v128_t w = wasm_f32x4_mul(x, x);
    v128_t s = WE_F32(0.0002058817190118134f);
    s = wasm_f32x4_add(wasm_f32x4_mul(s, w), WE_F32(-0.002362570958212018f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, w), WE_F32(0.019944697618484497f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, w), WE_F32(-0.1329805850982666f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, w), WE_F32(0.7978845834732056f));
    v128_t pm = wasm_f32x4_add(WE_F32(0.5f), wasm_f32x4_mul(wasm_f32x4_mul(x, s), WE_F32(0.5f)));
    phi = wasm_v128_bitselect(pm, phi, mid);
    return wasm_f32x4_mul(x, phi);
}

// GELU, tanh form: 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
// With t = exp(-|2u|) <= 1 (never overflows): x / (1 + t) for x >= 0 and x t / (1 + t) for
// x < 0, where 1 + tanh(u) would cancel. 2u is formed in double (f64x2) and handed to
// we_v_exp2 as an exact pair (its float rounding and the rest): in float, its rounding alone
// (|2u| 2^-24, |2u| up to 87 where the result is still normal) would cost up to 2^-18 of
// relative error. -|2u| is clamped at -104, where exp is 0 anyway, so that infinite x gives
// no -Inf - -Inf in the pair; NaN passes the clamp.
static inline v128_t we_v_gelu_tanh(v128_t x) {
    const v128_t c1 = wasm_f64x2_splat(1.5957691216057308);      // 2 sqrt(2/pi)
    const v128_t c3 = wasm_f64x2_splat(0.07135481627260025);     // 2 sqrt(2/pi) 0.044715
    const v128_t lo = wasm_f64x2_splat(-104.0);
    v128_t x0 = wasm_f64x2_promote_low_f32x4(x);
    v128_t x1 = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(x, x, 2, 3, 0, 1));
    v128_t z0 = wasm_f64x2_mul(x0, wasm_f64x2_add(c1, wasm_f64x2_mul(c3, wasm_f64x2_mul(x0, x0))));
    v128_t z1 = wasm_f64x2_mul(x1, wasm_f64x2_add(c1, wasm_f64x2_mul(c3, wasm_f64x2_mul(x1, x1))));
    z0 = wasm_f64x2_pmax(wasm_f64x2_neg(wasm_f64x2_abs(z0)), lo);           // -|2u|
    z1 = wasm_f64x2_pmax(wasm_f64x2_neg(wasm_f64x2_abs(z1)), lo);
    v128_t a0 = wasm_f32x4_demote_f64x2_zero(z0), a1 = wasm_f32x4_demote_f64x2_zero(z1);
    v128_t b0 = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_sub(z0, wasm_f64x2_promote_low_f32x4(a0)));
    v128_t b1 = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_sub(z1, wasm_f64x2_promote_low_f32x4(a1)));
    v128_t t = we_v_exp2(wasm_i32x4_shuffle(a0, a1, 0, 1, 4, 5), wasm_i32x4_shuffle(b0, b1, 0, 1, 4, 5));
    v128_t num = wasm_v128_bitselect(wasm_f32x4_mul(x, t), x, wasm_f32x4_lt(x, WE_F32(0.0f)));
    return wasm_f32x4_div(num, wasm_f32x4_add(WE_F32(1.0f), t));
}

#endif // WE_OPS_VMATH_H
