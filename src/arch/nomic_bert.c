// nomic_bert.c - the NomicBERT encoder forward pass (nomic-embed-text-v1 / v1.5), as nomic's
// modeling_hf_nomic_bert.py computes it: no position embeddings but rotary ones (half-split,
// base rotary_emb_base, dynamic NTK past max_trained_positions), a fused Wqkv, post-LN blocks
// and a gated MLP.
//
//   x = LN(E_word[id] + E_type[type])                                       (n_tok, E)
//   per layer:  qkv = x Wqkv^T (+ b); rotate q and k by position            (n_tok, 3E)
//               x = LN1(x + attn(q, k, v) Wo^T)
//               x = LN2(x + (x W11^T * act(x W12^T)) W2^T)     act = silu (swiglu)
//
// Dynamic NTK: the reference rescales the base for a batch by its padded length. Here each
// sequence brings its own length L (tk->rope_len, the caller's choice: its own length by
// default, the padded one to reproduce the reference's batches).
#include <math.h>
#include <string.h>

#include "../ops/attention.h"
#include "forward.h"

// The RoPE base and position scale for a sequence of length L under the chosen mode.
static void rope_params(const we_nomic_hparams *hp, const we_rope_opts *o, int L, double *base, double *pos_scale) {
    double f = o && o->factor > 0 ? o->factor : hp->rope_scaling;
    we_rope_mode mode = o ? o->mode : WE_ROPE_MODEL;
    if (mode == WE_ROPE_MODEL) mode = hp->rope_scaling > 0 ? WE_ROPE_DYNAMIC_NTK : WE_ROPE_NONE;
    *base = hp->rope_base;
    *pos_scale = 1.0;
    switch (mode) {
    case WE_ROPE_DYNAMIC_NTK:
        *base = we_rope_ntk_base(hp->rope_base, hp->rope_dim, f, L, hp->max_trained_pos);
        break;
    case WE_ROPE_NTK:
        if (f > 1) *base = hp->rope_base * pow(f, (double)hp->rope_dim / (hp->rope_dim - 2));
        break;
    case WE_ROPE_LINEAR:
        if (f > 0) *pos_scale = 1.0 / f;
        break;
    default:
        break;
    }
}

wembed_status we_nomic_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                               const we_rope_opts *rope, float *x, we_err *err) {
    const we_nomic_hparams *hp = &m->hp.nomic;
    const we_nomic_weights *w = &m->w.nomic;
    const int E = hp->n_embd, F = hp->n_ff, H = hp->n_head, d = E / H, n = tk->n_tok, rot = hp->rope_dim;
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, &w->type_emb, 0, err);   // RoPE: any position
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    // Activations: qkv (n, 3E), a (n, E), h (n, E), g and u (n, F) for the MLP, the RoPE tables
    // of the longest sequence (2 x t_max x rot/2), attention scratch, Linear scratch.
    int nth = we_pool_threads(pool), t_max = 0;
    for (int s = 0; s < tk->n_seq; s++) t_max = WE_MAX(t_max, tk->seq_off[s + 1] - tk->seq_off[s]);
    size_t n_attn = we_attention_scratch_floats(t_max, H, d, nth);
    size_t lin = 0;
    if (hp->n_layer > 0) {
        const we_nomic_layer *L = &w->layers[0];
        lin = WE_MAX(we_linear_scratch_bytes(&L->qkv_w, n), WE_MAX(we_linear_scratch_bytes(&L->fc11_w, n), we_linear_scratch_bytes(&L->fc2_w, n)));
    }
    size_t n_rope = 0;
    for (int s = 0; s < tk->n_seq; s++) n_rope += (size_t)(tk->seq_off[s + 1] - tk->seq_off[s]) * (rot / 2) * 2;
    size_t floats = (size_t)n * (5 * (size_t)E + 2 * (size_t)F) + n_rope + n_attn;
    float *buf = floats < SIZE_MAX / 8 ? we_malloc(floats * sizeof(float) + lin + 64) : NULL;
    if (!buf) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    float *qkv = buf, *a = qkv + (size_t)n * 3 * E, *h = a + (size_t)n * E, *u = h + (size_t)n * E, *g = u + (size_t)n * F;
    float *tables = g + (size_t)n * F, *attn = tables + n_rope;
    void *lscratch = attn + n_attn;

    // RoPE tables per sequence (positions from tk->pos, which are 0..T-1 for a plain text),
    // the same for every layer.
    for (int s = 0, off = 0; s < tk->n_seq; s++) {
        int t0 = tk->seq_off[s], T = tk->seq_off[s + 1] - t0;
        int L = tk->rope_len ? tk->rope_len[s] : T;
        double base, pscale;
        rope_params(hp, rope, L, &base, &pscale);
        float *ct = tables + off, *st = ct + (size_t)T * (rot / 2);
        // Angles in double from each row's own position (consecutive for a plain text), as
        // the float64 reference; an angle of 8000 radians in float would be off by 5e-4.
        for (int i = 0; i < rot / 2; i++) {
            double inv_freq = 1.0 / pow(base, (2.0 * i) / rot);
            for (int t = 0; t < T; t++) {
                double ang = (double)tk->pos[t0 + t] * pscale * inv_freq;
                ct[(size_t)t * (rot / 2) + i] = (float)cos(ang);
                st[(size_t)t * (rot / 2) + i] = (float)sin(ang);
            }
        }
        off += T * (rot / 2) * 2;
    }

    we_embed_word_type(x, tk, &w->tok_emb, &w->type_emb);
    we_layer_norm(pool, x, E, x, E, we_vec(&w->emb_ln_w), we_vec(&w->emb_ln_b), n, E, hp->eps);

    const float scale = 1.0f / sqrtf((float)d);
    for (int il = 0; il < hp->n_layer; il++) {
        const we_nomic_layer *L = &w->layers[il];
        we_linear(pool, qkv, 3 * E, x, E, &L->qkv_w, &L->qkv_b, n, WE_ACT_NONE, lscratch);
        for (int s = 0, off = 0; s < tk->n_seq; s++) {
            int t0 = tk->seq_off[s], T = tk->seq_off[s + 1] - t0;
            float *q = qkv + (size_t)t0 * 3 * E;
            const float *ct = tables + off, *st = ct + (size_t)T * (rot / 2);
            we_rope_apply(pool, q, 3 * E, T, H, d, rot, ct, st);
            we_rope_apply(pool, q + E, 3 * E, T, H, d, rot, ct, st);
            we_attn_params ap = { .T = T, .n_head = H, .n_kv_head = H, .head_dim = d, .scale = scale };
            we_attention(pool, a + (size_t)t0 * E, E, q, 3 * E, q + E, 3 * E, q + 2 * E, 3 * E, &ap, attn);
            off += T * (rot / 2) * 2;
        }
        we_linear(pool, h, E, a, E, &L->o_w, &L->o_b, n, WE_ACT_NONE, lscratch);
        we_add_layer_norm(pool, x, h, &L->norm1_w, &L->norm1_b, n, E, hp->eps);
        // Gated MLP: u = x W11^T, g = act(x W12^T), u *= g, h = u W2^T
        we_linear(pool, u, F, x, E, &L->fc11_w, &L->fc11_b, n, WE_ACT_NONE, lscratch);
        we_linear(pool, g, F, x, E, &L->fc12_w, &L->fc12_b, n, hp->gate_act, lscratch);
        for (size_t i = 0; i < (size_t)n * F; i++) u[i] *= g[i];
        we_linear(pool, h, E, u, F, &L->fc2_w, &L->fc2_b, n, WE_ACT_NONE, lscratch);
        we_add_layer_norm(pool, x, h, &L->norm2_w, &L->norm2_b, n, E, hp->eps);
    }
    we_free(buf);
    return WEMBED_STATUS_OK;
}
