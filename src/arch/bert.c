// bert.c - the BERT encoder forward pass (bert, roberta, xlm-roberta), as HF's
// modeling_bert.py computes it: embeddings (word + token type + position) and LayerNorm, then
// per layer post-LN self-attention and a GELU MLP.
//
//   x = LN(E_word[id] + E_type[type] + E_pos[pos])                          (n_tok, E)
//   per layer:  q, k, v = x Wq^T + bq, ...                                  (n_tok, 3E)
//               x = LN(x + attn(q, k, v) Wo^T + bo)
//               x = LN(x + gelu(x Wup^T + bup) Wdown^T + bdown)
//
// Not here: pooling (the embedding API pools the last hidden states), the pooler head.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../ops/attention.h"
#include "forward.h"

wembed_status we_bert_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                              float *x, we_err *err) {
    const we_bert_hparams *hp = &m->hp.bert;
    const we_bert_weights *w = &m->w.bert;
    const int E = hp->n_embd, F = hp->n_ff, H = hp->n_head, d = E / H, n = tk->n_tok;
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, &w->type_emb, w->pos_emb.N, err);
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    // Activations, in one block: qkv (n, 3E), a (n, E), h (n, E), ff (n, F), attention
    // scratch (for the longest sequence), and the Linear scratch (q8 / f16 weights).
    int nth = we_pool_threads(pool), t_max = 0;
    for (int s = 0; s < tk->n_seq; s++) t_max = WE_MAX(t_max, tk->seq_off[s + 1] - tk->seq_off[s]);
    size_t n_attn = we_attention_scratch_floats(t_max, H, d, nth);
    size_t lin = 0;
    if (hp->n_layer > 0) {
        const we_bert_layer *L = &w->layers[0];
        lin = WE_MAX(we_linear_scratch_bytes(&L->q_w, n), WE_MAX(we_linear_scratch_bytes(&L->up_w, n), we_linear_scratch_bytes(&L->down_w, n)));
    }
    size_t floats = (size_t)n * (5 * (size_t)E + F) + n_attn;
    float *buf = floats < SIZE_MAX / 8 ? we_malloc(floats * sizeof(float) + lin + 64) : NULL;
    if (!buf) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    float *qkv = buf, *a = qkv + (size_t)n * 3 * E, *h = a + (size_t)n * E, *ff = h + (size_t)n * E;
    float *attn = ff + (size_t)n * F;
    void *lscratch = attn + n_attn;

    // Embeddings: word + token type, then + position (HF's order of the float additions).
    we_embed_word_type(x, tk, &w->tok_emb, &w->type_emb);
    we_gather_rows(x, &w->pos_emb, tk->pos, n, true);
    we_layer_norm(pool, x, E, x, E, we_vec(&w->emb_ln_w), we_vec(&w->emb_ln_b), n, E, hp->eps);

    const float scale = 1.0f / sqrtf((float)d);
    for (int il = 0; il < hp->n_layer; il++) {
        const we_bert_layer *L = &w->layers[il];
        we_linear(pool, qkv, 3 * E, x, E, &L->q_w, &L->q_b, n, WE_ACT_NONE, lscratch);
        we_linear(pool, qkv + E, 3 * E, x, E, &L->k_w, &L->k_b, n, WE_ACT_NONE, lscratch);
        we_linear(pool, qkv + 2 * E, 3 * E, x, E, &L->v_w, &L->v_b, n, WE_ACT_NONE, lscratch);
        for (int s = 0; s < tk->n_seq; s++) {
            int t0 = tk->seq_off[s], T = tk->seq_off[s + 1] - t0;
            const float *q = qkv + (size_t)t0 * 3 * E;
            we_attn_params ap = { .T = T, .n_head = H, .n_kv_head = H, .head_dim = d, .scale = scale };
            we_attention(pool, a + (size_t)t0 * E, E, q, 3 * E, q + E, 3 * E, q + 2 * E, 3 * E, &ap, attn);
        }
        we_linear(pool, h, E, a, E, &L->o_w, &L->o_b, n, WE_ACT_NONE, lscratch);
        we_add_layer_norm(pool, x, h, &L->attn_ln_w, &L->attn_ln_b, n, E, hp->eps);
        we_linear(pool, ff, F, x, E, &L->up_w, &L->up_b, n, hp->act, lscratch);
        we_linear(pool, h, E, ff, F, &L->down_w, &L->down_b, n, WE_ACT_NONE, lscratch);
        we_add_layer_norm(pool, x, h, &L->out_ln_w, &L->out_ln_b, n, E, hp->eps);
    }
    we_free(buf);
    return WEMBED_STATUS_OK;
}
