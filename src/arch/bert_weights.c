// bert_weights.c - the bert family (bert, roberta, xlm-roberta): hyper-parameters from
// config.json (BertConfig / RobertaConfig field names and defaults) or from llama.cpp's
// GGUF metadata, and the tensor table with HF and GGUF names.
//
// Not: the forward pass (src/arch/bert.c).
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../formats/gguf.h"
#include "arch.h"

#define M(f) (uint16_t)offsetof(we_bert_weights, f)
#define L(f) (uint16_t)offsetof(we_bert_layer, f)

//  hf name                                              gguf name                         grp layer kind        flags cond nd dims
static const we_wentry g_bert_entries[] = {
    {"embeddings.word_embeddings.weight",                 "token_embd.weight",              0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.position_embeddings.weight",             "position_embd.weight",           0, false, WE_W_VEC, 0, 0, 2, {WE_D_POS, WE_D_EMBD}, M(pos_emb)},
    {"embeddings.token_type_embeddings.weight",           "token_types.weight",             0, false, WE_W_VEC, 0, 1, 2, {WE_D_TYPES, WE_D_EMBD}, M(type_emb)},
    {"embeddings.LayerNorm.weight",                       "token_embd_norm.weight",         0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_w)},
    {"embeddings.LayerNorm.bias",                         "token_embd_norm.bias",           0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_b)},
    {"encoder.layer.%d.attention.self.query.weight",      "blk.%d.attn_q.weight",           0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(q_w)},
    {"encoder.layer.%d.attention.self.query.bias",        "blk.%d.attn_q.bias",             0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(q_b)},
    {"encoder.layer.%d.attention.self.key.weight",        "blk.%d.attn_k.weight",           0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(k_w)},
    {"encoder.layer.%d.attention.self.key.bias",          "blk.%d.attn_k.bias",             0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(k_b)},
    {"encoder.layer.%d.attention.self.value.weight",      "blk.%d.attn_v.weight",           0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(v_w)},
    {"encoder.layer.%d.attention.self.value.bias",        "blk.%d.attn_v.bias",             0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(v_b)},
    {"encoder.layer.%d.attention.output.dense.weight",    "blk.%d.attn_output.weight",      0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(o_w)},
    {"encoder.layer.%d.attention.output.dense.bias",      "blk.%d.attn_output.bias",        0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(o_b)},
    {"encoder.layer.%d.attention.output.LayerNorm.weight","blk.%d.attn_output_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(attn_ln_w)},
    {"encoder.layer.%d.attention.output.LayerNorm.bias",  "blk.%d.attn_output_norm.bias",   0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(attn_ln_b)},
    {"encoder.layer.%d.intermediate.dense.weight",        "blk.%d.ffn_up.weight",           0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, L(up_w)},
    {"encoder.layer.%d.intermediate.dense.bias",          "blk.%d.ffn_up.bias",             0, true, WE_W_VEC, 0, 0, 1, {WE_D_FF}, L(up_b)},
    {"encoder.layer.%d.output.dense.weight",              "blk.%d.ffn_down.weight",         0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_FF}, L(down_w)},
    {"encoder.layer.%d.output.dense.bias",                "blk.%d.ffn_down.bias",           0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(down_b)},
    {"encoder.layer.%d.output.LayerNorm.weight",          "blk.%d.layer_output_norm.weight",0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(out_ln_w)},
    {"encoder.layer.%d.output.LayerNorm.bias",            "blk.%d.layer_output_norm.bias",  0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(out_ln_b)},
    // llama.cpp's converter drops the pooler; sentence-transformers models do not use it.
    {"pooler.dense.weight",                               NULL,                             0, false, WE_W_LINEAR, WE_WF_OPTIONAL, 0, 2, {WE_D_EMBD, WE_D_EMBD}, M(pooler_w)},
    {"pooler.dense.bias",                                 NULL,                             0, false, WE_W_VEC, WE_WF_OPTIONAL, 0, 1, {WE_D_EMBD}, M(pooler_b)},
};

static const char *const g_bert_prefixes[] = {"bert.", "roberta.", "model.", NULL};
static const char *const g_bert_gguf[] = {"bert", NULL};

#define LIM (1 << 24)   // sanity bound on every dimension (positions, vocab, widths)

static wembed_status bert_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    we_bert_hparams *hp = &ma->hp.bert;
    wembed_status rc;
    bool roberta = strcmp(ma->model_type, "roberta") == 0 || strcmp(ma->model_type, "xlm-roberta") == 0;
    if ((rc = we_cfg_int(cfg, "vocab_size", 30522, 1, LIM, &hp->n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 768, 1, 65536, &hp->n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 12, 1, 1024, &hp->n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 12, 1, 4096, &hp->n_head, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 3072, 1, 1 << 20, &hp->n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 512, 1, LIM, &hp->n_pos, err)) ||
        (rc = we_cfg_int(cfg, "type_vocab_size", 2, 0, 1 << 16, &hp->n_types, err)) ||
        (rc = we_cfg_int(cfg, "pad_token_id", roberta ? 1 : 0, 0, LIM, &hp->pad_token_id, err)) ||
        (rc = we_cfg_float(cfg, "layer_norm_eps", 1e-12, &hp->eps, err)) ||
        (rc = we_cfg_act(cfg, "hidden_act", "gelu", &hp->act, err)))
        return rc;
    if (hp->n_embd % hp->n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                         hp->n_embd, hp->n_head);
    const we_json *pet = we_json_get(cfg, "position_embedding_type");
    if (pet && pet->type != WE_JSON_NULL && !we_json_str_eq(pet, "absolute"))
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: position_embedding_type \"%.40s\" is not supported (absolute)",
                         we_json_as_str(pet, NULL) ? pet->u.str : "?");
    hp->pos_from_pad = roberta;
    hp->n_ctx = hp->n_pos;
    if (roberta) {
        hp->n_ctx = hp->n_pos - hp->pad_token_id - 1;
        if (hp->n_ctx < 1)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: max_position_embeddings %d leaves no position after pad_token_id %d",
                             hp->n_pos, hp->pad_token_id);
    }
    return WEMBED_STATUS_OK;
}

static wembed_status bert_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    we_bert_hparams *hp = &ma->hp.bert;
    wembed_status rc;
    if ((rc = we_gguf_cfg_int(g, "bert.embedding_length", -1, 1, 65536, &hp->n_embd, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.block_count", -1, 1, 1024, &hp->n_layer, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.attention.head_count", -1, 1, 4096, &hp->n_head, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.feed_forward_length", -1, 1, 1 << 20, &hp->n_ff, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.context_length", -1, 1, LIM, &hp->n_pos, err)))
        return rc;
    if (hp->n_embd % hp->n_head) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: embedding_length is not a multiple of head_count");
    double eps = 1e-12;
    we_gguf_get_float(g, "bert.attention.layer_norm_epsilon", &eps);
    hp->eps = (float)eps;
    hp->act = WE_ACT_GELU;
    // Without tensors (a vocab-only file) the tokenizer gives the sizes.
    const we_gguf_kv *toks = we_gguf_find(g, "tokenizer.ggml.tokens");
    int64_t v = we_gguf_rows(g, "token_embd.weight", toks && toks->type == WE_GGUF_ARRAY ? (int64_t)WE_MIN(toks->n, (uint64_t)LIM) : 0);
    hp->n_vocab = (int32_t)WE_MIN(v, (int64_t)LIM);
    int64_t types = 2;
    we_gguf_get_int(g, "tokenizer.ggml.token_type_count", &types);
    // llama.cpp squeezes (1, E) to (E): one type row.
    const we_gguf_tensor *tt = we_gguf_find_tensor(g, "token_types.weight");
    hp->n_types = tt ? (tt->n_dims == 1 ? 1 : (int32_t)WE_MIN(tt->ne[1], (int64_t)1 << 16)) : (int32_t)WE_MAX(0, WE_MIN(types, (int64_t)1 << 16));
    int64_t pad = 0;
    we_gguf_get_int(g, "tokenizer.ggml.padding_token_id", &pad);
    hp->pad_token_id = (int32_t)WE_MAX(0, WE_MIN(pad, (int64_t)LIM));
    // llama.cpp's XLM-R conversion cuts the pad_token_id + 1 offset rows off the position
    // table, so positions start at 0 in every bert GGUF.
    hp->pos_from_pad = false;
    hp->n_ctx = hp->n_pos;
    return WEMBED_STATUS_OK;
}

static int64_t bert_dim(const we_arch_model *ma, int sym, int group) {
    (void)group;
    const we_bert_hparams *hp = &ma->hp.bert;
    switch (sym) {
    case WE_D_EMBD: return hp->n_embd;
    case WE_D_FF: return hp->n_ff;
    case WE_D_VOCAB: return hp->n_vocab;
    case WE_D_POS: return hp->n_pos;
    case WE_D_TYPES: return hp->n_types;
    }
    return -1;
}

static int32_t bert_n_layer(const we_arch_model *ma, int group) { (void)group; return ma->hp.bert.n_layer; }
static bool bert_enabled(const we_arch_model *ma, int cond) { return cond != 1 || ma->hp.bert.n_types > 0; }

static wembed_status bert_alloc(we_arch_model *ma, we_arena *a, we_err *err) {
    ma->w.bert.layers = we_arena_calloc(a, (size_t)ma->hp.bert.n_layer, sizeof(we_bert_layer), _Alignof(we_bert_layer));
    if (!ma->w.bert.layers) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    return WEMBED_STATUS_OK;
}

static we_weight *bert_slot(we_arch_model *ma, const we_wentry *e, int il) {
    char *base = e->per_layer ? (char *)&ma->w.bert.layers[il] : (char *)&ma->w.bert;
    return (we_weight *)(base + e->offset);
}

static wembed_status bert_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)ma; (void)group_present; (void)err;
    return WEMBED_STATUS_OK;
}

const we_family we_family_bert = {
    .name = "bert",
    .arch = WE_ARCH_BERT,
    .gguf_archs = g_bert_gguf,
    .entries = g_bert_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_bert_entries),
    .prefixes = g_bert_prefixes,
    .n_groups = 1,
    .from_config = bert_from_config,
    .from_gguf = bert_from_gguf,
    .dim = bert_dim,
    .n_layer = bert_n_layer,
    .enabled = bert_enabled,
    .alloc = bert_alloc,
    .slot = bert_slot,
    .finish = bert_finish,
};
