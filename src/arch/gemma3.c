// gemma3.c - the gemma3 family: Gemma 3 text decoders (model_type "gemma3_text",
// Gemma3TextModel), above all EmbeddingGemma (google/embeddinggemma-300m:
// use_bidirectional_attention true), as transformers' models/gemma3/modeling_gemma3.py and
// configuration_gemma3.py (4.57, with PR #40700) compute them: hyper-parameters from
// config.json or from llama.cpp's "gemma-embedding" GGUF metadata, the tensor table and the
// forward pass. sentence-transformers then applies mean pooling, two Dense modules and
// Normalize (generic: st_modules.c, embed.c).
//
//   x = E[id] * sqrt(E)                                                  (n_tok, E)
//   per layer (sliding or full, from layer_types):
//       h = rms1(x; input_layernorm)
//       q = h Wq^T (n, H d),  k = h Wk^T,  v = h Wv^T (n, KV d)            no biases
//       q = rms1_d(q; q_norm),  k = rms1_d(k; k_norm)    per head, over head_dim
//       rotate q and k: base rope_theta (full) or rope_local_base_freq (sliding)
//       x = x + rms1(attn(q, k, v) Wo^T; post_attention_layernorm)
//       h = rms1(x; pre_feedforward_layernorm)
//       x = x + rms1((gelu_tanh(h Wg^T) * (h Wu^T)) Wd^T; post_feedforward_layernorm)
//   x = rms1(x; norm)                                    -> last hidden states
//   rms1(x; w) = x * rsqrt(mean(x^2) + eps) * (1 + w)
//
// Subtle points of the reference code, each mirrored here:
//   1. Gemma3TextScaledWordEmbedding: the embedding times embed_scale = hidden_size**0.5, a
//      float32 tensor cast to the weight dtype (.to(self.weight.dtype)): sqrt(E) rounded to
//      the checkpoint's dtype (config.json torch_dtype / dtype: bfloat16 -> bf16(sqrt(768)) =
//      27.75, float16 likewise, else float32). The engine computes in float32 on the stored
//      weights, as HF does on a model loaded in its own dtype, upcast.
//   2. Gemma3RMSNorm stores an OFFSET: x * rsqrt(mean(x^2) + eps) * (1 + w), computed in float32
//      (zero-initialized weights are the identity). Four "sandwich" norms per layer: input,
//      post_attention (on the attention output, before the residual add), pre_feedforward,
//      post_feedforward (on the MLP output, before the add), and the final norm.
//      llama.cpp's converter stores 1 + w in GGUF files (Gemma3Model.norm_shift): from GGUF
//      the norms are plain RMSNorms.
//   3. q_norm / k_norm (Gemma3RMSNorm over head_dim, per head) before RoPE; attention scale
//      query_pre_attn_scalar^-0.5 (not head_dim^-0.5; 256 = head_dim for embeddinggemma);
//      grouped-query attention (query head h reads kv head h / (H / KV)); head_dim from the
//      config, not hidden_size / num_attention_heads; no attention softcapping in Gemma 3.
//   4. Layer kinds from layer_types ("sliding_attention" / "full_attention"); without it,
//      sliding unless (i + 1) % sliding_window_pattern == 0 (pattern 6). RoPE half-split over
//      head_dim, base rope_theta (1e6) on full layers and rope_local_base_freq (1e4) on
//      sliding ones (Gemma3TextModel.rotary_emb_local); HF's tables are float32, here angles
//      are double and rounded once.
//   5. Attention masks (masking_utils.py). use_bidirectional_attention true: every layer is
//      bidirectional; Gemma3TextConfig turns sliding_window into sliding_window // 2 + 1 and
//      the sliding layers' or-mask allows |q - kv| < that, i.e. |i - j| <= sliding_window // 2
//      (256 for the real 512): we_attn_params.window = sliding_window / 2. Full layers see
//      every real token. use_bidirectional_attention false (plain Gemma 3): causal, and the
//      sliding layers see kv > q - sliding_window (sliding_window_overlay), i.e. the last
//      sliding_window keys up to i: a causal window of sliding_window - 1. Padding is never
//      attended (the batch is packed).
//   6. GeGLU MLP: down_proj(gelu_pytorch_tanh(gate_proj(x)) * up_proj(x)) (hidden_activation).
//   7. sentence-transformers (embeddinggemma): Pooling mean -> 2_Dense (768 -> 3072) ->
//      3_Dense (3072 -> 768), both Identity and bias-free -> Normalize; Matryoshka 512 / 256 /
//      128 truncate the Dense output, then normalize. The family's default pooling without
//      those files: mean (bidirectional) or last (causal).
//   8. GGUF (llama.cpp convert_hf_to_gguf.py EmbeddingGemma, LLM_ARCH_GEMMA_EMBEDDING): names
//      token_embd, blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, attn_q_norm,
//      attn_k_norm, post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm},
//      output_norm, and dense_2 / dense_3 (the Dense modules, with
//      --sentence-transformers-dense-modules; loader.c); norms stored as 1 + w (point 2);
//      attention.sliding_window is the config's ORIGINAL value (512, not 257) and llama.cpp's
//      symmetric window keeps |i - j| <= n_swa / 2; sliding layers from
//      attention.sliding_window_pattern (period or per-layer array; default period 6: layer i
//      slides when i % 6 < 5); rope.freq_base (full) and rope.freq_base_swa (sliding, default
//      10000); always bidirectional; embedding scale sqrtf(E); and llama.cpp's attention scale
//      1/sqrt(key_length): the converter does not store query_pre_attn_scalar (equal to head_dim
//      for embeddinggemma-300m).
// Call options (README "Long inputs"): a RoPE scaling replaces plain RoPE on the full layers only
// (HF keeps the sliding layers' rotary embedding "default"); SelfExtend regroups the pairs at
// least W apart in every layer with that layer's base, so the sliding layers change only when W is
// within their window; TempScale in every layer (we_attend).
// Variants the forward pass does not implement are refused with UNSUPPORTED, naming the key:
// attn_logit_softcapping (not null), rope_scaling of a type other than default (Gemma 3 LMs'
// linear global RoPE), attention_bias true, a sliding_window below 2. final_logit_softcapping
// only scales an LM head's logits: recorded, unused.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/f16.h"
#include "../core/pool.h"
#include "../formats/gguf.h"
#include "forward.h"

#define MAX_LAYERS 1024

typedef struct gemma3_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size
                              //   n_ctx: max_position_embeddings
    int32_t n_kv_head;        // num_key_value_heads
    int32_t head_dim;         // head_dim
    float eps;                // rms_norm_eps
    float rope_theta;         // rope_theta: full layers
    float rope_local;         // rope_local_base_freq: sliding layers
    float attn_scale;         // query_pre_attn_scalar^-0.5 (GGUF: key_length^-0.5)
    float qpas;               // query_pre_attn_scalar (0 from GGUF)
    int32_t sliding_window;   // as config.json writes it (before HF's // 2 + 1)
    bool bidirectional;       // use_bidirectional_attention
    float embed_scale;        // sqrt(hidden_size) in the checkpoint's dtype (point 1)
    const char *scale_dtype;  // "float32", "bfloat16", "float16": the dtype embed_scale is rounded to
    float norm_offset;        // 1: Gemma3RMSNorm's (1 + w); 0: GGUF (1 + w stored)
    float final_softcap;      // final_logit_softcapping (0: null); LM heads only, unused
    we_act act;               // hidden_activation, on the gate
    bool sliding[MAX_LAYERS]; // layer kinds: true = sliding_attention
} gemma3_hparams;

// The weights: we_decoder_weights, layers we_decoder_layer with the four sandwich norms.
//  hf name                                       gguf name                           grp layer kind        flags cond nd dims
static const we_wentry g_gemma3_entries[] = {
    WE_DECODER_ENTRIES,
    {"layers.%d.post_attention_layernorm.weight",  "blk.%d.post_attention_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_DEC_L(post_attn_norm)},
    {"layers.%d.pre_feedforward_layernorm.weight", "blk.%d.ffn_norm.weight",           0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_DEC_L(ffn_norm)},
    {"layers.%d.post_feedforward_layernorm.weight", "blk.%d.post_ffw_norm.weight",     0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_DEC_L(post_ffn_norm)},
};

static const char *const g_gemma3_prefixes[] = {"model.", NULL};
static const char *const g_gemma3_gguf[] = {"gemma-embedding", NULL};

#define LIM (1 << 24)   // sanity bound on vocab and positions

// Shapes both readers check.
static wembed_status check_hparams(const gemma3_hparams *hp, const char *src, we_err *err) {
    if (hp->base.n_head % hp->n_kv_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: %d attention heads are not a multiple of %d key/value heads", src,
                         hp->base.n_head, hp->n_kv_head);
    if (hp->head_dim % 2) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: head_dim %d must be even (RoPE)", src, hp->head_dim);
    if (!(hp->rope_theta > 0) || !(hp->rope_local > 0)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: RoPE bases must be positive", src);
    if (!(hp->attn_scale > 0 && isfinite(hp->attn_scale)))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: query_pre_attn_scalar must be positive", src);
    bool any_sliding = false;
    for (int i = 0; i < hp->base.n_layer; i++) any_sliding |= hp->sliding[i];
    // The kernel's window 0 means none: a window of 0 keys (sliding_window 1) cannot be asked for.
    if (any_sliding && hp->sliding_window < 2)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "%s: sliding_window %d is not supported (2 or more)", src, hp->sliding_window);
    return WEMBED_STATUS_OK;
}

// Layer kinds: layer_types, or sliding unless (i + 1) % pattern == 0.
static wembed_status read_layer_types(gemma3_hparams *hp, const we_json *cfg, we_err *err) {
    const we_json *lt = we_json_get(cfg, "layer_types");
    if (lt && lt->type != WE_JSON_NULL) {
        if (!we_json_is(lt, WE_JSON_ARRAY) || lt->len != (uint32_t)hp->base.n_layer)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"layer_types\" must be an array of num_hidden_layers (%d) strings",
                             hp->base.n_layer);
        for (uint32_t i = 0; i < lt->len; i++) {
            const we_json *t = we_json_at(lt, i);
            if (we_json_str_eq(t, "sliding_attention")) hp->sliding[i] = true;
            else if (we_json_str_eq(t, "full_attention")) hp->sliding[i] = false;
            else
                return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gemma3 layer_types[%u] \"%.40s\" is not supported "
                                 "(sliding_attention, full_attention)", i, we_json_as_str(t, NULL) ? t->u.str : "?");
        }
        return WEMBED_STATUS_OK;
    }
    int32_t pattern;
    const char *key = we_json_get(cfg, "sliding_window_pattern") ? "sliding_window_pattern" : "_sliding_window_pattern";
    wembed_status rc = we_cfg_int(cfg, key, 6, 1, 1 << 20, &pattern, err);
    if (rc) return rc;
    for (int i = 0; i < hp->base.n_layer; i++) hp->sliding[i] = (i + 1) % pattern != 0;
    return WEMBED_STATUS_OK;
}

// sqrt(E) as the float32 tensor HF makes, cast to the checkpoint's dtype.
static void set_embed_scale(gemma3_hparams *hp, const we_json *cfg) {
    const char *dt = we_json_as_str(we_json_get(cfg, "torch_dtype"), NULL);
    if (!dt) dt = we_json_as_str(we_json_get(cfg, "dtype"), NULL);
    float s = (float)sqrt((double)hp->base.n_embd);
    hp->scale_dtype = "float32";
    if (dt && strcmp(dt, "bfloat16") == 0) {
        s = we_bf16_to_f32(we_f32_to_bf16(s));
        hp->scale_dtype = "bfloat16";
    } else if (dt && strcmp(dt, "float16") == 0) {
        s = we_f16_to_f32(we_f32_to_f16(s));
        hp->scale_dtype = "float16";
    }
    hp->embed_scale = s;
}

static wembed_status gemma3_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    gemma3_hparams *hp = ma->hp;
    wembed_status rc;
    bool bias;
    if ((rc = we_cfg_int(cfg, "vocab_size", 262208, 1, LIM, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 2304, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 26, 1, MAX_LAYERS, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 8, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "num_key_value_heads", 4, 1, 4096, &hp->n_kv_head, err)) ||
        (rc = we_cfg_int(cfg, "head_dim", 256, 2, 4096, &hp->head_dim, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 9216, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 131072, 1, LIM, &hp->base.n_ctx, err)) ||
        (rc = we_cfg_int(cfg, "sliding_window", 4096, 1, 1 << 30, &hp->sliding_window, err)) ||
        (rc = we_cfg_pos_float(cfg, "rms_norm_eps", 1e-6, &hp->eps, err)) ||
        (rc = we_cfg_pos_float(cfg, "rope_theta", 1000000.0, &hp->rope_theta, err)) ||
        (rc = we_cfg_pos_float(cfg, "rope_local_base_freq", 10000.0, &hp->rope_local, err)) ||
        (rc = we_cfg_float(cfg, "query_pre_attn_scalar", 256.0, &hp->qpas, err)) ||
        (rc = we_cfg_float(cfg, "final_logit_softcapping", 0.0, &hp->final_softcap, err)) ||
        (rc = we_cfg_bool(cfg, "use_bidirectional_attention", false, &hp->bidirectional, err)) ||
        (rc = we_cfg_bool(cfg, "attention_bias", false, &bias, err)) ||
        (rc = we_cfg_act(cfg, "hidden_activation", "gelu_pytorch_tanh", &hp->act, err)) ||
        (rc = we_cfg_rope_scaling_none(cfg, "gemma3", err)) ||
        (rc = read_layer_types(hp, cfg, err)))
        return rc;
    const we_json *sc = we_json_get(cfg, "attn_logit_softcapping");
    if (sc && sc->type != WE_JSON_NULL)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gemma3 with attn_logit_softcapping (not null) is not supported");
    if (bias) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: gemma3 with attention_bias true is not supported");
    hp->attn_scale = (float)(1.0 / sqrt((double)hp->qpas));
    hp->norm_offset = 1.0f;
    set_embed_scale(hp, cfg);
    return check_hparams(hp, "config.json", err);
}

static wembed_status gemma3_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    gemma3_hparams *hp = ma->hp;
    wembed_status rc;
    int32_t rot;
#define K(x) "gemma-embedding." x
    if ((rc = we_gguf_cfg_int(g, K("embedding_length"), -1, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_gguf_cfg_int(g, K("block_count"), -1, 1, MAX_LAYERS, &hp->base.n_layer, err)) ||
        (rc = we_gguf_cfg_int(g, K("attention.head_count"), -1, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_gguf_cfg_int(g, K("attention.head_count_kv"), hp->base.n_head, 1, 4096, &hp->n_kv_head, err)) ||
        (rc = we_gguf_cfg_int(g, K("attention.key_length"), hp->base.n_embd / hp->base.n_head, 2, 4096, &hp->head_dim, err)) ||
        (rc = we_gguf_cfg_int(g, K("rope.dimension_count"), hp->head_dim, 2, 4096, &rot, err)) ||
        (rc = we_gguf_cfg_int(g, K("feed_forward_length"), -1, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_gguf_cfg_int(g, K("context_length"), -1, 1, LIM, &hp->base.n_ctx, err)) ||
        (rc = we_gguf_cfg_int(g, K("attention.sliding_window"), -1, 1, 1 << 30, &hp->sliding_window, err)))
        return rc;
    if (rot != hp->head_dim)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: gemma-embedding.rope.dimension_count %d (partial rotary over head_dim %d) "
                         "is not supported", rot, hp->head_dim);
    // llama.cpp's defaults: eps 1e-6, freq_base 10000, freq_base_swa 10000
    if ((rc = we_gguf_cfg_pos_float(g, K("attention.layer_norm_rms_epsilon"), 1e-6, &hp->eps, err)) ||
        (rc = we_gguf_cfg_pos_float(g, K("rope.freq_base"), 10000.0, &hp->rope_theta, err)))
        return rc;
    if ((rc = we_gguf_cfg_pos_float(g, K("rope.freq_base_swa"), 10000.0, &hp->rope_local, err))) return rc;
    const char *rs = we_gguf_get_str(g, K("rope.scaling.type"));
    if (rs && strcmp(rs, "none") != 0)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: gemma-embedding.rope.scaling.type \"%.40s\" is not supported (none)", rs);
    // Sliding layers: a period (layer i slides when i % p < p - 1; 0: all), or one flag per layer.
    const we_gguf_kv *pat = we_gguf_find(g, K("attention.sliding_window_pattern"));
    if (pat && pat->type == WE_GGUF_ARRAY) {
        if (pat->n != (uint64_t)hp->base.n_layer || (pat->arr_type != WE_GGUF_BOOL && pat->arr_type != WE_GGUF_U8 && pat->arr_type != WE_GGUF_I8))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: gemma-embedding.attention.sliding_window_pattern must be a period "
                             "or block_count flags");
        for (int i = 0; i < hp->base.n_layer; i++) hp->sliding[i] = ((const uint8_t *)pat->v.arr)[i] != 0;
    } else {
        int32_t p;
        if ((rc = we_gguf_cfg_int(g, K("attention.sliding_window_pattern"), 6, 0, 1 << 20, &p, err))) return rc;
        for (int i = 0; i < hp->base.n_layer; i++) hp->sliding[i] = p == 0 || i % p < p - 1;
    }
#undef K
    hp->bidirectional = true;   // llama.cpp: "embeddings do not use causal attention"
    hp->qpas = 0;
    hp->attn_scale = (float)(1.0 / sqrt((double)hp->head_dim));
    hp->norm_offset = 0.0f;
    hp->embed_scale = sqrtf((float)hp->base.n_embd);
    hp->scale_dtype = "float32";
    hp->act = WE_ACT_GELU_TANH;
    hp->base.n_vocab = (int32_t)WE_MIN(we_gguf_rows(g, "token_embd.weight", 0), (int64_t)LIM);
    return check_hparams(hp, "GGUF", err);
}

static int64_t gemma3_dim(const we_arch_model *ma, int sym, int group) {
    const gemma3_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_DEC_Q: return (int64_t)hp->base.n_head * hp->head_dim;
    case WE_D_DEC_KV: return (int64_t)hp->n_kv_head * hp->head_dim;
    case WE_D_DEC_HEAD: return hp->head_dim;
    }
    return we_text_hp_dim(ma, sym, group);
}

static wembed_status gemma3_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const gemma3_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->extends = t->rope = t->self_extend = true;
    t->pos_rule = WE_POS_PLAIN;
    t->pooling = hp->bidirectional ? WEMBED_POOLING_MEAN : WEMBED_POOLING_LAST;
    t->chunks = true;
    t->matryoshka = WE_MATRYOSHKA_TRUNCATE;
    return WEMBED_STATUS_OK;
}

static int gemma3_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const gemma3_hparams *hp = ma->hp;
    char kinds[MAX_LAYERS + 1];
    for (int i = 0; i < hp->base.n_layer; i++) kinds[i] = hp->sliding[i] ? 's' : 'f';
    kinds[hp->base.n_layer] = 0;
    return snprintf(buf, cap, "\"n_kv_head\":%d,\"head_dim\":%d,\"eps\":%.7g,\"act\":\"%s\",\"rope_theta\":%.9g,"
                    "\"rope_local_base_freq\":%.9g,\"query_pre_attn_scalar\":%.9g,\"attn_scale\":%.9g,\"sliding_window\":%d,"
                    "\"bidirectional\":%s,\"layers\":\"%s\",\"embed_scale\":%.9g,\"embed_scale_dtype\":\"%s\",\"norm_offset\":%g,"
                    "\"final_logit_softcapping\":%.7g",
                    hp->n_kv_head, hp->head_dim, (double)hp->eps, we_act_name(hp->act), (double)hp->rope_theta, (double)hp->rope_local,
                    (double)hp->qpas, (double)hp->attn_scale, hp->sliding_window, hp->bidirectional ? "true" : "false", kinds,
                    (double)hp->embed_scale, hp->scale_dtype, (double)hp->norm_offset, (double)hp->final_softcap);
}

static wembed_status gemma3_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                    const we_fwd_opts *o, float *x, we_err *err) {
    const gemma3_hparams *hp = m->hp;
    const we_decoder_weights *w = m->w;
    const int E = hp->base.n_embd, H = hp->base.n_head, KV = hp->n_kv_head, d = hp->head_dim, n = tk->n_tok;
    const we_decoder_shape shape = { E, hp->base.n_ff, H, KV, d };
    const we_norm rms = { hp->norm_offset != 0 ? WE_NORM_RMS_1P : WE_NORM_RMS, hp->eps };
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, NULL, 0, err);   // RoPE: any position
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    // Full layers: no window; sliding ones: |i - j| <= sliding_window / 2 (bidirectional), or
    // the last sliding_window keys up to i (causal).
    we_attn_params ap_full = { .n_head = H, .n_kv_head = KV, .head_dim = d, .scale = hp->attn_scale,
                                     .causal = !hp->bidirectional };
    we_attn_params ap_slide = ap_full;
    ap_slide.window = hp->bidirectional ? hp->sliding_window / 2 : hp->sliding_window - 1;
    // Two RoPE configs: the full layers' takes a call's RoPE scaling (it stands where the config's
    // rope_scaling would); the sliding layers' is always plain (HF forces "default" there).
    // SelfExtend acts on every layer with the layer's own base, which leaves a sliding layer whose
    // window is below W as it was (we_rope_carve).
    const we_rope_cfg rope_g = { d, hp->rope_theta, WE_ROPE_NONE, 0, hp->base.n_ctx };
    const we_rope_cfg rope_l = { d, hp->rope_local, WE_ROPE_NONE, 0, hp->base.n_ctx };
    we_fwd_opts o_local = *o;
    o_local.rope = (we_rope_opts){ WE_ROPE_MODEL, 0 };
    we_decoder_bufs b;
    we_rope_pass rp_g, rp_l;
    we_carve c = {0};
    for (;;) {
        we_decoder_carve(&c, &b, &w->layers[0], &shape, n);
        we_rope_carve(&c, &rp_g, tk, &rope_g, o, &ap_full, NULL);                // (n, d/2) rope_theta; SelfExtend
        we_rope_carve(&c, &rp_l, tk, &rope_l, &o_local, &ap_slide, &rp_g);       // rope_local_base_freq, sharing
        b.attn = we_carve_floats(&c, WE_MAX(we_attend_scratch_floats(tk, &ap_full, false, we_pool_threads(pool)),
                                            we_attend_scratch_floats(tk, &ap_slide, false, we_pool_threads(pool))));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    // Scaled embeddings: E[id] * sqrt(E) in the checkpoint's dtype.
    we_gather_rows(x, &w->tok_emb, tk->ids, n, false);
    for (size_t i = 0; i < (size_t)n * E; i++) x[i] *= hp->embed_scale;

    // Sandwich-normed layers (all four norms in the table), GeGLU (gelu_tanh on the gate); each
    // layer with its kind's RoPE base and attention.
    for (int il = 0; il < hp->base.n_layer; il++) {
        const bool sl = hp->sliding[il];
        we_decoder_block(pool, &w->layers[il], &shape, &rms, hp->act, x, tk, sl ? &rp_l : &rp_g, sl ? &ap_slide : &ap_full, &b);
    }
    we_apply_norm(pool, &rms, x, E, x, E, &w->out_norm, NULL, n, E);
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_gemma3_types[] = {"gemma3_text", NULL};

const we_family we_family_gemma3 = {
    .name = "gemma3",
    .model_types = g_gemma3_types,
    .gguf_archs = g_gemma3_gguf,
    .hp_size = sizeof(gemma3_hparams),
    .w_size = sizeof(we_decoder_weights),
    .layer_size = sizeof(we_decoder_layer),
    .entries = g_gemma3_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_gemma3_entries),
    .prefixes = g_gemma3_prefixes,
    .n_groups = 1,
    .from_config = gemma3_from_config,
    .from_gguf = gemma3_from_gguf,
    .dim = gemma3_dim,
    .n_layer = we_text_hp_n_layer,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = gemma3_finish,
    .describe = gemma3_describe,
    .forward = gemma3_forward,
};
