// jina_bert_v2.c - the jina_bert_v2 family: JinaBERT v2 (jina-embeddings-v2-small-en, -base-en,
// -base-de, -base-es, -base-zh, -base-code), as the remote code its config.json names in
// auto_map computes it: jinaai/jina-bert-implementation modeling_bert.py, or, for -base-code,
// jinaai/jina-bert-v2-qk-post-norm. Hyper-parameters from config.json (JinaBertConfig names and
// defaults) or from llama.cpp's "jina-bert-v2" GGUF metadata, the tensor table with HF and GGUF
// names, and the forward pass. No position embeddings: symmetric ALiBi.
//
//   x = LN(E_word[id] + E_type[type])                                        (n_tok, E)
//   per layer:  q, k, v = x Wq^T + bq, ...                                   (n_tok, 3E)
//               s(i, j) = q_i . k_j / sqrt(d) - slope_h |i - j|              (per head h)
//               x = LN(x + attn(q, k, v) Wo^T + bo)
//               g, u = halves of x Wg^T (no bias)                            (n_tok, 2F)
//               x = LN(x + (gelu(g) * u) Wo2^T + bo2)                        (mlp.layernorm)
//   -base-code (qk-post-norm) instead:
//               q = LNq(x Wq^T + bq), k = LNk(x Wk^T + bk)   (LayerNorm over all E, not per head)
//               y = LN(x + attn Wo^T + bo);  x = LN1(x + y)  (the layer input is added twice)
//               u, g = halves of x Wug^T;  x = LN2(x + (u * gelu(g)) Wd^T + bd)
//
// Subtle points of the reference code, each mirrored here:
//   - config.json says model_type "bert": the family claims configs with
//     position_embedding_type "alibi" (or a GLU feed_forward_type, which no BertModel reads)
//     before bert's model_type list sees them;
//   - no position table (JinaBertEmbeddings skips it for "alibi"); embeddings are
//     LayerNorm(word + token_type), token type 0 when none are given;
//   - ALiBi: bias[h, i, j] = -slope_h * |i - j|, symmetric, added to the scores after the
//     1/sqrt(head_dim) scale (with the padding mask; here batches are packed, so no mask);
//     the slopes are _get_alibi_head_slopes: for n heads a power of two, start * start^i
//     with start = 2^(-2^-(log2 n - 3)); otherwise those of the largest power of two c < n,
//     then every other slope of 2c ([0::2]) up to n: 12 heads are 2^-1..2^-8 then 2^-0.5,
//     2^-1.5, 2^-2.5, 2^-3.5; 6 heads 2^-2, 2^-4, 2^-6, 2^-8, 2^-1, 2^-3. Computed in double,
//     rounded to float once (torch.Tensor of Python floats), the bias is the float product
//     slope * |i - j| (the reference multiplies float32 slopes by the distance);
//   - the encoder rebuilds the ALiBi table for inputs longer than max_position_embeddings, so
//     the model runs past its trained length (text.extends); the distance is counted over a
//     sequence's own tokens (the reference counts padded columns: the same for right padding);
//   - feed_forward_type: "geglu" -> the gated MLP with nn.GELU() (exact erf), whatever
//     hidden_act says; jina-bert-implementation's gated_layers is [gate; up] (the FIRST half is
//     activated), qk-post-norm's up_gated_layer is [up; gate] (the SECOND half is); gated
//     layers have no bias, wo / down_layer do. A value ending in "glu" other than geglu/reglu
//     is refused by the reference (reglu, ReLU on the gate, is not implemented here); any value
//     not ending in "glu" ("original", the default) is BERT's intermediate/output MLP with
//     hidden_act;
//   - post-LN everywhere; jina-bert-implementation's MLP has its own LayerNorm
//     (mlp.layernorm(wo_out + residual));
//   - llama.cpp's GGUF: gated_layers (or up_gated_layer) either fused as ffn_up (2F rows, the
//     checkpoint's own order; its converter since mid 2025) or split by older converters into
//     ffn_gate (the activated half) and ffn_up; attention.self.layer_norm_q/k -> attn_q_norm /
//     attn_k_norm, layer_norm_1 -> attn_norm_2, mlp.layernorm / layer_norm_2 / output.LayerNorm
//     -> layer_output_norm, mlp.wo / down_layer / output.dense -> ffn_down; the pooler is dropped.
//     The split halves follow the reference (ffn_gate is always the activated one); a fused
//     ffn_up is read in the checkpoint's order of its layout, so a qk-post-norm file gets GELU
//     on its second half (llama.cpp's graph applies GEGLU to the first half of any fused
//     ffn_up, which for -base-code is the up half). A GGUF's layout comes from its tensors
//     (attn_q_norm / attn_norm_2: qk-post-norm; a biased ffn_up: the original MLP with gelu;
//     ffn_gate: split);
//   - mean pooling (sentence-transformers' 1_Pooling; the model's own encode() mean-pools
//     whatever emb_pooler says); the pooler (tanh) is in the checkpoint but is no embedding.
// Settings that do not change the math, read by no one here: the attention-kernel switches
// (attn_implementation: torch SDPA, eager or flash-attn with alibi_slopes; with_flash), emb_pooler,
// pad_token_id (the word embedding's padding_idx only matters in training). Refused with UNSUPPORTED: another
// position_embedding_type, reglu, a qk-post-norm model without a GLU MLP, alibi_scaling != 1
// (a fork's dynamic ALiBi), is_decoder / add_cross_attention, a causal GGUF.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/gguf.h"
#include "forward.h"

// Which remote code the checkpoint was made for (its layer layout).
typedef enum jina_layout {
    JINA_IMPL = 0,            // jinaai/jina-bert-implementation: gated_layers, wo, mlp.layernorm
    JINA_QK_POST_NORM,        // jinaai/jina-bert-v2-qk-post-norm (-base-code): q/k LayerNorms, layer_norm_1/2
} jina_layout;

typedef struct jina_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size (the gated MLP's projection has 2 n_ff rows)
                              //   n_ctx: max_position_embeddings: the trained length (ALiBi runs past it)
    int32_t n_types;          // type_vocab_size
    float eps;                // layer_norm_eps
    jina_layout layout;
    bool glu;                 // feed_forward_type geglu (else "original": BERT's MLP)
    bool split;               // GGUF: the gated projection split into ffn_gate and ffn_up
    we_act act;               // the MLP's activation: GELU (erf) for geglu, hidden_act for original
} jina_hparams;

typedef struct jina_layer {
    we_qkv qkv;                   // attention.self.query, key, value
    we_weight q_ln_w, q_ln_b;     // (E)           attention.self.layer_norm_q (qk-post-norm)
    we_weight k_ln_w, k_ln_b;     // (E)           attention.self.layer_norm_k (qk-post-norm)
    we_weight ln1_w, ln1_b;       // (E)           layer_norm_1 (qk-post-norm)
    // o: attention.output.dense; attn_ln: attention.output.LayerNorm; gu: mlp.gated_layers /
    // mlp.up_gated_layer (fused); gate: GGUF ffn_gate (split: the activated half); up: GGUF
    // ffn_up (split), original: intermediate.dense; down: mlp.wo / mlp.down_layer /
    // output.dense; out_ln: mlp.layernorm / layer_norm_2 / output.LayerNorm
    we_postln_tail tail;
} jina_layer;

typedef struct jina_weights {
    jina_layer *layers;           // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;            // (V, E)  embeddings.word_embeddings
    we_weight type_emb;           // (T, E)  embeddings.token_type_embeddings
    we_weight emb_ln_w, emb_ln_b; // (E)     embeddings.LayerNorm
    we_weight pooler_w, pooler_b; // (E, E), (E)  optional, unused (not in GGUF files)
} jina_weights;

#define M(f) (uint16_t)offsetof(jina_weights, f)
#define L(f) (uint16_t)offsetof(jina_layer, f)

enum { D_FF2 = WE_D_FAMILY };     // 2 n_ff: the fused gated projection
enum {
    C_TYPES = 1,                  // type_vocab_size > 0
    C_QKN,                        // qk-post-norm
    C_IMPL_GLU,                   // jina-bert-implementation with the gated MLP
    C_ORIG,                       // the original (BERT) MLP
    C_FUSED_IMPL,                 // gated_layers in one tensor
    C_FUSED_QKN,                  // up_gated_layer in one tensor
    C_SPLIT,                      // GGUF: ffn_gate + ffn_up
};

//  hf name                                              gguf name                          grp layer kind        flags cond nd dims
static const we_wentry g_jina_entries[] = {
    {"embeddings.word_embeddings.weight",                 "token_embd.weight",               0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.token_type_embeddings.weight",           "token_types.weight",              0, false, WE_W_VEC, 0, C_TYPES, 2, {WE_D_TYPES, WE_D_EMBD}, M(type_emb)},
    {"embeddings.LayerNorm.weight",                       "token_embd_norm.weight",          0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_w)},
    {"embeddings.LayerNorm.bias",                         "token_embd_norm.bias",            0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_b)},
    WE_BERT_QKV_ENTRIES(L(qkv)),
    {"encoder.layer.%d.attention.self.layer_norm_q.weight","blk.%d.attn_q_norm.weight",      0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(q_ln_w)},
    {"encoder.layer.%d.attention.self.layer_norm_q.bias", "blk.%d.attn_q_norm.bias",         0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(q_ln_b)},
    {"encoder.layer.%d.attention.self.layer_norm_k.weight","blk.%d.attn_k_norm.weight",      0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(k_ln_w)},
    {"encoder.layer.%d.attention.self.layer_norm_k.bias", "blk.%d.attn_k_norm.bias",         0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(k_ln_b)},
    WE_POSTLN_ATTN_OUT_ENTRIES(L(tail)),
    {"encoder.layer.%d.layer_norm_1.weight",              "blk.%d.attn_norm_2.weight",       0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(ln1_w)},
    {"encoder.layer.%d.layer_norm_1.bias",                "blk.%d.attn_norm_2.bias",         0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(ln1_b)},
    // The gated projection: one tensor, or (older llama.cpp converters) its two halves under
    // the names that converter gave them on the way (gated_layers_w: the gate).
    {"encoder.layer.%d.mlp.gated_layers.weight",          "blk.%d.ffn_up.weight",            0, true, WE_W_LINEAR, 0, C_FUSED_IMPL, 2, {D_FF2, WE_D_EMBD}, L(tail.gu_w)},
    {"encoder.layer.%d.mlp.up_gated_layer.weight",        "blk.%d.ffn_up.weight",            0, true, WE_W_LINEAR, 0, C_FUSED_QKN, 2, {D_FF2, WE_D_EMBD}, L(tail.gu_w)},
    {"encoder.layer.%d.mlp.gated_layers_w.weight",        "blk.%d.ffn_gate.weight",          0, true, WE_W_LINEAR, 0, C_SPLIT, 2, {WE_D_FF, WE_D_EMBD}, L(tail.gate_w)},
    {"encoder.layer.%d.mlp.gated_layers_v.weight",        "blk.%d.ffn_up.weight",            0, true, WE_W_LINEAR, 0, C_SPLIT, 2, {WE_D_FF, WE_D_EMBD}, L(tail.up_w)},
    {"encoder.layer.%d.mlp.wo.weight",                    "blk.%d.ffn_down.weight",          0, true, WE_W_LINEAR, 0, C_IMPL_GLU, 2, {WE_D_EMBD, WE_D_FF}, L(tail.down_w)},
    {"encoder.layer.%d.mlp.wo.bias",                      "blk.%d.ffn_down.bias",            0, true, WE_W_VEC, 0, C_IMPL_GLU, 1, {WE_D_EMBD}, L(tail.down_b)},
    {"encoder.layer.%d.mlp.layernorm.weight",             "blk.%d.layer_output_norm.weight", 0, true, WE_W_VEC, 0, C_IMPL_GLU, 1, {WE_D_EMBD}, L(tail.out_ln_w)},
    {"encoder.layer.%d.mlp.layernorm.bias",               "blk.%d.layer_output_norm.bias",   0, true, WE_W_VEC, 0, C_IMPL_GLU, 1, {WE_D_EMBD}, L(tail.out_ln_b)},
    {"encoder.layer.%d.mlp.down_layer.weight",            "blk.%d.ffn_down.weight",          0, true, WE_W_LINEAR, 0, C_QKN, 2, {WE_D_EMBD, WE_D_FF}, L(tail.down_w)},
    {"encoder.layer.%d.mlp.down_layer.bias",              "blk.%d.ffn_down.bias",            0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(tail.down_b)},
    {"encoder.layer.%d.layer_norm_2.weight",              "blk.%d.layer_output_norm.weight", 0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(tail.out_ln_w)},
    {"encoder.layer.%d.layer_norm_2.bias",                "blk.%d.layer_output_norm.bias",   0, true, WE_W_VEC, 0, C_QKN, 1, {WE_D_EMBD}, L(tail.out_ln_b)},
    WE_POSTLN_BERT_FFN_ENTRIES(C_ORIG, L(tail)),
    // llama.cpp's converter drops the pooler; the embedding never uses it.
    {"pooler.dense.weight",                               NULL,                              0, false, WE_W_LINEAR, WE_WF_OPTIONAL, 0, 2, {WE_D_EMBD, WE_D_EMBD}, M(pooler_w)},
    {"pooler.dense.bias",                                 NULL,                              0, false, WE_W_VEC, WE_WF_OPTIONAL, 0, 1, {WE_D_EMBD}, M(pooler_b)},
};

static const char *const g_jina_prefixes[] = {"bert.", NULL};
static const char *const g_jina_gguf[] = {"jina-bert-v2", NULL};
static const char *const g_jina_types[] = {NULL};   // model_type "bert": found by jina_claims

#define LIM (1 << 24)

// -----------------------------------------------------------------------------------------
// Config

static const char *str_or(const we_json *v, const char *def) {
    const char *s = we_json_as_str(v, NULL);
    return s ? s : def;
}

static bool ends_with_glu(const char *s) {
    size_t n = strlen(s);
    return n >= 3 && strcmp(s + n - 3, "glu") == 0;
}

// JinaBERT configs say model_type "bert"; ALiBi (or a gated MLP) is what BertModel cannot read.
static bool jina_claims(const we_json *cfg) {
    if (!we_json_str_eq(we_json_get(cfg, "model_type"), "bert")) return false;
    const char *ff = we_json_as_str(we_json_get(cfg, "feed_forward_type"), NULL);
    return we_json_str_eq(we_json_get(cfg, "position_embedding_type"), "alibi") || (ff && ends_with_glu(ff));
}

static wembed_status refuse_true(const we_json *cfg, const char *key, we_err *err) {
    bool v = false;
    wembed_status rc = we_cfg_bool(cfg, key, false, &v, err);
    if (rc) return rc;
    if (v) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: jina_bert_v2 with %s = true is not supported", key);
    return WEMBED_STATUS_OK;
}

static wembed_status jina_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    jina_hparams *hp = ma->hp;
    wembed_status rc;
    float alibi_scaling;
    if ((rc = we_cfg_int(cfg, "vocab_size", 30522, 1, LIM, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 768, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 12, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 12, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 3072, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 512, 1, LIM, &hp->base.n_ctx, err)) ||
        (rc = we_cfg_int(cfg, "type_vocab_size", 2, 0, 1 << 16, &hp->n_types, err)) ||
        (rc = we_cfg_pos_float(cfg, "layer_norm_eps", 1e-12, &hp->eps, err)) ||
        (rc = we_cfg_float(cfg, "alibi_scaling", 1.0, &alibi_scaling, err)) ||
        (rc = refuse_true(cfg, "is_decoder", err)) ||
        (rc = refuse_true(cfg, "add_cross_attention", err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                         hp->base.n_embd, hp->base.n_head);
    const char *pet = str_or(we_json_get(cfg, "position_embedding_type"), "absolute");
    if (strcmp(pet, "alibi") != 0)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: jina_bert_v2 with position_embedding_type \"%.40s\" is not supported (alibi)", pet);
    if (alibi_scaling != 1.0f)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: alibi_scaling %g (dynamic ALiBi) is not supported", (double)alibi_scaling);
    // The remote code decides the layer layout (TEI dispatches on the same auto_map entry).
    const char *impl = str_or(we_json_get(we_json_get(cfg, "auto_map"), "AutoModel"), "");
    hp->layout = strstr(impl, "jina-bert-v2-qk-post-norm") ? JINA_QK_POST_NORM : JINA_IMPL;
    // JinaBertLayer: a feed_forward_type ending in "glu" is the gated MLP (JinaBertGLUMLP, which
    // takes only reglu and geglu), anything else BERT's intermediate + output.
    const char *ff = str_or(we_json_get(cfg, "feed_forward_type"), "original");
    hp->glu = ends_with_glu(ff);
    if (hp->glu) {
        if (strcmp(ff, "geglu") != 0)   // reglu (the reference's other one) or a value it refuses
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: feed_forward_type \"%.40s\" is not supported (geglu, original)", ff);
        hp->act = WE_ACT_GELU;    // nn.GELU(): exact, whatever hidden_act says
    } else {
        if (hp->layout == JINA_QK_POST_NORM)
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: jina-bert-v2-qk-post-norm with feed_forward_type \"%.40s\" is not supported (geglu)", ff);
        if ((rc = we_cfg_act(cfg, "hidden_act", "gelu", &hp->act, err))) return rc;
    }
    hp->split = false;
    return WEMBED_STATUS_OK;
}

static bool has_tensor(const struct we_gguf *g, const char *name) { return we_gguf_find_tensor(g, name) != NULL; }

static wembed_status jina_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    jina_hparams *hp = ma->hp;
    wembed_status rc;
    if ((rc = we_gguf_cfg_int(g, "jina-bert-v2.embedding_length", -1, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_gguf_cfg_int(g, "jina-bert-v2.block_count", -1, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_gguf_cfg_int(g, "jina-bert-v2.attention.head_count", -1, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_gguf_cfg_int(g, "jina-bert-v2.feed_forward_length", -1, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_gguf_cfg_int(g, "jina-bert-v2.context_length", -1, 1, LIM, &hp->base.n_ctx, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: embedding_length is not a multiple of head_count");
    bool causal = false;
    if (we_gguf_get_bool(g, "jina-bert-v2.attention.causal", &causal) && causal)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: jina-bert-v2 with attention.causal = true is not supported");
    if ((rc = we_gguf_cfg_pos_float(g, "jina-bert-v2.attention.layer_norm_epsilon", 1e-12, &hp->eps, err))) return rc;
    // The file's tensors tell the layout: q/k norms or a second attention norm are
    // qk-post-norm; a biased ffn_up is BERT's MLP; ffn_gate the split gated projection.
    hp->layout = has_tensor(g, "blk.0.attn_norm_2.weight") || has_tensor(g, "blk.0.attn_q_norm.weight") ? JINA_QK_POST_NORM : JINA_IMPL;
    hp->glu = !has_tensor(g, "blk.0.ffn_up.bias");
    hp->split = hp->glu && has_tensor(g, "blk.0.ffn_gate.weight");
    hp->act = WE_ACT_GELU;        // geglu's nn.GELU(); hidden_act "gelu" for the original MLP
    if (!hp->glu && hp->layout == JINA_QK_POST_NORM)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: jina-bert-v2 with q/k norms and a biased ffn_up is not supported");
    hp->base.n_vocab = (int32_t)WE_MIN(we_gguf_rows(g, "token_embd.weight", 0), (int64_t)LIM);
    const we_gguf_tensor *tt = we_gguf_find_tensor(g, "token_types.weight");
    hp->n_types = !tt ? 0 : tt->n_dims == 1 ? 1 : (int32_t)WE_MIN(tt->ne[1], (int64_t)1 << 16);
    return WEMBED_STATUS_OK;
}

static int64_t jina_dim(const we_arch_model *ma, int sym, int group) {
    const jina_hparams *hp = ma->hp;
    switch (sym) {
    case D_FF2: return 2 * (int64_t)hp->base.n_ff;
    case WE_D_TYPES: return hp->n_types;
    }
    return we_text_hp_dim(ma, sym, group);
}


static bool jina_enabled(const we_arch_model *ma, int cond) {
    const jina_hparams *hp = ma->hp;
    bool qkn = hp->layout == JINA_QK_POST_NORM;
    switch (cond) {
    case C_TYPES: return hp->n_types > 0;
    case C_QKN: return qkn;
    case C_IMPL_GLU: return !qkn && hp->glu;
    case C_ORIG: return !hp->glu;
    case C_FUSED_IMPL: return !qkn && hp->glu && !hp->split;
    case C_FUSED_QKN: return qkn && hp->glu && !hp->split;
    case C_SPLIT: return hp->glu && hp->split;
    }
    return true;
}

static wembed_status jina_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const jina_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->extends = true;            // ALiBi: the encoder rebuilds its bias for longer inputs
    t->pos_rule = WE_POS_PLAIN;
    t->pooling = WEMBED_POOLING_MEAN;
    t->chunks = true;
    return WEMBED_STATUS_OK;
}

static int jina_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const jina_hparams *hp = ma->hp;
    return snprintf(buf, cap, "\"n_types\":%d,\"eps\":%.7g,\"layout\":\"%s\",\"feed_forward\":\"%s\",\"act\":\"%s\",\"split_gate\":%s,\"positions\":\"alibi\"",
                    hp->n_types, (double)hp->eps, hp->layout == JINA_QK_POST_NORM ? "qk-post-norm" : "jina-bert-implementation",
                    hp->glu ? "geglu" : "original", we_act_name(hp->act), hp->split ? "true" : "false");
}

// -----------------------------------------------------------------------------------------
// ALiBi

// get_slopes_power_of_2(n): start * start^i, start = 2^(-2^-(log2 n - 3)), n a power of two.
static void slopes_pow2(double *s, int n) {
    double start = pow(2.0, -pow(2.0, -(log2((double)n) - 3.0)));
    for (int i = 0; i < n; i++) s[i] = start * pow(start, i);
}

// _get_alibi_head_slopes(n) rounded to float: the power-of-two slopes of the largest c <= n,
// then every other slope of 2c ([0::2]) for the n - c heads left.
static void alibi_slopes(float *out, int n, double *tmp) {
    int c = 1;
    while (c * 2 <= n) c *= 2;
    slopes_pow2(tmp, c);
    for (int i = 0; i < c; i++) out[i] = (float)tmp[i];
    if (c == n) return;
    slopes_pow2(tmp, 2 * c);
    for (int i = 0; i < n - c; i++) out[c + i] = (float)tmp[2 * i];
}

typedef struct alibi_ctx {
    const float *slopes;          // (n_head)
    int n_head;
} alibi_ctx;

// bias (n_head, 2T - 1) by relative position j - i: -slope_h |j - i| (a float product, as the
// reference's float32 slopes times the distance).
static void alibi_bias(const void *ctx, float *bias, int T) {
    const alibi_ctx *a = ctx;
    for (int h = 0; h < a->n_head; h++) {
        float *b = bias + (size_t)h * (2 * (size_t)T - 1);
        for (int r = 0; r < 2 * T - 1; r++) b[r] = -(a->slopes[h] * (float)abs(r - (T - 1)));
    }
}

// -----------------------------------------------------------------------------------------
// Forward

static wembed_status jina_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                  const we_fwd_opts *o, float *x, we_err *err) {
    (void)o;
    const jina_hparams *hp = m->hp;
    const jina_weights *w = m->w;
    const int E = hp->base.n_embd, F = hp->base.n_ff, H = hp->base.n_head, n = tk->n_tok;
    const bool qkn = hp->layout == JINA_QK_POST_NORM;
    // The gated MLP's projection is [gate | up] (jina-bert-implementation) or [up | gate] (qk-post-norm).
    const we_ffn ffn = { .F = F, .act = hp->act, .glu = hp->glu, .split = hp->split, .gate_at = qkn ? F : 0 };
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, &w->type_emb, 0, err);   // ALiBi: no position table
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    const we_attn_params ap = { .n_head = H, .n_kv_head = H, .head_dim = E / H, .scale = 1.0f / sqrtf((float)(E / H)) };
    const jina_layer *L0 = &w->layers[0];
    const we_weight *lin[] = { &L0->qkv.q_w, &L0->tail.gu_w, &L0->tail.gate_w, &L0->tail.up_w, &L0->tail.down_w };
    float *qkv, *a, *h, *ff, *attn, *slopes;
    double *stmp;
    void *lscratch;
    we_carve c = {0};
    for (;;) {
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);
        a = we_carve_floats(&c, (size_t)n * E);
        h = we_carve_floats(&c, (size_t)n * E);
        ff = we_carve_floats(&c, we_ffn_floats(&ffn, n));
        attn = we_carve_floats(&c, we_attend_scratch_floats(tk, &ap, true, we_pool_threads(pool)));
        slopes = we_carve_floats(&c, (size_t)H);
        stmp = we_carve_bytes(&c, sizeof(double) * 2 * (size_t)H);
        lscratch = we_carve_bytes(&c, we_linear_scratch_max(n, lin, 5));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }
    alibi_slopes(slopes, H, stmp);
    const alibi_ctx actx = { slopes, H };

    // Embeddings: word + token type (no positions), LayerNorm.
    we_embed_word_type(x, tk, &w->tok_emb, &w->type_emb);
    we_apply_norm(pool, &ln, x, E, x, E, &w->emb_ln_w, &w->emb_ln_b, n, E);

    for (int il = 0; il < hp->base.n_layer; il++) {
        const jina_layer *L = &w->layers[il];
        we_qkv_linear(pool, &L->qkv, qkv, x, n, E, lscratch);
        if (qkn) {   // LayerNorm over the whole projection (all heads at once)
            we_apply_norm(pool, &ln, qkv, 3 * E, qkv, 3 * E, &L->q_ln_w, &L->q_ln_b, n, E);
            we_apply_norm(pool, &ln, qkv + E, 3 * E, qkv + E, 3 * E, &L->k_ln_w, &L->k_ln_b, n, E);
        }
        we_attend(pool, tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, alibi_bias, &actx, attn);
        if (qkn) {
            we_linear(pool, h, E, a, E, &L->tail.o_w, &L->tail.o_b, n, WE_ACT_NONE, lscratch);
            we_add_norm(pool, &ln, h, x, &L->tail.attn_ln_w, &L->tail.attn_ln_b, n, E);   // y = LN(attn + x)
            we_add_norm(pool, &ln, x, h, &L->ln1_w, &L->ln1_b, n, E);           // x = LN1(x + y)
            we_postln_ffn(pool, &L->tail, &ffn, &ln, x, h, ff, n, E, lscratch);
        } else {
            we_postln_tail_apply(pool, &L->tail, &ffn, &ln, x, a, h, ff, n, E, lscratch);
        }
    }
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

const we_family we_family_jina_bert_v2 = {
    .name = "jina_bert_v2",
    .model_types = g_jina_types,
    .gguf_archs = g_jina_gguf,
    .claims = jina_claims,
    .hp_size = sizeof(jina_hparams),
    .w_size = sizeof(jina_weights),
    .layer_size = sizeof(jina_layer),
    .entries = g_jina_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_jina_entries),
    .prefixes = g_jina_prefixes,
    .n_groups = 1,
    .from_config = jina_from_config,
    .from_gguf = jina_from_gguf,
    .dim = jina_dim,
    .n_layer = we_text_hp_n_layer,
    .enabled = jina_enabled,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = jina_finish,
    .describe = jina_describe,
    .forward = jina_forward,
};
