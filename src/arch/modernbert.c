// modernbert.c - the modernbert family (ModernBERT: gte-modernbert-base, modernbert-embed-base,
// ModernBERT-base/large), as HF's modeling_modernbert.py (ModernBertModel) computes it:
// hyper-parameters from config.json (ModernBertConfig) or from llama.cpp's "modern-bert" GGUF
// metadata, the tensor table, and the forward pass: pre-norm blocks, no position table but
// RoPE with two bases, global layers with full attention between local ones with a sliding
// window, a fused Wqkv, a GeGLU MLP, LayerNorms without bias and a final norm.
//
//   x = LN_emb(E_tok[id])                                                   (n_tok, E)
//   per layer l:
//       a = l == 0 ? x : LN_attn(x)              layer 0 has no attn_norm (nn.Identity)
//       q, k, v = a Wqkv^T; rotate q, k by position with theta_l                (n_tok, 3E)
//       x = x + attn_l(q, k, v) Wo^T             global: all keys; local: |i - j| <= w
//       [u, g] = LN_mlp(x) Wi^T                  u = first half, g = second half (2F)
//       x = x + (act(u) * g) Wo_mlp^T            act = hidden_activation (erf gelu)
//   h = LN_final(x)                                                         (last_hidden_state)
//
// Every subtle point of the reference (transformers 4.48 ... 5.x):
//   - embeddings = norm(tok_embeddings(ids)): no position or token-type table, no scale;
//   - every LayerNorm (embeddings.norm, attn_norm, mlp_norm, final_norm) has no bias
//     (norm_bias false) and eps = norm_eps (not layer_norm_eps, which the hub configs also carry);
//   - layer 0's attn_norm is nn.Identity: its checkpoints have no layers.0.attn_norm.weight and
//     its attention reads the embeddings themselves; the residual stream is never normed except
//     at the input of each sub-block and by final_norm at the end (last_hidden_state is after it);
//   - Wqkv's output is viewed as (3, heads, head_dim): rows [0, E) are q, [E, 2E) k, [2E, 3E) v;
//     no linear has a bias (attention_bias, mlp_bias false);
//   - RoPE over the whole head (head_dim), half-split (rotate_half, not interleaved), positions
//     0 .. n-1 of each text (right padding: arange; the unpadded FA2 path restarts per sequence);
//   - layer l is global when l % global_attn_every_n_layers == 0 (layers 0, 3, 6, ... for 3):
//     full attention with global_rope_theta (160000); every other layer is local: a symmetric
//     window |i - j| <= local_attention // 2 (inclusive; 64 for 128) with local_rope_theta
//     (10000). A local_rope_theta of null means the global theta (4.48's rule); transformers 5
//     saves the thetas as rope_parameters.{full,sliding}_attention.rope_theta instead;
//   - padding keys stay masked in local layers too (here: batches are packed, no padding);
//   - attention scale 1/sqrt(head_dim); softmax over the keys a query sees;
//   - GeGLU: Wi (2F, E) gives [input | gate] (chunk(2)); the activation goes on the FIRST half:
//     Wo(act(input) * gate), act = ACT2FN[hidden_activation], "gelu" = exact erf GELU;
//   - pooling is sentence-transformers' (gte-modernbert-base: CLS = row 0 after final_norm;
//     modernbert-embed-base: mean); without its files, mean (sentence-transformers' default);
//   - Matryoshka (modernbert-embed-base, 256 of 768): slice the pooled vector, then normalize
//     (the card's recipe and truncate_dim): no layer_norm step, unlike nomic-embed-text-v1.5;
//   - the reference builds the cos/sin tables in float32 (inv_freq and angles); here the angles
//     are exact (double, rounded once): the two differ by ~1e-7 in the hidden states up to 300
//     tokens and by up to 1e-4 at 8192 (pooled vectors 1e-7; modernbert_own's manifest);
//   - no length limit in the code: RoPE has no table, so max_position_embeddings (8192) is the
//     trained length and longer inputs run when asked (text.extends).
// ModernBertForSequenceClassification (cross-encoders: gte-reranker-modernbert-base), applied by
// embed.c from the text spec's head (we_cls_head):
//   p = classifier_pooling "cls": h[0]; "mean": sum(h * mask) / sum(mask)    h = last_hidden_state
//   logits = classifier(norm(act(dense(p))))                                ModernBertPredictionHead
//   - the pooled rows are last_hidden_state's, i.e. after final_norm; "mean" averages every real
//     token ([CLS] and [SEP] too), the padding masked (here: packed rows, no padding);
//   - head.dense has a bias only when classifier_bias (default false); classifier (nn.Linear)
//     always has one; act = ACT2FN[classifier_activation] ("gelu": erf GELU, the default);
//   - head.norm is a LayerNorm with eps = norm_eps and bias = norm_bias (false: refused above);
//   - classifier_dropout (and the head's dropout) do nothing at inference;
//   - the weights sit at the top level (head.*, classifier.*), the encoder under "model.".
// Call options (README "Long inputs"): a RoPE scaling replaces plain RoPE on the global layers
// only; SelfExtend regroups the pairs at least W apart in every layer with that layer's theta, so
// the local layers (window local_attention // 2) change only when W <= their window; TempScale in
// every layer (we_attend).
// Sliding windows cost O(n x window) (we_attn_params.window); the two RoPE tables are filled
// once per forward. llama.cpp's GGUF (convert_hf_to_gguf.py ModernBertModel, "modern-bert"):
// context_length, embedding_length, feed_forward_length (= intermediate_size), block_count,
// attention.head_count, attention.layer_norm_epsilon, rope.freq_base (global theta),
// rope.freq_base_swa (local theta; absent: the global one), attention.sliding_window (the full
// local_attention; absent or 0: every layer global), attention.sliding_window_pattern (the
// period, default 3; 0: every layer local). Its graph gates with GEGLU on the first half too.
// Refused with UNSUPPORTED, naming the key: biases (norm_bias, attention_bias, mlp_bias), RoPE
// scaling (rope_scaling, a rope_type other than default), layer_types that disagree with
// global_attn_every_n_layers (the reference would mix two rules), a head_dim other than
// hidden_size / num_attention_heads, local_attention < 2, activations we_cfg_act does not know.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../formats/gguf.h"
#include "forward.h"

typedef struct mbert_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size (Wi has 2 * n_ff rows)
                              //   n_ctx: max_position_embeddings: the trained length
    float eps;                // norm_eps
    we_act act;               // hidden_activation, on the first half of Wi's output
    int32_t local_attention;  // local_attention: a local layer sees |i - j| <= local_attention / 2 (0: no local layers)
    int32_t global_every;     // global_attn_every_n_layers: layer l global when l % it == 0 (0: none)
    float global_theta;       // global_rope_theta
    float local_theta;        // local_rope_theta
    // ModernBertForSequenceClassification (cls.on):
    we_cls_cfg cls;           // architectures, num_labels, id2label, the sentence-transformers activation
    wembed_pooling cls_pooling;   // classifier_pooling: "cls" (row 0 after final_norm) or "mean"
    bool cls_bias;            // classifier_bias: head.dense has a bias
    we_act cls_act;           // classifier_activation (ACT2FN), after head.dense
    bool cls_tanh;            // classifier_activation "tanh" (nn.Tanh; cls_act none)
} mbert_hparams;

typedef struct mbert_layer {
    we_weight attn_norm_w;    // (E)      attn_norm (absent in layer 0: nn.Identity)
    we_weight qkv_w;          // (3E, E)  attn.Wqkv (q, k, v stacked by rows)
    we_weight o_w;            // (E, E)   attn.Wo
    we_weight mlp_norm_w;     // (E)      mlp_norm
    we_weight wi_w;           // (2F, E)  mlp.Wi (input rows [0, F), gate rows [F, 2F))
    we_weight wo_w;           // (E, F)   mlp.Wo
} mbert_layer;

typedef struct mbert_weights {
    mbert_layer *layers;      // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;        // (V, E)   embeddings.tok_embeddings
    we_weight emb_norm_w;     // (E)      embeddings.norm
    we_weight final_norm_w;   // (E)      final_norm
    // ModernBertForSequenceClassification: classifier(head(pooled)), head = ModernBertPredictionHead
    we_weight head_dense_w, head_dense_b;   // (E, E), (E)  head.dense (bias per classifier_bias)
    we_weight head_norm_w;    // (E)      head.norm (norm_bias false: no bias)
    we_weight cls_w, cls_b;   // (L, E), (L)  classifier (nn.Linear: always a bias)
} mbert_weights;

#define M(f) (uint16_t)offsetof(mbert_weights, f)
#define L(f) (uint16_t)offsetof(mbert_layer, f)

enum { D_WI = WE_D_FAMILY };   // 2 * intermediate_size
enum { COND_HEAD = 1, COND_HEAD_BIAS };

//  hf name                              gguf name                   grp layer kind         flags           cond nd dims
static const we_wentry g_mbert_entries[] = {
    {"embeddings.tok_embeddings.weight", "token_embd.weight",        0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.norm.weight",           "token_embd_norm.weight",   0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_norm_w)},
    // Optional per layer because layer 0 has none; finish requires it in every other layer.
    {"layers.%d.attn_norm.weight",       "blk.%d.attn_norm.weight",  0, true, WE_W_VEC, WE_WF_OPTIONAL, 0, 1, {WE_D_EMBD}, L(attn_norm_w)},
    {"layers.%d.attn.Wqkv.weight",       "blk.%d.attn_qkv.weight",   0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_QKV, WE_D_EMBD}, L(qkv_w)},
    {"layers.%d.attn.Wo.weight",         "blk.%d.attn_output.weight",0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(o_w)},
    {"layers.%d.mlp_norm.weight",        "blk.%d.ffn_norm.weight",   0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(mlp_norm_w)},
    {"layers.%d.mlp.Wi.weight",          "blk.%d.ffn_up.weight",     0, true, WE_W_LINEAR, 0, 0, 2, {D_WI, WE_D_EMBD}, L(wi_w)},
    {"layers.%d.mlp.Wo.weight",          "blk.%d.ffn_down.weight",   0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_FF}, L(wo_w)},
    {"final_norm.weight",                "output_norm.weight",       0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(final_norm_w)},
    // The classification head stays f32 whatever the dtype (WE_W_VEC), as BERT's does.
    {"head.dense.weight",                NULL,                       0, false, WE_W_VEC, 0, COND_HEAD, 2, {WE_D_EMBD, WE_D_EMBD}, M(head_dense_w)},
    {"head.dense.bias",                  NULL,                       0, false, WE_W_VEC, 0, COND_HEAD_BIAS, 1, {WE_D_EMBD}, M(head_dense_b)},
    {"head.norm.weight",                 NULL,                       0, false, WE_W_VEC, 0, COND_HEAD, 1, {WE_D_EMBD}, M(head_norm_w)},
    {"classifier.weight",                NULL,                       0, false, WE_W_VEC, 0, COND_HEAD, 2, {WE_D_LABELS, WE_D_EMBD}, M(cls_w)},
    {"classifier.bias",                  NULL,                       0, false, WE_W_VEC, 0, COND_HEAD, 1, {WE_D_LABELS}, M(cls_b)},
};

// ModernBertForMaskedLM and the classifiers keep the encoder under "model.".
static const char *const g_mbert_prefixes[] = {"model.", NULL};
static const char *const g_mbert_gguf[] = {"modern-bert", NULL};

static bool mbert_is_global(const mbert_hparams *hp, int il) {
    return hp->global_every > 0 && il % hp->global_every == 0;
}

// -----------------------------------------------------------------------------------------
// Hyper-parameters

static wembed_status refuse_true(const we_json *cfg, const char *key, we_err *err) {
    bool v = false;
    wembed_status rc = we_cfg_bool(cfg, key, false, &v, err);
    if (rc) return rc;
    if (v) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: modernbert with %s = true is not supported", key);
    return WEMBED_STATUS_OK;
}

// The rope_theta of rope_parameters[type] (transformers 5) into *theta when it is there; a
// rope_type other than "default" is refused.
static wembed_status rope_params(const we_json *cfg, const char *type, float *theta, we_err *err) {
    const we_json *p = we_json_get(we_json_get(cfg, "rope_parameters"), type);
    if (!p || p->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    const we_json *rt = we_json_get(p, "rope_type");
    if (rt && rt->type != WE_JSON_NULL && !we_json_str_eq(rt, "default"))
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: modernbert rope_parameters.%s.rope_type \"%.32s\" is not supported (default)",
                         type, we_json_as_str(rt, NULL) ? rt->u.str : "?");
    double d;
    const we_json *th = we_json_get(p, "rope_theta");
    if (th && th->type != WE_JSON_NULL) {
        if (!we_json_as_double(th, &d) || !(d > 0 && d < 1e30))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: rope_parameters.%s.rope_theta must be a positive number", type);
        *theta = (float)d;
    }
    return WEMBED_STATUS_OK;
}

// ModernBertForSequenceClassification's head: classifier_pooling (ModernBertConfig refuses
// anything but "cls" and "mean"), classifier_bias, classifier_activation (ACT2FN; "tanh" is
// nn.Tanh).
static wembed_status cls_from_config(mbert_hparams *hp, const we_json *cfg, we_err *err) {
    wembed_status rc = we_cfg_cls_head(cfg, &hp->cls, err);
    if (rc || !hp->cls.on) return rc;
    const we_json *pl = we_json_get(cfg, "classifier_pooling");
    hp->cls_pooling = WEMBED_POOLING_CLS;
    if (pl && pl->type != WE_JSON_NULL) {
        if (we_json_str_eq(pl, "mean")) hp->cls_pooling = WEMBED_POOLING_MEAN;
        else if (!we_json_str_eq(pl, "cls"))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: classifier_pooling must be \"cls\" or \"mean\"");
    }
    if ((rc = we_cfg_bool(cfg, "classifier_bias", false, &hp->cls_bias, err))) return rc;
    const char *act = we_json_as_str(we_json_get(cfg, "classifier_activation"), NULL);
    hp->cls_tanh = act && strcmp(act, "tanh") == 0;
    if (hp->cls_tanh) hp->cls_act = WE_ACT_NONE;
    else if ((rc = we_cfg_act(cfg, "classifier_activation", "gelu", &hp->cls_act, err))) return rc;
    return WEMBED_STATUS_OK;
}

static wembed_status mbert_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    mbert_hparams *hp = ma->hp;
    wembed_status rc;
    int32_t head_dim;
    if ((rc = we_cfg_int(cfg, "vocab_size", 50368, 1, 1 << 24, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 768, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 22, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 12, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 1152, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 8192, 1, 1 << 24, &hp->base.n_ctx, err)) ||
        (rc = we_cfg_int(cfg, "local_attention", 128, 0, 1 << 24, &hp->local_attention, err)) ||
        (rc = we_cfg_int(cfg, "global_attn_every_n_layers", 3, 1, 1024, &hp->global_every, err)) ||
        (rc = we_cfg_pos_float(cfg, "norm_eps", 1e-5, &hp->eps, err)) ||
        (rc = we_cfg_pos_float(cfg, "global_rope_theta", 160000.0, &hp->global_theta, err)) ||
        (rc = we_cfg_act(cfg, "hidden_activation", "gelu", &hp->act, err)) ||
        (rc = refuse_true(cfg, "norm_bias", err)) ||
        (rc = refuse_true(cfg, "attention_bias", err)) ||
        (rc = refuse_true(cfg, "mlp_bias", err)) ||
        (rc = cls_from_config(hp, cfg, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                         hp->base.n_embd, hp->base.n_head);
    if ((rc = we_cfg_int(cfg, "head_dim", hp->base.n_embd / hp->base.n_head, 1, 65536, &head_dim, err))) return rc;
    if (head_dim != hp->base.n_embd / hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: modernbert with head_dim %d (not hidden_size / num_attention_heads) is not supported",
                         head_dim);
    if (head_dim % 2) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: the head dim %d must be even for RoPE", head_dim);
    if (hp->local_attention < 2)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: modernbert with local_attention %d (< 2) is not supported", hp->local_attention);
    // local_rope_theta: absent 10000, null the global theta (ModernBertAttention in 4.48).
    const we_json *lt = we_json_get(cfg, "local_rope_theta");
    if (lt && lt->type == WE_JSON_NULL) hp->local_theta = hp->global_theta;
    else if ((rc = we_cfg_pos_float(cfg, "local_rope_theta", 10000.0, &hp->local_theta, err))) return rc;
    // transformers 5 keeps them in rope_parameters, which win (setdefault on rope_theta).
    if ((rc = rope_params(cfg, "full_attention", &hp->global_theta, err)) ||
        (rc = rope_params(cfg, "sliding_attention", &hp->local_theta, err)))
        return rc;
    if (!(hp->global_theta > 0 && hp->local_theta > 0))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: the rope thetas must be positive");
    const we_json *rs = we_json_get(cfg, "rope_scaling");
    if (rs && rs->type != WE_JSON_NULL)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: modernbert with rope_scaling is not supported");
    // layer_types (transformers 5) pick each layer's theta, global_attn_every_n_layers its
    // window: they must agree.
    const we_json *lts = we_json_get(cfg, "layer_types");
    if (lts && lts->type != WE_JSON_NULL) {
        bool ok = lts->type == WE_JSON_ARRAY && lts->len == (uint32_t)hp->base.n_layer;
        for (int il = 0; ok && il < hp->base.n_layer; il++)
            ok = we_json_str_eq(we_json_at(lts, (size_t)il), mbert_is_global(hp, il) ? "full_attention" : "sliding_attention");
        if (!ok)
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: modernbert layer_types that differ from global_attn_every_n_layers %d are not supported",
                             hp->global_every);
    }
    return WEMBED_STATUS_OK;
}

static wembed_status mbert_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    mbert_hparams *hp = ma->hp;
    wembed_status rc;
    int32_t n_swa, n_head_kv;
    if ((rc = we_gguf_cfg_int(g, "modern-bert.embedding_length", -1, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_gguf_cfg_int(g, "modern-bert.block_count", -1, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_gguf_cfg_int(g, "modern-bert.attention.head_count", -1, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_gguf_cfg_int(g, "modern-bert.attention.head_count_kv", hp->base.n_head, 1, 4096, &n_head_kv, err)) ||
        (rc = we_gguf_cfg_int(g, "modern-bert.feed_forward_length", -1, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_gguf_cfg_int(g, "modern-bert.context_length", -1, 1, 1 << 24, &hp->base.n_ctx, err)) ||
        (rc = we_gguf_cfg_int(g, "modern-bert.attention.sliding_window", 0, 0, 1 << 24, &n_swa, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head || (hp->base.n_embd / hp->base.n_head) % 2)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: embedding_length is not an even multiple of head_count");
    if (n_head_kv != hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: modern-bert.attention.head_count_kv %d (not head_count) is not supported", n_head_kv);
    // llama.cpp: no sliding_window (or 0) means no local layers; the pattern is the period of
    // the global layers, dense first (layer l local when l % period != 0; 0: every layer).
    if (n_swa == 0) {
        hp->global_every = 1;
        hp->local_attention = 0;
    } else {
        const we_gguf_kv *pat = we_gguf_find(g, "modern-bert.attention.sliding_window_pattern");
        if (pat && pat->type == WE_GGUF_ARRAY)
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: a per-layer modern-bert.attention.sliding_window_pattern is not supported");
        if ((rc = we_gguf_cfg_int(g, "modern-bert.attention.sliding_window_pattern", 3, 0, 1024, &hp->global_every, err))) return rc;
        if (n_swa < 2)
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: modern-bert.attention.sliding_window %d (< 2) is not supported", n_swa);
        hp->local_attention = n_swa;
    }
    const char *st = we_gguf_get_str(g, "modern-bert.rope.scaling.type");
    if (st && strcmp(st, "none") != 0)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: modern-bert.rope.scaling.type \"%.32s\" is not supported (none)", st);
    if ((rc = we_gguf_cfg_pos_float(g, "modern-bert.attention.layer_norm_epsilon", 1e-5, &hp->eps, err))) return rc;
    double d = 10000.0;   // llama.cpp's default base
    we_gguf_get_float(g, "modern-bert.rope.freq_base", &d);
    hp->global_theta = (float)d;
    we_gguf_get_float(g, "modern-bert.rope.freq_base_swa", &d);   // absent: the same
    hp->local_theta = (float)d;
    if (!(hp->global_theta > 0 && hp->local_theta > 0 && hp->eps >= 0))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: modern-bert rope bases must be positive");
    hp->act = WE_ACT_GELU;
    hp->base.n_vocab = (int32_t)WE_MIN(we_gguf_rows(g, "token_embd.weight", 0), (int64_t)1 << 24);
    return WEMBED_STATUS_OK;
}

static int64_t mbert_dim(const we_arch_model *ma, int sym, int group) {
    const mbert_hparams *hp = ma->hp;
    switch (sym) {
    case D_WI: return 2 * (int64_t)hp->base.n_ff;
    case WE_D_LABELS: return hp->cls.n_labels;
    }
    return we_text_hp_dim(ma, sym, group);
}

static bool mbert_enabled(const we_arch_model *ma, int cond) {
    const mbert_hparams *hp = ma->hp;
    switch (cond) {
    case COND_HEAD: return hp->cls.on;
    case COND_HEAD_BIAS: return hp->cls.on && hp->cls_bias;
    }
    return true;
}

static wembed_status mbert_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present;
    const mbert_hparams *hp = ma->hp;
    const mbert_weights *w = ma->w;
    for (int il = 1; il < hp->base.n_layer; il++)
        if (!w->layers[il].attn_norm_w.data)
            return we_errorf(err, WEMBED_STATUS_MISSING_TENSOR, "missing tensor layers.%d.attn_norm.weight for modernbert", il);
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->extends = t->rope = t->self_extend = true;
    t->pos_rule = WE_POS_PLAIN;
    t->pooling = WEMBED_POOLING_MEAN;
    t->chunks = true;
    t->matryoshka = WE_MATRYOSHKA_TRUNCATE;
    if (hp->cls.on) {
        // ModernBertForSequenceClassification: classifier(norm(act(dense(pooled)))), pooled from
        // last_hidden_state (after final_norm); the dropout is inactive at inference.
        we_cls_head *h = &t->head;
        h->n_labels = hp->cls.n_labels;
        h->sigmoid = hp->cls.sigmoid;
        h->id2label = hp->cls.id2label;
        h->pooling = hp->cls_pooling;
        h->pre_w = &w->head_dense_w;
        h->pre_b = hp->cls_bias ? &w->head_dense_b : NULL;
        h->pre_act = hp->cls_act;
        h->pre_tanh = hp->cls_tanh;
        h->norm_w = &w->head_norm_w;   // eps = norm_eps, no bias (norm_bias false)
        h->norm_eps = hp->eps;
        h->out_w = &w->cls_w; h->out_b = &w->cls_b;
    }
    return WEMBED_STATUS_OK;
}

static int mbert_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const mbert_hparams *hp = ma->hp;
    char head[160] = "";
    if (hp->cls.on)
        snprintf(head, sizeof head, ",\"head\":\"modernbert_prediction_head\",\"classifier_pooling\":\"%s\",\"classifier_activation\":\"%s\",\"classifier_bias\":%s",
                 hp->cls_pooling == WEMBED_POOLING_MEAN ? "mean" : "cls", hp->cls_tanh ? "tanh" : we_act_name(hp->cls_act),
                 hp->cls_bias ? "true" : "false");
    return snprintf(buf, cap, "\"eps\":%.7g,\"act\":\"%s\",\"local_attention\":%d,\"global_attn_every_n_layers\":%d,"
                    "\"global_rope_theta\":%.9g,\"local_rope_theta\":%.9g%s",
                    (double)hp->eps, we_act_name(hp->act), hp->local_attention, hp->global_every,
                    (double)hp->global_theta, (double)hp->local_theta, head);
}

// -----------------------------------------------------------------------------------------
// Forward

static wembed_status mbert_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                   const we_fwd_opts *o, float *x, we_err *err) {
    const mbert_hparams *hp = m->hp;
    const mbert_weights *w = m->w;
    const int E = hp->base.n_embd, F = hp->base.n_ff, H = hp->base.n_head, d = E / H, n = tk->n_tok;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };   // no bias anywhere
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, NULL, 0, err);   // RoPE: any position
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    we_attn_params ap_global = { .n_head = H, .n_kv_head = H, .head_dim = d, .scale = 1.0f / sqrtf((float)d) };
    we_attn_params ap_local = ap_global;
    ap_local.window = hp->local_attention / 2;   // |i - j| <= local_attention // 2
    const mbert_layer *L0 = &w->layers[0];
    const we_weight *lin[] = { &L0->qkv_w, &L0->o_w, &L0->wi_w, &L0->wo_w };
    // Two RoPE configs, one per theta. A call's RoPE scaling stands where a config's rope_scaling
    // would, on the global layers; the local ones keep plain RoPE (their distances stay within the
    // window they were trained with; HF's Gemma 3 does the same with rope_scaling). SelfExtend
    // acts on every layer with the layer's own theta, which leaves a local layer whose window is
    // below W as it was (we_rope_carve).
    const we_rope_cfg rope_global = { d, hp->global_theta, WE_ROPE_NONE, 0, hp->base.n_ctx };
    const we_rope_cfg rope_local = { d, hp->local_theta, WE_ROPE_NONE, 0, hp->base.n_ctx };
    we_fwd_opts o_local = *o;
    o_local.rope = (we_rope_opts){ WE_ROPE_MODEL, 0 };
    float *qkv, *a, *h, *u, *g, *attn;
    void *lscratch;
    we_rope_pass rp_g, rp_l;
    we_carve c = {0};
    for (;;) {
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);   // (n, 3E) q | k | v
        a = we_carve_floats(&c, (size_t)n * E);         // (n, E)  attention output
        h = we_carve_floats(&c, (size_t)n * E);         // (n, E)  normed input, projections
        u = we_carve_floats(&c, (size_t)n * 2 * F);     // (n, 2F) Wi output: input | gate
        g = we_carve_floats(&c, (size_t)n * F);         // (n, F)  act(input) * gate
        we_rope_carve(&c, &rp_g, tk, &rope_global, o, &ap_global, NULL);      // (n, d/2) tables; SelfExtend's copies
        we_rope_carve(&c, &rp_l, tk, &rope_local, &o_local, &ap_local, &rp_g);   // sharing the copies
        attn = we_carve_floats(&c, WE_MAX(we_attend_scratch_floats(tk, &ap_global, false, we_pool_threads(pool)),
                                          we_attend_scratch_floats(tk, &ap_local, false, we_pool_threads(pool))));
        lscratch = we_carve_bytes(&c, we_linear_scratch_max(n, lin, 4));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    // Embeddings: LayerNorm of the token rows alone.
    we_gather_rows(x, &w->tok_emb, tk->ids, n, false);
    we_apply_norm(pool, &ln, x, E, x, E, &w->emb_norm_w, NULL, n, E);

    for (int il = 0; il < hp->base.n_layer; il++) {
        const mbert_layer *L = &w->layers[il];
        const bool global = mbert_is_global(hp, il);
        // Attention block; layer 0's attn_norm is the identity.
        const float *xa = x;
        if (il > 0) {
            we_apply_norm(pool, &ln, h, E, x, E, &L->attn_norm_w, NULL, n, E);
            xa = h;
        }
        we_linear(pool, qkv, 3 * E, xa, E, &L->qkv_w, NULL, n, WE_ACT_NONE, lscratch);
        we_rope_rotate(pool, global ? &rp_g : &rp_l, qkv, 3 * E, qkv + E, 3 * E);
        we_attend(pool, tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, global ? &ap_global : &ap_local, NULL, NULL, attn);
        we_linear(pool, h, E, a, E, &L->o_w, NULL, n, WE_ACT_NONE, lscratch);
        we_residual(x, h, (size_t)n * E);
        // MLP block: Wo(act(input) * gate), input the first half of Wi's output.
        we_apply_norm(pool, &ln, h, E, x, E, &L->mlp_norm_w, NULL, n, E);
        we_linear(pool, u, 2 * F, h, E, &L->wi_w, NULL, n, WE_ACT_NONE, lscratch);
        we_glu(pool, g, F, u, 2 * F, u + F, 2 * F, n, F, hp->act);
        we_linear(pool, h, E, g, F, &L->wo_w, NULL, n, WE_ACT_NONE, lscratch);
        we_residual(x, h, (size_t)n * E);
    }
    we_apply_norm(pool, &ln, x, E, x, E, &w->final_norm_w, NULL, n, E);
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_mbert_types[] = {"modernbert", NULL};

const we_family we_family_modernbert = {
    .name = "modernbert",
    .model_types = g_mbert_types,
    .gguf_archs = g_mbert_gguf,
    .hp_size = sizeof(mbert_hparams),
    .w_size = sizeof(mbert_weights),
    .layer_size = sizeof(mbert_layer),
    .entries = g_mbert_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_mbert_entries),
    .prefixes = g_mbert_prefixes,
    .n_groups = 1,
    .from_config = mbert_from_config,
    .from_gguf = mbert_from_gguf,
    .dim = mbert_dim,
    .n_layer = we_text_hp_n_layer,
    .enabled = mbert_enabled,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = mbert_finish,
    .describe = mbert_describe,
    .forward = mbert_forward,
};
