// gte.c - the gte family: Alibaba's "NewModel" (model_type "new", remote code
// Alibaba-NLP/new-impl modeling.py; gte-base-en-v1.5, gte-large-en-v1.5, gte-multilingual-base)
// and Snowflake's copy of it (model_type "gte", GteModel / GteConfig in
// modeling_hf_alibaba_nlp_gte.py; snowflake-arctic-embed-m-v2.0: not read here, but vLLM loads
// it with NewModel's layers, only the name prefix differing, and public ports describe the same
// network), as that code computes it: hyper-parameters from config.json (NewConfig names and
// defaults), the tensor table and the forward pass. A BERT-shaped post-LN encoder with rotary positions, a packed qkv projection
// and a gated MLP. llama.cpp does not convert NewModel (no GGUF form).
//
//   x = LN(E_word[id] (+ E_type[type] when type_vocab_size > 0))          (n_tok, E)
//   per layer:  q | k | v = x Wqkv^T + bqkv; rotate q and k by position    (n_tok, 3E)
//               x = attn_ln(x + attn(q, k, v) Wo^T + bo)
//               u | g = x Wug^T                                           (n_tok, 2F), no bias
//               x = mlp_ln(x + (act(g) * u) Wdown^T + bdown)
//   embedding = x[CLS] (token 0), then L2 (sentence-transformers Pooling cls)
//
// Subtle points of the reference code, each mirrored here:
//   1. RoPE with rope_scaling {"type": "ntk", "factor": f} is NTKScalingRotaryEmbedding: its
//      constructor builds the tables for max_position_embeddings * f positions with
//      inv_freq_i = 1 / (theta f)^(2i/d) / f^(2/d), and a longer input rebuilds them with the
//      same formula: FIXED frequencies at every length (no threshold, unlike nomic's / HF's
//      dynamic NTK, and not the NTK-aware base theta f^(d/(d-2)) either). That is base theta f
//      with positions scaled by f^(-2/d): WE_ROPE_NTK_SCALED_FREQ. rope_scaling null is plain
//      RoPE (theta). Rotated dims = head_dim, rotate_half (half-split, not interleaved),
//      positions 0..n-1 of each text. The reference's tables are float32 (cos of a float32
//      angle); here the angles are double and rounded once (the two agree to ~1e-7 * position).
//   2. qkv_proj (3E, E) + bias: its output is three contiguous blocks [Q | K | V], each
//      [heads, head_dim] (split(all_head_size) then view).
//   3. up_gate_proj (2F, E) has no bias; its FIRST half is up, the SECOND the gate:
//      down_proj(act(gate) * up), act = hidden_act ("gelu" is the erf GELU).
//   4. Post-LN blocks: attn_ln(x + o_proj(attn)), mlp_ln(x + mlp); no final norm.
//   5. Embeddings: LayerNorm(word (+ token type)); no absolute positions (rope). The token type
//      table exists only when type_vocab_size > 0 (gte v1.5: 0, type ids ignored; the XLM-R
//      vocabulary models carry a table: arctic-m-v2.0 one row); without type ids, type 0 is
//      added.
//   6. Attention is bidirectional with scale 1/sqrt(head_dim) and the padding mask; the
//      unpadded (xformers) path of the reference gives the same values on real tokens, so
//      unpad_inputs and use_memory_efficient_attention change nothing here. Snowflake's config
//      writes them as the strings "true": flags are read with Python's truthiness.
//   7. Checkpoints saved from NewFor* heads prefix the encoder with "new." and carry heads
//      (classifier.*, pooler.*) that embeddings do not use (skipped, with a warning).
//   8. n_ctx is max_position_embeddings (8192 for gte v1.5 and multilingual); RoPE has no
//      position table and the reference rebuilds its tables for any length, so a call may run
//      past it. Call options: RoPE scaling (replacing rope_scaling), SelfExtend on the model's
//      own frequencies (we_rope_carve / we_rope_rotate), TempScale (we_attend).
// Variants the forward pass does not implement are refused with UNSUPPORTED, naming the key:
// position_embedding_type "absolute", layer_norm_type "rms_norm", pack_qkv false,
// logn_attention_scale, rope_scaling types other than "ntk" (the reference raises on them too),
// "mixed_b" (mixed NTK) and factors below 1 (the reference's tables then depend on the length).
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "forward.h"

typedef struct gte_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size (up_gate_proj has 2 * n_ff rows)
                              //   n_ctx: max_position_embeddings
    int32_t n_types;          // type_vocab_size (0: no token type table)
    float eps;                // layer_norm_eps (every LayerNorm)
    we_act act;               // hidden_act, on the gate half
    float rope_theta;         // rope_theta
    float rope_factor;        // rope_scaling.factor of type "ntk"; 0: rope_scaling null
    bool unpad, mea;          // unpad_inputs, use_memory_efficient_attention (no effect, recorded)
} gte_hparams;

typedef struct gte_layer {
    we_weight qkv_w, qkv_b;       // (3E, E), (3E)  attention.qkv_proj: [Q | K | V] by rows
    // o: attention.o_proj; attn_ln: attn_ln; gu: mlp.up_gate_proj (2F, E), rows [up | gate], no
    // bias; down: mlp.down_proj; out_ln: mlp_ln
    we_postln_tail tail;
} gte_layer;

typedef struct gte_weights {
    gte_layer *layers;            // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;            // (V, E)  embeddings.word_embeddings
    we_weight type_emb;           // (T, E)  embeddings.token_type_embeddings (type_vocab_size > 0)
    we_weight emb_ln_w, emb_ln_b; // (E)     embeddings.LayerNorm
} gte_weights;

#define M(f) (uint16_t)offsetof(gte_weights, f)
#define L(f) (uint16_t)offsetof(gte_layer, f)

enum { C_TYPES = 1 };
enum { D_UP_GATE = WE_D_FAMILY };   // 2 * intermediate_size

//  hf name                                       gguf grp layer kind         flags cond nd dims
static const we_wentry g_gte_entries[] = {
    {"embeddings.word_embeddings.weight",           NULL, 0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.token_type_embeddings.weight",     NULL, 0, false, WE_W_VEC, 0, C_TYPES, 2, {WE_D_TYPES, WE_D_EMBD}, M(type_emb)},
    {"embeddings.LayerNorm.weight",                 NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_w)},
    {"embeddings.LayerNorm.bias",                   NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_b)},
    {"encoder.layer.%d.attention.qkv_proj.weight",  NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_QKV, WE_D_EMBD}, L(qkv_w)},
    {"encoder.layer.%d.attention.qkv_proj.bias",    NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_QKV}, L(qkv_b)},
    {"encoder.layer.%d.attention.o_proj.weight",    NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(tail.o_w)},
    {"encoder.layer.%d.attention.o_proj.bias",      NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.o_b)},
    {"encoder.layer.%d.attn_ln.weight",             NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.attn_ln_w)},
    {"encoder.layer.%d.attn_ln.bias",               NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.attn_ln_b)},
    {"encoder.layer.%d.mlp.up_gate_proj.weight",    NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {D_UP_GATE, WE_D_EMBD}, L(tail.gu_w)},
    {"encoder.layer.%d.mlp.down_proj.weight",       NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_FF}, L(tail.down_w)},
    {"encoder.layer.%d.mlp.down_proj.bias",         NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.down_b)},
    {"encoder.layer.%d.mlp_ln.weight",              NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.out_ln_w)},
    {"encoder.layer.%d.mlp_ln.bias",                NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(tail.out_ln_b)},
};

static const char *const g_gte_prefixes[] = {"new.", NULL};

#define LIM (1 << 24)   // sanity bound on vocab and positions

// A string-valued key that must be one of the values this file implements (absent or null:
// the default, which is one of them).
static wembed_status only_value(const we_json *cfg, const char *key, const char *supported, we_err *err) {
    const we_json *v = we_json_get(cfg, key);
    if (!v || v->type == WE_JSON_NULL || we_json_str_eq(v, supported)) return WEMBED_STATUS_OK;
    if (!we_json_as_str(v, NULL)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" must be a string", key);
    return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gte %s \"%.40s\" is not supported (%s)", key, v->u.str, supported);
}

// rope_scaling: null (plain RoPE) or {"type": "ntk", "factor": f >= 1} without mixed_b.
static wembed_status read_rope_scaling(gte_hparams *hp, const we_json *cfg, we_err *err) {
    const we_json *rs = we_json_get(cfg, "rope_scaling");
    hp->rope_factor = 0;
    if (!rs || rs->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (!we_json_is(rs, WE_JSON_OBJECT)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"rope_scaling\" must be an object or null");
    const we_json *type = we_json_get(rs, "type");
    if (!we_json_as_str(type, NULL))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: rope_scaling has no \"type\" string");
    if (!we_json_str_eq(type, "ntk"))
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gte rope_scaling.type \"%.40s\" is not supported (ntk)", type->u.str);
    const we_json *mixed = we_json_get(rs, "mixed_b");
    if (mixed && mixed->type != WE_JSON_NULL)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gte rope_scaling.mixed_b (mixed NTK) is not supported");
    double f;
    if (!we_json_as_double(we_json_get(rs, "factor"), &f))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: rope_scaling has no \"factor\" number");
    if (!(f >= 1.0 && f <= 1e6))
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gte rope_scaling.factor %g is not supported (1 or more)", f);
    hp->rope_factor = (float)f;
    return WEMBED_STATUS_OK;
}

static wembed_status gte_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    gte_hparams *hp = ma->hp;
    wembed_status rc;
    bool pack_qkv, logn;
    if ((rc = we_cfg_int(cfg, "vocab_size", 30528, 1, LIM, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 768, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 12, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 12, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 3072, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 2048, 1, LIM, &hp->base.n_ctx, err)) ||
        (rc = we_cfg_int(cfg, "type_vocab_size", 1, 0, 1 << 16, &hp->n_types, err)) ||
        (rc = we_cfg_pos_float(cfg, "layer_norm_eps", 1e-12, &hp->eps, err)) ||
        (rc = we_cfg_pos_float(cfg, "rope_theta", 10000.0, &hp->rope_theta, err)) ||
        (rc = we_cfg_act(cfg, "hidden_act", "gelu", &hp->act, err)) ||
        (rc = only_value(cfg, "position_embedding_type", "rope", err)) ||
        (rc = only_value(cfg, "layer_norm_type", "layer_norm", err)) ||
        (rc = we_cfg_truthy(cfg, "pack_qkv", true, &pack_qkv, err)) ||
        (rc = we_cfg_truthy(cfg, "logn_attention_scale", false, &logn, err)) ||
        (rc = we_cfg_truthy(cfg, "unpad_inputs", false, &hp->unpad, err)) ||
        (rc = we_cfg_truthy(cfg, "use_memory_efficient_attention", false, &hp->mea, err)) ||
        (rc = read_rope_scaling(hp, cfg, err)))
        return rc;
    if (!pack_qkv) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gte with pack_qkv false (separate q/k/v projections) is not supported");
    if (logn) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gte with logn_attention_scale is not supported");
    if (hp->base.n_embd % hp->base.n_head || (hp->base.n_embd / hp->base.n_head) % 2)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: hidden_size %d must be num_attention_heads %d times an even head size",
                         hp->base.n_embd, hp->base.n_head);
    if (!(hp->rope_theta > 0)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: rope_theta must be positive");
    return WEMBED_STATUS_OK;
}

static int64_t gte_dim(const we_arch_model *ma, int sym, int group) {
    const gte_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_TYPES: return hp->n_types;
    case D_UP_GATE: return 2 * (int64_t)hp->base.n_ff;
    }
    return we_text_hp_dim(ma, sym, group);
}

static bool gte_enabled(const we_arch_model *ma, int cond) { return cond != C_TYPES || ((const gte_hparams *)ma->hp)->n_types > 0; }

static wembed_status gte_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const gte_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->extends = t->rope = t->self_extend = true;
    t->pos_rule = WE_POS_PLAIN;
    t->pooling = WEMBED_POOLING_CLS;
    t->chunks = true;
    t->matryoshka = WE_MATRYOSHKA_TRUNCATE;
    return WEMBED_STATUS_OK;
}

static int gte_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const gte_hparams *hp = ma->hp;
    char rs[48] = "null";
    if (hp->rope_factor > 0) snprintf(rs, sizeof rs, "{\"type\":\"ntk\",\"factor\":%.7g}", (double)hp->rope_factor);
    return snprintf(buf, cap, "\"n_types\":%d,\"eps\":%.7g,\"act\":\"%s\",\"rope_theta\":%.9g,\"rope_scaling\":%s,"
                    "\"unpad_inputs\":%s,\"use_memory_efficient_attention\":%s",
                    hp->n_types, (double)hp->eps, we_act_name(hp->act), (double)hp->rope_theta, rs,
                    hp->unpad ? "true" : "false", hp->mea ? "true" : "false");
}

static wembed_status gte_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                 const we_fwd_opts *o, float *x, we_err *err) {
    const gte_hparams *hp = m->hp;
    const gte_weights *w = m->w;
    const int E = hp->base.n_embd, F = hp->base.n_ff, H = hp->base.n_head, d = E / H, n = tk->n_tok;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    // type_vocab_size 0: no table, and the type ids are not read.
    const we_weight *types = hp->n_types > 0 ? &w->type_emb : NULL;
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, types, 0, err);   // RoPE: any position
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    we_attn_params ap = { .n_head = H, .n_kv_head = H, .head_dim = d, .scale = 1.0f / sqrtf((float)d) };
    // RoPE of every token (positions from tk->pos), the same tables for every layer: the
    // fixed NTK frequencies at every length, or plain RoPE.
    const we_rope_cfg rope = { d, hp->rope_theta, hp->rope_factor > 0 ? WE_ROPE_NTK_SCALED_FREQ : WE_ROPE_NONE,
                               hp->rope_factor, hp->base.n_ctx };
    // Gated MLP: down_proj(act(gate) * up), up the first half of up_gate_proj, gate the second.
    const we_ffn ffn = { .F = F, .act = hp->act, .glu = true, .gate_at = F };
    const gte_layer *L0 = &w->layers[0];
    const we_weight *lin[] = { &L0->qkv_w, &L0->tail.gu_w, &L0->tail.down_w };
    float *qkv, *a, *h, *ug, *attn;
    void *lscratch;
    we_rope_pass rp;
    we_carve c = {0};
    for (;;) {
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);     // (n, 3E)  [Q | K | V]
        a = we_carve_floats(&c, (size_t)n * E);           // (n, E)   attention output
        h = we_carve_floats(&c, (size_t)n * E);           // (n, E)   o_proj / down_proj output
        ug = we_carve_floats(&c, we_ffn_floats(&ffn, n)); // (n, 2F)  [up | gate]; act(gate) * up into up
        we_rope_carve(&c, &rp, tk, &rope, o, &ap, NULL);  // (n, d/2) tables; SelfExtend's copies
        attn = we_carve_floats(&c, we_attend_scratch_floats(tk, &ap, false, we_pool_threads(pool)));
        lscratch = we_carve_bytes(&c, we_linear_scratch_max(n, lin, 3));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    we_embed_word_type(x, tk, &w->tok_emb, types);
    we_apply_norm(pool, &ln, x, E, x, E, &w->emb_ln_w, &w->emb_ln_b, n, E);

    for (int il = 0; il < hp->base.n_layer; il++) {
        const gte_layer *L = &w->layers[il];
        we_linear(pool, qkv, 3 * E, x, E, &L->qkv_w, &L->qkv_b, n, WE_ACT_NONE, lscratch);
        we_rope_rotate(pool, &rp, qkv, 3 * E, qkv + E, 3 * E);
        we_attend(pool, tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, NULL, NULL, attn);
        we_postln_tail_apply(pool, &L->tail, &ffn, &ln, x, a, h, ug, n, E, lscratch);
    }
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_gte_types[] = {"new", "gte", NULL};

const we_family we_family_gte = {
    .name = "gte",
    .model_types = g_gte_types,
    .hp_size = sizeof(gte_hparams),
    .w_size = sizeof(gte_weights),
    .layer_size = sizeof(gte_layer),
    .entries = g_gte_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_gte_entries),
    .prefixes = g_gte_prefixes,
    .n_groups = 1,
    .from_config = gte_from_config,
    .from_gguf = NULL,   // llama.cpp's convert_hf_to_gguf.py has no NewModel
    .dim = gte_dim,
    .n_layer = we_text_hp_n_layer,
    .enabled = gte_enabled,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = gte_finish,
    .describe = gte_describe,
    .forward = gte_forward,
};
