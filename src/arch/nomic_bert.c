// nomic_bert.c - the nomic_bert family (nomic-embed-text-v1 / v1.5), as nomic's
// modeling_hf_nomic_bert.py computes it: hyper-parameters from config.json (NomicBertConfig,
// a GPT2Config: n_embd, n_head, n_layer, n_inner, ...) or from llama.cpp's "nomic-bert" GGUF
// metadata, the tensor table, and the forward pass: no position embeddings but rotary ones
// (half-split, base rotary_emb_base, dynamic NTK past max_trained_positions), a fused Wqkv,
// post-LN blocks and a gated MLP.
//
//   x = LN(E_word[id] + E_type[type])                                       (n_tok, E)
//   per layer:  qkv = x Wqkv^T (+ b); rotate q and k by position            (n_tok, 3E)
//               x = LN1(x + attn(q, k, v) Wo^T)
//               x = LN2(x + (x W11^T * act(x W12^T)) W2^T)     act = silu (swiglu)
//
// What the reference derives and this file mirrors:
//   - the word embedding has vocab_size rounded up to pad_vocab_size_multiple rows;
//   - the gated MLP width is n_inner (or int(8 * n_embd / 3)) rounded up to a multiple of 256;
//   - rotary dims = head_dim * rotary_emb_fraction, half-split (not interleaved);
//   - fc11 is the value, fc12 the gate: fc2(fc11(x) * act(fc12(x)));
//   - Wqkv and out_proj have biases iff qkv_proj_bias, fc11/fc12 iff mlp_fc1_bias, fc2 iff
//     mlp_fc2_bias;
//   - dynamic NTK rescales the base by the padded batch length; here each sequence brings its
//     own length (we_tokens.rope_len: its own by default, the padded one on request);
//   - Matryoshka dims: layer_norm (no affine), truncate, normalize (the model card's recipe).
// Call options: RoPE scaling, SelfExtend (we_rope_carve / we_rope_rotate) and TempScale (we_attend).
// Variants the forward pass does not implement are refused with UNSUPPORTED: prenorm,
// interleaved or xPos rotary, RMS norm, parallel blocks, causal attention, non-gated MLPs.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../formats/gguf.h"
#include "forward.h"

typedef struct nomic_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size rounded up to pad_vocab_size_multiple
                              //   n_embd: n_embd
                              //   n_layer: n_layer
                              //   n_head: n_head
                              //   n_ff: n_inner (or 8*n_embd/3), rounded up to 256 as NomciBertGatedMLP does
                              //   n_ctx: n_positions: longest input
    int32_t n_types;          // type_vocab_size
    float eps;                // layer_norm_epsilon
    float rope_base;          // rotary_emb_base
    int32_t rope_dim;         // head_dim * rotary_emb_fraction (dims rotated, half-split)
    float rope_scaling;       // rotary_scaling_factor for dynamic NTK; 0 = none (null)
    int32_t max_trained_pos;  // max_trained_positions (the NTK threshold)
    we_act gate_act;          // swiglu: SILU (fc2(fc11(x) * silu(fc12(x)))); geglu: GELU
    bool qkv_bias, fc1_bias, fc2_bias;   // qkv_proj_bias, mlp_fc1_bias, mlp_fc2_bias
} nomic_hparams;

typedef struct nomic_layer {
    we_weight qkv_w, qkv_b;       // (3E, E), (3E)  attn.Wqkv (q, k, v stacked by rows)
    we_weight o_w, o_b;           // (E, E), (E)    attn.out_proj
    we_weight norm1_w, norm1_b;   // (E)            norm1 (after attention, post-LN)
    we_weight fc11_w, fc11_b;     // (F, E), (F)    mlp.fc11 (value)
    we_weight fc12_w, fc12_b;     // (F, E), (F)    mlp.fc12 (gate)
    we_weight fc2_w, fc2_b;       // (E, F), (E)    mlp.fc2
    we_weight norm2_w, norm2_b;   // (E)            norm2 (after the MLP)
} nomic_layer;

typedef struct nomic_weights {
    nomic_layer *layers;          // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;            // (V, E)  embeddings.word_embeddings
    we_weight type_emb;           // (T, E)  embeddings.token_type_embeddings
    we_weight emb_ln_w, emb_ln_b; // (E)     emb_ln
} nomic_weights;

#define M(f) (uint16_t)offsetof(nomic_weights, f)
#define L(f) (uint16_t)offsetof(nomic_layer, f)

enum { C_TYPES = 1, C_QKV_BIAS, C_FC1_BIAS, C_FC2_BIAS };

//  hf name                                   gguf name                          grp layer kind         flags cond nd dims
static const we_wentry g_nomic_entries[] = {
    {"embeddings.word_embeddings.weight",       "token_embd.weight",               0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, M(tok_emb)},
    {"embeddings.token_type_embeddings.weight", "token_types.weight",              0, false, WE_W_VEC, 0, C_TYPES, 2, {WE_D_TYPES, WE_D_EMBD}, M(type_emb)},
    {"emb_ln.weight",                           "token_embd_norm.weight",          0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_w)},
    {"emb_ln.bias",                             "token_embd_norm.bias",            0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(emb_ln_b)},
    {"encoder.layers.%d.attn.Wqkv.weight",      "blk.%d.attn_qkv.weight",          0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_QKV, WE_D_EMBD}, L(qkv_w)},
    {"encoder.layers.%d.attn.Wqkv.bias",        "blk.%d.attn_qkv.bias",            0, true, WE_W_VEC, 0, C_QKV_BIAS, 1, {WE_D_QKV}, L(qkv_b)},
    {"encoder.layers.%d.attn.out_proj.weight",  "blk.%d.attn_output.weight",       0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(o_w)},
    {"encoder.layers.%d.attn.out_proj.bias",    "blk.%d.attn_output.bias",         0, true, WE_W_VEC, 0, C_QKV_BIAS, 1, {WE_D_EMBD}, L(o_b)},
    {"encoder.layers.%d.norm1.weight",          "blk.%d.attn_output_norm.weight",  0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm1_w)},
    {"encoder.layers.%d.norm1.bias",            "blk.%d.attn_output_norm.bias",    0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm1_b)},
    {"encoder.layers.%d.mlp.fc11.weight",       "blk.%d.ffn_up.weight",            0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, L(fc11_w)},
    {"encoder.layers.%d.mlp.fc11.bias",         "blk.%d.ffn_up.bias",              0, true, WE_W_VEC, 0, C_FC1_BIAS, 1, {WE_D_FF}, L(fc11_b)},
    {"encoder.layers.%d.mlp.fc12.weight",       "blk.%d.ffn_gate.weight",          0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, L(fc12_w)},
    {"encoder.layers.%d.mlp.fc12.bias",         "blk.%d.ffn_gate.bias",            0, true, WE_W_VEC, 0, C_FC1_BIAS, 1, {WE_D_FF}, L(fc12_b)},
    {"encoder.layers.%d.mlp.fc2.weight",        "blk.%d.ffn_down.weight",          0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_FF}, L(fc2_w)},
    {"encoder.layers.%d.mlp.fc2.bias",          "blk.%d.ffn_down.bias",            0, true, WE_W_VEC, 0, C_FC2_BIAS, 1, {WE_D_EMBD}, L(fc2_b)},
    {"encoder.layers.%d.norm2.weight",          "blk.%d.layer_output_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm2_w)},
    {"encoder.layers.%d.norm2.bias",            "blk.%d.layer_output_norm.bias",   0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm2_b)},
};

static const char *const g_nomic_prefixes[] = {"bert.", "model.", NULL};
static const char *const g_nomic_gguf[] = {"nomic-bert", NULL};

// The first of two spellings present (NomicBertConfig is a GPT2Config: hidden_size is an
// alias of n_embd, and so on).
static const char *alias(const we_json *cfg, const char *a, const char *b) {
    return we_json_get(cfg, a) || !we_json_get(cfg, b) ? a : b;
}

static wembed_status refuse_flag(const we_json *cfg, const char *key, bool bad_value, we_err *err) {
    bool v = !bad_value;
    wembed_status rc = we_cfg_bool(cfg, key, !bad_value, &v, err);
    if (rc) return rc;
    if (v == bad_value)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_bert with %s = %s is not supported", key, bad_value ? "true" : "false");
    return WEMBED_STATUS_OK;
}

static wembed_status nomic_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    nomic_hparams *hp = ma->hp;
    wembed_status rc;
    int32_t vocab, pad_multiple, n_inner;
    float fraction;
    if ((rc = we_cfg_int(cfg, "vocab_size", 50257, 1, 1 << 24, &vocab, err)) ||
        (rc = we_cfg_int(cfg, "pad_vocab_size_multiple", 1, 1, 1 << 16, &pad_multiple, err)) ||
        (rc = we_cfg_int(cfg, alias(cfg, "n_embd", "hidden_size"), 768, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, alias(cfg, "n_head", "num_attention_heads"), 12, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, alias(cfg, "n_layer", "num_hidden_layers"), 12, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "n_inner", 0, 0, 1 << 20, &n_inner, err)) ||
        (rc = we_cfg_int(cfg, "type_vocab_size", 2, 0, 1 << 16, &hp->n_types, err)) ||
        (rc = we_cfg_int(cfg, alias(cfg, "n_positions", "max_position_embeddings"), 1024, 1, 1 << 24, &hp->base.n_ctx, err)) ||
        (rc = we_cfg_int(cfg, "max_trained_positions", 2048, 1, 1 << 24, &hp->max_trained_pos, err)) ||
        (rc = we_cfg_pos_float(cfg, "layer_norm_epsilon", 1e-5, &hp->eps, err)) ||
        (rc = we_cfg_pos_float(cfg, "rotary_emb_base", 10000.0, &hp->rope_base, err)) ||
        (rc = we_cfg_float(cfg, "rotary_emb_fraction", 0.0, &fraction, err)) ||
        (rc = we_cfg_float(cfg, "rotary_scaling_factor", 0.0, &hp->rope_scaling, err)) ||
        (rc = we_cfg_bool(cfg, "qkv_proj_bias", true, &hp->qkv_bias, err)) ||
        (rc = we_cfg_bool(cfg, "mlp_fc1_bias", true, &hp->fc1_bias, err)) ||
        (rc = we_cfg_bool(cfg, "mlp_fc2_bias", true, &hp->fc2_bias, err)) ||
        (rc = refuse_flag(cfg, "prenorm", true, err)) ||
        (rc = refuse_flag(cfg, "rotary_emb_interleaved", true, err)) ||
        (rc = refuse_flag(cfg, "use_rms_norm", true, err)) ||
        (rc = refuse_flag(cfg, "parallel_block", true, err)) ||
        (rc = refuse_flag(cfg, "causal", true, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: n_embd %d is not a multiple of n_head %d", hp->base.n_embd, hp->base.n_head);
    const we_json *sb = we_json_get(cfg, "rotary_emb_scale_base");
    if (sb && sb->type != WE_JSON_NULL)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_bert with rotary_emb_scale_base (xPos) is not supported");
    const we_json *act = we_json_get(cfg, "activation_function");
    if (we_json_str_eq(act, "swiglu")) hp->gate_act = WE_ACT_SILU;
    else if (we_json_str_eq(act, "geglu")) hp->gate_act = WE_ACT_GELU;
    else
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_bert activation_function \"%.40s\" is not supported (swiglu, geglu)",
                         we_json_as_str(act, NULL) ? act->u.str : "gelu_new");
    int32_t head_dim = hp->base.n_embd / hp->base.n_head;
    if (!(fraction > 0.0f && fraction <= 1.0f))
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_bert without rotary embeddings (rotary_emb_fraction %g) is not supported",
                         (double)fraction);
    hp->rope_dim = (int32_t)((float)head_dim * fraction);
    if (hp->rope_dim < 2 || hp->rope_dim % 2)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: rotary dims %d (head dim %d x rotary_emb_fraction) must be even",
                         hp->rope_dim, head_dim);
    if (hp->rope_scaling < 0.0f) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: rotary_scaling_factor must be positive");
    // NomicBertEmbeddings: the vocabulary is padded to a multiple of pad_vocab_size_multiple.
    int64_t v = ((int64_t)vocab + pad_multiple - 1) / pad_multiple * pad_multiple;
    if (v > (1 << 24)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: vocab_size too large");
    hp->base.n_vocab = (int32_t)v;
    // NomciBertGatedMLP (sic): hidden = n_inner or int(8 * n_embd / 3), rounded up to 256.
    int64_t ff = n_inner > 0 ? n_inner : (int64_t)(8 * (int64_t)hp->base.n_embd / 3);
    hp->base.n_ff = (int32_t)((ff + 255) / 256 * 256);
    return WEMBED_STATUS_OK;
}

static wembed_status nomic_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    nomic_hparams *hp = ma->hp;
    wembed_status rc;
    if ((rc = we_gguf_cfg_int(g, "nomic-bert.embedding_length", -1, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_gguf_cfg_int(g, "nomic-bert.block_count", -1, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_gguf_cfg_int(g, "nomic-bert.attention.head_count", -1, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_gguf_cfg_int(g, "nomic-bert.feed_forward_length", -1, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_gguf_cfg_int(g, "nomic-bert.context_length", -1, 1, 1 << 24, &hp->base.n_ctx, err)))
        return rc;
    if (hp->base.n_embd % hp->base.n_head) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: embedding_length is not a multiple of head_count");
    if ((rc = we_gguf_cfg_pos_float(g, "nomic-bert.attention.layer_norm_epsilon", 1e-12, &hp->eps, err))) return rc;
    double d = 1000.0;
    we_gguf_get_float(g, "nomic-bert.rope.freq_base", &d);
    hp->rope_base = (float)d;
    hp->rope_dim = hp->base.n_embd / hp->base.n_head;
    // llama.cpp writes context_length 2048 (the trained length) and no NTK factor.
    hp->max_trained_pos = hp->base.n_ctx;
    d = 0.0;
    we_gguf_get_float(g, "nomic-bert.rope.scaling.factor", &d);
    hp->rope_scaling = d > 1.0 ? (float)d : 0.0f;
    hp->gate_act = WE_ACT_SILU;
    hp->base.n_vocab = (int32_t)WE_MIN(we_gguf_rows(g, "token_embd.weight", 0), (int64_t)1 << 24);
    const we_gguf_tensor *tt = we_gguf_find_tensor(g, "token_types.weight");
    hp->n_types = !tt ? 0 : tt->n_dims == 1 ? 1 : (int32_t)WE_MIN(tt->ne[1], (int64_t)1 << 16);
    hp->qkv_bias = we_gguf_find_tensor(g, "blk.0.attn_qkv.bias") != NULL;
    hp->fc1_bias = we_gguf_find_tensor(g, "blk.0.ffn_up.bias") != NULL;
    hp->fc2_bias = we_gguf_find_tensor(g, "blk.0.ffn_down.bias") != NULL;
    return WEMBED_STATUS_OK;
}

static int64_t nomic_dim(const we_arch_model *ma, int sym, int group) {
    const nomic_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_TYPES: return hp->n_types;
    }
    return we_text_hp_dim(ma, sym, group);
}

static bool nomic_enabled(const we_arch_model *ma, int cond) {
    const nomic_hparams *hp = ma->hp;
    switch (cond) {
    case C_TYPES: return hp->n_types > 0;
    case C_QKV_BIAS: return hp->qkv_bias;
    case C_FC1_BIAS: return hp->fc1_bias;
    case C_FC2_BIAS: return hp->fc2_bias;
    }
    return true;
}

static wembed_status nomic_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const nomic_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->extends = t->rope = t->self_extend = true;
    // Trained to max_trained_positions; past it the config's dynamic NTK (rotary_scaling_factor)
    // is the model's own extension, else SelfExtend.
    t->n_trained = WE_MIN(hp->max_trained_pos, hp->base.n_ctx);
    t->extension = hp->rope_scaling > 0 ? WE_EXT_NATIVE : WE_EXT_SELF_EXTEND;
    t->pooling = WEMBED_POOLING_MEAN;
    t->chunks = true;
    t->matryoshka = WE_MATRYOSHKA_LAYER_NORM;
    return WEMBED_STATUS_OK;
}

static int nomic_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const nomic_hparams *hp = ma->hp;
    return snprintf(buf, cap, "\"n_types\":%d,\"eps\":%.7g,\"rope_base\":%.7g,\"rope_dim\":%d,\"rope_scaling\":%.7g,"
                    "\"max_trained_positions\":%d,\"gate_act\":\"%s\",\"qkv_bias\":%s,\"fc1_bias\":%s,\"fc2_bias\":%s",
                    hp->n_types, (double)hp->eps, (double)hp->rope_base, hp->rope_dim, (double)hp->rope_scaling, hp->max_trained_pos,
                    we_act_name(hp->gate_act), hp->qkv_bias ? "true" : "false", hp->fc1_bias ? "true" : "false", hp->fc2_bias ? "true" : "false");
}

#define MLP_ROWS 2048   // tokens per MLP step (nomic_forward)

static wembed_status nomic_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                   const we_fwd_opts *o, float *x, we_err *err) {
    const nomic_hparams *hp = m->hp;
    const nomic_weights *w = m->w;
    const int E = hp->base.n_embd, F = hp->base.n_ff, H = hp->base.n_head, d = E / H, n = tk->n_tok;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, &w->type_emb, 0, err);   // RoPE: any position
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    we_attn_params ap = { .n_head = H, .n_kv_head = H, .head_dim = d, .scale = 1.0f / sqrtf((float)d) };
    // RoPE of every token (positions from tk->pos), the same tables for every layer.
    const we_rope_cfg rope = { hp->rope_dim, hp->rope_base, hp->rope_scaling > 0 ? WE_ROPE_DYNAMIC_NTK : WE_ROPE_NONE,
                               hp->rope_scaling, hp->max_trained_pos };
    const nomic_layer *L0 = &w->layers[0];
    const we_weight *lin_all[] = { &L0->qkv_w, &L0->o_w }, *lin_mlp[] = { &L0->fc11_w, &L0->fc12_w, &L0->fc2_w };
    // The MLP runs MLP_ROWS tokens at a time (each row's result is its own), so its (n, F) buffers
    // and the GEMM scratch of its K = F stay small for a long text: at 32768 tokens of nomic's size
    // they would be 1.2 GB of the activations. Passes of up to MLP_ROWS tokens are unchanged.
    const int nm = WE_MIN(n, MLP_ROWS);
    float *qkv, *a, *h, *u, *g, *attn;
    void *lscratch;
    we_rope_pass rp;
    we_carve c = {0};
    for (;;) {
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);
        a = we_carve_floats(&c, (size_t)n * E);
        h = we_carve_floats(&c, (size_t)n * E);
        u = we_carve_floats(&c, (size_t)nm * F);        // (MLP_ROWS, F) fc11, then fc11 * act(fc12)
        g = we_carve_floats(&c, (size_t)nm * F);        // (MLP_ROWS, F) act(fc12)
        we_rope_carve(&c, &rp, tk, &rope, o, &ap, NULL);          // tables, SelfExtend's copies
        attn = we_carve_floats(&c, we_attend_scratch_floats(tk, &ap, false, we_pool_threads(pool)));
        lscratch = we_carve_bytes(&c, WE_MAX(we_linear_scratch_max(n, lin_all, 2), we_linear_scratch_max(nm, lin_mlp, 3)));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    we_embed_word_type(x, tk, &w->tok_emb, &w->type_emb);
    we_apply_norm(pool, &ln, x, E, x, E, &w->emb_ln_w, &w->emb_ln_b, n, E);

    for (int il = 0; il < hp->base.n_layer; il++) {
        const nomic_layer *L = &w->layers[il];
        we_linear(pool, qkv, 3 * E, x, E, &L->qkv_w, &L->qkv_b, n, WE_ACT_NONE, lscratch);
        we_rope_rotate(pool, &rp, qkv, 3 * E, qkv + E, 3 * E);
        we_attend(pool, tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, NULL, NULL, attn);
        we_linear(pool, h, E, a, E, &L->o_w, &L->o_b, n, WE_ACT_NONE, lscratch);
        we_add_norm(pool, &ln, x, h, &L->norm1_w, &L->norm1_b, n, E);
        // Gated MLP: fc2(fc11(x) * act(fc12(x))), the activation fused into fc12's GEMM; by rows.
        for (int r0 = 0; r0 < n; r0 += nm) {
            const int nr = WE_MIN(nm, n - r0);
            const float *xr = x + (size_t)r0 * E;
            we_linear(pool, u, F, xr, E, &L->fc11_w, &L->fc11_b, nr, WE_ACT_NONE, lscratch);
            we_linear(pool, g, F, xr, E, &L->fc12_w, &L->fc12_b, nr, hp->gate_act, lscratch);
            we_glu(pool, u, F, g, F, u, F, nr, F, WE_ACT_NONE);
            we_linear(pool, h + (size_t)r0 * E, E, u, F, &L->fc2_w, &L->fc2_b, nr, WE_ACT_NONE, lscratch);
        }
        we_add_norm(pool, &ln, x, h, &L->norm2_w, &L->norm2_b, n, E);
    }
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_nomic_types[] = {"nomic_bert", NULL};

const we_family we_family_nomic_bert = {
    .name = "nomic_bert",
    .model_types = g_nomic_types,
    .gguf_archs = g_nomic_gguf,
    .hp_size = sizeof(nomic_hparams),
    .w_size = sizeof(nomic_weights),
    .layer_size = sizeof(nomic_layer),
    .entries = g_nomic_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_nomic_entries),
    .prefixes = g_nomic_prefixes,
    .n_groups = 1,
    .from_config = nomic_from_config,
    .from_gguf = nomic_from_gguf,
    .dim = nomic_dim,
    .n_layer = we_text_hp_n_layer,
    .enabled = nomic_enabled,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = nomic_finish,
    .describe = nomic_describe,
    .forward = nomic_forward,
};
