// nomic_vision.c - the nomic_vision family: nomic-embed-vision-v1.5 (NomicVisionModel, remote
// code modeling_hf_nomic_bert.py of nomic-ai/contrastors), an EVA02-style ViT whose embedding
// space is nomic-embed-text-v1.5's. A vision-only family: hyper-parameters from config.json
// (NomicBertConfig, a GPT2Config with the ViT keys img_size, patch_size, ...), the tensor
// table and the vision forward pass. No text tower (the paired text model is a nomic_bert
// model of its own) and no GGUF form (llama.cpp has no tensor names for it).
//
//   x = [cls; patches(pixels) W_p^T + b_p] + pos_embed                         (B, 1 + G*G, E)
//   per layer (pre-LN):  qkv = LN1(x) Wqkv^T + b; rotate q and k of the patches (2-D RoPE)
//                        x += attn(q, k, v) Wo^T + bo
//                        x += LN_inner(fc11(h) * act(fc12(h))) W2^T + b2,   h = LN2(x)
//   trunk = x                                                  (no final LayerNorm: no_last_ln)
//   m = selector: a = attn(latent Wq^T, trunk Wkv^T) Wo^T; m = fc2(fc11(LN(a)) * act(fc12(LN(a))))
//   last_hidden_state = trunk + m          (one vector per image, added to every token)
//   image embedding   = last_hidden_state[:, 0]         (the model card normalizes it)
//
// Subtle points of the reference code, each mirrored here:
//   1. config.json says model_type "nomic_bert" like the text model: this family claims the
//      configs with ViT keys (img_size / patch_size, or architectures NomicVisionModel) before
//      nomic_bert's model_type list sees them.
//   2. 2-D RoPE (use_rotary_pos_emb; rotary_emb_fraction 0 only turns off the 1-D text RoPE):
//      timm's RotaryEmbeddingCat with in_pixels false, built for the grid (img_size /
//      patch_size) with ref_feat_shape: head_dim/4 bands 1/10000^(j/(head_dim/4)) (the
//      temperature is fixed; rotary_emb_base is not read), rows on the first half of each head,
//      columns on the second, interleaved pairs, t = index / grid * ref_feat_shape, float32
//      tables (we_rope2d_tables). The class token (num_prefix_tokens = 1) is not rotated.
//   3. The class token, then pos_embed (1, 1 + G*G, E) added to every token, class included
//      (learned_pos_embedding false does not remove it: it only picks the non-interpolating
//      branch).
//   4. The patch embedding is an nn.Linear over each patch's (c, ky, kx) pixels, with a bias.
//   5. Pre-LN blocks (layer_norm_epsilon), Wqkv and out_proj with biases (qkv_proj_bias), the
//      SwiGLU MLP fc2(norm(fc11(x) * silu(fc12(x)))) with an inner nn.LayerNorm over the hidden
//      width at torch's default eps 1e-5 (norm_mlp); the width is n_inner (a float in the
//      config) rounded up to a multiple of 256 (NomciBertGatedMLP).
//   6. No final LayerNorm: the trunk after the last block is HF's .hidden_states.
//   7. The selector (NomicMultiHeadAttentionPooling): a learned latent query attends to every
//      token (class included), out_proj, norm1, a gated MLP WITHOUT inner norm; its output is
//      broadcast-added to every trunk token (last_hidden_state = trunk + m), and the embedding is
//      normalize(last_hidden_state[:, 0]) -- not the selector output alone, not a final norm.
// Variants the forward pass does not implement are refused with UNSUPPORTED, naming the key:
// prenorm false, no_cls_token, no_embed_class, register_tokens, sinusoidal_pos_embedding,
// global_pool, parallel blocks, RMS norm, causal attention, 1-D rotary fractions, activations
// other than swiglu / geglu.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "forward.h"

typedef struct nv_hparams {
    int32_t n_embd, n_layer, n_head;
    int32_t n_ff;             // n_inner (or int(8 * n_embd / 3)) rounded up to 256
    int32_t image_size, patch_size, n_channels;
    int32_t grid;             // image_size / patch_size
    int32_t ref_h, ref_w;     // ref_feat_shape (0: none, t = index)
    float eps;                // layer_norm_epsilon (blocks, selector norm1)
    bool rope;                // use_rotary_pos_emb
    bool pos_embed;           // use_pos_embed
    bool norm_mlp;            // the blocks' inner MLP LayerNorm
    we_act gate_act;          // swiglu: SILU; geglu: GELU
    bool patch_bias, qkv_bias, fc1_bias, fc2_bias;
} nv_hparams;

typedef struct nv_layer {
    we_weight norm1_w, norm1_b;   // (E)           norm1 (before attention)
    we_weight qkv_w, qkv_b;       // (3E, E), (3E) attn.Wqkv (q, k, v stacked by rows)
    we_weight o_w, o_b;           // (E, E), (E)   attn.out_proj
    we_weight norm2_w, norm2_b;   // (E)           norm2 (before the MLP)
    we_weight fc11_w, fc11_b;     // (F, E), (F)   mlp.fc11 (value)
    we_weight fc12_w, fc12_b;     // (F, E), (F)   mlp.fc12 (gate)
    we_weight mnorm_w, mnorm_b;   // (F)           mlp.norm (norm_mlp)
    we_weight fc2_w, fc2_b;       // (E, F), (E)   mlp.fc2
} nv_layer;

typedef struct nv_weights {
    nv_layer *layers;             // (n_layer); first member (we_slot_simple)
    we_weight proj_w, proj_b;     // (E, C*P*P), (E)  embeddings.proj
    we_weight cls;                // (1, 1, E)        embeddings.cls_token
    we_weight pos;                // (1, 1 + G*G, E)  embeddings.pos_embed
    we_weight latent;             // (1, 1, E)        selector.attn.latent
    we_weight sq_w, sq_b;         // (E, E), (E)      selector.attn.Wq
    we_weight skv_w, skv_b;       // (2E, E), (2E)    selector.attn.Wkv (k, v stacked by rows)
    we_weight so_w, so_b;         // (E, E), (E)      selector.attn.out_proj
    we_weight snorm_w, snorm_b;   // (E)              selector.norm1
    we_weight s11_w, s11_b;       // (F, E), (F)      selector.mlp.fc11
    we_weight s12_w, s12_b;       // (F, E), (F)      selector.mlp.fc12
    we_weight s2_w, s2_b;         // (E, F), (E)      selector.mlp.fc2
} nv_weights;

#define M(f) (uint16_t)offsetof(nv_weights, f)
#define L(f) (uint16_t)offsetof(nv_layer, f)

enum { C_PATCH_BIAS = 1, C_QKV_BIAS, C_FC1_BIAS, C_FC2_BIAS, C_POS, C_NORM_MLP };
enum { D_ONE = WE_D_FAMILY, D_TOKENS, D_KV, D_PATCH_IN };   // 1, 1 + G*G, 2E, C*P*P

//  hf name                               grp layer kind        flags cond nd dims
static const we_wentry g_nv_entries[] = {
    {"embeddings.proj.weight",            NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, D_PATCH_IN}, M(proj_w)},
    {"embeddings.proj.bias",              NULL, 0, false, WE_W_VEC, 0, C_PATCH_BIAS, 1, {WE_D_EMBD}, M(proj_b)},
    {"embeddings.cls_token",              NULL, 0, false, WE_W_VEC, 0, 0, 3, {D_ONE, D_ONE, WE_D_EMBD}, M(cls)},
    {"embeddings.pos_embed",              NULL, 0, false, WE_W_VEC, 0, C_POS, 3, {D_ONE, D_TOKENS, WE_D_EMBD}, M(pos)},
    {"layers.%d.norm1.weight",            NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm1_w)},
    {"layers.%d.norm1.bias",              NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm1_b)},
    {"layers.%d.attn.Wqkv.weight",        NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_QKV, WE_D_EMBD}, L(qkv_w)},
    {"layers.%d.attn.Wqkv.bias",          NULL, 0, true, WE_W_VEC, 0, C_QKV_BIAS, 1, {WE_D_QKV}, L(qkv_b)},
    {"layers.%d.attn.out_proj.weight",    NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, L(o_w)},
    {"layers.%d.attn.out_proj.bias",      NULL, 0, true, WE_W_VEC, 0, C_QKV_BIAS, 1, {WE_D_EMBD}, L(o_b)},
    {"layers.%d.norm2.weight",            NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm2_w)},
    {"layers.%d.norm2.bias",              NULL, 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, L(norm2_b)},
    {"layers.%d.mlp.fc11.weight",         NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, L(fc11_w)},
    {"layers.%d.mlp.fc11.bias",           NULL, 0, true, WE_W_VEC, 0, C_FC1_BIAS, 1, {WE_D_FF}, L(fc11_b)},
    {"layers.%d.mlp.fc12.weight",         NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, L(fc12_w)},
    {"layers.%d.mlp.fc12.bias",           NULL, 0, true, WE_W_VEC, 0, C_FC1_BIAS, 1, {WE_D_FF}, L(fc12_b)},
    {"layers.%d.mlp.norm.weight",         NULL, 0, true, WE_W_VEC, 0, C_NORM_MLP, 1, {WE_D_FF}, L(mnorm_w)},
    {"layers.%d.mlp.norm.bias",           NULL, 0, true, WE_W_VEC, 0, C_NORM_MLP, 1, {WE_D_FF}, L(mnorm_b)},
    {"layers.%d.mlp.fc2.weight",          NULL, 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_FF}, L(fc2_w)},
    {"layers.%d.mlp.fc2.bias",            NULL, 0, true, WE_W_VEC, 0, C_FC2_BIAS, 1, {WE_D_EMBD}, L(fc2_b)},
    {"selector.attn.latent",              NULL, 0, false, WE_W_VEC, 0, 0, 3, {D_ONE, D_ONE, WE_D_EMBD}, M(latent)},
    {"selector.attn.Wq.weight",           NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, M(sq_w)},
    {"selector.attn.Wq.bias",             NULL, 0, false, WE_W_VEC, 0, C_QKV_BIAS, 1, {WE_D_EMBD}, M(sq_b)},
    {"selector.attn.Wkv.weight",          NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {D_KV, WE_D_EMBD}, M(skv_w)},
    {"selector.attn.Wkv.bias",            NULL, 0, false, WE_W_VEC, 0, C_QKV_BIAS, 1, {D_KV}, M(skv_b)},
    {"selector.attn.out_proj.weight",     NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, M(so_w)},
    {"selector.attn.out_proj.bias",       NULL, 0, false, WE_W_VEC, 0, C_QKV_BIAS, 1, {WE_D_EMBD}, M(so_b)},
    {"selector.norm1.weight",             NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(snorm_w)},
    {"selector.norm1.bias",               NULL, 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, M(snorm_b)},
    {"selector.mlp.fc11.weight",          NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, M(s11_w)},
    {"selector.mlp.fc11.bias",            NULL, 0, false, WE_W_VEC, 0, C_FC1_BIAS, 1, {WE_D_FF}, M(s11_b)},
    {"selector.mlp.fc12.weight",          NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, M(s12_w)},
    {"selector.mlp.fc12.bias",            NULL, 0, false, WE_W_VEC, 0, C_FC1_BIAS, 1, {WE_D_FF}, M(s12_b)},
    {"selector.mlp.fc2.weight",           NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_FF}, M(s2_w)},
    {"selector.mlp.fc2.bias",             NULL, 0, false, WE_W_VEC, 0, C_FC2_BIAS, 1, {WE_D_EMBD}, M(s2_b)},
};

static const char *const g_nv_prefixes[] = {"model.", NULL};

// -----------------------------------------------------------------------------------------
// Config

// nomic_bert configs of the vision model: the ViT keys NomicVisionPatchEmbeddings reads.
static bool nv_claims(const we_json *cfg) {
    if (!we_json_str_eq(we_json_get(cfg, "model_type"), "nomic_bert")) return false;
    return we_json_get(cfg, "img_size") || we_json_get(cfg, "patch_size") ||
           we_json_str_eq(we_json_at(we_json_get(cfg, "architectures"), 0), "NomicVisionModel");
}

// A flag (NomicBertConfig's default def) whose value bad_value the forward pass does not implement.
static wembed_status refuse(const we_json *cfg, const char *key, bool def, bool bad_value, we_err *err) {
    bool v;
    wembed_status rc = we_cfg_truthy(cfg, key, def, &v, err);
    if (rc) return rc;
    if (v == bad_value)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_vision with %s = %s is not supported", key,
                         bad_value ? "true" : "false");
    return WEMBED_STATUS_OK;
}

static wembed_status nv_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    nv_hparams *hp = ma->hp;
    wembed_status rc;
    int32_t registers;
    float fraction;
    if ((rc = we_cfg_int(cfg, "n_embd", 768, 1, 65536, &hp->n_embd, err)) ||
        (rc = we_cfg_int(cfg, "n_head", 12, 1, 4096, &hp->n_head, err)) ||
        (rc = we_cfg_int(cfg, "n_layer", 12, 1, 1024, &hp->n_layer, err)) ||
        (rc = we_cfg_int(cfg, "img_size", 224, 1, 16384, &hp->image_size, err)) ||
        (rc = we_cfg_int(cfg, "patch_size", 16, 1, 16384, &hp->patch_size, err)) ||
        (rc = we_cfg_int(cfg, "num_channels", 3, 3, 3, &hp->n_channels, err)) ||   // the RGB the preprocessing gives
        (rc = we_cfg_int(cfg, "register_tokens", 0, 0, 1 << 16, &registers, err)) ||
        (rc = we_cfg_pos_float(cfg, "layer_norm_epsilon", 1e-5, &hp->eps, err)) ||
        (rc = we_cfg_float(cfg, "rotary_emb_fraction", 0.0, &fraction, err)) ||
        (rc = we_cfg_truthy(cfg, "use_rotary_pos_emb", false, &hp->rope, err)) ||
        (rc = we_cfg_truthy(cfg, "use_pos_embed", true, &hp->pos_embed, err)) ||
        (rc = we_cfg_truthy(cfg, "norm_mlp", false, &hp->norm_mlp, err)) ||
        (rc = we_cfg_truthy(cfg, "patch_embed_bias", true, &hp->patch_bias, err)) ||
        (rc = we_cfg_truthy(cfg, "qkv_proj_bias", true, &hp->qkv_bias, err)) ||
        (rc = we_cfg_truthy(cfg, "mlp_fc1_bias", true, &hp->fc1_bias, err)) ||
        (rc = we_cfg_truthy(cfg, "mlp_fc2_bias", true, &hp->fc2_bias, err)) ||
        (rc = refuse(cfg, "prenorm", false, false, err)) ||
        (rc = refuse(cfg, "no_cls_token", false, true, err)) ||
        (rc = refuse(cfg, "no_embed_class", false, true, err)) ||
        (rc = refuse(cfg, "sinusoidal_pos_embedding", false, true, err)) ||
        (rc = refuse(cfg, "parallel_block", false, true, err)) ||
        (rc = refuse(cfg, "use_rms_norm", false, true, err)) ||
        (rc = refuse(cfg, "causal", false, true, err)))
        return rc;
    if (hp->n_embd % hp->n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: n_embd %d is not a multiple of n_head %d", hp->n_embd, hp->n_head);
    if (registers)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_vision with register_tokens %d is not supported (0)", registers);
    if (hp->patch_size > hp->image_size)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: patch_size %d is larger than img_size %d", hp->patch_size, hp->image_size);
    hp->grid = hp->image_size / hp->patch_size;   // the rearrange into patches needs whole patches
    if (hp->grid * hp->patch_size != hp->image_size)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: img_size %d is not a multiple of patch_size %d", hp->image_size, hp->patch_size);
    if (fraction != 0.0f)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_vision with rotary_emb_fraction %g (1-D text RoPE) is not supported",
                         (double)fraction);
    const we_json *gp = we_json_get(cfg, "global_pool");
    if (gp && gp->type != WE_JSON_NULL)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_vision with global_pool is not supported (null)");
    const we_json *act = we_json_get(cfg, "activation_function");
    if (we_json_str_eq(act, "swiglu")) hp->gate_act = WE_ACT_SILU;
    else if (we_json_str_eq(act, "geglu")) hp->gate_act = WE_ACT_GELU;
    else
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: nomic_vision activation_function \"%.40s\" is not supported (swiglu, geglu)",
                         we_json_as_str(act, NULL) ? act->u.str : "gelu_new");
    const int head_dim = hp->n_embd / hp->n_head;
    if (hp->rope && head_dim % 4)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: 2-D RoPE needs a head dim divisible by 4, not %d", head_dim);
    // ref_feat_shape: an int or [h, w] (to_2tuple), or absent / null.
    const we_json *ref = we_json_get(cfg, "ref_feat_shape");
    int64_t rh = 0, rw = 0;
    if (ref && ref->type != WE_JSON_NULL) {
        bool ok = we_json_is(ref, WE_JSON_ARRAY) ? ref->len == 2 && we_json_as_int(we_json_at(ref, 0), &rh) && we_json_as_int(we_json_at(ref, 1), &rw)
                                                 : we_json_as_int(ref, &rh) && (rw = rh, true);
        if (!ok || rh < 1 || rw < 1 || rh > 16384 || rw > 16384)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"ref_feat_shape\" must be a positive integer or two");
    }
    hp->ref_h = (int32_t)rh;
    hp->ref_w = (int32_t)rw;
    // NomciBertGatedMLP (sic): hidden = n_inner (a float: 3072.0) or int(8 * n_embd / 3),
    // then int((hidden + 255) // 256 * 256).
    double inner = 0;
    const we_json *ni = we_json_get(cfg, "n_inner");
    if (ni && ni->type != WE_JSON_NULL && !(we_json_as_double(ni, &inner) && inner > 0 && inner <= (1 << 20)))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"n_inner\" must be a positive number");
    if (inner <= 0) inner = (double)(int64_t)(8.0 * hp->n_embd / 3);
    hp->n_ff = (int32_t)(floor((inner + 255) / 256) * 256);
    return WEMBED_STATUS_OK;
}

static int64_t nv_dim(const we_arch_model *ma, int sym, int group) {
    (void)group;
    const nv_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_EMBD: return hp->n_embd;
    case WE_D_FF: return hp->n_ff;
    case WE_D_QKV: return 3 * (int64_t)hp->n_embd;
    case D_PATCH_IN: return (int64_t)hp->n_channels * hp->patch_size * hp->patch_size;
    case D_ONE: return 1;
    case D_TOKENS: return 1 + (int64_t)hp->grid * hp->grid;
    case D_KV: return 2 * (int64_t)hp->n_embd;
    }
    return -1;
}

static int32_t nv_n_layer(const we_arch_model *ma, int group) { (void)group; return ((const nv_hparams *)ma->hp)->n_layer; }

static bool nv_enabled(const we_arch_model *ma, int cond) {
    const nv_hparams *hp = ma->hp;
    switch (cond) {
    case C_PATCH_BIAS: return hp->patch_bias;
    case C_QKV_BIAS: return hp->qkv_bias;
    case C_FC1_BIAS: return hp->fc1_bias;
    case C_FC2_BIAS: return hp->fc2_bias;
    case C_POS: return hp->pos_embed;
    case C_NORM_MLP: return hp->norm_mlp;
    }
    return true;
}

static wembed_status nv_alloc(we_arch_model *ma, we_arena *a, we_err *err) {
    return we_alloc_layers(ma, a, ((const nv_hparams *)ma->hp)->n_layer, err);
}

static wembed_status nv_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const nv_hparams *hp = ma->hp;
    we_vision_spec *v = &ma->vision;
    v->hidden = v->pooled = hp->n_embd;
    v->n_layer = hp->n_layer; v->n_head = hp->n_head; v->n_ff = hp->n_ff;
    v->image_size = hp->image_size;
    v->patch_size = hp->patch_size;
    v->n_channels = hp->n_channels;
    v->n_tokens = 1 + hp->grid * hp->grid;
    return WEMBED_STATUS_OK;
}

static unsigned nv_parts(const we_json *cfg) { (void)cfg; return WEMBED_PART_VISION; }

static int nv_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const nv_hparams *hp = ma->hp;
    return snprintf(buf, cap, "\"eps\":%.7g,\"gate_act\":\"%s\",\"norm_mlp\":%s,\"rope_2d\":%s,\"ref_feat_shape\":[%d,%d],"
                    "\"pos_embed\":%s,\"n_channels\":%d",
                    (double)hp->eps, we_act_name(hp->gate_act), hp->norm_mlp ? "true" : "false", hp->rope ? "true" : "false",
                    hp->ref_h, hp->ref_w, hp->pos_embed ? "true" : "false", hp->n_channels);
}

// -----------------------------------------------------------------------------------------
// Forward

// x (T, E) += gated MLP of h (T, E): fc2(norm?(fc11(h) * act(fc12(h)))); u, g (T, F) scratch.
static void gated_mlp(wembed_pool *pool, float *x, const float *h, float *u, float *g, float *y, const nv_hparams *hp,
                      const we_weight *w11, const we_weight *b11, const we_weight *w12, const we_weight *b12,
                      const we_weight *nw, const we_weight *nb, const we_weight *w2, const we_weight *b2, int T, void *lscratch) {
    const int E = hp->n_embd, F = hp->n_ff;
    // nn.LayerNorm(hidden_features): torch's default eps, not layer_norm_epsilon.
    const we_norm inner = { WE_NORM_LAYER, 1e-5f };
    we_linear(pool, u, F, h, E, w11, b11, T, WE_ACT_NONE, lscratch);
    we_linear(pool, g, F, h, E, w12, b12, T, hp->gate_act, lscratch);
    we_glu(pool, u, F, g, F, u, F, T, F, WE_ACT_NONE);
    if (nw) we_apply_norm(pool, &inner, u, F, u, F, nw, nb, T, F);
    we_linear(pool, y, E, u, F, w2, b2, T, WE_ACT_NONE, lscratch);
    we_residual(x, y, (size_t)T * E);
}

static wembed_status nv_vision_forward(const we_arch_model *m, wembed_pool *pool, const float *pixels, int B,
                                       float *hidden, float *pooled, we_err *err) {
    const nv_hparams *hp = m->hp;
    const nv_weights *w = m->w;
    const int E = hp->n_embd, F = hp->n_ff, H = hp->n_head, d = E / H, P = hp->patch_size, S = hp->image_size;
    const int C = hp->n_channels, G = hp->grid, NP = G * G, T = NP + 1, n = B * T, KP = C * P * P;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    if (B <= 0) return WEMBED_STATUS_OK;
    const nv_layer *L0 = &w->layers[0];
    const we_weight *lin[] = { &w->proj_w, &L0->qkv_w, &L0->fc11_w, &L0->fc2_w, &w->skv_w, &w->s2_w };
    const we_attn_params ap = { .T = T, .n_head = H, .n_kv_head = H, .head_dim = d, .scale = 1.0f / sqrtf((float)d) };
    int32_t *seq_off;
    float *x, *patches, *h, *qkv, *a, *u, *g, *cos_t, *sin_t, *attn, *sel;
    void *lscratch;
    we_carve c = {0};
    for (;;) {
        seq_off = we_carve_bytes(&c, sizeof(int32_t) * ((size_t)B + 1));
        x = hidden ? hidden : we_carve_floats(&c, (size_t)n * E);     // (B, T, E) the residual stream
        patches = we_carve_floats(&c, (size_t)B * NP * KP);           // (B * NP, C*P*P)
        h = we_carve_floats(&c, (size_t)n * E);                       // (n, E) normed input of a sublayer
        qkv = we_carve_floats(&c, (size_t)n * 3 * E);                 // (n, 3E); the selector's k | v (n, 2E)
        a = we_carve_floats(&c, (size_t)n * E);                       // (n, E) attention output
        u = we_carve_floats(&c, (size_t)n * F);                       // (n, F) MLP value, then hidden
        g = we_carve_floats(&c, (size_t)n * F);                       // (n, F) MLP gate
        cos_t = we_carve_floats(&c, (size_t)NP * (d / 2));            // (NP, d/2) 2-D RoPE
        sin_t = we_carve_floats(&c, (size_t)NP * (d / 2));
        sel = we_carve_floats(&c, (size_t)4 * B * E + E);             // selector: q (E), a, h, y, m (B, E) each
        attn = we_carve_floats(&c, WE_MAX((size_t)T, we_attention_scratch_floats_for(&ap, we_pool_threads(pool))));
        lscratch = we_carve_bytes(&c, we_linear_scratch_max(n, lin, (int)WE_ARRAY_LEN(lin)));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d images", B);
    }
    const we_tokens tk = we_image_tokens(seq_off, B, T);

    // Embeddings: [cls; proj(patches)] + pos_embed, every row (the class token's too).
    we_image_patches(patches, pixels, B, C, S, P);
    we_linear(pool, h, E, patches, KP, &w->proj_w, &w->proj_b, B * NP, WE_ACT_NONE, lscratch);
    const float *cls = we_vec(&w->cls), *pos = we_vec(&w->pos);
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * E;
        memcpy(xb, cls, sizeof(float) * (size_t)E);
        memcpy(xb + E, h + (size_t)b * NP * E, sizeof(float) * (size_t)NP * E);
        if (pos) we_residual(xb, pos, (size_t)T * E);
    }
    if (hp->rope) we_rope2d_tables(cos_t, sin_t, G, G, hp->ref_h, hp->ref_w, d, 10000.0);

    for (int il = 0; il < hp->n_layer; il++) {
        const nv_layer *L = &w->layers[il];
        we_apply_norm(pool, &ln, h, E, x, E, &L->norm1_w, &L->norm1_b, n, E);
        we_linear(pool, qkv, 3 * E, h, E, &L->qkv_w, &L->qkv_b, n, WE_ACT_NONE, lscratch);
        // q and k of the patches rotate; the class token (row 0 of each image) does not.
        for (int b = 0; hp->rope && b < B; b++) {
            float *qb = qkv + ((size_t)b * T + 1) * 3 * E;
            we_rope_apply_interleaved(qb, 3 * E, NP, H, d, cos_t, sin_t);
            we_rope_apply_interleaved(qb + E, 3 * E, NP, H, d, cos_t, sin_t);
        }
        we_attend(pool, &tk, a, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, NULL, NULL, attn);
        we_linear(pool, h, E, a, E, &L->o_w, &L->o_b, n, WE_ACT_NONE, lscratch);
        we_residual(x, h, (size_t)n * E);
        we_apply_norm(pool, &ln, h, E, x, E, &L->norm2_w, &L->norm2_b, n, E);
        gated_mlp(pool, x, h, u, g, a, hp, &L->fc11_w, &L->fc11_b, &L->fc12_w, &L->fc12_b,
                  hp->norm_mlp ? &L->mnorm_w : NULL, &L->mnorm_b, &L->fc2_w, &L->fc2_b, n, lscratch);
    }
    // x is the trunk (no final norm). The selector: the latent query over every token of an image.
    float *sq = sel, *sa = sq + E, *sh = sa + (size_t)B * E, *sy = sh + (size_t)B * E, *sm = sy + (size_t)B * E;
    we_linear(pool, sq, E, we_vec(&w->latent), E, &w->sq_w, &w->sq_b, 1, WE_ACT_NONE, lscratch);
    we_linear(pool, qkv, 2 * E, x, E, &w->skv_w, &w->skv_b, n, WE_ACT_NONE, lscratch);
    we_attend_probe(sa, E, sq, 0, &tk, qkv, 2 * E, qkv + E, 2 * E, H, d, 1.0f / sqrtf((float)d), attn);
    we_linear(pool, sh, E, sa, E, &w->so_w, &w->so_b, B, WE_ACT_NONE, lscratch);
    we_apply_norm(pool, &ln, sh, E, sh, E, &w->snorm_w, &w->snorm_b, B, E);
    memset(sm, 0, sizeof(float) * (size_t)B * E);
    gated_mlp(pool, sm, sh, u, g, sy, hp, &w->s11_w, &w->s11_b, &w->s12_w, &w->s12_b, NULL, NULL, &w->s2_w, &w->s2_b, B, lscratch);
    // last_hidden_state = trunk + m, m broadcast over the tokens; the embedding is its row 0.
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * E;
        for (int t = 0; t < T; t++) we_residual(xb + (size_t)t * E, sm + (size_t)b * E, (size_t)E);
        memcpy(pooled + (size_t)b * E, xb, sizeof(float) * (size_t)E);
    }
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_nv_types[] = {NULL};   // model_type "nomic_bert": found by nv_claims

const we_family we_family_nomic_vision = {
    .name = "nomic_vision",
    .model_types = g_nv_types,
    .claims = nv_claims,
    .hp_size = sizeof(nv_hparams),
    .w_size = sizeof(nv_weights),
    .layer_size = sizeof(nv_layer),
    .entries = g_nv_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_nv_entries),
    .prefixes = g_nv_prefixes,
    .n_groups = 1,
    .from_config = nv_from_config,
    .dim = nv_dim,
    .n_layer = nv_n_layer,
    .enabled = nv_enabled,
    .alloc = nv_alloc,
    .slot = we_slot_simple,
    .finish = nv_finish,
    .parts = nv_parts,
    .describe = nv_describe,
    .vision_forward = nv_vision_forward,
};
