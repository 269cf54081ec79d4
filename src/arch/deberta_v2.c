// deberta_v2.c - the deberta-v2 family (DeBERTa-v2 / v3: mixedbread-ai/mxbai-rerank-xsmall-v1
// and -base-v1, microsoft/deberta-v3-*), as HF's modeling_deberta_v2.py computes it:
// hyper-parameters from config.json (DebertaV2Config names and defaults), the tensor table, the
// forward pass with disentangled attention, and the DebertaV2ForSequenceClassification head.
//
//   x = LN(E_word[id] (+ E_pos[pos]) (+ E_type[type]))                            (n_tok, E)
//   r = LN_rel(rel_embeddings)                                                   (2S, E), once
//   per layer:  q, k, v = x Wq^T + bq, ...                                       (n_tok, 3E)
//               kr = r Wk^T + bk,  qr = r Wq^T + bq     (share_att_key; else pos_key_proj /
//                                                        pos_query_proj)          (2S, E)
//               s(i, j) = (q_i . k_j + q_i . kr[c(i, j)] + k_j . qr[p(i, j)]) / sqrt(d * 3)
//               x = LN(x + softmax_j(s) v Wo^T + bo)
//               x = LN(x + gelu(x Wup^T + bup) Wdown^T + bdown)
//   head:       logits = classifier(act(pooler.dense(x[0])))                     (n_labels)
//
// Subtle points of the reference, each mirrored here (tests/mutations.json changes each one):
//   1. Relative positions. delta(r) for r = i - j (query i, key j) is
//      make_log_bucket_position(r, position_buckets, max_relative_positions) when both are > 0,
//      else r itself. With mid = position_buckets / 2: |r| <= mid stays r; otherwise
//      sign(r) * (mid + ceil(log(|r| / mid) / log((max_rel - 1) / mid) * (mid - 1))).
//      max_relative_positions < 1 means max_position_embeddings (mxbai: -1 -> 512). The
//      reference runs that log in float32 on int64 tensors; it is computed here in double:
//      gen/deberta_fixture.py checks that both give the same bucket for every |r| below 8192 of
//      the mxbai configuration (mid 128, max_rel 512) and of the fixture's.
//   2. The span S (att_span, pos_ebd_size) is position_buckets when > 0, else
//      max_relative_positions; rel_embeddings has 2S rows. c2p (content to position):
//      c(i, j) = clamp(delta(i - j) + S, 0, 2S - 1), q_i against the position KEYS.
//      p2c (position to content) is computed by the reference as
//      bmm(key, pos_query^T) gathered at clamp(-delta(j' - i') + S) over (j', i') and then
//      TRANSPOSED: so entry (i, j) reads k_j against the position QUERY at
//      p(i, j) = clamp(-delta(j - i) + S, 0, 2S - 1) (= c(i, j) since delta is odd; written as
//      the reference does). Both only when relative_attention is true and pos_att_type names
//      them ("c2p", "p2c"; a list, or a "p2c|c2p" string).
//   3. One scale for all three terms: 1 / sqrt(head_dim * scale_factor) with scale_factor =
//      1 + [c2p in pos_att_type] + [p2c in pos_att_type] (3 for mxbai), counted from
//      pos_att_type even when relative_attention is false.
//   4. share_att_key (mxbai: true): the position keys and queries come from the layer's own
//      key_proj and query_proj (with their biases) applied to the relative embeddings; without
//      it from pos_key_proj (c2p) and pos_query_proj (p2c), both with biases.
//   5. norm_rel_ebd "layer_norm" (mxbai): rel_embeddings go through encoder.LayerNorm
//      (layer_norm_eps) once, before every layer's projections; "none" (the default): raw.
//   6. Embeddings: word, + position_embeddings only when position_biased_input (default true;
//      false for mxbai and DeBERTa-v3, whose checkpoints then have no position table), + token
//      type embeddings only when type_vocab_size > 0 (0 for mxbai: the pair template's type ids
//      are read by nothing), then LayerNorm, then * mask (padding rows 0: a packed batch has
//      none). No embed_proj: embedding_size must equal hidden_size.
//   7. The head (DebertaV2ForSequenceClassification): ContextPooler = dense then
//      ACT2FN[pooler_hidden_act] (gelu, erf, for mxbai; NOT BERT's tanh) on the FIRST token
//      ([CLS]), pooler_dropout and cls_dropout inert at inference, then classifier (num_labels:
//      1 for mxbai). The score is the raw logit.
//   8. Post-LN blocks as BERT's, hidden_act from config.json, layer_norm_eps (1e-7 for mxbai).
// The mxbai rerankers, as assumed here (mxbai-rerank-large-v1's published config.json has these
// keys; the xsmall and base configs were not read offline): vocab 128100, max_position_embeddings
// 512, position_buckets 256, max_relative_positions -1, relative_attention, pos_att_type
// [p2c, c2p], share_att_key, norm_rel_ebd layer_norm, position_biased_input false,
// type_vocab_size 0, layer_norm_eps 1e-7, gelu, pooler_hidden_act gelu, no conv_kernel_size;
// xsmall hidden 384 / 12 layers / 6 heads / intermediate 1536, base 768 / 12 / 12 / 3072.
// Attention keeps a T x T score matrix per (sequence, head) being worked on (the c2p / p2c terms
// are gathered per pair), T <= n_ctx: O(T^2) per thread, unlike we_attend's O(T).
// Refused at load (UNSUPPORTED): conv_kernel_size > 0 (ConvLayer; none of the rerankers has it),
// embedding_size != hidden_size, attention_head_size other than hidden / heads, pos_att_type
// entries other than c2p / p2c, pooler_hidden_size != hidden_size. llama.cpp has no DeBERTa
// architecture, so there is no GGUF form.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/pool.h"
#include "forward.h"

typedef struct deb_layer {
    we_qkv qkv;                   // attention.self.query_proj, key_proj, value_proj
    we_weight pk_w, pk_b;         // (E, E), (E)   attention.self.pos_key_proj (c2p, no share_att_key)
    we_weight pq_w, pq_b;         // (E, E), (E)   attention.self.pos_query_proj (p2c, no share_att_key)
    we_postln_tail tail;          // attention.output.dense, .LayerNorm; intermediate.dense;
                                  // output.dense, .LayerNorm
} deb_layer;

typedef struct deb_weights {
    deb_layer *layers;            // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;            // (V, E)   embeddings.word_embeddings
    we_weight pos_emb;            // (P, E)   embeddings.position_embeddings (position_biased_input)
    we_weight type_emb;           // (T, E)   embeddings.token_type_embeddings (type_vocab_size > 0)
    we_weight emb_ln_w, emb_ln_b; // (E)      embeddings.LayerNorm
    we_weight rel_emb;            // (2S, E)  encoder.rel_embeddings (relative_attention)
    we_weight rel_ln_w, rel_ln_b; // (E)      encoder.LayerNorm (norm_rel_ebd layer_norm)
    we_weight pooler_w, pooler_b; // (E, E), (E)  pooler.dense (ContextPooler)
    we_weight cls_w, cls_b;       // (L, E), (L)  classifier
} deb_weights;

typedef struct deb_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size
                              //   n_ctx: max_position_embeddings
    int32_t n_pos;            // max_position_embeddings (rows of the position table)
    int32_t n_types;          // type_vocab_size
    float eps;                // layer_norm_eps
    we_act act;               // hidden_act
    bool pos_biased;          // position_biased_input
    bool rel;                 // relative_attention
    bool c2p, p2c;            // pos_att_type
    bool share_att_key;
    bool norm_rel;            // norm_rel_ebd has "layer_norm"
    int32_t buckets;          // position_buckets (<= 0: none)
    int32_t max_rel;          // max_relative_positions, < 1 resolved to max_position_embeddings
    int32_t span;             // att_span S: buckets > 0 ? buckets : max_rel
    we_act pooler_act;        // pooler_hidden_act (tanh: pooler_tanh)
    bool pooler_tanh;
    we_cls_cfg cls;           // the classification head, if the config names one
} deb_hparams;

enum { COND_POS = 1, COND_TYPES, COND_REL, COND_REL_LN, COND_POS_KEY, COND_POS_QUERY, COND_HEAD };
enum { D_REL = WE_D_FAMILY };   // rows of rel_embeddings, 2S

#define M(f) (uint16_t)offsetof(deb_weights, f)
#define L(f) (uint16_t)offsetof(deb_layer, f)

//  hf name (after "deberta.")                              grp layer kind    flags cond nd dims
static const we_wentry g_deb_entries[] = {
    {"embeddings.word_embeddings.weight",                   NULL, 0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.position_embeddings.weight",               NULL, 0, false, WE_W_VEC, 0, COND_POS, 2, {WE_D_POS, WE_D_EMBD}, M(pos_emb)},
    {"embeddings.token_type_embeddings.weight",             NULL, 0, false, WE_W_VEC, 0, COND_TYPES, 2, {WE_D_TYPES, WE_D_EMBD}, M(type_emb)},
    {"embeddings.LayerNorm.weight",                         NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_w)},
    {"embeddings.LayerNorm.bias",                           NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_b)},
    {"encoder.rel_embeddings.weight",                       NULL, 0, false, WE_W_VEC, 0, COND_REL, 2, {D_REL, WE_D_EMBD}, M(rel_emb)},
    {"encoder.LayerNorm.weight",                            NULL, 0, false, WE_W_VEC, 0, COND_REL_LN, 1, {WE_D_EMBD}, M(rel_ln_w)},
    {"encoder.LayerNorm.bias",                              NULL, 0, false, WE_W_VEC, 0, COND_REL_LN, 1, {WE_D_EMBD}, M(rel_ln_b)},
    {"encoder.layer.%d.attention.self.query_proj.weight",   NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(qkv.q_w)},
    {"encoder.layer.%d.attention.self.query_proj.bias",     NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(qkv.q_b)},
    {"encoder.layer.%d.attention.self.key_proj.weight",     NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(qkv.k_w)},
    {"encoder.layer.%d.attention.self.key_proj.bias",       NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(qkv.k_b)},
    {"encoder.layer.%d.attention.self.value_proj.weight",   NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(qkv.v_w)},
    {"encoder.layer.%d.attention.self.value_proj.bias",     NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(qkv.v_b)},
    {"encoder.layer.%d.attention.self.pos_key_proj.weight", NULL, 0, true, WE_W_LINEAR, 0, COND_POS_KEY, 2, {WE_D_EMBD, WE_D_EMBD}, L(pk_w)},
    {"encoder.layer.%d.attention.self.pos_key_proj.bias",   NULL, 0, true, WE_W_VEC, 0, COND_POS_KEY, 1, {WE_D_EMBD}, L(pk_b)},
    {"encoder.layer.%d.attention.self.pos_query_proj.weight", NULL, 0, true, WE_W_LINEAR, 0, COND_POS_QUERY, 2, {WE_D_EMBD, WE_D_EMBD}, L(pq_w)},
    {"encoder.layer.%d.attention.self.pos_query_proj.bias", NULL, 0, true, WE_W_VEC, 0, COND_POS_QUERY, 1, {WE_D_EMBD}, L(pq_b)},
    WE_POSTLN_ATTN_OUT_ENTRIES(L(tail)),
    WE_POSTLN_BERT_FFN_ENTRIES(0, L(tail)),
    // DebertaV2ForSequenceClassification (outside "deberta."); the head stays f32 (WE_W_VEC).
    {"pooler.dense.weight",                                 NULL, 0, false, WE_W_VEC, 0, COND_HEAD, 2, {WE_D_EMBD, WE_D_EMBD}, M(pooler_w)},
    {"pooler.dense.bias",                                   NULL, 0, false, WE_W_VEC, 0, COND_HEAD, 1, {WE_D_EMBD}, M(pooler_b)},
    {"classifier.weight",                                   NULL, 0, false, WE_W_VEC, 0, COND_HEAD, 2, {WE_D_LABELS, WE_D_EMBD}, M(cls_w)},
    {"classifier.bias",                                     NULL, 0, false, WE_W_VEC, 0, COND_HEAD, 1, {WE_D_LABELS}, M(cls_b)},
};

static const char *const g_deb_prefixes[] = {"deberta.", NULL};

#define LIM (1 << 24)

static char deb_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

// Whether the "|"-separated, case-insensitive list s (n bytes) names word (DebertaV2Config's
// `[x.strip() for x in s.lower().split("|")]`); *unknown counts the other non-empty entries.
static bool list_has(const char *s, size_t n, const char *word, const char *const *known, int *unknown) {
    bool has = false;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '|') j++;
        size_t a = i, b = j;
        while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
        bool is_word = b - a == strlen(word), is_known = false;
        for (size_t k = 0; is_word && k < b - a; k++)
            is_word = deb_lower(s[a + k]) == word[k];
        for (const char *const *kw = known; kw && *kw && !is_known; kw++) {
            is_known = b - a == strlen(*kw);
            for (size_t k = 0; is_known && k < b - a; k++) is_known = deb_lower(s[a + k]) == (*kw)[k];
        }
        has = has || is_word;
        if (unknown && b > a && !is_known) (*unknown)++;
        i = j + 1;
    }
    return has;
}

static wembed_status deb_pos_att_type(const we_json *cfg, deb_hparams *hp, we_err *err) {
    static const char *const known[] = {"c2p", "p2c", NULL};
    const we_json *v = we_json_get(cfg, "pos_att_type");
    int unknown = 0;
    size_t n;
    const char *s;
    if (!v || v->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if ((s = we_json_as_str(v, &n))) {
        hp->c2p = list_has(s, n, "c2p", known, &unknown);
        hp->p2c = list_has(s, n, "p2c", known, NULL);
    } else if (we_json_is(v, WE_JSON_ARRAY)) {
        for (uint32_t i = 0; i < v->len; i++) {
            if (!(s = we_json_as_str(we_json_at(v, i), &n)))
                return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"pos_att_type\" must list strings");
            hp->c2p = hp->c2p || (n == 3 && memcmp(s, "c2p", 3) == 0);
            hp->p2c = hp->p2c || (n == 3 && memcmp(s, "p2c", 3) == 0);
            unknown += !(n == 3 && (memcmp(s, "c2p", 3) == 0 || memcmp(s, "p2c", 3) == 0));
        }
    } else {
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"pos_att_type\" must be a list or a string");
    }
    if (unknown)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: pos_att_type names a type other than c2p and p2c");
    return WEMBED_STATUS_OK;
}

static wembed_status deb_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    deb_hparams *hp = ma->hp;
    wembed_status rc;
    int32_t emb_size, conv, head_size, pooler_size;
    if ((rc = we_cfg_int(cfg, "vocab_size", 128100, 1, LIM, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 1536, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 24, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 24, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 6144, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 512, 1, LIM, &hp->n_pos, err)) ||
        (rc = we_cfg_int(cfg, "type_vocab_size", 0, 0, 1 << 16, &hp->n_types, err)) ||
        (rc = we_cfg_pos_float(cfg, "layer_norm_eps", 1e-7, &hp->eps, err)) ||
        (rc = we_cfg_act(cfg, "hidden_act", "gelu", &hp->act, err)) ||
        (rc = we_cfg_bool(cfg, "position_biased_input", true, &hp->pos_biased, err)) ||
        (rc = we_cfg_bool(cfg, "relative_attention", false, &hp->rel, err)) ||
        (rc = we_cfg_bool(cfg, "share_att_key", false, &hp->share_att_key, err)) ||
        (rc = we_cfg_int(cfg, "position_buckets", -1, INT32_MIN, LIM, &hp->buckets, err)) ||
        (rc = we_cfg_int(cfg, "max_relative_positions", -1, INT32_MIN, LIM, &hp->max_rel, err)) ||
        (rc = we_cfg_int(cfg, "embedding_size", hp->base.n_embd, 1, 65536, &emb_size, err)) ||
        (rc = we_cfg_int(cfg, "conv_kernel_size", 0, INT32_MIN, LIM, &conv, err)) ||
        (rc = we_cfg_int(cfg, "pooler_hidden_size", hp->base.n_embd, 1, 65536, &pooler_size, err)) ||
        (rc = deb_pos_att_type(cfg, hp, err)) ||
        (rc = we_cfg_cls_head(cfg, &hp->cls, err)))
        return rc;
    hp->base.n_ctx = hp->n_pos;
    if (hp->base.n_embd % hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                         hp->base.n_embd, hp->base.n_head);
    if ((rc = we_cfg_int(cfg, "attention_head_size", hp->base.n_embd / hp->base.n_head, 1, 65536, &head_size, err))) return rc;
    if (emb_size != hp->base.n_embd)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: embedding_size %d != hidden_size %d (embed_proj) is not supported",
                         emb_size, hp->base.n_embd);
    if (conv > 0) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: conv_kernel_size %d (DeBERTa's ConvLayer) is not supported", conv);
    if (head_size != hp->base.n_embd / hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: attention_head_size %d other than hidden_size / heads is not supported", head_size);
    if (hp->cls.on && pooler_size != hp->base.n_embd)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: pooler_hidden_size %d != hidden_size %d is not supported", pooler_size,
                         hp->base.n_embd);
    // pooler_hidden_act: an ACT2FN name; tanh besides we_cfg_act's.
    const char *pa = we_json_as_str(we_json_get(cfg, "pooler_hidden_act"), NULL);
    hp->pooler_tanh = pa && strcmp(pa, "tanh") == 0;
    if (!hp->pooler_tanh && (rc = we_cfg_act(cfg, "pooler_hidden_act", "gelu", &hp->pooler_act, err))) return rc;
    const we_json *nre = we_json_get(cfg, "norm_rel_ebd");
    size_t n;
    const char *s = we_json_as_str(nre, &n);
    if (nre && nre->type != WE_JSON_NULL && !s) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"norm_rel_ebd\" must be a string");
    hp->norm_rel = s && list_has(s, n, "layer_norm", NULL, NULL);
    if (hp->rel) {
        if (hp->max_rel < 1) hp->max_rel = hp->n_pos;
        hp->span = hp->buckets > 0 ? hp->buckets : hp->max_rel;
        // The log bucket divides by log((max_rel - 1) / mid): it needs max_rel - 1 > mid.
        if (hp->buckets > 0 && (hp->buckets < 2 || hp->max_rel - 1 <= hp->buckets / 2))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: position_buckets %d needs max_relative_positions above %d",
                             hp->buckets, hp->buckets / 2 + 1);
    }
    return WEMBED_STATUS_OK;
}

static int64_t deb_dim(const we_arch_model *ma, int sym, int group) {
    const deb_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_POS: return hp->n_pos;
    case WE_D_TYPES: return hp->n_types;
    case WE_D_LABELS: return hp->cls.n_labels;
    case D_REL: return 2 * (int64_t)hp->span;
    }
    return we_text_hp_dim(ma, sym, group);
}


static bool deb_enabled(const we_arch_model *ma, int cond) {
    const deb_hparams *hp = ma->hp;
    switch (cond) {
    case COND_POS: return hp->pos_biased;
    case COND_TYPES: return hp->n_types > 0;
    case COND_REL: return hp->rel;
    case COND_REL_LN: return hp->rel && hp->norm_rel;
    case COND_POS_KEY: return hp->rel && !hp->share_att_key && hp->c2p;
    case COND_POS_QUERY: return hp->rel && !hp->share_att_key && hp->p2c;
    case COND_HEAD: return hp->cls.on;
    }
    return true;
}

static wembed_status deb_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const deb_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->pos_rule = WE_POS_PLAIN;
    t->pooling = WEMBED_POOLING_MEAN;
    t->chunks = true;
    if (hp->cls.on) {
        const deb_weights *w = ma->w;
        we_cls_head *h = &t->head;
        h->n_labels = hp->cls.n_labels;
        h->sigmoid = hp->cls.sigmoid;
        h->id2label = hp->cls.id2label;
        h->pooling = WEMBED_POOLING_CLS;   // ContextPooler reads the first token
        // ContextPooler: dense, then pooler_hidden_act, on the first token; then classifier.
        h->pre_w = &w->pooler_w; h->pre_b = &w->pooler_b;
        h->pre_tanh = hp->pooler_tanh;
        h->pre_act = hp->pooler_tanh ? WE_ACT_NONE : hp->pooler_act;
        h->out_w = &w->cls_w; h->out_b = &w->cls_b;
    }
    return WEMBED_STATUS_OK;
}

static int deb_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const deb_hparams *hp = ma->hp;
    return snprintf(buf, cap,
                    "\"n_pos\":%d,\"n_types\":%d,\"eps\":%.7g,\"act\":\"%s\",\"relative_attention\":%s,\"pos_att_type\":\"%s%s%s\","
                    "\"position_buckets\":%d,\"max_relative_positions\":%d,\"share_att_key\":%s,\"norm_rel_ebd\":\"%s\","
                    "\"position_biased_input\":%s%s%s%s",
                    hp->n_pos, hp->n_types, (double)hp->eps, we_act_name(hp->act), hp->rel ? "true" : "false", hp->c2p ? "c2p" : "",
                    hp->c2p && hp->p2c ? "|" : "", hp->p2c ? "p2c" : "", hp->buckets, hp->max_rel, hp->share_att_key ? "true" : "false",
                    hp->norm_rel ? "layer_norm" : "none", hp->pos_biased ? "true" : "false",
                    hp->cls.on ? ",\"head\":\"context_pooler_classifier\",\"pooler_act\":\"" : "",
                    hp->cls.on ? (hp->pooler_tanh ? "tanh" : we_act_name(hp->pooler_act)) : "", hp->cls.on ? "\"" : "");
}

// -----------------------------------------------------------------------------------------
// Relative positions (subtle points 1 and 2)

// delta(r): make_log_bucket_position(r, buckets, max_rel), or r without buckets.
static int32_t deb_delta(const deb_hparams *hp, int32_t r) {
    if (hp->buckets <= 0 || hp->max_rel <= 0) return r;
    const int32_t mid = hp->buckets / 2;
    const int32_t a = r < 0 ? -r : r;
    if (a <= mid) return r;
    double lp = ceil(log((double)a / mid) / log((double)(hp->max_rel - 1) / mid) * (mid - 1)) + mid;
    return r < 0 ? -(int32_t)lp : (int32_t)lp;
}

static int32_t deb_clamp_span(const deb_hparams *hp, int32_t x) { return x < 0 ? 0 : x > 2 * hp->span - 1 ? 2 * hp->span - 1 : x; }

// The rel_embeddings rows pair (i, j) reads, r = i - j: c2p at c(r), p2c at p(r).
static int32_t deb_c2p_row(const deb_hparams *hp, int32_t r) { return deb_clamp_span(hp, deb_delta(hp, r) + hp->span); }
static int32_t deb_p2c_row(const deb_hparams *hp, int32_t r) { return deb_clamp_span(hp, -deb_delta(hp, -r) + hp->span); }

// The rows [lo, hi] of rel_embeddings that a sequence of T tokens reads.
static void deb_rel_rows(const deb_hparams *hp, int32_t T, int32_t *lo, int32_t *hi) {
    *lo = 2 * hp->span;
    *hi = -1;
    for (int32_t r = -(T - 1); r <= T - 1; r++) {
        int32_t c = deb_c2p_row(hp, r), p = deb_p2c_row(hp, r);
        *lo = WE_MIN(*lo, WE_MIN(c, p));
        *hi = WE_MAX(*hi, WE_MAX(c, p));
    }
}

// -----------------------------------------------------------------------------------------
// Disentangled attention over every sequence of a packed batch: one (sequence, head) per task.

typedef struct deb_attn_ctx {
    const deb_hparams *hp;
    const we_tokens *tk;
    const float *qkv;             // (n_tok, 3E): q | k | v
    const float *kr, *qr;         // (R, E) position keys (c2p) and queries (p2c) for rows [lo, lo + R)
    int32_t lo;
    const int32_t *c_row, *p_row; // (2 Tm - 1) c(r), p(r) at r + Tm - 1
    int32_t Tm;                   // the longest sequence
    float scale;                  // 1 / sqrt(d * scale_factor), / TempScale tau
    float *out;                   // (n_tok, E)
    float *scratch;               // per thread: deb_attn_floats
    size_t per_thread;
    we_queue queue;               // items: s * n_head + h
} deb_attn_ctx;

// Scratch floats of one thread: scores (Tm, Tm), c2p and p2c (Tm, Rm), packed K, Kr, Qr, V.
static size_t deb_attn_floats(int Tm, int Rm, int d) {
    return (size_t)Tm * Tm + 2 * (size_t)Tm * Rm + we_gemm_f32_packed_floats(Tm, d) + 2 * we_gemm_f32_packed_floats(Rm, d) +
           we_gemm_f32_packed_floats(d, Tm);
}

// dst packed for we_gemm_f32 from the (N, K) matrix at src with row stride ld.
static void deb_pack(float *dst, const float *src, int ld, int N, int K) {
    memset(dst, 0, we_gemm_f32_packed_floats(N, K) * sizeof(float));
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) dst[we_gemm_f32_packed_index(n, k, N, K)] = src[(size_t)n * ld + k];
}

static void deb_attn_task(void *vctx, int ith, int nth) {
    (void)nth;
    deb_attn_ctx *c = vctx;
    const deb_hparams *hp = c->hp;
    const int E = hp->base.n_embd, H = hp->base.n_head, d = E / H, E3 = 3 * E, Tm = c->Tm;
    const bool rel = hp->rel;
    int64_t item;
    while (we_queue_take(&c->queue, &item)) {
        const int s = (int)(item / H), h = (int)(item % H);
        const int T = we_seq_len(c->tk, s);
        if (T == 0) continue;
        const size_t t0 = (size_t)c->tk->seq_off[s];
        const float *q = c->qkv + t0 * E3 + (size_t)h * d, *k = q + E, *v = q + 2 * E;
        int32_t lo = 0, hi = -1;
        if (rel) deb_rel_rows(hp, T, &lo, &hi);
        const int R = hi - lo + 1;
        float *sc = c->scratch + (size_t)ith * c->per_thread;         // (T, T)
        float *c2p = sc + (size_t)Tm * Tm;                            // (T, R)
        float *p2c = c2p + (size_t)Tm * R;                            // (T, R)
        float *kp = p2c + (size_t)Tm * R;
        float *krp = kp + we_gemm_f32_packed_floats(Tm, d);
        float *qrp = krp + we_gemm_f32_packed_floats(R > 0 ? R : 1, d);
        float *vp = qrp + we_gemm_f32_packed_floats(R > 0 ? R : 1, d);

        // content to content: sc = q k^T
        deb_pack(kp, k, E3, T, d);
        we_gemm_f32(NULL, sc, T, q, E3, kp, NULL, T, d, T, WE_ACT_NONE);
        // content to position: c2p (T, R) = q kr^T; position to content: p2c (T, R) = k qr^T
        if (rel && hp->c2p) {
            deb_pack(krp, c->kr + (size_t)(lo - c->lo) * E + (size_t)h * d, E, R, d);
            we_gemm_f32(NULL, c2p, R, q, E3, krp, NULL, T, d, R, WE_ACT_NONE);
        }
        if (rel && hp->p2c) {
            deb_pack(qrp, c->qr + (size_t)(lo - c->lo) * E + (size_t)h * d, E, R, d);
            we_gemm_f32(NULL, p2c, R, k, E3, qrp, NULL, T, d, R, WE_ACT_NONE);
        }
        for (int i = 0; i < T; i++) {
            float *row = sc + (size_t)i * T;
            float mx = -INFINITY;
            for (int j = 0; j < T; j++) {
                float x = row[j];
                const int r = i - j + Tm - 1;
                // c2p: row i of q against the position key c(i - j);
                // p2c: the reference's gather over (key j, query i), transposed: row j of k.
                if (rel && hp->c2p) x += c2p[(size_t)i * R + (c->c_row[r] - lo)];
                if (rel && hp->p2c) x += p2c[(size_t)j * R + (c->p_row[r] - lo)];
                x *= c->scale;
                row[j] = x;
                mx = x > mx ? x : mx;
            }
            double sum = 0;
            for (int j = 0; j < T; j++) {
                row[j] = expf(row[j] - mx);
                sum += row[j];
            }
            const float inv = (float)(1.0 / sum);
            for (int j = 0; j < T; j++) row[j] *= inv;
        }
        // o (T, d) = softmax(s) v: V^T packed as the (d, T) weight.
        memset(vp, 0, we_gemm_f32_packed_floats(d, T) * sizeof(float));
        for (int j = 0; j < T; j++)
            for (int e = 0; e < d; e++) vp[we_gemm_f32_packed_index(e, j, d, T)] = v[(size_t)j * E3 + e];
        we_gemm_f32(NULL, c->out + t0 * E + (size_t)h * d, E, sc, T, vp, NULL, T, T, d, WE_ACT_NONE);
    }
}

// -----------------------------------------------------------------------------------------
// The forward pass

static wembed_status deb_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                 const we_fwd_opts *o, float *x, we_err *err) {
    (void)o;   // TempScale reaches the attention through tk->opts
    const deb_hparams *hp = m->hp;
    const deb_weights *w = m->w;
    const int E = hp->base.n_embd, F = hp->base.n_ff, H = hp->base.n_head, d = E / H, n = tk->n_tok;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    const we_weight *type_emb = hp->n_types > 0 ? &w->type_emb : NULL;
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, type_emb, hp->pos_biased ? w->pos_emb.N : 0, err);
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    const int32_t Tm = we_longest_seq(tk);
    int32_t lo = 0, hi = -1;
    if (hp->rel) deb_rel_rows(hp, Tm, &lo, &hi);
    const int32_t R = hi - lo + 1;      // rel_embeddings rows any sequence reads (0 without relative attention)
    const int nth = we_pool_threads(pool);
    const size_t per_thread = deb_attn_floats(Tm, R > 0 ? R : 1, d);
    const we_ffn ffn = { .F = F, .act = hp->act };
    const deb_layer *L0 = &w->layers[0];
    const we_weight *lin[] = { &L0->qkv.q_w, &L0->tail.up_w, &L0->tail.down_w, &L0->pk_w, &L0->pq_w };
    float *qkv, *a, *h, *ff, *rel, *kr, *qr, *attn;
    int32_t *rows;
    void *lscratch;
    we_carve c = {0};
    for (;;) {
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);
        a = we_carve_floats(&c, (size_t)n * E);
        h = we_carve_floats(&c, (size_t)n * E);
        ff = we_carve_floats(&c, we_ffn_floats(&ffn, n));
        rel = we_carve_floats(&c, (size_t)R * E);
        kr = we_carve_floats(&c, (size_t)R * E);
        qr = we_carve_floats(&c, (size_t)R * E);
        attn = we_carve_floats(&c, per_thread * (size_t)nth);
        rows = we_carve_bytes(&c, sizeof(int32_t) * 2 * (2 * (size_t)Tm - 1));
        lscratch = we_carve_bytes(&c, we_linear_scratch_max(WE_MAX(n, R), lin, 5));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    // Embeddings: word, + position (position_biased_input), + token type (type_vocab_size > 0),
    // in that order, then LayerNorm.
    we_gather_rows(x, &w->tok_emb, tk->ids, n, false);
    if (hp->pos_biased) we_gather_rows(x, &w->pos_emb, tk->pos, n, true);
    if (type_emb) {
        static const int32_t zero = 0;
        for (int i = 0; i < n; i++) we_gather_rows(x + (size_t)i * E, type_emb, tk->type_ids ? &tk->type_ids[i] : &zero, 1, true);
    }
    we_apply_norm(pool, &ln, x, E, x, E, &w->emb_ln_w, &w->emb_ln_b, n, E);

    // The relative embeddings the batch reads, normalized once (norm_rel_ebd).
    int32_t *c_row = rows, *p_row = rows + (2 * Tm - 1);
    if (R > 0) {
        const float *re = we_vec(&w->rel_emb) + (size_t)lo * E;
        memcpy(rel, re, (size_t)R * E * sizeof(float));
        if (hp->norm_rel) we_apply_norm(pool, &ln, rel, E, rel, E, &w->rel_ln_w, &w->rel_ln_b, R, E);
        for (int32_t r = -(Tm - 1); r <= Tm - 1; r++) {
            c_row[r + Tm - 1] = deb_c2p_row(hp, r);
            p_row[r + Tm - 1] = deb_p2c_row(hp, r);
        }
    }
    const int scale_factor = 1 + (hp->c2p ? 1 : 0) + (hp->p2c ? 1 : 0);
    const double tau = tk->opts && tk->opts->attn_temp > 0 ? tk->opts->attn_temp : 1.0;
    deb_attn_ctx ac = { .hp = hp, .tk = tk, .qkv = qkv, .kr = kr, .qr = qr, .lo = lo, .c_row = c_row, .p_row = p_row, .Tm = Tm,
                        .scale = (float)(1.0 / sqrt((double)d * scale_factor) / tau), .out = a, .scratch = attn,
                        .per_thread = per_thread };

    for (int il = 0; il < hp->base.n_layer; il++) {
        const deb_layer *Ly = &w->layers[il];
        we_qkv_linear(pool, &Ly->qkv, qkv, x, n, E, lscratch);
        if (R > 0 && hp->c2p) {
            const we_weight *kw = hp->share_att_key ? &Ly->qkv.k_w : &Ly->pk_w, *kb = hp->share_att_key ? &Ly->qkv.k_b : &Ly->pk_b;
            we_linear(pool, kr, E, rel, E, kw, kb, R, WE_ACT_NONE, lscratch);
        }
        if (R > 0 && hp->p2c) {
            const we_weight *qw = hp->share_att_key ? &Ly->qkv.q_w : &Ly->pq_w, *qb = hp->share_att_key ? &Ly->qkv.q_b : &Ly->pq_b;
            we_linear(pool, qr, E, rel, E, qw, qb, R, WE_ACT_NONE, lscratch);
        }
        we_queue_init(&ac.queue, (int64_t)tk->n_seq * H);
        we_pool_run(pool, deb_attn_task, &ac);
        we_postln_tail_apply(pool, &Ly->tail, &ffn, &ln, x, a, h, ff, n, E, lscratch);
    }
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_deb_types[] = {"deberta-v2", NULL};

const we_family we_family_deberta_v2 = {
    .name = "deberta_v2",
    .model_types = g_deb_types,
    .hp_size = sizeof(deb_hparams),
    .w_size = sizeof(deb_weights),
    .layer_size = sizeof(deb_layer),
    .entries = g_deb_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_deb_entries),
    .prefixes = g_deb_prefixes,
    .n_groups = 1,
    .from_config = deb_from_config,
    .dim = deb_dim,
    .n_layer = we_text_hp_n_layer,
    .enabled = deb_enabled,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = deb_finish,
    .describe = deb_describe,
    .forward = deb_forward,
};
