// gemm.c - f32 and int8 GEMM with WebAssembly SIMD128 (natively: the same code via SIMDe).
//
// y (T, N) = act(x (T, K) @ W^T + b). Register blocking: a micro-kernel computes a tile of
// 5 rows x 8 output channels, 10 v128 accumulators, from a packed weight panel (ops.h).
// The shape follows what V8 compiles well (TOOLCHAIN.md, and variants timed in Node 20 on
// this machine, interleaved, by process CPU time): a small leaf kernel called many times
// (no on-stack replacement in V8), no more live v128 values than V8's 15 allocatable xmm
// registers (12-accumulator tiles spilled and ran at half speed), no unrolled k loop (-25%),
// no v128.const inside the loop. Measured and not kept: packing x (k-major, so no address
// arithmetic per row: +0-3%), k-blocking for the caches (kc = 256: +-3% at BERT sizes), a
// "dot" tile (2 rows x 4 channels, lanes over k, no broadcasts: as fast as 5x8 but not
// bit-identical to the reference), 3x12 (as fast as 5x8). binaryen (wasm-opt) inlines the
// kernel into its caller whatever `noinline` says; keeping it out of line (a call through
// a pointer) measured the same, so it is left to the toolchain.
//
// Every element is the plain k-ordered sum of the reference (one rounding per multiply and
// per add, no FMA), then + b, then the activation. Edge tiles (rows or channels beyond the
// matrix) are computed in full on clamped row pointers / zero padding and stored in part,
// so an element's value never depends on where a tile or a thread's share begins.
//
// Not here: attention (src/ops, its own file), relaxed-SIMD FMA.
#include "../../ops.h"

#include <math.h>

#include "../../../core/pool.h"
#include "vmath.h"

#define MR 5      // rows of x per micro-kernel
#define NR 8      // output channels per micro-kernel (= WE_GEMM_NR, one packed panel)

#if WE_GEMM_NR != NR
#error "packed panel width and micro-kernel width differ"
#endif

const char *we_ops_impl(void) { return WE_SIMD_IMPL; }

// -----------------------------------------------------------------------------------------
// Epilogue: c (5, 8) tile of sums -> y rows, + bias, activation, partial stores at edges.

static v128_t act_v(v128_t v, we_act act) {
    switch (act) {
    case WE_ACT_NONE: return v;
    case WE_ACT_GELU: return we_v_gelu(v);
    case WE_ACT_GELU_QUICK: return we_v_gelu_quick(v);
    case WE_ACT_SILU: return we_v_silu(v);
    }
    return v;
}

// bias (nr) -> two vectors, zero beyond nr
static void load_row8(v128_t *lo, v128_t *hi, const float *p, int nr) {
    if (nr == NR) {
        *lo = wasm_v128_load(p);
        *hi = wasm_v128_load(p + 4);
    } else {
        float t[NR] = {0};
        memcpy(t, p, (size_t)nr * sizeof(float));
        *lo = wasm_v128_load(t);
        *hi = wasm_v128_load(t + 4);
    }
}

static void store_row8(float *p, v128_t lo, v128_t hi, int nr) {
    if (nr == NR) {
        wasm_v128_store(p, lo);
        wasm_v128_store(p + 4, hi);
    } else {
        float t[NR];
        wasm_v128_store(t, lo);
        wasm_v128_store(t + 4, hi);
        memcpy(p, t, (size_t)nr * sizeof(float));
    }
}

static WE_NOINLINE void epilogue_f32(float *y, int ldy, const float *c, int mr, int nr,
                                     const float *b, we_act act) {
    v128_t b0 = wasm_f32x4_splat(0.0f), b1 = b0;
    if (b) load_row8(&b0, &b1, b, nr);
    for (int i = 0; i < mr; i++) {
        v128_t v0 = wasm_v128_load(c + i * NR), v1 = wasm_v128_load(c + i * NR + 4);
        if (b) {
            v0 = wasm_f32x4_add(v0, b0);
            v1 = wasm_f32x4_add(v1, b1);
        }
        store_row8(y + (size_t)i * ldy, act_v(v0, act), act_v(v1, act), nr);
    }
}

// -----------------------------------------------------------------------------------------
// f32 micro-kernel: c (5, 8) = rows x0..x4 (K) . panel wp (K, 8). 10 accumulators, 2
// weight vectors, 1 broadcast and 1 product: 14 of V8's 15 allocatable xmm registers, so
// nothing spills; 5 rows measured ~20% faster than 4 in Node (fewer loop overheads per
// flop), and 6 rows spill. No unrolling: unrolled by 2 it ran 25% slower in V8.
static WE_NOINLINE void kernel_f32_5x8(float *c, const float *x0, const float *x1,
                                       const float *x2, const float *x3, const float *x4,
                                       const float *wp, int K) {
    v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
    v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    for (int k = 0; k < K; k++) {
        v128_t w0 = wasm_v128_load(wp), w1 = wasm_v128_load(wp + 4);
        wp += NR;
        v128_t a = wasm_v128_load32_splat(x0 + k);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, w0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, w1));
        a = wasm_v128_load32_splat(x1 + k);
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a, w0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a, w1));
        a = wasm_v128_load32_splat(x2 + k);
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a, w0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a, w1));
        a = wasm_v128_load32_splat(x3 + k);
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a, w0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a, w1));
        a = wasm_v128_load32_splat(x4 + k);
        c40 = wasm_f32x4_add(c40, wasm_f32x4_mul(a, w0));
        c41 = wasm_f32x4_add(c41, wasm_f32x4_mul(a, w1));
    }
    wasm_v128_store(c + 0, c00);  wasm_v128_store(c + 4, c01);
    wasm_v128_store(c + 8, c10);  wasm_v128_store(c + 12, c11);
    wasm_v128_store(c + 16, c20); wasm_v128_store(c + 20, c21);
    wasm_v128_store(c + 24, c30); wasm_v128_store(c + 28, c31);
    wasm_v128_store(c + 32, c40); wasm_v128_store(c + 36, c41);
}

// -----------------------------------------------------------------------------------------
// Work split. Threads take whole panels of 8 channels or runs of rows (multiples of 5); the
// tiles are the same either way, only who computes them differs. Panels when there are
// enough of them (each thread then reads all of x and its share of W); the int8 GEMM
// prefers rows, because then each thread quantizes its own rows and no second pass (and
// barrier) is needed.

typedef struct gemm_ctx {
    float *y; int ldy;
    const float *x; int ldx;          // f32 x (T, K)
    const float *wp;                  // f32 packed W
    int16_t *qx; int ldq;             // q8: quantized x (T, ldq), ldq = K rounded up to 8
    float *sx;                        // q8: (T) row scales
    const int8_t *wq;                 // q8: packed W
    const float *ws;                  // q8: (N) channel scales
    const float *b;
    int T, K, N;
    we_act act;
    bool by_rows;                     // work split (split_by_rows)
} gemm_ctx;

static bool split_by_rows(const gemm_ctx *c, int nth, bool prefer_rows) {
    int64_t panels = ((int64_t)c->N + NR - 1) / NR;
    if (nth <= 1) return false;
    if (prefer_rows) return c->T >= 4 * MR * (int64_t)nth || panels < nth;
    return panels < 4 * (int64_t)nth && c->T > MR * (int64_t)nth;
}

static void split_work(const gemm_ctx *c, bool by_rows, int ith, int nth, int64_t *p0,
                       int64_t *p1, int64_t *t0, int64_t *t1) {
    int64_t panels = ((int64_t)c->N + NR - 1) / NR;
    if (by_rows) {
        we_split(c->T, MR, ith, nth, t0, t1);
        *p0 = 0;
        *p1 = panels;
    } else {
        we_split(panels, 1, ith, nth, p0, p1);
        *t0 = 0;
        *t1 = c->T;
    }
}

static void gemm_f32_task(void *p, int ith, int nth) {
    const gemm_ctx *c = p;
    int64_t p0, p1, t0, t1;
    split_work(c, c->by_rows, ith, nth, &p0, &p1, &t0, &t1);
    float tile[MR * NR];                                    // (5, 8)
    for (int64_t pi = p0; pi < p1; pi++) {
        const float *wp = c->wp + pi * NR * (int64_t)c->K;  // panel (K, 8)
        int n0 = (int)pi * NR, nr = WE_MIN(NR, c->N - n0);
        for (int64_t t = t0; t < t1; t += MR) {
            int mr = (int)WE_MIN(MR, t1 - t);
            const float *x0 = c->x + t * c->ldx;
            const float *x1 = mr > 1 ? x0 + c->ldx : x0;
            const float *x2 = mr > 2 ? x1 + c->ldx : x1;
            const float *x3 = mr > 3 ? x2 + c->ldx : x2;
            const float *x4 = mr > 4 ? x3 + c->ldx : x3;
            kernel_f32_5x8(tile, x0, x1, x2, x3, x4, wp, c->K);
            epilogue_f32(c->y + t * c->ldy + n0, c->ldy, tile, mr, nr,
                         c->b ? c->b + n0 : NULL, c->act);
        }
    }
}

void we_gemm_f32(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                 const float *Wp, const float *b, int T, int K, int N, we_act act) {
    if (T <= 0 || N <= 0) return;
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .wp = Wp, .b = b,
                  .T = T, .K = K, .N = N, .act = act};
    c.by_rows = split_by_rows(&c, we_pool_threads(pool), false);
    we_pool_run(pool, gemm_f32_task, &c);
}

// -----------------------------------------------------------------------------------------
// int8: activations quantized per row into int16 (the kernel's operand width; the weights
// stay int8 and are widened as they are loaded), then an integer micro-kernel.

// x[k..k+3], zeros beyond K
static inline v128_t load4_tail(const float *x, int k, int K) {
    if (k + 4 <= K) return wasm_v128_load(x + k);
    if (k < K) return we_v_load_partial(x + k, K - k);
    return wasm_f32x4_splat(0.0f);
}

// One row, the arithmetic of ref.c's quantize_row: max |x| as bits (NaN > Inf > finite),
// id = 127 / max, q = round-to-nearest-even(x * id) via the 1.5*2^23 trick (exact for
// |x * id| < 2^22), which is what nearbyintf gives.
static void quantize_row_i16(int16_t *q, float *s, const float *x, int K, int ldq) {
    v128_t m = wasm_i32x4_splat(0);
    const v128_t abs_mask = wasm_i32x4_splat(0x7fffffff);
    int k = 0;
    for (; k + 4 <= K; k += 4) m = wasm_i32x4_max(m, wasm_v128_and(wasm_v128_load(x + k), abs_mask));
    if (k < K) m = wasm_i32x4_max(m, wasm_v128_and(we_v_load_partial(x + k, K - k), abs_mask));
    m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
    m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
    uint32_t amax = (uint32_t)wasm_i32x4_extract_lane(m, 0);
    float fm;
    memcpy(&fm, &amax, 4);
    if (amax >= 0x7f800000u || fm < 1e-30f) {
        memset(q, 0, (size_t)ldq * sizeof(int16_t));
        *s = amax >= 0x7f800000u ? NAN : 0.0f;
        return;
    }
    const v128_t id = wasm_f32x4_splat(127.0f / fm);
    const v128_t magic = wasm_f32x4_splat(12582912.0f);
    for (k = 0; k < ldq; k += 8) {
        v128_t v0 = load4_tail(x, k, K), v1 = load4_tail(x, k + 4, K);
        v0 = wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(v0, id), magic), magic);
        v1 = wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(v1, id), magic), magic);
        wasm_v128_store(q + k, wasm_i16x8_narrow_i32x4(v0, v1));
    }
    *s = fm / 127.0f;
}

static void quantize_task(void *p, int ith, int nth) {
    const gemm_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++)
        quantize_row_i16(c->qx + t * c->ldq, c->sx + t, c->x + t * c->ldx,
                         c->K, c->ldq);
}

// c (5, 8) int32 = rows x0..x4 (2*KP int16) . panel wp (KP pairs x 16 int8). The same
// shape as the f32 kernel (5 rows also measured best here); weights are widened from
// int8 as they are loaded (i16x8.load8x8_s), one i32x4.dot_i16x8_s per 4 channels x 2 k.
static WE_NOINLINE void kernel_q8_5x8(int32_t *c, const int16_t *x0, const int16_t *x1,
                                      const int16_t *x2, const int16_t *x3, const int16_t *x4,
                                      const int8_t *wp, int KP) {
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
    v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    for (int k = 0; k < 2 * KP; k += 2) {
        v128_t w0 = wasm_i16x8_load8x8(wp), w1 = wasm_i16x8_load8x8(wp + 8);
        wp += 16;
        v128_t a = wasm_v128_load32_splat(x0 + k);
        c00 = wasm_i32x4_add(c00, wasm_i32x4_dot_i16x8(a, w0));
        c01 = wasm_i32x4_add(c01, wasm_i32x4_dot_i16x8(a, w1));
        a = wasm_v128_load32_splat(x1 + k);
        c10 = wasm_i32x4_add(c10, wasm_i32x4_dot_i16x8(a, w0));
        c11 = wasm_i32x4_add(c11, wasm_i32x4_dot_i16x8(a, w1));
        a = wasm_v128_load32_splat(x2 + k);
        c20 = wasm_i32x4_add(c20, wasm_i32x4_dot_i16x8(a, w0));
        c21 = wasm_i32x4_add(c21, wasm_i32x4_dot_i16x8(a, w1));
        a = wasm_v128_load32_splat(x3 + k);
        c30 = wasm_i32x4_add(c30, wasm_i32x4_dot_i16x8(a, w0));
        c31 = wasm_i32x4_add(c31, wasm_i32x4_dot_i16x8(a, w1));
        a = wasm_v128_load32_splat(x4 + k);
        c40 = wasm_i32x4_add(c40, wasm_i32x4_dot_i16x8(a, w0));
        c41 = wasm_i32x4_add(c41, wasm_i32x4_dot_i16x8(a, w1));
    }
    wasm_v128_store(c + 0, c00);  wasm_v128_store(c + 4, c01);
    wasm_v128_store(c + 8, c10);  wasm_v128_store(c + 12, c11);
    wasm_v128_store(c + 16, c20); wasm_v128_store(c + 20, c21);
    wasm_v128_store(c + 24, c30); wasm_v128_store(c + 28, c31);
    wasm_v128_store(c + 32, c40); wasm_v128_store(c + 36, c41);
}

// (float)acc * (sx[t] * ws[n]) + b[n], then act: the reference's order of operations.
static WE_NOINLINE void epilogue_q8(float *y, int ldy, const int32_t *c, int mr, int nr,
                                    const float *sx, const float *ws, const float *b,
                                    we_act act) {
    v128_t b0 = wasm_f32x4_splat(0.0f), b1 = b0, s0, s1;
    if (b) load_row8(&b0, &b1, b, nr);
    load_row8(&s0, &s1, ws, nr);
    for (int i = 0; i < mr; i++) {
        v128_t r = wasm_v128_load32_splat(sx + i);
        v128_t v0 = wasm_f32x4_convert_i32x4(wasm_v128_load(c + i * NR));
        v128_t v1 = wasm_f32x4_convert_i32x4(wasm_v128_load(c + i * NR + 4));
        v0 = wasm_f32x4_mul(v0, wasm_f32x4_mul(r, s0));
        v1 = wasm_f32x4_mul(v1, wasm_f32x4_mul(r, s1));
        if (b) {
            v0 = wasm_f32x4_add(v0, b0);
            v1 = wasm_f32x4_add(v1, b1);
        }
        store_row8(y + (size_t)i * ldy, act_v(v0, act), act_v(v1, act), nr);
    }
}

// Panels [p0, p1) x rows [t0, t1) of the int8 GEMM, from rows already quantized.
static void gemm_q8_tiles(const gemm_ctx *c, int64_t p0, int64_t p1, int64_t t0, int64_t t1) {
    int KP = (c->K + 1) / 2;
    int32_t tile[MR * NR];                                  // (5, 8)
    for (int64_t pi = p0; pi < p1; pi++) {
        const int8_t *wp = c->wq + pi * 16 * (int64_t)KP;   // panel (KP, 16)
        int n0 = (int)pi * NR, nr = WE_MIN(NR, c->N - n0);
        for (int64_t t = t0; t < t1; t += MR) {
            int mr = (int)WE_MIN(MR, t1 - t);
            const int16_t *x0 = c->qx + t * c->ldq;
            const int16_t *x1 = mr > 1 ? x0 + c->ldq : x0;
            const int16_t *x2 = mr > 2 ? x1 + c->ldq : x1;
            const int16_t *x3 = mr > 3 ? x2 + c->ldq : x2;
            const int16_t *x4 = mr > 4 ? x3 + c->ldq : x3;
            kernel_q8_5x8(tile, x0, x1, x2, x3, x4, wp, KP);
            epilogue_q8(c->y + t * c->ldy + n0, c->ldy, tile, mr, nr, c->sx + t, c->ws + n0,
                        c->b ? c->b + n0 : NULL, c->act);
        }
    }
}

// Split by panels: every thread needs every row quantized, so quantizing is a pass of its own.
static void gemm_q8_task(void *p, int ith, int nth) {
    const gemm_ctx *c = p;
    int64_t p0, p1, t0, t1;
    split_work(c, c->by_rows, ith, nth, &p0, &p1, &t0, &t1);
    gemm_q8_tiles(c, p0, p1, t0, t1);
}

// Split by rows: each thread quantizes its own rows and goes on (one pass, no barrier).
static void gemm_q8_rows_task(void *p, int ith, int nth) {
    const gemm_ctx *c = p;
    int64_t p0, p1, t0, t1;
    split_work(c, c->by_rows, ith, nth, &p0, &p1, &t0, &t1);
    for (int64_t t = t0; t < t1; t++)
        quantize_row_i16(c->qx + t * c->ldq, c->sx + t, c->x + t * c->ldx, c->K, c->ldq);
    gemm_q8_tiles(c, p0, p1, t0, t1);
}

void we_gemm_q8(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                const int8_t *Wp, const float *ws, const float *b, int T, int K, int N,
                we_act act, void *scratch) {
    if (T <= 0 || N <= 0) return;
    // scratch (we_gemm_q8_scratch_bytes): sx (T) at a 16-byte boundary, then qx (T, ldq)
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15);
    size_t sx_bytes = ((size_t)T * sizeof(float) + 15) & ~(size_t)15;
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx,
                  .qx = (int16_t *)(base + sx_bytes), .ldq = (K + 7) & ~7,
                  .sx = (float *)base, .wq = Wp, .ws = ws, .b = b,
                  .T = T, .K = K, .N = N, .act = act};
    c.by_rows = split_by_rows(&c, we_pool_threads(pool), true);
    if (c.by_rows) {
        we_pool_run(pool, gemm_q8_rows_task, &c);
    } else {
        we_pool_run(pool, quantize_task, &c);
        we_pool_run(pool, gemm_q8_task, &c);
    }
}
