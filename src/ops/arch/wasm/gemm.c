// gemm.c - f32 and int8 GEMM with WebAssembly SIMD128 (natively: the same code via SIMDe).
//
// y (T, N) = act(x (T, K) @ W^T + b). Register blocking: a micro-kernel computes a tile of
// 5 rows x 8 output channels, 10 v128 accumulators, from a packed weight panel (ops.h).
// The shape follows what V8 compiles well (docs/TOOLCHAIN.md; the variants timed, and those
// not kept, are in bench/results/design-notes.md): a small leaf kernel called many times (no
// on-stack replacement in V8), no more live v128 values than V8's 15 allocatable xmm
// registers, no unrolled k loop, no v128.const inside the loop. binaryen (wasm-opt) inlines
// the kernel into its caller whatever `noinline` says; that is left to the toolchain.
//
// Every element is the plain k-ordered sum of the reference (one rounding per multiply and
// per add, no FMA), then + b, then the activation. Edge tiles (rows or channels beyond the
// matrix) are computed in full on clamped row pointers / zero padding and stored in part,
// so an element's value never depends on where a tile or a thread's share begins.
//
// int8: two micro-kernels of the same 5x8 shape, picked once per process (ops.h
// we_q8_kernel): relaxed SIMD's byte dot product where the module has it and the host
// computes it exactly (gemm_q8_dot.c; its speed-up in design-notes.md), else
// i32x4.dot_i16x8 on weights widened as they are loaded.
//
// Not here: attention (src/ops, its own file), relaxed-SIMD FMA (no faster than mul + add on
// the machines measured: design-notes.md).
#include "../../ops.h"

#include <math.h>

#include <stdatomic.h>

#include "../../../core/pool.h"
#include "../native_gemm.h"
#include "gemm_q8_dot.h"
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
    case WE_ACT_GELU_TANH: return we_v_gelu_tanh(v);
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

// add: y += the tile (we_gemm_f32_add), before bias and activation as in the reference.
// c has row stride ldc (NR for the SIMD128 tiles, wider for the native ones).
static WE_NOINLINE void epilogue_f32(float *y, int ldy, const float *c, int ldc, int mr, int nr,
                                     const float *b, we_act act, bool add) {
    v128_t b0 = wasm_f32x4_splat(0.0f), b1 = b0;
    if (b) load_row8(&b0, &b1, b, nr);
    for (int i = 0; i < mr; i++) {
        v128_t v0 = wasm_v128_load(c + i * ldc), v1 = wasm_v128_load(c + i * ldc + 4);
        if (add) {
            v128_t y0, y1;
            load_row8(&y0, &y1, y + (size_t)i * ldy, nr);
            v0 = wasm_f32x4_add(y0, v0);
            v1 = wasm_f32x4_add(y1, v1);
        }
        if (b) {
            v0 = wasm_f32x4_add(v0, b0);
            v1 = wasm_f32x4_add(v1, b1);
        }
        if (act != WE_ACT_NONE) {
            v0 = act_v(v0, act);
            v1 = act_v(v1, act);
        }
        store_row8(y + (size_t)i * ldy, v0, v1, nr);
    }
}

// -----------------------------------------------------------------------------------------
// f32 micro-kernel: c (5, 8) = rows x0..x4 (K) . panel wp (K, 8). 10 accumulators, 2
// weight vectors, 1 broadcast and 1 product: 14 of V8's 15 allocatable xmm registers, so
// nothing spills (6 rows spill; 4 rows pay more loop overhead per flop). No unrolling: V8
// runs the unrolled loop slower (design-notes.md).
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
// Work split. The work is a queue of items (we_queue: whichever thread is free takes the
// next): whole panels of 8 channels (np adjacent ones for the native kernels, whose tiles span
// np panels), or blocks of 8 tiles' rows across all panels; the tiles are the same either
// way, only who computes them differs. Panels when there are enough of
// them (each item then reads all of x and one panel of W); the int8 GEMM prefers rows,
// because then each item quantizes its own rows and no second pass (and barrier) is needed.
// Dynamic rather than fixed shares: on time-sliced vCPUs one thread often gets less CPU
// than the other, and fixed halves made the faster one wait.

typedef struct gemm_ctx {
    float *y; int ldy;
    const float *x; int ldx;          // f32 x (T, K)
    const float *wp;                  // f32 packed W
    uint8_t *qx; size_t ldq;          // q8: quantized x rows, ldq bytes apart (quantize_row)
    float *sx;                        // q8: (T) row scales
    const int8_t *wq;                 // q8: packed W
    we_q8_kernel kernel;              // q8: which micro-kernel (and layouts)
    int mr, np;                       // the micro-kernel's tile: rows, panels
#if defined(WE_NATIVE_GEMM)
    const we_native_f32_kernel *nf;   // f32: the native kernel, or NULL (SIMD128)
    const we_native_q8_kernel *nq;    // q8: the native kernel, or NULL
    const we_native_vec *nv;          // the native row kernels (epilogues, quantization), or NULL
#endif
    const float *ws;                  // q8: (N) channel scales
    const float *b;
    int T, K, N;
    we_act act;
    bool add;                         // f32: y += x W^T (we_gemm_f32_add)
    bool by_rows;                     // items are row blocks (split_by_rows), else panels
    we_queue queue;                   // the items
} gemm_ctx;

static int64_t n_panels(const gemm_ctx *c) { return ((int64_t)c->N + NR - 1) / NR; }
static int64_t row_item(const gemm_ctx *c) { return 8 * (int64_t)c->mr; }   // W is read once per item

static bool split_by_rows(const gemm_ctx *c, int nth, bool prefer_rows) {
    int64_t groups = (n_panels(c) + c->np - 1) / c->np;
    if (nth <= 1) return false;
    if (prefer_rows) return c->T >= 4 * (int64_t)c->mr * nth || groups < nth;
    return groups < 4 * (int64_t)nth && c->T > (int64_t)c->mr * nth;
}

// Starts the queue: row blocks or groups of np panels.
static void queue_items(gemm_ctx *c, bool by_rows) {
    c->by_rows = by_rows;
    we_queue_init(&c->queue, by_rows ? ((int64_t)c->T + row_item(c) - 1) / row_item(c) : (n_panels(c) + c->np - 1) / c->np);
}

// Panels [p0, p1) x rows [t0, t1) of the next item; false when none is left.
static bool next_item(gemm_ctx *c, int64_t *p0, int64_t *p1, int64_t *t0, int64_t *t1) {
    int64_t item;
    if (!we_queue_take(&c->queue, &item)) return false;
    if (c->by_rows) {
        *t0 = item * row_item(c);
        *t1 = WE_MIN(*t0 + row_item(c), (int64_t)c->T);
        *p0 = 0;
        *p1 = n_panels(c);
    } else {
        *p0 = item * c->np;
        *p1 = WE_MIN(*p0 + c->np, n_panels(c));
        *t0 = 0;
        *t1 = c->T;
    }
    return true;
}

#if defined(WE_NATIVE_GEMM)
// Panels [p0, p1) x rows [t0, t1) on the native kernel's tiles (mr rows x np panels), each
// then through the same epilogue as the SIMD128 tiles, a panel at a time.
static void gemm_f32_native_tiles(const gemm_ctx *c, int64_t p0, int64_t p1, int64_t t0, int64_t t1) {
    const we_native_f32_kernel *kf = c->nf;
    float tile[WE_NATIVE_MR_MAX * WE_NATIVE_NP_MAX * NR];   // (mr, 8 np)
    const int ldc = kf->np * NR;
    const size_t ps = (size_t)NR * (size_t)c->K;            // floats from a panel to the next
    // No bias, no activation, no y +=: a whole tile's sums are the results, stored in place.
    const bool direct = !c->b && c->act == WE_ACT_NONE && !c->add;
    for (int64_t pg = p0; pg < p1; pg += kf->np) {
        int npu = (int)WE_MIN(kf->np, p1 - pg);
        for (int64_t t = t0; t < t1; t += kf->mr) {
            int mr = (int)WE_MIN(kf->mr, t1 - t);
            const float *xr[WE_NATIVE_MR_MAX];
            for (int i = 0; i < kf->mr; i++) xr[i] = c->x + (t + WE_MIN(i, mr - 1)) * c->ldx;
            if (direct && mr == kf->mr && (pg + npu) * NR <= c->N) {
                kf->tile(c->y + t * c->ldy + pg * NR, c->ldy, xr, c->wp + pg * (int64_t)ps, ps, npu, c->K);
                continue;
            }
            kf->tile(tile, ldc, xr, c->wp + pg * (int64_t)ps, ps, npu, c->K);
            if (c->nv) {                                    // the whole tile at once
                int64_t n0 = pg * NR;
                c->nv->epi_f32(c->y + t * c->ldy + n0, c->ldy, tile, ldc, mr, (int)WE_MIN(npu * NR, c->N - n0),
                               c->b ? c->b + n0 : NULL, c->act, c->add);
                continue;
            }
            for (int j = 0; j < npu; j++) {
                int n0 = (int)(pg + j) * NR, nr = WE_MIN(NR, c->N - n0);
                epilogue_f32(c->y + t * c->ldy + n0, c->ldy, tile + j * NR, ldc, mr, nr,
                             c->b ? c->b + n0 : NULL, c->act, c->add);
            }
        }
    }
}
#endif

static void gemm_f32_task(void *p, int ith, int nth) {
    (void)ith, (void)nth;
    gemm_ctx *c = p;
    int64_t p0, p1, t0, t1;
    float tile[MR * NR];                                    // (5, 8)
    while (next_item(c, &p0, &p1, &t0, &t1)) {
#if defined(WE_NATIVE_GEMM)
        if (c->nf) {
            gemm_f32_native_tiles(c, p0, p1, t0, t1);
            continue;
        }
#endif
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
                epilogue_f32(c->y + t * c->ldy + n0, c->ldy, tile, NR, mr, nr,
                             c->b ? c->b + n0 : NULL, c->act, c->add);
            }
        }
    }
}

// -----------------------------------------------------------------------------------------
// f32 kernel choice: probed once (natively: the fastest native kernel the CPU runs).

static atomic_int f32_kernel = -1;

we_f32_kernel we_gemm_f32_kernel(void) {
    int k = atomic_load_explicit(&f32_kernel, memory_order_relaxed);
    if (k >= 0) return (we_f32_kernel)k;
    k = WE_F32_KERNEL_SIMD128;
#if defined(WE_NATIVE_GEMM)
    if (we_native_f32_best()) k = we_native_f32_best()->id;
#endif
    atomic_store_explicit(&f32_kernel, k, memory_order_relaxed);
    return (we_f32_kernel)k;
}

bool we_gemm_f32_use_kernel(we_f32_kernel k) {
    bool ok = k == WE_F32_KERNEL_SIMD128;
#if defined(WE_NATIVE_GEMM)
    ok = ok || we_native_f32(k);
#endif
    if (ok) atomic_store_explicit(&f32_kernel, (int)k, memory_order_relaxed);
    return ok;
}

// The tile of the f32 kernel in use.
static void f32_tile_of(gemm_ctx *c) {
    c->mr = MR;
    c->np = 1;
#if defined(WE_NATIVE_GEMM)
    c->nf = we_native_f32(we_gemm_f32_kernel());
    c->nv = we_native_vec_of(we_gemm_f32_kernel());
    if (c->nf) {
        c->mr = c->nf->mr;
        c->np = c->nf->np;
    }
#endif
}

void we_gemm_f32(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                 const float *Wp, const float *b, int T, int K, int N, we_act act) {
    if (T <= 0 || N <= 0) return;
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .wp = Wp, .b = b,
                  .T = T, .K = K, .N = N, .act = act};
    f32_tile_of(&c);
    queue_items(&c, split_by_rows(&c, we_pool_threads(pool), false));
    we_pool_run(pool, gemm_f32_task, &c);
}

void we_gemm_f32_add(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                     const float *Wp, int T, int K, int N) {
    if (T <= 0 || N <= 0) return;
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .wp = Wp, .T = T, .K = K, .N = N,
                  .act = WE_ACT_NONE, .add = true};
    f32_tile_of(&c);
    queue_items(&c, split_by_rows(&c, we_pool_threads(pool), false));
    we_pool_run(pool, gemm_f32_task, &c);
}

// -----------------------------------------------------------------------------------------
// int8 kernel choice: probed once, then fixed (weights are packed in its layout).

static atomic_int q8_kernel = -1;

// What relaxed SIMD's dot product does here with second-operand bytes past 127
// (gemm_q8_dot.h): weights of either sign, activations across 0..255, and pairs whose 16-bit
// sums overflow (127*255*2), so that exact-unsigned, exact-signed and saturating hosts differ.
typedef enum dot_mode { DOT_NONE, DOT_UNSIGNED, DOT_SIGNED } dot_mode;

static dot_mode dot_probe(void) {
    static const int8_t w[16] = {127, 127, -127, -127, 127, -128, 1, -1, 100, -37, 0, 127, -5, 64, 127, 127};
    static const uint8_t x[16] = {255, 255, 255, 255, 128, 200, 0, 1, 17, 250, 77, 129, 255, 127, 254, 255};
    static const int32_t acc[4] = {1000, -7, 0, 123456};
    int32_t out[4];
    if (!we_q8_dot_run(out, w, x, acc)) return DOT_NONE;
    bool is_unsigned = true, is_signed = true;
    for (int l = 0; l < 4; l++) {
        int32_t u = acc[l], s = acc[l];
        for (int j = 4 * l; j < 4 * l + 4; j++) {
            u += (int32_t)w[j] * (int32_t)x[j];
            s += (int32_t)w[j] * (int32_t)(int8_t)x[j];
        }
        is_unsigned = is_unsigned && out[l] == u;
        is_signed = is_signed && out[l] == s;
    }
    return is_unsigned ? DOT_UNSIGNED : is_signed ? DOT_SIGNED : DOT_NONE;
}

static dot_mode dot_mode_of(we_q8_kernel k) {
    return k == WE_Q8_KERNEL_DOT_U8 ? DOT_UNSIGNED : k == WE_Q8_KERNEL_DOT_S8 ? DOT_SIGNED : DOT_NONE;
}

// Activations go in as unsigned bytes x + 128 (then corrected by the weights' sums).
static bool q8_unsigned_act(we_q8_kernel k) {
#if defined(WE_NATIVE_GEMM)
    if (we_native_q8(k)) return we_native_q8(k)->unsigned_act;
#endif
    return k == WE_Q8_KERNEL_DOT_U8;
}

we_q8_kernel we_gemm_q8_kernel(void) {
    int k = atomic_load_explicit(&q8_kernel, memory_order_relaxed);
    if (k >= 0) return (we_q8_kernel)k;
#if defined(__wasm__)
    dot_mode m = dot_probe();               // the same answer on every thread that races here
#else
    dot_mode m = DOT_NONE;                  // natively the dot is emulated, slower: tests ask for it
#endif
    k = m == DOT_UNSIGNED ? WE_Q8_KERNEL_DOT_U8 : m == DOT_SIGNED ? WE_Q8_KERNEL_DOT_S8 : WE_Q8_KERNEL_I16;
#if defined(WE_NATIVE_GEMM)
    if (we_native_q8_best()) k = we_native_q8_best()->id;
#endif
    atomic_store_explicit(&q8_kernel, k, memory_order_relaxed);
    return (we_q8_kernel)k;
}

bool we_gemm_q8_use_kernel(we_q8_kernel k) {
    bool ok = k == WE_Q8_KERNEL_I16 || (dot_mode_of(k) != DOT_NONE && dot_probe() == dot_mode_of(k));
#if defined(WE_NATIVE_GEMM)
    ok = ok || we_native_q8(k);
#endif
    if (ok) atomic_store_explicit(&q8_kernel, (int)k, memory_order_relaxed);
    return ok;
}

// -----------------------------------------------------------------------------------------
// int8: activations quantized per row into the kernel's operand (int16 for the i16 kernel,
// encoded bytes for the dot kernel), then an integer micro-kernel.

// x[k..k+3], zeros beyond K
static inline v128_t load4_tail(const float *x, int k, int K) {
    if (k + 4 <= K) return wasm_v128_load(x + k);
    if (k < K) return we_v_load_partial(x + k, K - k);
    return wasm_f32x4_splat(0.0f);
}

// Row stride of the quantized activations, in bytes: int16 rows of K rounded up to 8, or
// byte rows of K rounded up to 16 (both within we_gemm_q8_scratch_bytes).
static size_t q8_row_bytes(we_q8_kernel kernel, int K) {
    return kernel == WE_Q8_KERNEL_I16 ? ((size_t)K + 7) / 8 * 8 * sizeof(int16_t) : ((size_t)K + 15) / 16 * 16;
}

// One row, the arithmetic of ref.c's quantize_row: max |x| as bits (NaN > Inf > finite),
// id = 127 / max, q = round-to-nearest-even(x * id) via the 1.5*2^23 trick (exact for
// |x * id| < 2^22), which is what nearbyintf gives. Stored as int16 (i16 kernel) or as bytes
// q ^ flip (dot kernels: flip = 0x80 where the host reads them unsigned, else 0), with
// zeros (q = 0) up to the row's end.
static void quantize_row(const void *ctx, int64_t t) {
    const gemm_ctx *c = ctx;
    const float *x = c->x + t * c->ldx;
    uint8_t *q = c->qx + (size_t)t * c->ldq;
    const int K = c->K;
    const uint8_t flip = q8_unsigned_act(c->kernel) ? 0x80 : 0;
#if defined(WE_NATIVE_GEMM)
    if (c->nv && c->kernel != WE_Q8_KERNEL_I16) {           // the same rule, wider
        c->sx[t] = c->nv->quantize_q8(q, (int)c->ldq, x, K, flip);
        return;
    }
#endif
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
        memset(q, c->kernel == WE_Q8_KERNEL_I16 ? 0 : flip, c->ldq);
        c->sx[t] = amax >= 0x7f800000u ? NAN : 0.0f;
        return;
    }
    const v128_t id = wasm_f32x4_splat(127.0f / fm);
    const v128_t magic = wasm_f32x4_splat(12582912.0f);
#define QUANT4(k) wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(load4_tail(x, k, K), id), magic), magic)
    if (c->kernel == WE_Q8_KERNEL_I16) {
        int16_t *q16 = (int16_t *)(void *)q;
        for (k = 0; k < (int)(c->ldq / 2); k += 8)
            wasm_v128_store(q16 + k, wasm_i16x8_narrow_i32x4(QUANT4(k), QUANT4(k + 4)));
    } else {
        const v128_t vflip = wasm_i8x16_splat((int8_t)flip);
        for (k = 0; k < (int)c->ldq; k += 16) {
            v128_t lo = wasm_i16x8_narrow_i32x4(QUANT4(k), QUANT4(k + 4));
            v128_t hi = wasm_i16x8_narrow_i32x4(QUANT4(k + 8), QUANT4(k + 12));
            wasm_v128_store(q + k, wasm_v128_xor(wasm_i8x16_narrow_i16x8(lo, hi), vflip));
        }
    }
#undef QUANT4
    c->sx[t] = fm / 127.0f;
}

// c (5, 8) int32 = rows x0..x4 (2*KP int16) . panel wp (KP pairs x 16 int8). The same
// shape as the f32 kernel (also the best here); weights are widened from
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
static WE_NOINLINE void epilogue_q8(float *y, int ldy, const int32_t *c, int ldc, int mr, int nr,
                                    const float *sx, const float *ws, const float *b,
                                    we_act act) {
    v128_t b0 = wasm_f32x4_splat(0.0f), b1 = b0, s0, s1;
    if (b) load_row8(&b0, &b1, b, nr);
    load_row8(&s0, &s1, ws, nr);
    for (int i = 0; i < mr; i++) {
        v128_t r = wasm_v128_load32_splat(sx + i);
        v128_t v0 = wasm_f32x4_convert_i32x4(wasm_v128_load(c + i * ldc));
        v128_t v1 = wasm_f32x4_convert_i32x4(wasm_v128_load(c + i * ldc + 4));
        v0 = wasm_f32x4_mul(v0, wasm_f32x4_mul(r, s0));
        v1 = wasm_f32x4_mul(v1, wasm_f32x4_mul(r, s1));
        if (b) {
            v0 = wasm_f32x4_add(v0, b0);
            v1 = wasm_f32x4_add(v1, b1);
        }
        if (act != WE_ACT_NONE) {
            v0 = act_v(v0, act);
            v1 = act_v(v1, act);
        }
        store_row8(y + (size_t)i * ldy, v0, v1, nr);
    }
}

// Panels [p0, p1) x rows [t0, t1) of the int8 GEMM, from rows already quantized.
static void gemm_q8_tiles(const gemm_ctx *c, int64_t p0, int64_t p1, int64_t t0, int64_t t1) {
    const bool dot = c->kernel != WE_Q8_KERNEL_I16;
    const int KG = dot ? (c->K + 3) / 4 : (c->K + 1) / 2;  // groups of k: quads or pairs
    int32_t tile[MR * NR];                                  // (5, 8)
    static const int32_t no_corr[NR] = {0};
    const int32_t *sums = (const int32_t *)(const void *)(c->wq + we_gemm_q8_sums_offset(c->N, c->K));
    for (int64_t pi = p0; pi < p1; pi++) {
        const int8_t *wp = c->wq + pi * NR * (dot ? 4 : 2) * (int64_t)KG;   // panel (KG, 8 x group)
        int n0 = (int)pi * NR, nr = WE_MIN(NR, c->N - n0);
        // dot kernel: subtract 128 * sum_k W where activations went in as unsigned bytes
        const int32_t *corr = c->kernel == WE_Q8_KERNEL_DOT_U8 ? sums + n0 : no_corr;
        for (int64_t t = t0; t < t1; t += MR) {
            int mr = (int)WE_MIN(MR, t1 - t);
            const uint8_t *x0 = c->qx + (size_t)t * c->ldq;
            const uint8_t *x1 = mr > 1 ? x0 + c->ldq : x0;
            const uint8_t *x2 = mr > 2 ? x1 + c->ldq : x1;
            const uint8_t *x3 = mr > 3 ? x2 + c->ldq : x2;
            const uint8_t *x4 = mr > 4 ? x3 + c->ldq : x3;
            if (dot) {
                we_q8_dot_kernel_5x8(tile, x0, x1, x2, x3, x4, wp, KG, corr);
            } else {
                kernel_q8_5x8(tile, (const int16_t *)(const void *)x0, (const int16_t *)(const void *)x1,
                              (const int16_t *)(const void *)x2, (const int16_t *)(const void *)x3,
                              (const int16_t *)(const void *)x4, wp, KG);
            }
            epilogue_q8(c->y + t * c->ldy + n0, c->ldy, tile, NR, mr, nr, c->sx + t, c->ws + n0,
                        c->b ? c->b + n0 : NULL, c->act);
        }
    }
}

#if defined(WE_NATIVE_GEMM)
// Panels [p0, p1) x rows [t0, t1) on the native kernel's tiles, from rows already quantized.
static void gemm_q8_native_tiles(const gemm_ctx *c, int64_t p0, int64_t p1, int64_t t0, int64_t t1) {
    const we_native_q8_kernel *kq = c->nq;
    const int KQ = (c->K + 3) / 4;
    int32_t tile[WE_NATIVE_MR_MAX * WE_NATIVE_NP_MAX * NR]; // (mr, 8 np)
    const int ldc = kq->np * NR;
    const size_t ps = (size_t)NR * 4 * (size_t)KQ;          // bytes from a panel to the next
    const int32_t *sums = (const int32_t *)(const void *)(c->wq + we_gemm_q8_sums_offset(c->N, c->K));
    for (int64_t pg = p0; pg < p1; pg += kq->np) {
        int npu = (int)WE_MIN(kq->np, p1 - pg);
        for (int64_t t = t0; t < t1; t += kq->mr) {
            int mr = (int)WE_MIN(kq->mr, t1 - t);
            const uint8_t *xr[WE_NATIVE_MR_MAX];
            for (int i = 0; i < kq->mr; i++) xr[i] = c->qx + (size_t)(t + WE_MIN(i, mr - 1)) * c->ldq;
            kq->tile(tile, xr, c->wq + pg * (int64_t)ps, ps, npu, KQ, kq->unsigned_act ? sums + pg * NR : NULL);
            if (c->nv) {                                    // the whole tile at once
                int64_t n0 = pg * NR;
                c->nv->epi_q8(c->y + t * c->ldy + n0, c->ldy, tile, ldc, mr, (int)WE_MIN(npu * NR, c->N - n0),
                              c->sx + t, c->ws + n0, c->b ? c->b + n0 : NULL, c->act);
                continue;
            }
            for (int j = 0; j < npu; j++) {
                int n0 = (int)(pg + j) * NR, nr = WE_MIN(NR, c->N - n0);
                epilogue_q8(c->y + t * c->ldy + n0, c->ldy, tile + j * NR, ldc, mr, nr, c->sx + t, c->ws + n0,
                            c->b ? c->b + n0 : NULL, c->act);
            }
        }
    }
}
#endif

static void q8_tiles(const void *ctx, int64_t p0, int64_t p1, int64_t t0, int64_t t1) {
    const gemm_ctx *c = ctx;
#if defined(WE_NATIVE_GEMM)
    if (c->nq) {
        gemm_q8_native_tiles(c, p0, p1, t0, t1);
        return;
    }
#endif
    gemm_q8_tiles(c, p0, p1, t0, t1);
}

// -----------------------------------------------------------------------------------------
// What the int8 and 4-bit GEMMs share: their scratch is carved the same way, and their rows
// are quantized into it, then the tiles computed from it. The queue hands out row blocks
// (each item quantizes its own rows and goes on: one pass, no barrier) or panels (every item
// needs every row quantized, so quantizing is a pass of its own, first).

typedef struct qgemm {
    gemm_ctx *q;                                       // the work queue and the tile shape
    const void *ctx;                                   // what the two functions read
    void (*quantize_row)(const void *ctx, int64_t t);
    void (*tiles)(const void *ctx, int64_t p0, int64_t p1, int64_t t0, int64_t t1);
} qgemm;

// Scratch (we_gemm_q8/q4_scratch_bytes: 16 bytes of slack for the alignment) in pieces at
// 16-byte boundaries: *at is the first free byte, rounded up by scratch_begin.
static uint8_t *scratch_begin(void *scratch) { return (uint8_t *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15); }
static void *scratch_take(uint8_t **at, size_t bytes) {
    void *p = *at;
    *at += (bytes + 15) & ~(size_t)15;
    return p;
}

static void qgemm_quantize_task(void *p, int ith, int nth) {
    const qgemm *r = p;
    int64_t t0, t1;
    we_split(r->q->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) r->quantize_row(r->ctx, t);
}

static void qgemm_task(void *p, int ith, int nth) {
    (void)ith, (void)nth;
    const qgemm *r = p;
    int64_t p0, p1, t0, t1;
    while (next_item(r->q, &p0, &p1, &t0, &t1)) {
        if (r->q->by_rows)
            for (int64_t t = t0; t < t1; t++) r->quantize_row(r->ctx, t);
        r->tiles(r->ctx, p0, p1, t0, t1);
    }
}

static void qgemm_run(wembed_pool *pool, qgemm *r) {
    queue_items(r->q, split_by_rows(r->q, we_pool_threads(pool), true));
    if (!r->q->by_rows) we_pool_run(pool, qgemm_quantize_task, r);
    we_pool_run(pool, qgemm_task, r);
}

void we_gemm_q8(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                const int8_t *Wp, const float *ws, const float *b, int T, int K, int N,
                we_act act, void *scratch) {
    if (T <= 0 || N <= 0) return;
    we_q8_kernel kernel = we_gemm_q8_kernel();
    uint8_t *at = scratch_begin(scratch);
    float *sx = scratch_take(&at, (size_t)T * sizeof(float));                     // (T)
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx,
                  .qx = at, .ldq = q8_row_bytes(kernel, K),                          // (T, ldq)
                  .sx = sx, .wq = Wp, .kernel = kernel, .ws = ws, .b = b,
                  .T = T, .K = K, .N = N, .act = act, .mr = MR, .np = 1};
#if defined(WE_NATIVE_GEMM)
    c.nq = we_native_q8(kernel);
    c.nv = we_native_vec_of(we_gemm_f32_kernel());
    if (c.nq) {
        c.mr = c.nq->mr;
        c.np = c.nq->np;
    }
#endif
    qgemm r = {.q = &c, .ctx = &c, .quantize_row = quantize_row, .tiles = q8_tiles};
    qgemm_run(pool, &r);
}

// -----------------------------------------------------------------------------------------
// 4-bit (ops.h). Activations are quantized per row and block, with quantize_row's arithmetic,
// into int16 (i16 kernel) or int8 (dot kernel), and with each block's correction
// 8 * sum_k qx: the kernels multiply by the stored nibbles q + 8 (0..15, which relaxed SIMD's
// dot takes as its 7-bit operand on every host), and the correction takes the 8 back off.
// Per block the kernels give a 5x8 tile of integer sums; the float accumulation across
// blocks is here, in the reference's order.

typedef struct q4_ctx {
    float *y; int ldy;
    const float *x; int ldx;
    const uint8_t *wp; const float *ws; const float *b;
    int T, K, N, nb;
    we_act act;
    bool dot;                         // a dot kernel (int8 rows), else i16 rows
    float *sx;                        // (T, nb) block scales
    int32_t *corr;                    // (T, nb) 8 * sum of the block's quantized activations
    uint8_t *qx; size_t ldq;          // quantized rows, ldq bytes apart
    gemm_ctx q;                       // only its work queue
} q4_ctx;

static atomic_int q4_dot = -1;

// The dot on 7-bit second operands: exact on unsigned, signed and saturating hosts alike,
// unless the host is none of these; checked once on the extremes.
static bool q4_dot_probe(void) {
    static const int8_t a[16] = {-128, -128, 127, 127, -1, 0, 1, -77, 100, -100, 55, -128, 127, 127, 127, 127};
    static const uint8_t w[16] = {15, 15, 15, 15, 0, 7, 8, 15, 3, 9, 12, 1, 15, 14, 15, 15};
    static const int32_t acc[4] = {0, -5, 77, 1 << 20};
    int32_t out[4];
    if (!we_q8_dot_run(out, a, w, acc)) return false;
    for (int l = 0; l < 4; l++) {
        int32_t s = acc[l];
        for (int j = 4 * l; j < 4 * l + 4; j++) s += (int32_t)a[j] * (int32_t)w[j];
        if (out[l] != s) return false;
    }
    return true;
}

// The dot kernel: natively the CPU's own where it has one (arm64 sdot: src/ops/arch/native_gemm.h),
// else relaxed SIMD's (natively emulated).
typedef void (*q4_dot_fn)(int32_t *c, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                          const int8_t *x3, const int8_t *x4, const uint8_t *wp);
static q4_dot_fn q4_native_dot(void) {
#if defined(WE_NATIVE_GEMM)
    return we_native_q4();
#else
    return NULL;
#endif
}

bool we_gemm_q4_uses_dot(void) {
    int d = atomic_load_explicit(&q4_dot, memory_order_relaxed);
    if (d < 0) {
#if defined(__wasm__)
        d = q4_dot_probe();
#else
        d = q4_native_dot() != NULL;        // the emulated dot is slower: tests ask for it
#endif
        atomic_store_explicit(&q4_dot, d, memory_order_relaxed);
    }
    return d != 0;
}

void we_gemm_q4_allow_dot(bool allow) {
    atomic_store_explicit(&q4_dot, allow && (q4_native_dot() || q4_dot_probe()), memory_order_relaxed);
}

// Row t: per block, amax as bits (NaN > Inf > finite), id = 127 / max, q = round-to-even
// via the 1.5*2^23 trick, as quantize_row; zeros past K.
static void q4_quantize_row(const void *ctx, int64_t t) {
    const q4_ctx *c = ctx;
    const float *x = c->x + t * c->ldx;
    uint8_t *q = c->qx + (size_t)t * c->ldq;
    const v128_t abs_mask = wasm_i32x4_splat(0x7fffffff);
    const v128_t magic = wasm_f32x4_splat(12582912.0f);
    for (int b = 0; b < c->nb; b++) {
        int k0 = b * WE_Q4_BLOCK;
        v128_t m = wasm_i32x4_splat(0);
        for (int k = k0; k < k0 + WE_Q4_BLOCK; k += 4)
            m = wasm_i32x4_max(m, wasm_v128_and(load4_tail(x, k, c->K), abs_mask));
        m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        uint32_t amax = (uint32_t)wasm_i32x4_extract_lane(m, 0);
        float fm;
        memcpy(&fm, &amax, 4);
        size_t at = (size_t)t * (size_t)c->nb + (size_t)b;
        if (amax >= 0x7f800000u || fm < 1e-30f) {
            memset(q + (size_t)k0 * (c->dot ? 1 : 2), 0, WE_Q4_BLOCK * (c->dot ? 1 : 2));
            c->sx[at] = amax >= 0x7f800000u ? NAN : 0.0f;
            c->corr[at] = 0;
            continue;
        }
        const v128_t id = wasm_f32x4_splat(127.0f / fm);
        v128_t sum = wasm_i32x4_splat(0);
        for (int k = k0; k < k0 + WE_Q4_BLOCK; k += 8) {
            v128_t q0 = wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(load4_tail(x, k, c->K), id), magic), magic);
            v128_t q1 = wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(load4_tail(x, k + 4, c->K), id), magic), magic);
            sum = wasm_i32x4_add(sum, wasm_i32x4_add(q0, q1));
            v128_t q16 = wasm_i16x8_narrow_i32x4(q0, q1);
            if (c->dot) wasm_v128_store64_lane(q + k, wasm_i8x16_narrow_i16x8(q16, q16), 0);
            else wasm_v128_store(q + (size_t)k * 2, q16);
        }
        sum = wasm_i32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 2, 3, 0, 1));
        sum = wasm_i32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 1, 0, 3, 2));
        c->sx[at] = fm / 127.0f;
        c->corr[at] = 8 * wasm_i32x4_extract_lane(sum, 0);
    }
}

// c (5, 8) int32 = rows x0..x4 (one block: 32 int16) . one block of a panel (8 groups of 4 k
// x 16 bytes), the nibbles as they are (q + 8). The groups' nibbles are regrouped into pairs
// of k (one shuffle) and widened, for i32x4.dot_i16x8_s as in the int8 kernel.
static WE_NOINLINE void kernel_q4_5x8(int32_t *c, const int16_t *x0, const int16_t *x1,
                                      const int16_t *x2, const int16_t *x3, const int16_t *x4,
                                      const uint8_t *wp) {
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
    v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    for (int k = 0; k < WE_Q4_BLOCK; k += 4) {
        v128_t v = wasm_v128_load(wp);
        wp += 16;
        // channels 0-3 (low nibbles) and 4-7 (high), each (c0 k0..3, c1 k0..3, ...) ->
        // (c0 k0 k1, c1 k0 k1, c2 .., c3 .. | c0 k2 k3, ...)
        v128_t lo = wasm_i8x16_shuffle(wasm_v128_and(v, wasm_i8x16_splat(0x0F)), v, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
        v128_t hi = wasm_i8x16_shuffle(wasm_u8x16_shr(v, 4), v, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
        v128_t w0a = wasm_u16x8_extend_low_u8x16(lo), w0b = wasm_u16x8_extend_high_u8x16(lo);
        v128_t w1a = wasm_u16x8_extend_low_u8x16(hi), w1b = wasm_u16x8_extend_high_u8x16(hi);
#define Q4_ROW(ca, cb, xr)                                                                      \
        do {                                                                                    \
            v128_t pa = wasm_v128_load32_splat(xr + k), pb = wasm_v128_load32_splat(xr + k + 2); \
            ca = wasm_i32x4_add(ca, wasm_i32x4_add(wasm_i32x4_dot_i16x8(pa, w0a), wasm_i32x4_dot_i16x8(pb, w0b))); \
            cb = wasm_i32x4_add(cb, wasm_i32x4_add(wasm_i32x4_dot_i16x8(pa, w1a), wasm_i32x4_dot_i16x8(pb, w1b))); \
        } while (0)
        Q4_ROW(c00, c01, x0);
        Q4_ROW(c10, c11, x1);
        Q4_ROW(c20, c21, x2);
        Q4_ROW(c30, c31, x3);
        Q4_ROW(c40, c41, x4);
#undef Q4_ROW
    }
    wasm_v128_store(c + 0, c00);  wasm_v128_store(c + 4, c01);
    wasm_v128_store(c + 8, c10);  wasm_v128_store(c + 12, c11);
    wasm_v128_store(c + 16, c20); wasm_v128_store(c + 20, c21);
    wasm_v128_store(c + 24, c30); wasm_v128_store(c + 28, c31);
    wasm_v128_store(c + 32, c40); wasm_v128_store(c + 36, c41);
}

static void gemm_q4_tiles(const void *ctx, int64_t p0, int64_t p1, int64_t t0, int64_t t1) {
    const q4_ctx *c = ctx;
    const size_t panel_bytes = (size_t)c->nb * (WE_Q4_BLOCK / 2) * NR;
    const size_t xb = c->dot ? WE_Q4_BLOCK : WE_Q4_BLOCK * sizeof(int16_t);   // a row's block
    const q4_dot_fn dotk = q4_native_dot() ? q4_native_dot() : we_q4_dot_kernel_5x8;
    int32_t tile[MR * NR];
    float acc[MR * NR];
    for (int64_t pi = p0; pi < p1; pi++) {
        int n0 = (int)pi * NR, nr = WE_MIN(NR, c->N - n0);
        for (int64_t t = t0; t < t1; t += MR) {
            int mr = (int)WE_MIN(MR, t1 - t);
            const uint8_t *x0 = c->qx + (size_t)t * c->ldq;
            const uint8_t *x1 = mr > 1 ? x0 + c->ldq : x0;
            const uint8_t *x2 = mr > 2 ? x1 + c->ldq : x1;
            const uint8_t *x3 = mr > 3 ? x2 + c->ldq : x2;
            const uint8_t *x4 = mr > 4 ? x3 + c->ldq : x3;
            memset(acc, 0, sizeof acc);
            for (int b = 0; b < c->nb; b++) {
                const uint8_t *wp = c->wp + (size_t)pi * panel_bytes + (size_t)b * (WE_Q4_BLOCK / 2) * NR;
                size_t o = (size_t)b * xb;
                if (c->dot) {
                    dotk(tile, (const int8_t *)(x0 + o), (const int8_t *)(x1 + o), (const int8_t *)(x2 + o),
                         (const int8_t *)(x3 + o), (const int8_t *)(x4 + o), wp);
                } else {
                    kernel_q4_5x8(tile, (const int16_t *)(const void *)(x0 + o), (const int16_t *)(const void *)(x1 + o),
                                  (const int16_t *)(const void *)(x2 + o), (const int16_t *)(const void *)(x3 + o),
                                  (const int16_t *)(const void *)(x4 + o), wp);
                }
                const float *ws = c->ws + ((size_t)pi * (size_t)c->nb + (size_t)b) * NR;
                v128_t w0 = wasm_v128_load(ws), w1 = wasm_v128_load(ws + 4);
                for (int i = 0; i < mr; i++) {
                    size_t at = (size_t)(t + i) * (size_t)c->nb + (size_t)b;
                    v128_t s = wasm_v128_load32_splat(c->sx + at), corr = wasm_v128_load32_splat(c->corr + at);
                    v128_t v0 = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_v128_load(tile + i * NR), corr));
                    v128_t v1 = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_v128_load(tile + i * NR + 4), corr));
                    v0 = wasm_f32x4_add(wasm_v128_load(acc + i * NR), wasm_f32x4_mul(v0, wasm_f32x4_mul(s, w0)));
                    v1 = wasm_f32x4_add(wasm_v128_load(acc + i * NR + 4), wasm_f32x4_mul(v1, wasm_f32x4_mul(s, w1)));
                    wasm_v128_store(acc + i * NR, v0);
                    wasm_v128_store(acc + i * NR + 4, v1);
                }
            }
            epilogue_f32(c->y + t * c->ldy + n0, c->ldy, acc, NR, mr, nr, c->b ? c->b + n0 : NULL, c->act, false);
        }
    }
}

void we_gemm_q4(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                const uint8_t *Wp, const float *ws, const float *b, int T, int K, int N,
                we_act act, void *scratch) {
    if (T <= 0 || N <= 0) return;
    int nb = we_q4_blocks(K);
    bool dot = we_gemm_q4_uses_dot();
    uint8_t *at = scratch_begin(scratch);
    float *sx = scratch_take(&at, (size_t)T * (size_t)nb * sizeof(float));        // (T, nb)
    int32_t *corr = scratch_take(&at, (size_t)T * (size_t)nb * sizeof(int32_t));  // (T, nb)
    q4_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .wp = Wp, .ws = ws, .b = b,
                .T = T, .K = K, .N = N, .nb = nb, .act = act, .dot = dot, .sx = sx, .corr = corr,
                .qx = at, .ldq = (size_t)nb * WE_Q4_BLOCK * (dot ? 1 : sizeof(int16_t))};  // (T, ldq)
    c.q.T = T;
    c.q.N = N;
    c.q.mr = MR;             // the 5x8 tiles of the SIMD128 kernels, one panel per item
    c.q.np = 1;
    qgemm r = {.q = &c.q, .ctx = &c, .quantize_row = q4_quantize_row, .tiles = gemm_q4_tiles};
    qgemm_run(pool, &r);
}
