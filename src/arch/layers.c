// layers.c - the layers the forward passes are written in (forward.h).
#include <math.h>
#include <string.h>

#include "../core/f16.h"
#include "../core/pool.h"
#include "forward.h"

// f16 weights are kept row-major and converted when used, NB output channels at a time,
// into the packed f32 layout the GEMM reads: the scratch holds one such block.
#define F16_BLOCK 64

size_t we_linear_scratch_bytes(const we_weight *w, int T) {
    if (w->type == WE_WTYPE_Q8) return we_gemm_q8_scratch_bytes(T, (int)w->K);
    if (w->type == WE_WTYPE_Q4) return we_gemm_q4_scratch_bytes(T, (int)w->K);
    if (w->type == WE_WTYPE_F16) return we_gemm_f32_packed_floats(F16_BLOCK, (int)w->K) * sizeof(float);
    return 0;
}

void we_linear(wembed_pool *pool, float *y, int ldy, const float *x, int ldx, const we_weight *w,
               const we_weight *b, int T, we_act act, void *scratch) {
    int N = (int)w->N, K = (int)w->K;
    const float *bias = we_vec(b);
    switch (w->type) {
    case WE_WTYPE_F32:
        if (w->layout == WE_LAYOUT_PACKED) we_gemm_f32(pool, y, ldy, x, ldx, w->data, bias, T, K, N, act);
        else we_gemm_f32_ref(pool, y, ldy, x, ldx, w->data, bias, T, K, N, act);
        return;
    case WE_WTYPE_Q8:
        if (w->layout == WE_LAYOUT_PACKED) we_gemm_q8(pool, y, ldy, x, ldx, w->data, w->scale, bias, T, K, N, act, scratch);
        else we_gemm_q8_ref(pool, y, ldy, x, ldx, w->data, w->scale, bias, T, K, N, act, scratch);
        return;
    case WE_WTYPE_Q4:
        if (w->layout == WE_LAYOUT_PACKED) we_gemm_q4(pool, y, ldy, x, ldx, w->data, w->scale, bias, T, K, N, act, scratch);
        else we_gemm_q4_ref(pool, y, ldy, x, ldx, w->data, w->scale, bias, T, K, N, act, scratch);
        return;
    case WE_WTYPE_F16: {
        float *wp = scratch;
        const uint16_t *h = w->data;
        for (int n0 = 0; n0 < N; n0 += F16_BLOCK) {
            int nb = WE_MIN(F16_BLOCK, N - n0);
            memset(wp, 0, we_gemm_f32_packed_floats(nb, K) * sizeof(float));
            for (int n = 0; n < nb; n++)
                for (int k = 0; k < K; k++)
                    wp[we_gemm_f32_packed_index(n, k, nb, K)] = we_f16_to_f32(h[(size_t)(n0 + n) * K + k]);
            we_gemm_f32(pool, y + n0, ldy, x, ldx, wp, bias ? bias + n0 : NULL, T, K, nb, act);
        }
        return;
    }
    }
}

void we_gather_rows(float *out, const we_weight *t, const int32_t *ids, int n, bool add) {
    int64_t E = t->K;
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t)i * E;
        int64_t r = ids[i];
        switch (t->type) {
        case WE_WTYPE_F32: {
            const float *row = (const float *)t->data + r * E;
            if (add) for (int64_t e = 0; e < E; e++) o[e] += row[e];
            else memcpy(o, row, sizeof(float) * (size_t)E);
            break;
        }
        case WE_WTYPE_F16: {
            const uint16_t *row = (const uint16_t *)t->data + r * E;
            for (int64_t e = 0; e < E; e++) o[e] = (add ? o[e] : 0.0f) + we_f16_to_f32(row[e]);
            break;
        }
        case WE_WTYPE_Q8: {
            const int8_t *row = (const int8_t *)t->data + r * E;
            float s = t->scale[r];
            for (int64_t e = 0; e < E; e++) o[e] = (add ? o[e] : 0.0f) + (float)row[e] * s;
            break;
        }
        case WE_WTYPE_Q4:   // tables are row-major: we_gemm_q4_nibble's rows layout
            for (int64_t e = 0; e < E; e++) o[e] = (add ? o[e] : 0.0f) + we_weight_get(t, r, e);
            break;
        }
    }
}

int32_t we_longest_seq(const we_tokens *tk) {
    int32_t t_max = 0;
    for (int s = 0; s < tk->n_seq; s++) t_max = WE_MAX(t_max, we_seq_len(tk, s));
    return t_max;
}

// -----------------------------------------------------------------------------------------
// Planner

#define CARVE_ALIGN 64
#define CARVE_BIG ((size_t)1 << 20)

void *we_carve_bytes(we_carve *c, size_t n) {
    if (n >= CARVE_BIG && n <= SIZE_MAX / 2) {
        // The rounds ask for the same sizes in the same order, so the i-th big buffer of the
        // second round is the i-th of the first.
        if (!c->base && c->n_big < WE_CARVE_BLOCKS) {
            c->big_size[c->n_big++] = n;
            return NULL;
        }
        if (c->base && c->i_big < c->n_big) {
            if (n != c->big_size[c->i_big]) c->overflow = true;   // not the same rounds
            return c->overflow ? NULL : c->big[c->i_big++];
        }
    }
    size_t at = c->off;
    if (n > SIZE_MAX / 2 || at > SIZE_MAX / 2 - n) c->overflow = true;
    else c->off = (at + n + CARVE_ALIGN - 1) & ~(size_t)(CARVE_ALIGN - 1);
    return c->base && !c->overflow ? c->base + at : NULL;
}

float *we_carve_floats(we_carve *c, size_t n) {
    if (n > SIZE_MAX / 8) {
        c->overflow = true;
        return NULL;
    }
    return we_carve_bytes(c, n * sizeof(float));
}

bool we_carve_alloc(we_carve *c) {
    if (c->overflow) return false;
    // we_malloc aligns blocks of 4 KB and more to 64 bytes; the carved offsets keep it.
    c->base = we_malloc(WE_MAX(c->off, (size_t)4096));
    bool ok = c->base != NULL;
    for (int i = 0; i < c->n_big; i++) ok = ok && (c->big[i] = we_malloc(c->big_size[i])) != NULL;
    c->off = 0;
    c->i_big = 0;
    if (!ok) we_carve_free(c);
    return ok;
}

void we_carve_free(we_carve *c) {
    we_free(c->base);
    for (int i = 0; i < c->n_big; i++) we_free(c->big[i]);
    memset(c, 0, sizeof *c);
}

size_t we_linear_scratch_max(int T, const we_weight *const *ws, int n) {
    size_t mx = 0;
    for (int i = 0; i < n; i++)
        if (ws[i] && ws[i]->data) mx = WE_MAX(mx, we_linear_scratch_bytes(ws[i], T));
    return mx;
}

// -----------------------------------------------------------------------------------------
// Norms, residuals, gated MLPs

void we_apply_norm(wembed_pool *pool, const we_norm *nk, float *y, int ldy, const float *x, int ldx,
                   const we_weight *g, const we_weight *b, int T, int E) {
    switch (nk->kind) {
    case WE_NORM_LAYER: we_layer_norm(pool, y, ldy, x, ldx, we_vec(g), we_vec(b), T, E, nk->eps); return;
    case WE_NORM_RMS: we_rms_norm(pool, y, ldy, x, ldx, we_vec(g), 0.0f, T, E, nk->eps); return;
    case WE_NORM_RMS_1P: we_rms_norm(pool, y, ldy, x, ldx, we_vec(g), 1.0f, T, E, nk->eps); return;
    }
}

void we_residual(float *x, const float *h, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] += h[i];
}

void we_add_norm(wembed_pool *pool, const we_norm *nk, float *x, const float *h, const we_weight *g,
                 const we_weight *b, int T, int E) {
    we_residual(x, h, (size_t)T * E);
    we_apply_norm(pool, nk, x, E, x, E, g, b, T, E);
}

void we_glu(wembed_pool *pool, float *h, int ldh, const float *gate, int ldg, const float *up, int ldu,
            int T, int F, we_act act) {
    for (int t = 0; t < T; t++) {
        float *ht = h + (size_t)t * ldh;
        const float *ut = up + (size_t)t * ldu;
        // act(gate) into h first when h does not alias up; else through a second pass.
        if (act == WE_ACT_NONE) {   // the activation already applied (fused into the gate's GEMM)
            const float *gt = gate + (size_t)t * ldg;
            for (int f = 0; f < F; f++) ht[f] = ut[f] * gt[f];
        } else if (ht != ut) {
            we_act_apply(NULL, ht, gate + (size_t)t * ldg, (size_t)F, act);
            for (int f = 0; f < F; f++) ht[f] *= ut[f];
        } else {
            const float *gt = gate + (size_t)t * ldg;
            float tmp[256];
            for (int f0 = 0; f0 < F; f0 += 256) {
                int nb = WE_MIN(256, F - f0);
                we_act_apply(NULL, tmp, gt + f0, (size_t)nb, act);
                for (int f = 0; f < nb; f++) ht[f0 + f] = tmp[f] * ut[f0 + f];
            }
        }
    }
    (void)pool;
}

// -----------------------------------------------------------------------------------------
// Self-attention projections, the post-LN layer's tail

void we_qkv_linear(wembed_pool *pool, const we_qkv *w, float *qkv, const float *x, int T, int E, void *scratch) {
    we_linear(pool, qkv, 3 * E, x, E, &w->q_w, &w->q_b, T, WE_ACT_NONE, scratch);
    we_linear(pool, qkv + E, 3 * E, x, E, &w->k_w, &w->k_b, T, WE_ACT_NONE, scratch);
    we_linear(pool, qkv + 2 * E, 3 * E, x, E, &w->v_w, &w->v_b, T, WE_ACT_NONE, scratch);
}

void we_postln_ffn(wembed_pool *pool, const we_postln_tail *L, const we_ffn *f, const we_norm *ln, float *x, float *h,
                   float *ff, int T, int E, void *lscratch) {
    const int F = f->F, G = f->glu ? 2 * F : F;         // ff (T, G): plain (T, F); gated [gate | up] or [up | gate]
    const int up_at = f->glu ? F - f->gate_at : 0;
    if (!f->glu) {
        we_linear(pool, ff, G, x, E, &L->up_w, &L->up_b, T, f->act, lscratch);
    } else {
        if (f->split) {
            we_linear(pool, ff + f->gate_at, G, x, E, &L->gate_w, NULL, T, WE_ACT_NONE, lscratch);
            we_linear(pool, ff + up_at, G, x, E, &L->up_w, NULL, T, WE_ACT_NONE, lscratch);
        } else {
            we_linear(pool, ff, G, x, E, &L->gu_w, NULL, T, WE_ACT_NONE, lscratch);
        }
        // act(gate) * up into the up half, where the down projection reads it.
        we_glu(pool, ff + up_at, G, ff + f->gate_at, G, ff + up_at, G, T, F, f->act);
    }
    we_linear(pool, h, E, ff + up_at, G, &L->down_w, &L->down_b, T, WE_ACT_NONE, lscratch);
    we_add_norm(pool, ln, x, h, &L->out_ln_w, &L->out_ln_b, T, E);
}

void we_postln_tail_apply(wembed_pool *pool, const we_postln_tail *L, const we_ffn *f, const we_norm *ln, float *x,
                          const float *a, float *h, float *ff, int T, int E, void *lscratch) {
    we_linear(pool, h, E, a, E, &L->o_w, &L->o_b, T, WE_ACT_NONE, lscratch);
    we_add_norm(pool, ln, x, h, &L->attn_ln_w, &L->attn_ln_b, T, E);
    we_postln_ffn(pool, L, f, ln, x, h, ff, T, E, lscratch);
}

// -----------------------------------------------------------------------------------------
// RoPE

void we_rope_resolve(const we_rope_cfg *c, const we_rope_opts *o, int L, double *base, double *pos_scale) {
    we_rope_mode mode = o && o->mode != WE_ROPE_MODEL ? o->mode : c->mode;
    double f = o && o->factor > 0 ? o->factor : c->factor;
    *base = c->base;
    *pos_scale = 1.0;
    switch (mode) {
    case WE_ROPE_DYNAMIC_NTK:
        *base = we_rope_ntk_base(c->base, c->rot, f, L, c->max_trained);
        break;
    case WE_ROPE_NTK:
        if (f > 1) *base = c->base * pow(f, (double)c->rot / (c->rot - 2));
        break;
    case WE_ROPE_LINEAR:
        if (f > 0) *pos_scale = 1.0 / f;
        break;
    case WE_ROPE_NTK_SCALED_FREQ:
        if (f > 0) {
            *base = c->base * f;
            *pos_scale = pow(f, -2.0 / c->rot);
        }
        break;
    default:
        break;
    }
}

void we_rope_fill_at(float *cos_t, float *sin_t, const we_tokens *tk, const we_rope_cfg *c, const we_rope_opts *o,
                     int div, double add) {
    const int half = c->rot / 2;
    for (int s = 0; s < tk->n_seq; s++) {
        int t0 = tk->seq_off[s], T = we_seq_len(tk, s);
        double base, pscale;
        we_rope_resolve(c, o, tk->rope_len ? tk->rope_len[s] : T, &base, &pscale);
        // Angles in double from each row's own position, as the float64 references; an angle
        // of 8000 radians in float would be off by 5e-4.
        for (int i = 0; i < half; i++) {
            double inv_freq = 1.0 / pow(base, (2.0 * i) / c->rot);
            for (int t = t0; t < t0 + T; t++) {
                double ang = ((double)(tk->pos[t] / div) + add) * pscale * inv_freq;   // pos >= 0: floor
                cos_t[(size_t)t * half + i] = (float)cos(ang);
                sin_t[(size_t)t * half + i] = (float)sin(ang);
            }
        }
    }
}

void we_rope_fill(float *cos_t, float *sin_t, const we_tokens *tk, const we_rope_cfg *c, const we_rope_opts *o) {
    we_rope_fill_at(cos_t, sin_t, tk, c, o, 1, 0);
}

// The SelfExtend group of a sequence of T tokens: the call's, or with WE_SE_GROUP_AUTO the
// smallest G >= 2 under which the farthest grouped pair, (T - 1) // G + W - W // G apart, stays
// within the trained length L (cfg.max_trained); 1 (no change) for T <= L. W < L is the
// caller's (embed.c gives W = L / 2), so a G is found by G = T at the latest.
static int se_group_for(const we_rope_pass *rp, int T) {
    const int W = rp->se_window, L = rp->cfg.max_trained;
    if (rp->se_group != WE_SE_GROUP_AUTO) return rp->se_group;
    if (T <= L) return 1;
    int G = 2;
    while (G < T && (T - 1) / G + W - W / G > L - 1) G++;
    return G;
}

void we_rope_carve(we_carve *c, we_rope_pass *rp, const we_tokens *tk, const we_rope_cfg *cfg, const we_fwd_opts *o,
                   we_attn_params *ap, const we_rope_pass *share) {
    const int n = tk->n_tok, half = cfg->rot / 2;
    memset(rp, 0, sizeof *rp);
    rp->cfg = *cfg;
    rp->n_tok = n;
    rp->n_head = ap->n_head;
    rp->n_kv_head = ap->n_kv_head;
    rp->head_dim = ap->head_dim;
    // SelfExtend only where it changes something: a sequence past the window, groups of 2 or more,
    // and an attention that sees some pair at least the window apart (a sliding window of w keys
    // each side sees distances up to w only: below W, every pair it sees is a neighbour).
    if (o && o->se_window > 0 && (o->se_group > 1 || o->se_group == WE_SE_GROUP_AUTO) && we_longest_seq(tk) > o->se_window &&
        !(ap->window > 0 && ap->window < o->se_window)) {
        rp->se_group = o->se_group;
        rp->se_window = o->se_window;
    }
    rp->cos_t = we_carve_floats(c, (size_t)n * half);
    rp->sin_t = we_carve_floats(c, (size_t)n * half);
    if (rp->se_window) {
        // Causal attention has no keys after the query: no tables or copies for them.
        rp->causal = ap->causal;
        float **tabs[] = { &rp->cos_a, &rp->sin_a, &rp->cos_g, &rp->sin_g, &rp->cos_b, &rp->sin_b };
        for (size_t i = 0; i < WE_ARRAY_LEN(tabs) - (rp->causal ? 2 : 0); i++) *tabs[i] = we_carve_floats(c, (size_t)n * half);
        if (share && share->qa && (share->qb || rp->causal)) {
            rp->qa = share->qa, rp->qb = rp->causal ? NULL : share->qb, rp->kg = share->kg;
        } else {
            rp->qa = we_carve_floats(c, (size_t)n * ap->n_head * ap->head_dim);
            if (!rp->causal) rp->qb = we_carve_floats(c, (size_t)n * ap->n_head * ap->head_dim);
            rp->kg = we_carve_floats(c, (size_t)n * ap->n_kv_head * ap->head_dim);
        }
    }
    // The attention reads the copies (rows of the whole batch; we_attend moves them per sequence).
    ap->se_window = rp->se_window;
    ap->qa = rp->qa, ap->qb = rp->qb, ap->kg = rp->kg;
    ap->ldqa = ap->ldqb = ap->n_head * ap->head_dim;
    ap->ldkg = ap->n_kv_head * ap->head_dim;
    if (!c->base || c->overflow) return;                      // the counting round
    const we_rope_opts *ro = o ? &o->rope : NULL;
    we_rope_fill(rp->cos_t, rp->sin_t, tk, cfg, ro);
    for (int s = 0; rp->se_window && s < tk->n_seq; s++) {
        // LongEmbed's grouped positions: shift = W - W // G (floor; LongLM's W - W / G was a bug),
        // with the group of each sequence (one for all but WE_SE_GROUP_AUTO's).
        we_tokens one = *tk;
        one.n_seq = 1;
        one.seq_off = tk->seq_off + s;
        one.rope_len = tk->rope_len ? tk->rope_len + s : NULL;
        const int G = se_group_for(rp, we_seq_len(tk, s)), shift = rp->se_window - rp->se_window / G;
        we_rope_fill_at(rp->cos_a, rp->sin_a, &one, cfg, ro, G, shift);
        if (!rp->causal) we_rope_fill_at(rp->cos_b, rp->sin_b, &one, cfg, ro, G, -shift);
        we_rope_fill_at(rp->cos_g, rp->sin_g, &one, cfg, ro, G, 0);
    }
}

void we_rope_rotate(wembed_pool *pool, const we_rope_pass *rp, float *q, int ldq, float *k, int ldk) {
    const int n = rp->n_tok, H = rp->n_head, Hkv = rp->n_kv_head, d = rp->head_dim, rot = rp->cfg.rot;
    if (rp->se_window) {
        // The copies from the unrotated q and k: a key at or before the query pairs q at
        // i/G + shift with k at j/G; a key after it, q at i/G with k at j/G + shift, which is the
        // same logit as q at i/G - shift with k at j/G (RoPE logits depend on the difference only).
        const size_t E = (size_t)H * d, Ekv = (size_t)Hkv * d;
        for (int t = 0; t < n; t++) {
            memcpy(rp->qa + t * E, q + (size_t)t * ldq, sizeof(float) * E);
            if (rp->qb) memcpy(rp->qb + t * E, q + (size_t)t * ldq, sizeof(float) * E);
            memcpy(rp->kg + t * Ekv, k + (size_t)t * ldk, sizeof(float) * Ekv);
        }
        we_rope_apply(pool, rp->qa, (int)E, n, H, d, rot, rp->cos_a, rp->sin_a);
        if (rp->qb) we_rope_apply(pool, rp->qb, (int)E, n, H, d, rot, rp->cos_b, rp->sin_b);
        we_rope_apply(pool, rp->kg, (int)Ekv, n, Hkv, d, rot, rp->cos_g, rp->sin_g);
    }
    we_rope_apply(pool, q, ldq, n, H, d, rot, rp->cos_t, rp->sin_t);
    we_rope_apply(pool, k, ldk, n, Hkv, d, rot, rp->cos_t, rp->sin_t);
}

// -----------------------------------------------------------------------------------------
// The decoder layer (Qwen3, Gemma 3)

// The MLP runs over the tokens in runs of this many rows: its gate and up activations, the
// widest (F = 3-4 E), then take 256 rows instead of n (50 MB less for Qwen3-0.6B at 2048
// tokens). Every op of the MLP is row by row (the int8 activations are quantized per row), so
// the results are the same bits, and 256 rows keep the GEMMs' panels full. Tests lower it so
// that the fixtures' short inputs run in several runs and a ragged last one.
int we_decoder_mlp_rows = 256;

void we_decoder_carve(we_carve *c, we_decoder_bufs *b, const we_decoder_layer *L0, const we_decoder_shape *s, int n) {
    const we_weight *lin[] = { &L0->q_w, &L0->k_w, &L0->o_w, &L0->gate_w, &L0->down_w };
    const int nm = WE_MIN(n, we_decoder_mlp_rows);
    b->h = we_carve_floats(c, (size_t)n * s->E);
    b->q = we_carve_floats(c, (size_t)n * s->H * s->d);
    b->k = we_carve_floats(c, (size_t)n * s->KV * s->d);
    b->v = we_carve_floats(c, (size_t)n * s->KV * s->d);
    b->a = we_carve_floats(c, (size_t)n * s->H * s->d);
    b->g = we_carve_floats(c, (size_t)nm * s->F);
    b->u = we_carve_floats(c, (size_t)nm * s->F);
    b->lscratch = we_carve_bytes(c, we_linear_scratch_max(n, lin, 5));
}

void we_decoder_block(wembed_pool *pool, const we_decoder_layer *L, const we_decoder_shape *s, const we_norm *rms, we_act act,
                      float *x, const we_tokens *tk, const we_rope_pass *rp, const we_attn_params *ap, const we_decoder_bufs *b) {
    const int n = tk->n_tok, E = s->E, F = s->F, d = s->d, QD = s->H * d, KD = s->KV * d;
    float *h = b->h, *q = b->q, *k = b->k, *v = b->v, *a = b->a, *g = b->g, *u = b->u;
    void *lscratch = b->lscratch;
    // Attention block (pre-norm): x += post_attn_norm(o_proj(attn(rope(q_norm(q)), rope(k_norm(k)), v))).
    we_apply_norm(pool, rms, h, E, x, E, &L->attn_norm, NULL, n, E);
    we_linear(pool, q, QD, h, E, &L->q_w, NULL, n, WE_ACT_NONE, lscratch);
    we_linear(pool, k, KD, h, E, &L->k_w, NULL, n, WE_ACT_NONE, lscratch);
    we_linear(pool, v, KD, h, E, &L->v_w, NULL, n, WE_ACT_NONE, lscratch);
    we_apply_norm(pool, rms, q, d, q, d, &L->q_norm, NULL, n * s->H, d);    // per head: (n H) rows of d
    we_apply_norm(pool, rms, k, d, k, d, &L->k_norm, NULL, n * s->KV, d);
    we_rope_rotate(pool, rp, q, QD, k, KD);
    we_attend(pool, tk, a, QD, q, QD, k, KD, v, KD, ap, NULL, NULL, b->attn);
    we_linear(pool, h, E, a, QD, &L->o_w, NULL, n, WE_ACT_NONE, lscratch);
    if (L->post_attn_norm.data) we_apply_norm(pool, rms, h, E, h, E, &L->post_attn_norm, NULL, n, E);
    we_residual(x, h, (size_t)n * E);
    // MLP block (pre-norm): x += post_ffn_norm(down(act(gate(h)) * up(h))), in runs of
    // we_decoder_mlp_rows rows (a run's down output overwrites the rows of h it has just read).
    we_apply_norm(pool, rms, h, E, x, E, &L->ffn_norm, NULL, n, E);
    const int rows = we_decoder_mlp_rows;
    for (int r = 0; r < n; r += rows) {
        const int m = WE_MIN(rows, n - r);
        float *hr = h + (size_t)r * E;
        we_linear(pool, g, F, hr, E, &L->gate_w, NULL, m, WE_ACT_NONE, lscratch);
        we_linear(pool, u, F, hr, E, &L->up_w, NULL, m, WE_ACT_NONE, lscratch);
        we_glu(pool, u, F, g, F, u, F, m, F, act);
        we_linear(pool, hr, E, u, F, &L->down_w, NULL, m, WE_ACT_NONE, lscratch);
    }
    if (L->post_ffn_norm.data) we_apply_norm(pool, rms, h, E, h, E, &L->post_ffn_norm, NULL, n, E);
    we_residual(x, h, (size_t)n * E);
}

// -----------------------------------------------------------------------------------------
// Vision transformers

we_tokens we_image_tokens(int32_t *seq_off, int B, int T) {
    for (int b = 0; b <= B; b++) seq_off[b] = b * T;
    return (we_tokens){ B, B * T, seq_off, NULL, NULL, NULL, NULL, NULL };
}

void we_image_patches(float *patches, const float *pixels, int B, int C, int S, int P) {
    const int G = S / P;
    const size_t KP = (size_t)C * P * P;
    for (int b = 0; b < B; b++)
        for (int gy = 0; gy < G; gy++)
            for (int gx = 0; gx < G; gx++) {
                float *row = patches + (((size_t)b * G + gy) * G + gx) * KP;
                for (int ch = 0; ch < C; ch++)
                    for (int ky = 0; ky < P; ky++)
                        memcpy(row + ((size_t)ch * P + ky) * P,
                               pixels + (((size_t)b * C + ch) * S + (size_t)gy * P + ky) * S + (size_t)gx * P,
                               sizeof(float) * (size_t)P);
            }
}

void we_rope2d_tables(float *cos_t, float *sin_t, int gh, int gw, int ref_h, int ref_w, int head_dim, double temperature) {
    const int nb = head_dim / 4, half = head_dim / 2;
    for (int r = 0; r < gh; r++)
        for (int c = 0; c < gw; c++) {
            // build_fourier_pos_embed: t = arange(s) / s * ref, float32 like its bands
            // (freq_bands: 1 / temperature ** (arange(nb) / nb)).
            float t[2] = { (float)r, (float)c };
            if (ref_h > 0) t[0] = t[0] / (float)gh * (float)ref_h;
            if (ref_w > 0) t[1] = t[1] / (float)gw * (float)ref_w;
            float *ct = cos_t + ((size_t)r * gw + c) * half, *st = sin_t + ((size_t)r * gw + c) * half;
            for (int axis = 0; axis < 2; axis++)
                for (int j = 0; j < nb; j++) {
                    float band = 1.0f / (float)pow(temperature, (double)((float)j / (float)nb));
                    float ang = t[axis] * band;
                    ct[axis * nb + j] = (float)cos((double)ang);
                    st[axis * nb + j] = (float)sin((double)ang);
                }
        }
}

void we_rope_apply_interleaved(float *x, int ldx, int T, int n_head, int head_dim, const float *cos_t, const float *sin_t) {
    const int half = head_dim / 2;
    for (int t = 0; t < T; t++) {
        const float *ct = cos_t + (size_t)t * half, *st = sin_t + (size_t)t * half;
        for (int h = 0; h < n_head; h++) {
            float *xh = x + (size_t)t * ldx + (size_t)h * head_dim;
            for (int i = 0; i < half; i++) {
                float x0 = xh[2 * i], x1 = xh[2 * i + 1];
                xh[2 * i] = x0 * ct[i] - x1 * st[i];
                xh[2 * i + 1] = x1 * ct[i] + x0 * st[i];
            }
        }
    }
}

void we_attend_probe(float *o, int ldo, const float *q, int ldq, const we_tokens *tk, const float *k, int ldk,
                     const float *v, int ldv, int n_head, int head_dim, float scale, float *scratch) {
    for (int s = 0; s < tk->n_seq; s++) {
        const int t0 = tk->seq_off[s], T = we_seq_len(tk, s);
        for (int h = 0; h < n_head; h++) {
            const float *qh = q + (size_t)s * ldq + (size_t)h * head_dim;
            float *oh = o + (size_t)s * ldo + (size_t)h * head_dim;
            float mx = -INFINITY;
            for (int j = 0; j < T; j++) {
                const float *kj = k + (size_t)(t0 + j) * ldk + (size_t)h * head_dim;
                double dot = 0;
                for (int e = 0; e < head_dim; e++) dot += (double)qh[e] * kj[e];
                scratch[j] = (float)(dot * scale);
                mx = fmaxf(mx, scratch[j]);
            }
            double sum = 0;
            for (int j = 0; j < T; j++) sum += scratch[j] = expf(scratch[j] - mx);
            for (int e = 0; e < head_dim; e++) {
                double acc = 0;
                for (int j = 0; j < T; j++) acc += (double)scratch[j] * v[(size_t)(t0 + j) * ldv + (size_t)h * head_dim + e];
                oh[e] = T > 0 ? (float)(acc / sum) : 0.0f;
            }
        }
    }
}

// -----------------------------------------------------------------------------------------
// Attention over a batch

size_t we_attend_scratch_floats(const we_tokens *tk, const we_attn_params *p, bool bias, int n_threads) {
    we_attn_params pt = *p;
    pt.T = we_longest_seq(tk);
    size_t n = we_attention_scratch_floats_for(&pt, n_threads);
    if (bias && pt.T > 0) n += (size_t)p->n_head * (2 * (size_t)pt.T - 1);
    return n;
}

void we_attend(wembed_pool *pool, const we_tokens *tk, float *o, int ldo, const float *q, int ldq,
               const float *k, int ldk, const float *v, int ldv, const we_attn_params *p,
               we_bias_fn bias_fn, const void *bias_ctx, float *scratch) {
    we_attn_params ps = *p;
    float *bias = NULL;
    if (bias_fn) {
        int t_max = we_longest_seq(tk);
        bias = scratch;
        scratch += t_max > 0 ? (size_t)p->n_head * (2 * (size_t)t_max - 1) : 0;
    }
    // TempScale (Length_Collapse): softmax((s scale + bias + mask) / tau) as s (scale / tau) +
    // bias / tau, each quotient in double rounded once (masked keys weigh 0 either way).
    const double tau = tk->opts && tk->opts->attn_temp > 0 ? tk->opts->attn_temp : 1.0;
    if (tau != 1.0) ps.scale = (float)(p->scale / tau);
    for (int s = 0; s < tk->n_seq; s++) {
        size_t t0 = (size_t)tk->seq_off[s];
        ps.T = we_seq_len(tk, s);
        if (ps.T == 0) continue;
        if (bias_fn) {
            bias_fn(bias_ctx, bias, ps.T);
            if (tau != 1.0)
                for (size_t i = 0; i < (size_t)p->n_head * (2 * (size_t)ps.T - 1); i++) bias[i] = (float)(bias[i] / tau);
        }
        ps.bias = bias;
        if (we_attn_self_extends(p, ps.T)) {   // the sequence's rows of SelfExtend's copies
            ps.qa = p->qa + t0 * p->ldqa;
            ps.qb = p->qb ? p->qb + t0 * p->ldqb : NULL;
            ps.kg = p->kg + t0 * p->ldkg;
        }
        we_attention(pool, o + t0 * ldo, ldo, q + t0 * ldq, ldq, k + t0 * ldk, ldk, v + t0 * ldv, ldv, &ps, scratch);
    }
}

wembed_status we_check_tokens(const we_tokens *tk, const we_weight *tok_emb, const we_weight *type_emb,
                              int64_t n_pos, we_err *err) {
    for (int32_t i = 0; i < tk->n_tok; i++) {
        if (tk->ids[i] < 0 || tk->ids[i] >= tok_emb->N)
            return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "token id %d is outside the vocabulary (0..%lld)",
                             tk->ids[i], (long long)tok_emb->N - 1);
        if (tk->type_ids && type_emb && (tk->type_ids[i] < 0 || tk->type_ids[i] >= type_emb->N))
            return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "token type id %d is outside 0..%lld",
                             tk->type_ids[i], (long long)type_emb->N - 1);
        if (tk->pos[i] < 0)
            return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "negative position %d", tk->pos[i]);
        if (n_pos > 0 && tk->pos[i] >= n_pos)
            return we_errorf(err, WEMBED_STATUS_TOO_LONG, "position %d is past the model's %lld positions",
                             tk->pos[i], (long long)n_pos);
    }
    return WEMBED_STATUS_OK;
}

void we_embed_word_type(float *x, const we_tokens *tk, const we_weight *tok_emb, const we_weight *type_emb) {
    we_gather_rows(x, tok_emb, tk->ids, tk->n_tok, false);
    if (!type_emb || !type_emb->data) return;
    if (tk->type_ids) {
        we_gather_rows(x, type_emb, tk->type_ids, tk->n_tok, true);
        return;
    }
    const int32_t zero = 0;
    for (int i = 0; i < tk->n_tok; i++) we_gather_rows(x + (size_t)i * tok_emb->K, type_emb, &zero, 1, true);
}

// -----------------------------------------------------------------------------------------
// The pre-LN encoder layer and the text tower (CLIP, SigLIP)

bool we_preln_plan(we_carve *c, wembed_pool *pool, const we_preln_layer *L, const we_tokens *tk, int E, int F,
                   const we_attn_params *ap, size_t extra, float **buf, float **attn, void **lscratch, float **more) {
    const int n = tk->n_tok;
    const we_weight *lin[] = { &L->qkv.q_w, &L->fc1_w, &L->fc2_w };
    for (;;) {
        *buf = we_carve_floats(c, (size_t)n * (5 * (size_t)E + F));   // h | qkv (3E) | a | ff (F)
        *attn = we_carve_floats(c, we_attend_scratch_floats(tk, ap, false, we_pool_threads(pool)));
        *lscratch = we_carve_bytes(c, we_linear_scratch_max(n, lin, 3));
        *more = we_carve_floats(c, extra);
        if (c->base) return true;
        if (!we_carve_alloc(c)) return false;
    }
}

void we_preln_block(wembed_pool *pool, const we_preln_layer *L, float *x, const we_tokens *tk, int E, int F,
                    const we_norm *ln, we_act act, const we_attn_params *ap, float *buf, float *attn, void *lscratch) {
    const int n = tk->n_tok;
    float *h = buf, *qkv = h + (size_t)n * E, *a = qkv + (size_t)n * 3 * E, *ff = a + (size_t)n * E;
    we_apply_norm(pool, ln, h, E, x, E, &L->ln1_w, &L->ln1_b, n, E);
    we_qkv_linear(pool, &L->qkv, qkv, h, n, E, lscratch);
    we_attend(pool, tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, ap, NULL, NULL, attn);
    we_linear(pool, h, E, a, E, &L->o_w, &L->o_b, n, WE_ACT_NONE, lscratch);
    we_residual(x, h, (size_t)n * E);
    we_apply_norm(pool, ln, h, E, x, E, &L->ln2_w, &L->ln2_b, n, E);
    we_linear(pool, ff, F, h, E, &L->fc1_w, &L->fc1_b, n, act, lscratch);
    we_linear(pool, h, E, ff, F, &L->fc2_w, &L->fc2_b, n, WE_ACT_NONE, lscratch);
    we_residual(x, h, (size_t)n * E);
}

wembed_status we_preln_text_forward(wembed_pool *pool, const we_preln_text *w, const we_tokens *tk, int n_layer, int E,
                                    int n_head, int F, const we_norm *ln, we_act act, bool causal, float *x, we_err *err) {
    const int n = tk->n_tok, d = E / n_head;
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, NULL, w->pos_emb.N, err);
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;
    const we_attn_params ap = { .n_head = n_head, .n_kv_head = n_head, .head_dim = d, .scale = 1.0f / sqrtf((float)d), .causal = causal };
    we_carve c = {0};
    float *buf, *attn, *unused;
    void *lscratch;
    if (!we_preln_plan(&c, pool, &w->layers[0], tk, E, F, &ap, 0, &buf, &attn, &lscratch, &unused))
        return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    we_gather_rows(x, &w->tok_emb, tk->ids, n, false);
    we_gather_rows(x, &w->pos_emb, tk->pos, n, true);
    for (int il = 0; il < n_layer; il++) we_preln_block(pool, &w->layers[il], x, tk, E, F, ln, act, &ap, buf, attn, lscratch);
    we_apply_norm(pool, ln, x, E, x, E, &w->final_ln_w, &w->final_ln_b, n, E);
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}
