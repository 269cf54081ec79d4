// bert.c - the bert family: bert, roberta and xlm-roberta (the same tensors; RoBERTa's
// positions are offset by pad_token_id + 1), as HF's modeling_bert.py computes them:
// hyper-parameters from config.json (BertConfig / RobertaConfig names and defaults) or from
// llama.cpp's GGUF metadata, the tensor table with HF and GGUF names, and the forward pass.
//
//   x = LN(E_word[id] + E_type[type] + E_pos[pos])                          (n_tok, E)
//   per layer:  q, k, v = x Wq^T + bq, ...                                  (n_tok, 3E)
//               x = LN(x + attn(q, k, v) Wo^T + bo)
//               x = LN(x + gelu(x Wup^T + bup) Wdown^T + bdown)
//
// Subtle points: the float additions of the embeddings go word + type, then + position;
// RoBERTa position ids are cumsum(mask) * mask + pad_token_id (HF's
// create_position_ids_from_input_ids), so the first token sits at pad_token_id + 1 and the
// longest input is max_position_embeddings - pad_token_id - 1; llama.cpp's XLM-R conversion
// cuts those offset rows off, so GGUF positions start at 0. The pooler is not used for
// embeddings (sentence-transformers pools the hidden states).
//
// Cross-encoders (config.json architectures *ForSequenceClassification) get a head in the
// text spec (we_cls_head, applied by embed.c): BERT's is classifier(tanh(pooler.dense(h0))),
// RoBERTa / XLM-R's out_proj(tanh(classifier.dense(h0))) with no pooler; h0 is the first token.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../formats/gguf.h"
#include "forward.h"

typedef struct bert_layer {
    we_qkv qkv;                   // attention.self.query, key, value
    we_postln_tail tail;          // attention.output.dense, .LayerNorm; intermediate.dense;
                                  // output.dense, .LayerNorm
} bert_layer;

typedef struct bert_weights {
    bert_layer *layers;           // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;            // (V, E)  embeddings.word_embeddings
    we_weight pos_emb;            // (P, E)  embeddings.position_embeddings
    we_weight type_emb;           // (T, E)  embeddings.token_type_embeddings
    we_weight emb_ln_w, emb_ln_b; // (E)     embeddings.LayerNorm
    we_weight pooler_w, pooler_b; // (E, E), (E)  optional (not in GGUF files)
    // *ForSequenceClassification heads (cross-encoders):
    we_weight cls_w, cls_b;       // (L, E), (L)  classifier (BERT: on the pooler output)
    we_weight cls_dense_w, cls_dense_b;   // (E, E), (E)  classifier.dense (RoBERTa head)
    we_weight cls_out_w, cls_out_b;       // (L, E), (L)  classifier.out_proj (RoBERTa head)
} bert_weights;

typedef struct bert_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size
                              //   n_ctx: the longest input: n_pos, or n_pos - pad_token_id - 1 (roberta)
    int32_t n_pos;            // max_position_embeddings (rows of the position table)
    int32_t n_types;          // type_vocab_size
    float eps;                // layer_norm_eps
    we_act act;               // hidden_act
    int32_t pad_token_id;
    bool pos_from_pad;        // roberta, xlm-roberta (config.json only)
    we_cls_cfg cls;           // the classification head, if the config names one
} bert_hparams;

// Entry conditions (bert_enabled).
enum { COND_TYPES = 1, COND_BERT_HEAD, COND_ROBERTA_HEAD };

#define M(f) (uint16_t)offsetof(bert_weights, f)
#define L(f) (uint16_t)offsetof(bert_layer, f)

//  hf name                                              gguf name                         grp layer kind        flags cond nd dims
static const we_wentry g_bert_entries[] = {
    {"embeddings.word_embeddings.weight",                 "token_embd.weight",              0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.position_embeddings.weight",             "position_embd.weight",           0, false, WE_W_VEC, 0, 0, 2, {WE_D_POS, WE_D_EMBD}, M(pos_emb)},
    {"embeddings.token_type_embeddings.weight",           "token_types.weight",             0, false, WE_W_VEC, 0, COND_TYPES, 2, {WE_D_TYPES, WE_D_EMBD}, M(type_emb)},
    {"embeddings.LayerNorm.weight",                       "token_embd_norm.weight",         0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_w)},
    {"embeddings.LayerNorm.bias",                         "token_embd_norm.bias",           0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_b)},
    WE_BERT_QKV_ENTRIES(L(qkv)),
    WE_POSTLN_ATTN_OUT_ENTRIES(L(tail)),
    WE_POSTLN_BERT_FFN_ENTRIES(0, L(tail)),
    // llama.cpp's converter drops the pooler; sentence-transformers models do not use it.
    {"pooler.dense.weight",                               NULL,                             0, false, WE_W_LINEAR, WE_WF_OPTIONAL, 0, 2, {WE_D_EMBD, WE_D_EMBD}, M(pooler_w)},
    {"pooler.dense.bias",                                 NULL,                             0, false, WE_W_VEC, WE_WF_OPTIONAL, 0, 1, {WE_D_EMBD}, M(pooler_b)},
    // The heads stay f32 whatever the dtype (WE_W_VEC: small, and the score's last step).
    // BertForSequenceClassification: classifier(tanh(pooler.dense(h[:, 0]))).
    {"classifier.weight",                                 NULL,                             0, false, WE_W_VEC, 0, COND_BERT_HEAD, 2, {WE_D_LABELS, WE_D_EMBD}, M(cls_w)},
    {"classifier.bias",                                   NULL,                             0, false, WE_W_VEC, 0, COND_BERT_HEAD, 1, {WE_D_LABELS}, M(cls_b)},
    // RobertaClassificationHead: out_proj(tanh(dense(h[:, 0]))), no pooler.
    {"classifier.dense.weight",                           NULL,                             0, false, WE_W_VEC, 0, COND_ROBERTA_HEAD, 2, {WE_D_EMBD, WE_D_EMBD}, M(cls_dense_w)},
    {"classifier.dense.bias",                             NULL,                             0, false, WE_W_VEC, 0, COND_ROBERTA_HEAD, 1, {WE_D_EMBD}, M(cls_dense_b)},
    {"classifier.out_proj.weight",                        NULL,                             0, false, WE_W_VEC, 0, COND_ROBERTA_HEAD, 2, {WE_D_LABELS, WE_D_EMBD}, M(cls_out_w)},
    {"classifier.out_proj.bias",                          NULL,                             0, false, WE_W_VEC, 0, COND_ROBERTA_HEAD, 1, {WE_D_LABELS}, M(cls_out_b)},
};

static const char *const g_bert_prefixes[] = {"bert.", "roberta.", "model.", NULL};
static const char *const g_bert_gguf[] = {"bert", NULL};

#define LIM (1 << 24)   // sanity bound on every dimension (positions, vocab, widths)

static wembed_status bert_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    bert_hparams *hp = ma->hp;
    wembed_status rc;
    bool roberta = strcmp(ma->model_type, "roberta") == 0 || strcmp(ma->model_type, "xlm-roberta") == 0;
    if ((rc = we_cfg_int(cfg, "vocab_size", 30522, 1, LIM, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 768, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 12, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 12, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 3072, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 512, 1, LIM, &hp->n_pos, err)) ||
        (rc = we_cfg_int(cfg, "type_vocab_size", 2, 0, 1 << 16, &hp->n_types, err)) ||
        (rc = we_cfg_int(cfg, "pad_token_id", roberta ? 1 : 0, 0, LIM, &hp->pad_token_id, err)) ||
        (rc = we_cfg_pos_float(cfg, "layer_norm_eps", 1e-12, &hp->eps, err)) ||
        (rc = we_cfg_act(cfg, "hidden_act", "gelu", &hp->act, err)) ||
        (rc = we_cfg_cls_head(cfg, &hp->cls, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                         hp->base.n_embd, hp->base.n_head);
    const we_json *pet = we_json_get(cfg, "position_embedding_type");
    if (pet && pet->type != WE_JSON_NULL && !we_json_str_eq(pet, "absolute"))
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: position_embedding_type \"%.40s\" is not supported (absolute)",
                         we_json_as_str(pet, NULL) ? pet->u.str : "?");
    hp->pos_from_pad = roberta;
    hp->base.n_ctx = hp->n_pos;
    if (roberta) {
        hp->base.n_ctx = hp->n_pos - hp->pad_token_id - 1;
        if (hp->base.n_ctx < 1)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: max_position_embeddings %d leaves no position after pad_token_id %d",
                             hp->n_pos, hp->pad_token_id);
    }
    return WEMBED_STATUS_OK;
}

static wembed_status bert_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    bert_hparams *hp = ma->hp;
    wembed_status rc;
    if ((rc = we_gguf_cfg_int(g, "bert.embedding_length", -1, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.block_count", -1, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.attention.head_count", -1, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.feed_forward_length", -1, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_gguf_cfg_int(g, "bert.context_length", -1, 1, LIM, &hp->n_pos, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: embedding_length is not a multiple of head_count");
    if ((rc = we_gguf_cfg_pos_float(g, "bert.attention.layer_norm_epsilon", 1e-12, &hp->eps, err))) return rc;
    hp->act = WE_ACT_GELU;
    // Without tensors (a vocab-only file) the tokenizer gives the sizes.
    const we_gguf_kv *toks = we_gguf_find(g, "tokenizer.ggml.tokens");
    int64_t v = we_gguf_rows(g, "token_embd.weight", toks && toks->type == WE_GGUF_ARRAY ? (int64_t)WE_MIN(toks->n, (uint64_t)LIM) : 0);
    hp->base.n_vocab = (int32_t)WE_MIN(v, (int64_t)LIM);
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
    hp->base.n_ctx = hp->n_pos;
    return WEMBED_STATUS_OK;
}

static int64_t bert_dim(const we_arch_model *ma, int sym, int group) {
    const bert_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_POS: return hp->n_pos;
    case WE_D_TYPES: return hp->n_types;
    case WE_D_LABELS: return hp->cls.n_labels;
    }
    return we_text_hp_dim(ma, sym, group);
}

static bool bert_enabled(const we_arch_model *ma, int cond) {
    const bert_hparams *hp = ma->hp;
    switch (cond) {
    case COND_TYPES: return hp->n_types > 0;
    case COND_BERT_HEAD: return hp->cls.on && !hp->pos_from_pad;
    case COND_ROBERTA_HEAD: return hp->cls.on && hp->pos_from_pad;
    }
    return true;
}

static wembed_status bert_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present;
    const bert_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->pos_rule = hp->pos_from_pad ? WE_POS_FROM_PAD : WE_POS_PLAIN;
    t->pad_id = hp->pad_token_id;
    t->pooling = WEMBED_POOLING_MEAN;
    t->chunks = true;
    if (hp->cls.on) {
        const bert_weights *w = ma->w;
        we_cls_head *h = &t->head;
        h->n_labels = hp->cls.n_labels;
        h->sigmoid = hp->cls.sigmoid;
        h->id2label = hp->cls.id2label;
        h->pooling = WEMBED_POOLING_CLS;   // both heads read the first token
        if (hp->pos_from_pad) {
            // RobertaClassificationHead: dense, tanh, out_proj on <s>.
            h->pre_w = &w->cls_dense_w; h->pre_b = &w->cls_dense_b;
            h->pre_tanh = true;   // torch.tanh in RobertaClassificationHead
            h->out_w = &w->cls_out_w; h->out_b = &w->cls_out_b;
        } else {
            // BertForSequenceClassification: the pooler (dense + tanh on [CLS]), then classifier.
            if (!w->pooler_w.data)
                return we_errorf(err, WEMBED_STATUS_MISSING_TENSOR, "BertForSequenceClassification needs the pooler (pooler.dense.weight)");
            h->pre_w = &w->pooler_w; h->pre_b = &w->pooler_b;
            h->pre_tanh = true;   // BertPooler's nn.Tanh
            h->out_w = &w->cls_w; h->out_b = &w->cls_b;
        }
    }
    return WEMBED_STATUS_OK;
}

static int bert_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const bert_hparams *hp = ma->hp;
    return snprintf(buf, cap, "\"n_pos\":%d,\"n_types\":%d,\"eps\":%.7g,\"act\":\"%s\",\"pad_token_id\":%d,\"positions_from_pad\":%s%s",
                    hp->n_pos, hp->n_types, (double)hp->eps, we_act_name(hp->act), hp->pad_token_id, hp->pos_from_pad ? "true" : "false",
                    hp->cls.on ? (hp->pos_from_pad ? ",\"head\":\"roberta_classification\"" : ",\"head\":\"bert_pooler_classifier\"") : "");
}

static wembed_status bert_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                  const we_fwd_opts *o, float *x, we_err *err) {
    (void)o;
    const bert_hparams *hp = m->hp;
    const bert_weights *w = m->w;
    const int E = hp->base.n_embd, F = hp->base.n_ff, H = hp->base.n_head, n = tk->n_tok;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, &w->type_emb, w->pos_emb.N, err);
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    const we_attn_params ap = { .n_head = H, .n_kv_head = H, .head_dim = E / H, .scale = 1.0f / sqrtf((float)(E / H)) };
    const we_ffn ffn = { .F = F, .act = hp->act };
    const bert_layer *L0 = &w->layers[0];
    const we_weight *lin[] = { &L0->qkv.q_w, &L0->tail.up_w, &L0->tail.down_w };
    float *qkv, *a, *h, *ff, *attn;
    void *lscratch;
    we_carve c = {0};
    for (;;) {
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);
        a = we_carve_floats(&c, (size_t)n * E);
        h = we_carve_floats(&c, (size_t)n * E);
        ff = we_carve_floats(&c, we_ffn_floats(&ffn, n));
        attn = we_carve_floats(&c, we_attend_scratch_floats(tk, &ap, false, we_pool_threads(pool)));
        lscratch = we_carve_bytes(&c, we_linear_scratch_max(n, lin, 3));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    // Embeddings: word + token type, then + position (HF's order of the float additions).
    we_embed_word_type(x, tk, &w->tok_emb, &w->type_emb);
    we_gather_rows(x, &w->pos_emb, tk->pos, n, true);
    we_apply_norm(pool, &ln, x, E, x, E, &w->emb_ln_w, &w->emb_ln_b, n, E);

    for (int il = 0; il < hp->base.n_layer; il++) {
        const bert_layer *L = &w->layers[il];
        we_qkv_linear(pool, &L->qkv, qkv, x, n, E, lscratch);
        we_attend(pool, tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, NULL, NULL, attn);
        we_postln_tail_apply(pool, &L->tail, &ffn, &ln, x, a, h, ff, n, E, lscratch);
    }
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_bert_types[] = {"bert", "roberta", "xlm-roberta", NULL};

const we_family we_family_bert = {
    .name = "bert",
    .model_types = g_bert_types,
    .gguf_archs = g_bert_gguf,
    .hp_size = sizeof(bert_hparams),
    .w_size = sizeof(bert_weights),
    .layer_size = sizeof(bert_layer),
    .entries = g_bert_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_bert_entries),
    .prefixes = g_bert_prefixes,
    .n_groups = 1,
    .from_config = bert_from_config,
    .from_gguf = bert_from_gguf,
    .dim = bert_dim,
    .n_layer = we_text_hp_n_layer,
    .enabled = bert_enabled,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = bert_finish,
    .describe = bert_describe,
    .forward = bert_forward,
};
