// clip.c - the CLIP text and vision towers (HF modeling_clip.py): pre-LN transformer blocks
// with quick GELU, the text tower causal with a final layer norm, the vision tower with a
// patch convolution, a class token, pre_layrnorm and (for pooling) post_layernorm.
//
//   text:    x = E_tok[id] + E_pos[pos]; per layer x += attn(LN1 x) (causal); x += mlp(LN2 x);
//            x = final_LN(x)                                   -> (n_tok, E) last hidden states
//   vision:  x = [class; patches(pixels) W_patch^T] + E_pos; x = pre_LN(x); per layer as above
//                                                              -> (B, 1 + n_patches, E), no post-LN
// Pooling (EOS row / class row), post_layernorm and the projections are applied by the
// embedding calls (embed.c, embed_image.c), which know which rows to take.
#include <math.h>
#include <string.h>

#include "../ops/attention.h"
#include "forward.h"

// One pre-LN block over n tokens of n_seq sequences: x += attn(LN1 x); x += mlp(LN2 x).
// buf: 5 n E + n F floats, attn: attention scratch, lscratch: Linear scratch.
static void pre_ln_block(wembed_pool *pool, const we_clip_layer *L, float *x, int n, int E, int F, int H,
                         float eps, we_act act, const int32_t *seq_off, int n_seq, bool causal,
                         float *buf, float *attn, void *lscratch) {
    const int d = E / H;
    float *h = buf, *qkv = h + (size_t)n * E, *a = qkv + (size_t)n * 3 * E, *ff = a + (size_t)n * E;
    we_layer_norm(pool, h, E, x, E, we_vec(&L->ln1_w), we_vec(&L->ln1_b), n, E, eps);
    we_linear(pool, qkv, 3 * E, h, E, &L->q_w, &L->q_b, n, WE_ACT_NONE, lscratch);
    we_linear(pool, qkv + E, 3 * E, h, E, &L->k_w, &L->k_b, n, WE_ACT_NONE, lscratch);
    we_linear(pool, qkv + 2 * E, 3 * E, h, E, &L->v_w, &L->v_b, n, WE_ACT_NONE, lscratch);
    for (int s = 0; s < n_seq; s++) {
        int t0 = seq_off[s], T = seq_off[s + 1] - t0;
        const float *q = qkv + (size_t)t0 * 3 * E;
        we_attn_params ap = { .T = T, .n_head = H, .n_kv_head = H, .head_dim = d,
                              .scale = 1.0f / sqrtf((float)d), .causal = causal };
        we_attention(pool, a + (size_t)t0 * E, E, q, 3 * E, q + E, 3 * E, q + 2 * E, 3 * E, &ap, attn);
    }
    we_linear(pool, h, E, a, E, &L->o_w, &L->o_b, n, WE_ACT_NONE, lscratch);
    for (size_t i = 0; i < (size_t)n * E; i++) x[i] += h[i];
    we_layer_norm(pool, h, E, x, E, we_vec(&L->ln2_w), we_vec(&L->ln2_b), n, E, eps);
    we_linear(pool, ff, F, h, E, &L->fc1_w, &L->fc1_b, n, act, lscratch);
    we_linear(pool, h, E, ff, F, &L->fc2_w, &L->fc2_b, n, WE_ACT_NONE, lscratch);
    for (size_t i = 0; i < (size_t)n * E; i++) x[i] += h[i];
}

// The activations of n tokens through blocks shaped like L, for sequences up to t_max long.
static float *alloc_activations(wembed_pool *pool, const we_clip_layer *L, int n, int t_max, int E, int F, int H,
                                float **attn, void **lscratch) {
    size_t n_attn = we_attention_scratch_floats(t_max, H, E / H, we_pool_threads(pool));
    size_t lin = L ? WE_MAX(we_linear_scratch_bytes(&L->q_w, n), WE_MAX(we_linear_scratch_bytes(&L->fc1_w, n),
                                                                        we_linear_scratch_bytes(&L->fc2_w, n)))
                   : 0;
    size_t floats = (size_t)n * (6 * (size_t)E + F) + n_attn;
    float *buf = floats < SIZE_MAX / 8 ? we_malloc(floats * sizeof(float) + lin + 64) : NULL;
    if (buf) {
        *attn = buf + (size_t)n * (6 * (size_t)E + F);
        *lscratch = *attn + n_attn;
    }
    return buf;
}

wembed_status we_clip_text_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                   float *x, we_err *err) {
    const we_clip_text_hparams *hp = &m->hp.clip.text;
    const we_clip_text_weights *w = &m->w.clip.text;
    const int E = hp->n_embd, n = tk->n_tok;
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, NULL, w->pos_emb.N, err);
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;
    int t_max = 0;
    for (int s = 0; s < tk->n_seq; s++) t_max = WE_MAX(t_max, tk->seq_off[s + 1] - tk->seq_off[s]);
    float *attn;
    void *lscratch;
    float *buf = alloc_activations(pool, hp->n_layer ? &w->layers[0] : NULL, n, t_max, E, hp->n_ff, hp->n_head, &attn, &lscratch);
    if (!buf) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    we_gather_rows(x, &w->tok_emb, tk->ids, n, false);
    we_gather_rows(x, &w->pos_emb, tk->pos, n, true);
    for (int il = 0; il < hp->n_layer; il++)
        pre_ln_block(pool, &w->layers[il], x, n, E, hp->n_ff, hp->n_head, hp->eps, hp->act, tk->seq_off, tk->n_seq,
                     true, buf, attn, lscratch);
    we_layer_norm(pool, x, E, x, E, we_vec(&w->final_ln_w), we_vec(&w->final_ln_b), n, E, hp->eps);
    we_free(buf);
    return WEMBED_STATUS_OK;
}

wembed_status we_clip_vision_forward(const we_arch_model *m, wembed_pool *pool, const float *pixels, int B,
                                     float *x, we_err *err) {
    const we_clip_vision_hparams *hp = &m->hp.clip.vision;
    const we_clip_vision_weights *w = &m->w.clip.vision;
    const int E = hp->n_embd, P = hp->patch_size, S = hp->image_size, C = hp->n_channels;
    const int G = S / P, NP = G * G, T = NP + 1, n = B * T, KP = C * P * P;
    if (B <= 0) return WEMBED_STATUS_OK;
    float *attn;
    void *lscratch;
    float *buf = alloc_activations(pool, hp->n_layer ? &w->layers[0] : NULL, n, T, E, hp->n_ff, hp->n_head, &attn, &lscratch);
    size_t plin = we_linear_scratch_bytes(&w->patch_emb, B * NP);
    float *patches = buf ? we_malloc(sizeof(float) * (size_t)B * NP * KP + plin + 64) : NULL;
    int32_t *seq_off = patches ? we_malloc(sizeof(int32_t) * ((size_t)B + 1)) : NULL;
    if (!buf || !patches || !seq_off) {
        we_free(buf);
        we_free(patches);
        return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d images", B);
    }
    // The patch convolution (stride = kernel, no bias) as a GEMM: each patch's C x P x P
    // pixels, in the weight's (c, ky, kx) order, times W_patch (E, C*P*P)^T.
    for (int b = 0; b < B; b++)
        for (int gy = 0; gy < G; gy++)
            for (int gx = 0; gx < G; gx++) {
                float *row = patches + ((size_t)b * NP + (size_t)gy * G + gx) * KP;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < P; ky++)
                        memcpy(row + ((size_t)c * P + ky) * P,
                               pixels + (((size_t)b * C + c) * S + (size_t)gy * P + ky) * S + (size_t)gx * P,
                               sizeof(float) * (size_t)P);
            }
    float *pe = buf;   // (B * NP, E), the first part of the block activations (free until the blocks run)
    we_linear(pool, pe, E, patches, KP, &w->patch_emb, NULL, B * NP, WE_ACT_NONE, patches + (size_t)B * NP * KP);
    const float *cls = we_vec(&w->class_emb), *pos = we_vec(&w->pos_emb);
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * E;
        for (int e = 0; e < E; e++) xb[e] = cls[e] + pos[e];
        for (int t = 1; t < T; t++)
            for (int e = 0; e < E; e++) xb[(size_t)t * E + e] = pe[((size_t)b * NP + t - 1) * E + e] + pos[(size_t)t * E + e];
        seq_off[b] = b * T;
    }
    seq_off[B] = B * T;
    we_layer_norm(pool, x, E, x, E, we_vec(&w->pre_ln_w), we_vec(&w->pre_ln_b), n, E, hp->eps);
    for (int il = 0; il < hp->n_layer; il++)
        pre_ln_block(pool, &w->layers[il], x, n, E, hp->n_ff, hp->n_head, hp->eps, hp->act, seq_off, B, false, buf,
                     attn, lscratch);
    we_free(seq_off);
    we_free(patches);
    we_free(buf);
    return WEMBED_STATUS_OK;
}
