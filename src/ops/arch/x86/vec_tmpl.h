// vec_tmpl.h - the row and elementwise kernels of vec_x86.c, written once in a small vector
// vocabulary (V*) and instantiated there for AVX2 (8 lanes) and AVX-512 (16 lanes). No include
// guard: included once per instruction set, with these defined by the includer:
//   VW                lanes (8 or 16);  FN(name): the instance's name for `name`;  TGT: its
//                     target attribute;  VF / VI / VM: float, int32 and compare-mask vectors;
//   VH / VD           half a VF of floats, and the same lanes as doubles (gelu_tanh);
//   the operations below (V_*), each one instruction or two.
//
// The vector math is ../wasm/vmath.h's, operation for operation: the same constants, the same
// mul and add (never fused), the same pmin/pmax semantics (pmin(a, b) = b < a ? b : a, so NaN
// passes as there), so every lane rounds exactly as its SIMD128 lane does and the results are
// bit-identical to the SIMD128 kernels (tests/test-kernels.c checks it on sweeps and tiles).
// Only attention's row loop departs: its exps fuse multiply and add (exp_neg_fma), and the sums
// across a row (of those exps, layer norm's statistics) add in another order.

// -----------------------------------------------------------------------------------------
// Vector math (../wasm/vmath.h: the algorithms and their measured errors are described there)

TGT static inline VF FN(exp_poly)(VF r) {
    VF z = V_MUL(r, r);
    VF p = V_SET1(1.9875691500e-4f);
    p = V_ADD(V_MUL(p, r), V_SET1(1.3981999507e-3f));
    p = V_ADD(V_MUL(p, r), V_SET1(8.3334519073e-3f));
    p = V_ADD(V_MUL(p, r), V_SET1(4.1665795894e-2f));
    p = V_ADD(V_MUL(p, r), V_SET1(1.6666665459e-1f));
    p = V_ADD(V_MUL(p, r), V_SET1(5.0000001201e-1f));
    return V_ADD(V_ADD(V_MUL(p, z), r), V_SET1(1.0f));
}

// exp(a + b), the pair unrounded (vmath.h we_v_exp2)
TGT static inline VF FN(exp2)(VF a, VF b) {
    const VF magic = V_SET1(12582912.0f);
    VF v = V_ADD(a, b);
    v = V_PMIN(V_PMAX(v, V_SET1(-104.0f)), V_SET1(89.0f));
    a = V_PMIN(V_PMAX(a, V_SET1(-104.0f)), V_SET1(89.0f));
    VF t = V_ADD(V_MUL(v, V_SET1(1.44269504088896341f)), magic);
    VF n = V_SUB(t, magic);
    VF r = V_SUB(a, V_MUL(n, V_SET1(0.693359375f)));
    r = V_ADD(r, b);
    r = V_SUB(r, V_MUL(n, V_SET1(-2.12194440e-4f)));
    VF p = FN(exp_poly)(r);
    VI ni = V_ISUB(V_BITS(t), V_BITS(magic));
    VI n1 = V_ISRA(ni, 1);
    VI n2 = V_ISUB(ni, n1);
    VF s1 = V_FLOATS(V_ISHL(V_IADD(n1, V_ISET1(127)), 23));
    VF s2 = V_FLOATS(V_ISHL(V_IADD(n2, V_ISET1(127)), 23));
    return V_MUL(V_MUL(p, s1), s2);
}

// exp(x) for x in [-64 ln 2, 0] (vmath.h we_v_exp_neg)
TGT static inline VF FN(exp_neg)(VF x) {
    const VF magic = V_SET1(12582912.0f);
    VF t = V_ADD(V_MUL(x, V_SET1(1.44269504088896341f)), magic);
    VF n = V_SUB(t, magic);
    VF r = V_SUB(x, V_MUL(n, V_SET1(0.693359375f)));
    r = V_SUB(r, V_MUL(n, V_SET1(-2.12194440e-4f)));
    VF p = FN(exp_poly)(r);
    VF s = V_FLOATS(V_ISHL(V_IADD(V_ISUB(V_BITS(t), V_BITS(magic)), V_ISET1(127)), 23));
    return V_MUL(p, s);
}

// exp_neg with fused multiply-adds (one rounding per step fewer, so within an ulp of it, not
// bit for bit): for attention's weights only, whose sum already adds in another order than
// SIMD128's (test-attention bounds the outputs against the double reference).
TGT static inline VF FN(exp_neg_fma)(VF x) {
    const VF magic = V_SET1(12582912.0f);
    VF t = V_FMA(x, V_SET1(1.44269504088896341f), magic);
    VF n = V_SUB(t, magic);
    VF r = V_FNMA(n, V_SET1(0.693359375f), x);
    r = V_FNMA(n, V_SET1(-2.12194440e-4f), r);
    VF z = V_MUL(r, r);
    VF p = V_SET1(1.9875691500e-4f);
    p = V_FMA(p, r, V_SET1(1.3981999507e-3f));
    p = V_FMA(p, r, V_SET1(8.3334519073e-3f));
    p = V_FMA(p, r, V_SET1(4.1665795894e-2f));
    p = V_FMA(p, r, V_SET1(1.6666665459e-1f));
    p = V_FMA(p, r, V_SET1(5.0000001201e-1f));
    p = V_ADD(V_FMA(p, z, r), V_SET1(1.0f));
    VF s = V_FLOATS(V_ISHL(V_IADD(V_ISUB(V_BITS(t), V_BITS(magic)), V_ISET1(127)), 23));
    return V_MUL(p, s);
}

TGT static inline VF FN(silu)(VF x) {
    VF e = FN(exp2)(V_NEG(x), V_SET1(0.0f));
    return V_DIV(x, V_ADD(V_SET1(1.0f), e));
}

TGT static inline VF FN(gelu_quick)(VF x) {
    VF xc = V_PMIN(V_PMAX(x, V_SET1(-100.0f)), V_SET1(100.0f));
    VF xh = V_FLOATS(V_IAND(V_BITS(xc), V_ISET1((int32_t)0xfffff000u)));
    VF xl = V_SUB(xc, xh);
    VF a = V_MUL(xh, V_SET1(-1.7021484375f));
    VF b = V_ADD(V_MUL(xl, V_SET1(-1.7021484375f)), V_MUL(xc, V_SET1(1.484374952269718e-4f)));
    VF e = FN(exp2)(a, b);
    return V_DIV(x, V_ADD(V_SET1(1.0f), e));
}

TGT static inline VF FN(gelu)(VF x) {
    VF ax = V_ABS(x);
    VM big = V_GE(ax, V_SET1(14.0f));
    VM mid = V_LT(ax, V_SET1(0.75f));
    ax = V_PMIN(ax, V_SET1(14.0f));
    VF z = V_MUL(ax, V_SET1(0.70710678118654752f));
    VF u = V_DIV(V_SET1(1.0f), V_ADD(V_SET1(1.0f), V_MUL(z, V_SET1(0.5f))));
    VF h = V_SET1(-0.061249829828739166f);
    h = V_ADD(V_MUL(h, u), V_SET1(0.29662591218948364f));
    h = V_ADD(V_MUL(h, u), V_SET1(-0.51312655210495f));
    h = V_ADD(V_MUL(h, u), V_SET1(0.3072817623615265f));
    h = V_ADD(V_MUL(h, u), V_SET1(-0.04572433978319168f));
    h = V_ADD(V_MUL(h, u), V_SET1(0.21014584600925446f));
    h = V_ADD(V_MUL(h, u), V_SET1(0.24140027165412903f));
    h = V_ADD(V_MUL(h, u), V_SET1(0.2825835347175598f));
    h = V_ADD(V_MUL(h, u), V_SET1(0.282075971364975f));
    VF xh = V_FLOATS(V_IAND(V_BITS(ax), V_ISET1((int32_t)0xfffff000u)));
    VF xl = V_SUB(ax, xh);
    VF a = V_MUL(V_MUL(xh, xh), V_SET1(-0.5f));
    VF b = V_MUL(V_MUL(xl, V_ADD(ax, xh)), V_SET1(-0.5f));
    VF e = V_MUL(V_MUL(u, h), FN(exp2)(a, b));
    e = V_ZERO_WHERE(V_MUL(e, V_SET1(0.5f)), big);
    VM neg = V_LT(x, V_SET1(0.0f));
    VF phi = V_SEL(neg, e, V_SUB(V_SET1(1.0f), e));
    VF w = V_MUL(x, x);
    VF s = V_SET1(0.0002058817190118134f);
    s = V_ADD(V_MUL(s, w), V_SET1(-0.002362570958212018f));
    s = V_ADD(V_MUL(s, w), V_SET1(0.019944697618484497f));
    s = V_ADD(V_MUL(s, w), V_SET1(-0.1329805850982666f));
    s = V_ADD(V_MUL(s, w), V_SET1(0.7978845834732056f));
    VF pm = V_ADD(V_SET1(0.5f), V_MUL(V_MUL(x, s), V_SET1(0.5f)));
    phi = V_SEL(mid, pm, phi);
    return V_MUL(x, phi);
}

// -|2u| in double and split into the pair (its float rounding, the rest), for half the lanes
TGT static inline void FN(tanh_arg)(VH *a, VH *b, VH x) {
    VD xd = V_D_FROM_H(x);
    VD z = V_DMUL(xd, V_DADD(V_DSET1(1.5957691216057308), V_DMUL(V_DSET1(0.07135481627260025), V_DMUL(xd, xd))));
    z = V_DPMAX(V_DNEG_ABS(z), V_DSET1(-104.0));
    *a = V_H_FROM_D(z);
    *b = V_H_FROM_D(V_DSUB(z, V_D_FROM_H(*a)));
}

TGT static inline VF FN(gelu_tanh)(VF x) {
    VH a0, b0, a1, b1;
    FN(tanh_arg)(&a0, &b0, V_LO_H(x));
    FN(tanh_arg)(&a1, &b1, V_HI_H(x));
    VF t = FN(exp2)(V_JOIN_H(a0, a1), V_JOIN_H(b0, b1));
    VF num = V_SEL(V_LT(x, V_SET1(0.0f)), V_MUL(x, t), x);
    return V_DIV(num, V_ADD(V_SET1(1.0f), t));
}

TGT static inline VF FN(act1)(VF v, we_act act) {
    switch (act) {
    case WE_ACT_NONE: return v;
    case WE_ACT_GELU: return FN(gelu)(v);
    case WE_ACT_GELU_QUICK: return FN(gelu_quick)(v);
    case WE_ACT_SILU: return FN(silu)(v);
    case WE_ACT_GELU_TANH: return FN(gelu_tanh)(v);
    }
    return v;
}

// -----------------------------------------------------------------------------------------
// Elementwise activations: y (n) = act(x (n)); the tail through the same code, masked.

#define ACT_LOOP(fn)                                                                          \
    do {                                                                                      \
        for (; i + VW <= n; i += VW) V_STORE(y + i, fn(V_LOAD(x + i)));                       \
        if (i < n) V_STOREN(y + i, fn(V_LOADN(x + i, (int)(n - i))), (int)(n - i));           \
    } while (0)

TGT static void FN(act)(float *y, const float *x, size_t n, we_act act) {
    size_t i = 0;
    switch (act) {
    case WE_ACT_NONE: if (y != x) memmove(y, x, n * sizeof(float)); break;
    case WE_ACT_GELU: ACT_LOOP(FN(gelu)); break;
    case WE_ACT_GELU_QUICK: ACT_LOOP(FN(gelu_quick)); break;
    case WE_ACT_SILU: ACT_LOOP(FN(silu)); break;
    case WE_ACT_GELU_TANH: ACT_LOOP(FN(gelu_tanh)); break;
    }
}
#undef ACT_LOOP

// -----------------------------------------------------------------------------------------
// GEMM epilogues over a whole native tile, nc (<= ldc) columns of mr rows: gemm.c's
// epilogue_f32 / epilogue_q8, the same operations in the same order.

TGT static void FN(epi_f32)(float *y, int ldy, const float *c, int ldc, int mr, int nc, const float *b, we_act act,
                            bool add) {
    for (int j = 0; j < nc; j += VW) {
        int n = nc - j < VW ? nc - j : VW;
        VF bv = b ? V_LOADN(b + j, n) : V_SET1(0.0f);
        for (int i = 0; i < mr; i++) {
            VF v = V_LOADN(c + i * ldc + j, n);
            float *yr = y + (size_t)i * ldy + j;
            if (add) v = V_ADD(V_LOADN(yr, n), v);
            if (b) v = V_ADD(v, bv);
            v = FN(act1)(v, act);
            V_STOREN(yr, v, n);
        }
    }
}

TGT static void FN(epi_q8)(float *y, int ldy, const int32_t *c, int ldc, int mr, int nc, const float *sx,
                           const float *ws, const float *b, we_act act) {
    for (int j = 0; j < nc; j += VW) {
        int n = nc - j < VW ? nc - j : VW;
        VF bv = b ? V_LOADN(b + j, n) : V_SET1(0.0f), sv = V_LOADN(ws + j, n);
        for (int i = 0; i < mr; i++) {
            VF v = V_CVT_I32(V_BITS(V_LOADN((const float *)(const void *)(c + i * ldc + j), n)));
            v = V_MUL(v, V_MUL(V_SET1(sx[i]), sv));
            if (b) v = V_ADD(v, bv);
            v = FN(act1)(v, act);
            V_STOREN(y + (size_t)i * ldy + j, v, n);
        }
    }
}

// -----------------------------------------------------------------------------------------
// int8 quantization of one row (gemm.c quantize_row's rule): q (nq bytes, nq a multiple of 16
// and >= K) = round-to-nearest-even(x * 127 / max|x|) ^ flip, zeros (q = 0) past K; returns the
// scale max|x| / 127 (0 for a row below 1e-30, NaN for one holding a NaN or an Inf, q = 0 then).
// The rounding: cvtps2dq in the default rounding mode, which is the 1.5*2^23 trick's.

TGT static float FN(quantize_q8)(uint8_t *q, int nq, const float *x, int K, uint8_t flip) {
    VI m = V_ISET1(0);
    int k = 0;
    for (; k + VW <= K; k += VW) m = V_IMAX(m, V_IAND(V_ILOAD(x + k), V_ISET1(0x7fffffff)));
    if (k < K) m = V_IMAX(m, V_IAND(V_BITS(V_LOADN(x + k, K - k)), V_ISET1(0x7fffffff)));
    uint32_t amax = (uint32_t)V_IHMAX(m);
    float fm;
    memcpy(&fm, &amax, 4);
    if (amax >= 0x7f800000u || fm < 1e-30f) {
        memset(q, flip, (size_t)nq);
        return amax >= 0x7f800000u ? NAN : 0.0f;
    }
    const VF id = V_SET1(127.0f / fm);
    for (k = 0; k < nq; k += VW) {
        int n = K - k;
        VF v = n >= VW ? V_LOAD(x + k) : n > 0 ? V_LOADN(x + k, n) : V_SET1(0.0f);
        V_STORE_Q8(q + k, V_CVT_F32(V_MUL(v, id)), flip);
    }
    return fm / 127.0f;
}

// -----------------------------------------------------------------------------------------
// Layer norm of one row (../wasm/vec.c layer_norm_row): the statistics in double, x - mean and
// its product by 1 / sqrt(var + eps) in double rounded once, then the float gamma and beta.
// The sums add in VW / 2 double lanes, so they round apart from SIMD128's (2 lanes).

TGT static inline VD FN(lo_d)(VF v) { return V_D_FROM_H(V_LO_H(v)); }
TGT static inline VD FN(hi_d)(VF v) { return V_D_FROM_H(V_HI_H(v)); }

TGT static void FN(layer_norm_row)(float *y, const float *x, const float *gamma, const float *beta, int N, float eps) {
    VD s0 = V_DSET1(0.0), s1 = s0;
    int k = 0;
    for (; k + VW <= N; k += VW) {
        VF v = V_LOAD(x + k);
        s0 = V_DADD(s0, FN(lo_d)(v));
        s1 = V_DADD(s1, FN(hi_d)(v));
    }
    if (k < N) {                                                    // zeros past N add nothing
        VF v = V_LOADN(x + k, N - k);
        s0 = V_DADD(s0, FN(lo_d)(v));
        s1 = V_DADD(s1, FN(hi_d)(v));
    }
    const double mean = V_DHSUM(V_DADD(s0, s1)) / N;
    const VD mv = V_DSET1(mean);
    s0 = s1 = V_DSET1(0.0);
    for (k = 0; k + VW <= N; k += VW) {
        VF v = V_LOAD(x + k);
        VD d0 = V_DSUB(FN(lo_d)(v), mv), d1 = V_DSUB(FN(hi_d)(v), mv);
        s0 = V_DADD(s0, V_DMUL(d0, d0));
        s1 = V_DADD(s1, V_DMUL(d1, d1));
    }
    double var = V_DHSUM(V_DADD(s0, s1));
    for (; k < N; k++) var += ((double)x[k] - mean) * ((double)x[k] - mean);
    var /= N;
    const VD rv = V_DSET1(1.0 / sqrt(var + (double)eps));
    for (k = 0; k < N; k += VW) {
        int n = N - k < VW ? N - k : VW;
        VF v = V_LOADN(x + k, n);
        VF o = V_JOIN_H(V_H_FROM_D(V_DMUL(V_DSUB(FN(lo_d)(v), mv), rv)), V_H_FROM_D(V_DMUL(V_DSUB(FN(hi_d)(v), mv), rv)));
        if (gamma) o = V_MUL(o, V_LOADN(gamma + k, n));
        if (beta) o = V_ADD(o, V_LOADN(beta + k, n));
        V_STOREN(y + k, o, n);
    }
}

// -----------------------------------------------------------------------------------------
// Attention's row loops (../../attention.c)

// y[0..n) = x[0..n) * a
TGT static void FN(mul_row)(float *y, const float *x, int n, float a) {
    const VF va = V_SET1(a);
    int i = 0;
    for (; i + VW <= n; i += VW) V_STORE(y + i, V_MUL(V_LOAD(x + i), va));
    if (i < n) V_STOREN(y + i, V_MUL(V_LOADN(x + i, n - i), va), n - i);
}

// y[0..n) += x[0..n)
TGT static void FN(add_row)(float *y, const float *x, int n) {
    int i = 0;
    for (; i + VW <= n; i += VW) V_STORE(y + i, V_ADD(V_LOAD(y + i), V_LOAD(x + i)));
    if (i < n) V_STOREN(y + i, V_ADD(V_LOADN(y + i, n - i), V_LOADN(x + i, n - i)), n - i);
}

// max of p[0..n), n >= 1 (pmax: a NaN may or may not win, as in attention.c's)
TGT static float FN(max_row)(const float *p, int n) {
    VF m = V_SET1(-INFINITY);
    int i = 0;
    for (; i + VW <= n; i += VW) m = V_PMAX(m, V_LOAD(p + i));
    if (i < n) m = V_PMAX(m, V_LOADN_FILL(p + i, n - i, -INFINITY));
    return V_HMAX(m);
}

// p[0..n) = exp(p - m), flushed to 0 below 2^-64 (attention.c exp_sub_sum says why); returns
// their sum, in VW lanes then a fixed reduction. m is finite. The exps fuse (exp_neg_fma).
TGT static float FN(exp_sub_sum)(float *p, int n, float m) {
    const VF vm = V_SET1(m), lo = V_SET1(-44.3614195558365f);
    VF s = V_SET1(0.0f);
    int i = 0;
    for (; i + VW <= n; i += VW) {
        VF x = V_SUB(V_LOAD(p + i), vm);
        VF e = V_ZERO_WHERE(FN(exp_neg_fma)(V_PMAX(x, lo)), V_LT(x, lo));
        V_STORE(p + i, e);
        s = V_ADD(s, e);
    }
    if (i < n) {
        VF x = V_SUB(V_LOADN_FILL(p + i, n - i, -INFINITY), vm);   // exp(-Inf) = 0: the sum keeps
        VF e = V_ZERO_WHERE(FN(exp_neg_fma)(V_PMAX(x, lo)), V_LT(x, lo));
        V_STOREN(p + i, e, n - i);
        s = V_ADD(s, e);
    }
    return V_HSUM(s);
}
