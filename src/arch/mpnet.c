// mpnet.c - the mpnet family (MPNet: all-mpnet-base-v2, multi-qa-mpnet-*, and the other
// sentence-transformers MPNet models), as HF's modeling_mpnet.py (MPNetModel) computes it:
// hyper-parameters from config.json (MPNetConfig names and defaults), the tensor table, and
// the forward pass. A BERT-shaped post-LN encoder without token types, whose attention adds a
// learned bias per head chosen by a T5-style bucket of the relative position.
//
//   x = LN(E_word[id] + E_pos[pos])                                          (n_tok, E)
//   per layer:  q, k, v = x Wq^T + bq, ...                                   (n_tok, 3E)
//               s(i, j) = q_i . k_j / sqrt(head_dim) + B[bucket(i - j)][h]   (per head)
//               x = LN(x + softmax(s) v Wo^T + bo)
//               x = LN(x + gelu(x Wup^T + bup) Wdown^T + bdown)
//
// Subtle points of the reference, each mirrored here (tests/mutations.json changes each one):
//   1. Position ids are RoBERTa's, cumsum(ids != p) * (ids != p) + p, with the padding index p
//      HARD-CODED to 1 (MPNetEmbeddings.padding_idx), whatever config.json's pad_token_id says.
//      Real tokens use rows 2, 3, ... of the position table, a <pad> id (even with mask 1) row
//      1, and the tokens after it continue the count without it. So the longest input is
//      max_position_embeddings - 2 (all-mpnet-base-v2: 514 -> 512). No token type table: the
//      embedding is word + position, then LayerNorm.
//   2. The relative bias is computed once (MPNetEncoder.compute_position_bias) from plain
//      column indices 0..S-1, not from the position ids, and the same bias is added in EVERY
//      layer, after the 1/sqrt(head_dim) scaling and before the padding mask (unscaled: the
//      kernel's s = scale q.k + bias). Packing drops padding without changing j - i, so a
//      sequence's bias only depends on its own length; a mask with holes inside a row (zeros
//      between ones) would shift the columns, which the packed batch does not model.
//   3. Buckets are T5's bidirectional ones with num_buckets = 32 and max_distance = 128 fixed
//      as default arguments of relative_position_bucket: config.json's
//      relative_attention_num_buckets only sizes the table (rows past 32 are never read; fewer
//      than 32 would index past it, and are refused). For n = i - j (query i, key j):
//      +16 when n < 0 (the key after the query); |n| < 8 exact; else
//      8 + trunc(log(|n| / 8) / log(128 / 8) * 8), clamped to 15. The log term is
//      trunc(2 log2(|n| / 8)) = the largest k with n^2 >= 64 * 2^k, computed here in integers
//      so that no platform's log rounding can move a boundary (16, 32 and 64 are exact ones,
//      where torch's float32 log lands exactly on 2, 4 and 6).
//   4. Post-LN blocks as BERT's, erf GELU (hidden_act "gelu"), layer_norm_eps from config.json
//      (MPNetConfig's default 1e-12; sentence-transformers checkpoints say 1e-5).
//   5. The pooler (tanh(dense(h[:, 0]))) is not the embedding: sentence-transformers pools the
//      hidden states (all-mpnet-base-v2: mean, then Normalize; multi-qa-mpnet-base-dot-v1: CLS);
//      it is loaded when present and never used.
//   6. Checkpoints saved by sentence-transformers have no prefix; MPNetForMaskedLM ones
//      (microsoft/mpnet-base) prefix "mpnet." and carry lm_head.* (skipped).
// llama.cpp has no MPNet architecture, so there is no GGUF form. Refused at load
// (UNSUPPORTED): relative_attention_num_buckets below 32, a hidden_act we_cfg_act does not know.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "forward.h"

#define MPNET_PADDING_IDX 1       // MPNetEmbeddings.padding_idx, not read from config.json
#define MPNET_NUM_BUCKETS 32      // relative_position_bucket's num_buckets as compute_position_bias passes it

typedef struct mpnet_layer {
    we_qkv qkv;                   // attention.attn.q, k, v
    we_postln_tail tail;          // attention.attn.o, attention.LayerNorm; intermediate.dense;
                                  // output.dense, .LayerNorm
} mpnet_layer;

typedef struct mpnet_weights {
    mpnet_layer *layers;          // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;            // (V, E)  embeddings.word_embeddings
    we_weight pos_emb;            // (P, E)  embeddings.position_embeddings
    we_weight emb_ln_w, emb_ln_b; // (E)     embeddings.LayerNorm
    we_weight rel_bias;           // (NB, H) encoder.relative_attention_bias (rows 0..31 read)
    we_weight pooler_w, pooler_b; // (E, E), (E)  optional, unused
} mpnet_weights;

typedef struct mpnet_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size
                              //   n_ctx: the longest input, max_position_embeddings - padding_idx - 1
    int32_t n_pos;            // max_position_embeddings (rows of the position table)
    int32_t n_buckets;        // relative_attention_num_buckets (rows of the bias table)
    int32_t pad_token_id;     // config.json's, for info() only: positions use MPNET_PADDING_IDX
    float eps;                // layer_norm_eps
    we_act act;               // hidden_act
} mpnet_hparams;

enum { MPNET_D_BUCKETS = WE_D_FAMILY, MPNET_D_HEADS };

#define M(f) (uint16_t)offsetof(mpnet_weights, f)
#define L(f) (uint16_t)offsetof(mpnet_layer, f)

//  hf name                                              gguf  grp layer kind        flags           cond nd dims
static const we_wentry g_mpnet_entries[] = {
    {"embeddings.word_embeddings.weight",                 NULL, 0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.position_embeddings.weight",             NULL, 0, false, WE_W_VEC, 0, 0, 2, {WE_D_POS, WE_D_EMBD}, M(pos_emb)},
    {"embeddings.LayerNorm.weight",                       NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_w)},
    {"embeddings.LayerNorm.bias",                         NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_b)},
    {"encoder.relative_attention_bias.weight",            NULL, 0, false, WE_W_VEC, 0, 0, 2, {MPNET_D_BUCKETS, MPNET_D_HEADS}, M(rel_bias)},
    {"encoder.layer.%d.attention.attn.q.weight",          NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(qkv.q_w)},
    {"encoder.layer.%d.attention.attn.q.bias",            NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(qkv.q_b)},
    {"encoder.layer.%d.attention.attn.k.weight",          NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(qkv.k_w)},
    {"encoder.layer.%d.attention.attn.k.bias",            NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(qkv.k_b)},
    {"encoder.layer.%d.attention.attn.v.weight",          NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(qkv.v_w)},
    {"encoder.layer.%d.attention.attn.v.bias",            NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(qkv.v_b)},
    {"encoder.layer.%d.attention.attn.o.weight",          NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(tail.o_w)},
    {"encoder.layer.%d.attention.attn.o.bias",            NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.o_b)},
    {"encoder.layer.%d.attention.LayerNorm.weight",       NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.attn_ln_w)},
    {"encoder.layer.%d.attention.LayerNorm.bias",         NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.attn_ln_b)},
    WE_POSTLN_BERT_FFN_ENTRIES(0, L(tail)),
    // MPNetModel's pooler: saved by sentence-transformers, not used for embeddings.
    {"pooler.dense.weight",                               NULL, 0, false, WE_W_LINEAR, WE_WF_OPTIONAL, 0, 2, {WE_D_EMBD, WE_D_EMBD}, M(pooler_w)},
    {"pooler.dense.bias",                                 NULL, 0, false, WE_W_VEC, WE_WF_OPTIONAL, 0, 1, {WE_D_EMBD}, M(pooler_b)},
};

static const char *const g_mpnet_prefixes[] = {"mpnet.", NULL};

#define LIM (1 << 24)   // sanity bound on every dimension (positions, vocab, widths)

// -----------------------------------------------------------------------------------------
// Loading

static wembed_status mpnet_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    mpnet_hparams *hp = ma->hp;
    wembed_status rc;
    if ((rc = we_cfg_int(cfg, "vocab_size", 30527, 1, LIM, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 768, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 12, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 12, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 3072, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 512, 1, LIM, &hp->n_pos, err)) ||
        (rc = we_cfg_int(cfg, "relative_attention_num_buckets", 32, 1, 1 << 16, &hp->n_buckets, err)) ||
        (rc = we_cfg_int(cfg, "pad_token_id", 1, 0, LIM, &hp->pad_token_id, err)) ||
        (rc = we_cfg_pos_float(cfg, "layer_norm_eps", 1e-12, &hp->eps, err)) ||
        (rc = we_cfg_act(cfg, "hidden_act", "gelu", &hp->act, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                         hp->base.n_embd, hp->base.n_head);
    if (hp->n_buckets < MPNET_NUM_BUCKETS)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED,
                         "config.json: relative_attention_num_buckets %d is not supported: MPNet always reads %d buckets",
                         hp->n_buckets, MPNET_NUM_BUCKETS);
    if (hp->n_pos < MPNET_PADDING_IDX + 2)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: max_position_embeddings %d leaves no position after padding_idx %d",
                         hp->n_pos, MPNET_PADDING_IDX);
    hp->base.n_ctx = hp->n_pos - MPNET_PADDING_IDX - 1;   // real tokens start at padding_idx + 1
    return WEMBED_STATUS_OK;
}

static int64_t mpnet_dim(const we_arch_model *ma, int sym, int group) {
    const mpnet_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_POS: return hp->n_pos;
    case MPNET_D_BUCKETS: return hp->n_buckets;
    case MPNET_D_HEADS: return hp->base.n_head;
    }
    return we_text_hp_dim(ma, sym, group);
}


static wembed_status mpnet_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const mpnet_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->pos_rule = WE_POS_FROM_PAD;
    t->pad_id = MPNET_PADDING_IDX;
    t->pooling = WEMBED_POOLING_MEAN;
    t->chunks = true;
    return WEMBED_STATUS_OK;
}

static int mpnet_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const mpnet_hparams *hp = ma->hp;
    return snprintf(buf, cap, "\"n_pos\":%d,\"eps\":%.7g,\"act\":\"%s\",\"relative_attention_num_buckets\":%d,"
                    "\"buckets_used\":%d,\"max_distance\":128,\"padding_idx\":%d,\"pad_token_id\":%d",
                    hp->n_pos, (double)hp->eps, we_act_name(hp->act), hp->n_buckets, MPNET_NUM_BUCKETS,
                    MPNET_PADDING_IDX, hp->pad_token_id);
}

// -----------------------------------------------------------------------------------------
// Relative position bias

// relative_position_bucket(j - i) for n = i - j (query i, key j), bidirectional, max_distance
// 128, half = num_buckets / 2 = 16: 0..15 for keys at or before the query, 16..31 after it.
static int mpnet_bucket(int n, int half) {
    int ret = 0;
    if (n < 0) {          // the key after the query
        ret = half;
        n = -n;
    }
    if (n < 8) return ret + n;     // max_exact = half / 2
    // 8 + trunc(log(n / 8) / log(128 / 8) * 8) = 8 + trunc(log2(n^2 / 64)), clamped to 15
    int k = 0;
    while (k < 7 && (int64_t)n * n >= ((int64_t)64 << (k + 1))) k++;
    return ret + 8 + k;
}

typedef struct mpnet_bias_ctx {
    const float *table;           // (n_buckets, H) relative_attention_bias
    int H;
    int half;                     // num_buckets / 2: the first bucket of keys after the query
} mpnet_bias_ctx;

// bias (H, 2T - 1): bias[h][j - i + T - 1] = table[bucket(i - j)][h] (we_bias_fn).
static void mpnet_bias_fill(const void *ctx, float *bias, int T) {
    const mpnet_bias_ctx *c = ctx;
    const int R = 2 * T - 1;
    for (int r = 0; r < R; r++) {
        const float *row = c->table + (size_t)mpnet_bucket(T - 1 - r, c->half) * c->H;   // r = j - i + T - 1
        for (int h = 0; h < c->H; h++) bias[(size_t)h * R + r] = row[h];
    }
}

// -----------------------------------------------------------------------------------------
// Forward

static wembed_status mpnet_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                   const we_fwd_opts *o, float *x, we_err *err) {
    (void)o;
    const mpnet_hparams *hp = m->hp;
    const mpnet_weights *w = m->w;
    const int E = hp->base.n_embd, F = hp->base.n_ff, H = hp->base.n_head, n = tk->n_tok;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, NULL, w->pos_emb.N, err);
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    const we_attn_params ap = { .n_head = H, .n_kv_head = H, .head_dim = E / H, .scale = 1.0f / sqrtf((float)(E / H)) };
    // compute_position_bias(x) buckets with its default num_buckets, not relative_attention_num_buckets.
    const mpnet_bias_ctx bias = { we_vec(&w->rel_bias), H, MPNET_NUM_BUCKETS / 2 };
    const we_ffn ffn = { .F = F, .act = hp->act };
    const mpnet_layer *L0 = &w->layers[0];
    const we_weight *lin[] = { &L0->qkv.q_w, &L0->tail.up_w, &L0->tail.down_w };
    float *qkv, *a, *h, *ff, *attn;
    void *lscratch;
    we_carve c = {0};
    for (;;) {
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);   // (n, 3E) q | k | v
        a = we_carve_floats(&c, (size_t)n * E);         // (n, E) attention output
        h = we_carve_floats(&c, (size_t)n * E);         // (n, E) block output before add + norm
        ff = we_carve_floats(&c, we_ffn_floats(&ffn, n));   // (n, F)
        attn = we_carve_floats(&c, we_attend_scratch_floats(tk, &ap, true, we_pool_threads(pool)));
        lscratch = we_carve_bytes(&c, we_linear_scratch_max(n, lin, 3));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    // Embeddings: word + position (padding_idx 1 rule), LayerNorm.
    we_gather_rows(x, &w->tok_emb, tk->ids, n, false);
    we_gather_rows(x, &w->pos_emb, tk->pos, n, true);
    we_apply_norm(pool, &ln, x, E, x, E, &w->emb_ln_w, &w->emb_ln_b, n, E);

    for (int il = 0; il < hp->base.n_layer; il++) {
        const mpnet_layer *L = &w->layers[il];
        we_qkv_linear(pool, &L->qkv, qkv, x, n, E, lscratch);
        // The same relative bias in every layer.
        we_attend(pool, tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, mpnet_bias_fill, &bias, attn);
        we_postln_tail_apply(pool, &L->tail, &ffn, &ln, x, a, h, ff, n, E, lscratch);
    }
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_mpnet_types[] = {"mpnet", NULL};

const we_family we_family_mpnet = {
    .name = "mpnet",
    .model_types = g_mpnet_types,
    .gguf_archs = NULL,
    .hp_size = sizeof(mpnet_hparams),
    .w_size = sizeof(mpnet_weights),
    .layer_size = sizeof(mpnet_layer),
    .entries = g_mpnet_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_mpnet_entries),
    .prefixes = g_mpnet_prefixes,
    .n_groups = 1,
    .from_config = mpnet_from_config,
    .from_gguf = NULL,
    .dim = mpnet_dim,
    .n_layer = we_text_hp_n_layer,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = mpnet_finish,
    .describe = mpnet_describe,
    .forward = mpnet_forward,
};
