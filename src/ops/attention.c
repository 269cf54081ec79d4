// attention.c - tiled attention with an online softmax, and rotary embeddings (attention.h).
//
// Per key/value head, K is packed once as the "weights" of a GEMM (N = T keys, K = head_dim)
// and V in blocks of kb keys as the weights of a (N = head_dim, K = kb) GEMM; the query heads
// of a group (grouped-query attention) share them. The work is split into tasks of BR query
// rows of one head; a task scales its query rows once (Q' = Q * scale) and walks the key
// blocks its rows can see:
//     S  (BR, kb) = Q' K_block^T (+ the bias segment)  (GEMM, then the mask per row)
//     m' = max(m, rowmax S);  P = exp(S - m');  l = l e^(m - m') + rowsum P
//     acc = acc e^(m - m') + P V_block                 (the GEMM adds into acc)
// and writes acc / l. Memory: the packed K and V (2 T E_kv floats) plus a few tiles per
// thread. Tasks go to whichever thread is free (we_queue); each writes its own output rows.
//
// SelfExtend: a score tile takes, row by row, three contiguous runs of keys from three products:
// j <= i - W from Qa' Kg^T, |i - j| < W from Q' K^T, j >= i + W from Qb' Kg^T (W the neighbour
// window; Kg packed like K). A tile computes only the products some pair of it needs: tiles
// inside the band |i - j| < W the ordinary one alone, tiles wholly below or above it one grouped
// product, and only the tiles the band's edges cross two or three (then merged into S by row
// runs). So for T >> W the work stays that of plain attention plus a few edge tiles, and the
// memory O(T): the second packed K and two more tiles per thread.
//
// Masks (causal, sliding window) are per row one contiguous range of keys [lo, hi), so inside
// a key block a row sees one contiguous run of it: the row ops work on that run and the rest
// of the row gets weight exactly 0. Blocks outside what any row of the task sees are skipped,
// so with a window the work grows as T x window, not T^2.
//
// Sizes: the two GEMMs dominate. BR = 40 fills the GEMM's 5-row tiles (32 left a 2-row tile),
// BC = 256 gives the P V GEMM a longer inner loop and the softmax bookkeeping between the
// GEMMs fewer rescales, and the row loops are vector code (the measurements:
// bench/results/design-notes.md).
#include "attention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/pool.h"
#include "ops.h"
#include "arch/native_gemm.h"
#if defined(WEMBED_SIMD)
#include "arch/wasm/vmath.h"
#endif

#define BR 40      // query rows per task (a multiple of the GEMM's 5-row tile)
#define BC 256     // keys per block (a multiple of WE_GEMM_NR, so K blocks start on a panel)
#define KB_MIN 32  // the smallest key block a narrow window gets (see key_block)

static size_t kp_floats(int T, int d) { return we_gemm_f32_packed_floats(T, d); }
static size_t vblock_floats(int d, int kb) { return we_gemm_f32_packed_floats(d, kb); }
static int n_blocks(int T, int kb) { return (T + kb - 1) / kb; }
// Per thread: n_s score tiles (BR, BC) and n_s scaled query tiles (BR, d) (n_s = 3 with
// SelfExtend: ordinary, below, above), the accumulator (BR, d), the running max and sum (BR).
static size_t tile_floats(int d, bool se) {
    size_t n_s = se ? 3 : 1;
    return n_s * BR * BC + (n_s + 1) * (size_t)BR * d + 2 * BR;
}

// Sized for BC-key blocks; smaller blocks (powers of two dividing BC) need no more, since
// ceil(T / kb) * kb <= ceil(T / BC) * BC.
static size_t scratch_floats(int T, int n_kv_head, int head_dim, bool se, int n_threads) {
    if (T <= 0) return 0;
    return (size_t)n_kv_head * ((se ? 2 : 1) * kp_floats(T, head_dim) + (size_t)n_blocks(T, BC) * vblock_floats(head_dim, BC)) +
           (size_t)WE_MAX(n_threads, 1) * tile_floats(head_dim, se);
}

size_t we_attention_scratch_floats(int T, int n_kv_head, int head_dim, int n_threads) {
    return scratch_floats(T, n_kv_head, head_dim, false, n_threads);
}

size_t we_attention_scratch_floats_for(const we_attn_params *p, int n_threads) {
    return scratch_floats(p->T, p->n_kv_head, p->head_dim, we_attn_self_extends(p, p->T), n_threads);
}

// Keys per block. Without a window, BC. With one, a task's BR rows see BR + 2 window keys
// (BR + window with causal), and whole BC-key blocks around them would compute up to BC keys
// per row for a window of a few: the block shrinks to the power of two (KB_MIN to BC) at or
// above half the window, so that what is computed stays within a small factor of what is
// seen, while each block keeps enough keys for the P V GEMM's inner loop and the per-block
// bookkeeping (a rescale per row) stays a small share of the work.
static int key_block(int window) {
    if (window <= 0) return BC;
    int kb = KB_MIN;
    while (kb < BC && 2 * kb < window) kb *= 2;
    return kb;
}

// -----------------------------------------------------------------------------------------

typedef struct attn_ctx {
    float *o;
    const float *q, *k, *v;
    int ldo, ldq, ldk, ldv, T, H, Hkv, group, d;
    float scale;
    bool causal;
    int window;                  // > 0, < T - 1; 0: none
    int kb;                      // keys per block (key_block)
    const float *bias;           // (H, 2T - 1) or NULL
    int sew;                     // SelfExtend window, 0 < sew < T; 0: off
    const float *qa, *qb, *kg;   // SelfExtend's grouped q (below, above) and k
    int ldqa, ldqb, ldkg;
    float *kp, *vp, *tiles;      // packed K per kv head, packed V blocks per kv head, thread tiles
    float *kgp;                  // SelfExtend: packed Kg per kv head
    const struct row_ops *rows;  // the row loops: below, or the native ones of the f32 kernel
    we_queue tasks;              // (head, block of BR query rows), whoever is free takes the next
} attn_ctx;

// Keys query i sees: [key_lo(i), key_hi(i)).
static inline int key_lo(const attn_ctx *c, int i) { return c->window ? WE_MAX(0, i - c->window) : 0; }
static inline int key_hi(const attn_ctx *c, int i) {
    if (c->causal) return i + 1;
    return c->window ? WE_MIN(c->T, i + c->window + 1) : c->T;
}

// Rows j0 .. j0+bc-1 of kv head g of k (ldk) into its packed panels kp (the GEMM's weights
// layout for N = T keys, K = d: key j, dim e at we_gemm_f32_packed_index(j, e, T, d) =
// ((j / NR) d + e) NR + j % NR), whole panels (j0 and kb are multiples of WE_GEMM_NR).
static void pack_k(float *kp, const float *k, int ldk, int g, int j0, int bc, int d) {
    for (int p0 = j0; p0 < j0 + bc; p0 += WE_GEMM_NR) {
        float *dst = kp + (size_t)(p0 / WE_GEMM_NR) * d * WE_GEMM_NR;       // (d, NR)
        int nr = WE_MIN(WE_GEMM_NR, j0 + bc - p0);
        if (nr < WE_GEMM_NR) memset(dst, 0, sizeof(float) * (size_t)d * WE_GEMM_NR);   // padding: 0
        for (int jj = 0; jj < nr; jj++) {
            const float *kr = k + (size_t)(p0 + jj) * ldk + (size_t)g * d;
            for (int e = 0; e < d; e++) dst[(size_t)e * WE_GEMM_NR + jj] = kr[e];
        }
    }
}

// One item per (kv head, key block): the block's rows of K (and Kg) and its packed V.
static void pack_task(void *p, int ith, int nth) {
    attn_ctx *c = p;
    int T = c->T, d = c->d, kb = c->kb, nb = n_blocks(T, kb);
    int64_t t0, t1;
    we_split((int64_t)c->Hkv * nb, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        int g = (int)(t / nb), b = (int)(t % nb), j0 = b * kb, bc = WE_MIN(kb, T - j0);
        pack_k(c->kp + (size_t)g * kp_floats(T, d), c->k, c->ldk, g, j0, bc, d);
        if (c->sew) pack_k(c->kgp + (size_t)g * kp_floats(T, d), c->kg, c->ldkg, g, j0, bc, d);
        // V block (N = d, K = bc): value jj, dim e at we_gemm_f32_packed_index(e, jj, d, bc) =
        // ((e / NR) bc + jj) NR + e % NR, so each run of NR dims of a value row is contiguous
        float *vp = c->vp + ((size_t)g * nb + b) * vblock_floats(d, kb);
        if (d % WE_GEMM_NR) memset(vp, 0, vblock_floats(d, kb) * sizeof(float));   // padding: 0
        for (int jj = 0; jj < bc; jj++) {
            const float *vr = c->v + (size_t)(j0 + jj) * c->ldv + (size_t)g * d;
            for (int e0 = 0; e0 < d; e0 += WE_GEMM_NR)
                memcpy(vp + ((size_t)(e0 / WE_GEMM_NR) * bc + jj) * WE_GEMM_NR, vr + e0,
                       sizeof(float) * (size_t)WE_MIN(WE_GEMM_NR, d - e0));
        }
    }
}

// Row helpers, vector code where the build has it (the tails and the scalar build in C).

// y[0..n) = x[0..n) * a
static void mul_row(float *y, const float *x, int n, float a) {
    int i = 0;
#if defined(WEMBED_SIMD)
    v128_t va = wasm_f32x4_splat(a);
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(x + i), va));
#endif
    for (; i < n; i++) y[i] = x[i] * a;
}

// y[0..n) += x[0..n)
static void add_row(float *y, const float *x, int n) {
    int i = 0;
#if defined(WEMBED_SIMD)
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_v128_load(x + i)));
#endif
    for (; i < n; i++) y[i] += x[i];
}

// max of p[0..n), n >= 1 (a NaN may or may not win: the exp below turns it into NaN anyway
// only where it is kept, as the scalar reference of the old loop did)
static float max_row(const float *p, int n) {
    float mx = -INFINITY;
    int i = 0;
#if defined(WEMBED_SIMD)
    if (n >= 4) {
        v128_t vm = wasm_v128_load(p);
        for (i = 4; i + 4 <= n; i += 4) vm = wasm_f32x4_pmax(vm, wasm_v128_load(p + i));
        mx = we_v_hmax(vm);
    }
#endif
    for (; i < n; i++) mx = p[i] > mx ? p[i] : mx;
    return mx;
}

// p[0..n) = exp(p - m), flushed to 0 below 2^-64; returns their sum. m is finite.
// Why the flush: the largest weight of a row is exp(0) = 1, so even T = 2^30 weights below
// 2^-64 change no sum or output by as much as an ulp. But left in, they make subnormals: as
// weights (below 2^-126) and as products of the P V GEMM (a weight of 1e-30 times a value of
// 1e-9), and every multiply that produces or meets one takes a microcode assist on x86 (V8
// keeps IEEE subnormals). Sharply peaked rows are full of them (the cost without the flush:
// bench/results/design-notes.md).
#define EXP_FLUSH (-44.3614195558365f)   // ln(2^-64)

static float exp_sub_sum(float *p, int n, float m) {
    float sum = 0;
    int i = 0;
#if defined(WEMBED_SIMD)
    v128_t vm = wasm_f32x4_splat(m), vs = wasm_f32x4_splat(0.0f), lo = wasm_f32x4_splat(EXP_FLUSH);
    for (; i + 4 <= n; i += 4) {
        v128_t x = wasm_f32x4_sub(wasm_v128_load(p + i), vm);   // exp(pmax(x, lo)) stays normal
        v128_t e = wasm_v128_andnot(we_v_exp_neg(wasm_f32x4_pmax(x, lo)), wasm_f32x4_lt(x, lo));   // NaN stays
        wasm_v128_store(p + i, e);
        vs = wasm_f32x4_add(vs, e);
    }
    sum = we_v_hsum(vs);
#endif
    for (; i < n; i++) {
        float x = p[i] - m;
        p[i] = x < EXP_FLUSH ? 0.0f : expf(x);
        sum += p[i];
    }
    return sum;
}

// The row loops attn_task runs: the ones above, or natively those of the f32 kernel's
// instruction set (native_gemm.h we_native_vec: the same exps, the sum in wider lanes).
typedef struct row_ops {
    void (*mul_row)(float *y, const float *x, int n, float a);
    void (*add_row)(float *y, const float *x, int n);
    float (*max_row)(const float *p, int n);
    float (*exp_sub_sum)(float *p, int n, float m);
} row_ops;

static const row_ops *row_ops_of(row_ops *native) {
    static const row_ops here = {mul_row, add_row, max_row, exp_sub_sum};
#if defined(WE_NATIVE_GEMM)
    const we_native_vec *nv = we_native_vec_of(we_gemm_f32_kernel());
    if (nv) {
        *native = (row_ops){nv->mul_row, nv->add_row, nv->max_row, nv->exp_sub_sum};
        return native;
    }
#endif
    (void)native;
    return &here;
}

// SelfExtend's scores of the tile rows [i0, i0 + br) x keys [j0, j0 + bc) into S (ldS BC):
// per row, keys j <= i - W from qsa . Kg, |i - j| < W from qs . K, j >= i + W from qsb . Kg
// (attention.h). Only the products some pair of the tile needs are computed: the first into S
// itself, any other into Sa / Sb and copied into S by row runs.
static void se_scores(const attn_ctx *c, float *S, float *Sa, float *Sb, const float *qs, const float *qsa,
                      const float *qsb, const float *kp, const float *kgp, int i0, int br, int j0, int bc) {
    const int W = c->sew, d = c->d, i1 = i0 + br - 1, j1 = j0 + bc - 1;
    const size_t panel = (size_t)(j0 / WE_GEMM_NR) * d * WE_GEMM_NR;
    int gap = j0 > i1 ? j0 - i1 : i0 > j1 ? i0 - j1 : 0;               // min |i - j| over the tile
    bool need_o = gap < W;
    bool need_a = j0 <= i1 - W;                                         // some key at or below i - W
    bool need_b = !c->causal && j1 >= i0 + W;                           // some key at or above i + W
    if (!need_a && !need_b) need_o = true;                              // (causal: keys no row sees)
    float *Da = need_o ? Sa : S, *Db = need_o || need_a ? Sb : S;
    if (need_o) we_gemm_f32(NULL, S, BC, qs, d, kp + panel, NULL, br, d, bc, WE_ACT_NONE);
    if (need_a) we_gemm_f32(NULL, Da, BC, qsa, d, kgp + panel, NULL, br, d, bc, WE_ACT_NONE);
    if (need_b) we_gemm_f32(NULL, Db, BC, qsb, d, kgp + panel, NULL, br, d, bc, WE_ACT_NONE);
    for (int r = 0; r < br; r++) {
        int i = i0 + r;
        size_t at = (size_t)r * BC;
        if (need_a && Da != S) {
            int n = WE_MIN(bc, i - W - j0 + 1);                         // columns [0, n): j <= i - W
            if (n > 0) memcpy(S + at, Da + at, sizeof(float) * (size_t)n);
        }
        if (need_b && Db != S) {
            int c0 = WE_MAX(0, i + W - j0);                             // columns [c0, bc): j >= i + W
            if (c0 < bc) memcpy(S + at + c0, Db + at + c0, sizeof(float) * (size_t)(bc - c0));
        }
    }
}

static void attn_task(void *p, int ith, int nth) {
    attn_ctx *c = p;
    int T = c->T, d = c->d, kb = c->kb, nb = n_blocks(T, kb), nqb = (T + BR - 1) / BR;
    const bool se = c->sew > 0;
    const row_ops *ro = c->rows;
    const size_t n_s = se ? 3 : 1;
    float *S = c->tiles + (size_t)ith * tile_floats(d, se);              // (BR, BC), kb columns used
    float *Sa = S + (size_t)BR * BC, *Sb = Sa + (size_t)BR * BC;         // SelfExtend: (BR, BC) each
    float *qs = S + n_s * BR * BC;                                       // (BR, d)   Q' = Q * scale
    float *qsa = qs + (size_t)BR * d, *qsb = qsa + (size_t)BR * d;       // SelfExtend: (BR, d) each
    float *acc = qs + n_s * BR * d;                                      // (BR, d)
    float *m = acc + (size_t)BR * d, *l = m + BR;                        // (BR) each
    (void)nth;
    int64_t task;
    while (we_queue_take(&c->tasks, &task)) {
        int h = (int)(task / nqb), i0 = (int)(task % nqb) * BR, br = WE_MIN(BR, T - i0);
        int g = h / c->group;                                            // the kv head
        const float *kp = c->kp + (size_t)g * kp_floats(T, d);
        const float *kgp = se ? c->kgp + (size_t)g * kp_floats(T, d) : NULL;
        // bias[h][j - i + T - 1]: the row of head h, centred on j = i
        const float *bias = c->bias ? c->bias + (size_t)h * (2 * (size_t)T - 1) + (T - 1) : NULL;
        for (int r = 0; r < br; r++) {
            ro->mul_row(qs + (size_t)r * d, c->q + (size_t)(i0 + r) * c->ldq + (size_t)h * d, d, c->scale);
            if (se) {
                ro->mul_row(qsa + (size_t)r * d, c->qa + (size_t)(i0 + r) * c->ldqa + (size_t)h * d, d, c->scale);
                if (c->qb) ro->mul_row(qsb + (size_t)r * d, c->qb + (size_t)(i0 + r) * c->ldqb + (size_t)h * d, d, c->scale);
            }
            m[r] = -INFINITY;
            l[r] = 0;
        }
        memset(acc, 0, sizeof(float) * (size_t)br * d);
        // key_lo and key_hi grow with i: the task's rows see keys [key_lo(i0), key_hi(last))
        int bbeg = key_lo(c, i0) / kb, bend = (key_hi(c, i0 + br - 1) - 1) / kb + 1;
        for (int b = bbeg; b < bend; b++) {
            int j0 = b * kb, bc = WE_MIN(kb, T - j0);
            if (se) se_scores(c, S, Sa, Sb, qs, qsa, qsb, kp, kgp, i0, br, j0, bc);
            else we_gemm_f32(NULL, S, BC, qs, d, kp + (size_t)(j0 / WE_GEMM_NR) * d * WE_GEMM_NR,
                             NULL, br, d, bc, WE_ACT_NONE);
            for (int r = 0; r < br; r++) {
                float *s = S + (size_t)r * BC;
                int i = i0 + r;
                int lo = WE_MAX(0, key_lo(c, i) - j0), hi = WE_MIN(bc, key_hi(c, i) - j0);
                int n = hi - lo;                                          // keys of the block i sees
                if (n > 0 && bias) ro->add_row(s + lo, bias + (j0 + lo - i), n);
                float mx = n > 0 ? ro->max_row(s + lo, n) : -INFINITY;
                float m_new = mx > m[r] ? mx : m[r];
                if (n <= 0 || m_new == -INFINITY) {
                    memset(s, 0, sizeof(float) * (size_t)bc);         // nothing seen yet: weights 0
                    continue;
                }
                memset(s, 0, sizeof(float) * (size_t)lo);             // masked keys: weight exactly 0
                memset(s + hi, 0, sizeof(float) * (size_t)(bc - hi));
                float sum = ro->exp_sub_sum(s + lo, n, m_new);
                if (m[r] != -INFINITY && m_new != m[r]) {             // rescale what came before
                    float alpha = m[r] - m_new >= EXP_FLUSH ? expf(m[r] - m_new) : 0.0f;
                    l[r] *= alpha;
                    ro->mul_row(acc + (size_t)r * d, acc + (size_t)r * d, d, alpha);
                }
                l[r] += sum;
                m[r] = m_new;
            }
            const float *vp = c->vp + ((size_t)g * nb + b) * vblock_floats(d, kb);
            we_gemm_f32_add(NULL, acc, d, S, BC, vp, br, bc, d);
        }
        for (int r = 0; r < br; r++)
            ro->mul_row(c->o + (size_t)(i0 + r) * c->ldo + (size_t)h * d, acc + (size_t)r * d, d, 1.0f / l[r]);
    }
}

void we_attention(wembed_pool *pool, float *o, int ldo, const float *q, int ldq, const float *k, int ldk,
                  const float *v, int ldv, const we_attn_params *p, float *scratch) {
    int T = p->T, H = p->n_head, Hkv = p->n_kv_head, d = p->head_dim;
    if (T <= 0 || H <= 0) return;
    if (NEVER(Hkv <= 0 || H % Hkv != 0)) return;                  // the loader checks the heads
    // A window of T - 1 or more masks nothing: the same computation as none, bit for bit.
    int window = p->window > 0 && p->window < T - 1 ? p->window : 0;
    // SelfExtend with a window of T or more: every pair is a neighbour, the plain computation.
    int sew = we_attn_self_extends(p, T) ? p->se_window : 0;
    if (NEVER(sew && (!p->qa || (!p->qb && !p->causal) || !p->kg))) sew = 0;   // causal: no keys after, no qb
    attn_ctx c = { o, q, k, v, ldo, ldq, ldk, ldv, T, H, Hkv, H / Hkv, d, p->scale, p->causal, window,
                   key_block(window), p->bias, sew, p->qa, p->qb, p->kg, p->ldqa, p->ldqb, p->ldkg,
                   NULL, NULL, NULL, NULL, NULL, {0} };
    row_ops native;
    c.rows = row_ops_of(&native);
    we_queue_init(&c.tasks, (int64_t)H * ((T + BR - 1) / BR));
    c.kp = scratch;
    c.vp = c.kp + (size_t)Hkv * kp_floats(T, d);
    c.tiles = c.vp + (size_t)Hkv * n_blocks(T, c.kb) * vblock_floats(d, c.kb);
    if (sew) {
        c.kgp = c.tiles;
        c.tiles = c.kgp + (size_t)Hkv * kp_floats(T, d);
    }
    we_pool_run(pool, pack_task, &c);
    we_pool_run(pool, attn_task, &c);
}

// -----------------------------------------------------------------------------------------
// Reference

typedef struct ref_ctx {
    float *o;
    const float *q, *k, *v;
    int ldo, ldq, ldk, ldv;
    const we_attn_params *p;
    double *scratch;
} ref_ctx;

static void ref_task(void *arg, int ith, int nth) {
    ref_ctx *c = arg;
    const we_attn_params *p = c->p;
    const int T = p->T, d = p->head_dim, group = p->n_head / p->n_kv_head;
    const int w = p->window < T ? p->window : 0;       // T or more hides nothing (and i + w + 1 fits)
    const int sew = we_attn_self_extends(p, T) && ALWAYS(p->qa && (p->qb || p->causal) && p->kg) ? p->se_window : 0;
    double *sc = c->scratch + (size_t)ith * T;
    int64_t r0, r1;
    we_split((int64_t)p->n_head * T, 1, ith, nth, &r0, &r1);
    for (int64_t task = r0; task < r1; task++) {
        int h = (int)(task / T), i = (int)(task % T), g = h / group;
        // keys i sees: [lo, hi)
        int lo = w > 0 ? WE_MAX(0, i - w) : 0;
        int hi = p->causal ? i + 1 : w > 0 ? WE_MIN(T, i + w + 1) : T;
        const float *qi = c->q + (size_t)i * c->ldq + (size_t)h * d;
        double mx = -INFINITY;
        for (int j = lo; j < hi; j++) {
            const float *qq = qi, *kj = c->k + (size_t)j * c->ldk + (size_t)g * d;
            if (sew && abs(i - j) >= sew) {                // SelfExtend: grouped positions
                qq = j <= i ? p->qa + (size_t)i * p->ldqa + (size_t)h * d : p->qb + (size_t)i * p->ldqb + (size_t)h * d;
                kj = p->kg + (size_t)j * p->ldkg + (size_t)g * d;
            }
            double s = 0;
            for (int e = 0; e < d; e++) s += (double)qq[e] * kj[e];
            s *= p->scale;
            if (p->bias) s += p->bias[(size_t)h * (2 * (size_t)T - 1) + (size_t)(j - i + T - 1)];
            sc[j - lo] = s;
            if (s > mx) mx = s;
        }
        double sum = 0;
        for (int j = lo; j < hi; j++) sum += sc[j - lo] = exp(sc[j - lo] - mx);
        float *oi = c->o + (size_t)i * c->ldo + (size_t)h * d;
        for (int e = 0; e < d; e++) {
            double acc = 0;
            for (int j = lo; j < hi; j++) acc += sc[j - lo] * c->v[(size_t)j * c->ldv + (size_t)g * d + e];
            oi[e] = (float)(acc / sum);
        }
    }
}

void we_attention_ref(wembed_pool *pool, float *o, int ldo, const float *q, int ldq, const float *k, int ldk,
                      const float *v, int ldv, const we_attn_params *p, double *scratch) {
    if (p->T <= 0 || p->n_head <= 0) return;
    if (NEVER(p->n_kv_head <= 0 || p->n_head % p->n_kv_head != 0)) return;
    ref_ctx c = { o, q, k, v, ldo, ldq, ldk, ldv, p, scratch };
    we_pool_run(pool, ref_task, &c);
}

// -----------------------------------------------------------------------------------------
// Rotary embeddings

void we_rope_tables(float *cos_t, float *sin_t, int T, int pos0, int rot, double base) {
    int half = rot / 2;
    for (int i = 0; i < half; i++) {
        double inv_freq = 1.0 / pow(base, (2.0 * i) / rot);
        for (int t = 0; t < T; t++) {
            double a = (double)(pos0 + t) * inv_freq;
            cos_t[(size_t)t * half + i] = (float)cos(a);
            sin_t[(size_t)t * half + i] = (float)sin(a);
        }
    }
}

double we_rope_ntk_base(double base, int rot, double factor, int L, int Lmax) {
    if (factor <= 0 || L <= Lmax) return base;
    return base * pow(factor * L / Lmax - (factor - 1), (double)rot / (rot - 2));
}

typedef struct rope_ctx {
    float *x;
    int ldx, T, H, d, rot;
    const float *cos_t, *sin_t;
} rope_ctx;

static void rope_task(void *p, int ith, int nth) {
    rope_ctx *c = p;
    int half = c->rot / 2;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const float *ct = c->cos_t + (size_t)t * half, *st = c->sin_t + (size_t)t * half;
        for (int h = 0; h < c->H; h++) {
            float *x = c->x + (size_t)t * c->ldx + (size_t)h * c->d;
            for (int i = 0; i < half; i++) {
                // In double, rounded once: x1 cos - x2 sin as the float64 reference has it.
                double x1 = x[i], x2 = x[i + half];
                x[i] = (float)(x1 * ct[i] - x2 * st[i]);
                x[i + half] = (float)(x2 * ct[i] + x1 * st[i]);
            }
        }
    }
}

void we_rope_apply(wembed_pool *pool, float *x, int ldx, int T, int n_head, int head_dim, int rot,
                   const float *cos_t, const float *sin_t) {
    rope_ctx c = { x, ldx, T, n_head, head_dim, rot, cos_t, sin_t };
    we_pool_run(pool, rope_task, &c);
}
