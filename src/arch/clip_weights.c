// clip_weights.c - the clip family (CLIPModel and its one-tower variants): hyper-parameters
// from config.json (CLIPConfig with text_config / vision_config, each falling back to the
// CLIPTextConfig / CLIPVisionConfig defaults when absent, or a bare clip_text_model /
// clip_vision_model config) or from llama.cpp's "clip" GGUF metadata, and the tensor table.
//
// Either tower may be missing from the weights: a page that only searches by text loads only
// text_model.* (+ text_projection). A tower whose tensors are partly present is an error.
// GGUF names follow llama.cpp's convert_image_encoder_to_gguf.py, which renames mlp.fc1 to
// ffn_down and mlp.fc2 to ffn_up (the shapes below say which is which).
//
// Not: the forward passes (src/arch/clip.c).
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../formats/gguf.h"
#include "arch.h"

#define W(f) (uint16_t)offsetof(we_clip_weights, f)
#define L(f) (uint16_t)offsetof(we_clip_layer, f)

enum { G_SHARED = 0, G_TEXT = 1, G_VISION = 2 };
enum { C_TEXT = 1, C_VISION };

#define LAYER_ENTRIES(G, C, HF, GG)                                                                                  \
    {HF ".encoder.layers.%d.layer_norm1.weight", GG ".blk.%d.ln1.weight", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(ln1_w)}, \
    {HF ".encoder.layers.%d.layer_norm1.bias", GG ".blk.%d.ln1.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(ln1_b)},     \
    {HF ".encoder.layers.%d.self_attn.q_proj.weight", GG ".blk.%d.attn_q.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, L(q_w)}, \
    {HF ".encoder.layers.%d.self_attn.q_proj.bias", GG ".blk.%d.attn_q.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(q_b)},               \
    {HF ".encoder.layers.%d.self_attn.k_proj.weight", GG ".blk.%d.attn_k.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, L(k_w)}, \
    {HF ".encoder.layers.%d.self_attn.k_proj.bias", GG ".blk.%d.attn_k.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(k_b)},               \
    {HF ".encoder.layers.%d.self_attn.v_proj.weight", GG ".blk.%d.attn_v.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, L(v_w)}, \
    {HF ".encoder.layers.%d.self_attn.v_proj.bias", GG ".blk.%d.attn_v.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(v_b)},               \
    {HF ".encoder.layers.%d.self_attn.out_proj.weight", GG ".blk.%d.attn_out.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, L(o_w)}, \
    {HF ".encoder.layers.%d.self_attn.out_proj.bias", GG ".blk.%d.attn_out.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(o_b)},           \
    {HF ".encoder.layers.%d.layer_norm2.weight", GG ".blk.%d.ln2.weight", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(ln2_w)}, \
    {HF ".encoder.layers.%d.layer_norm2.bias", GG ".blk.%d.ln2.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(ln2_b)},     \
    {HF ".encoder.layers.%d.mlp.fc1.weight", GG ".blk.%d.ffn_down.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_FF, WE_D_EMBD}, L(fc1_w)}, \
    {HF ".encoder.layers.%d.mlp.fc1.bias", GG ".blk.%d.ffn_down.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_FF}, L(fc1_b)},      \
    {HF ".encoder.layers.%d.mlp.fc2.weight", GG ".blk.%d.ffn_up.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_FF}, L(fc2_w)}, \
    {HF ".encoder.layers.%d.mlp.fc2.bias", GG ".blk.%d.ffn_up.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, L(fc2_b)}

#define T(f) (uint16_t)(offsetof(we_clip_weights, text) + offsetof(we_clip_text_weights, f))
#define V(f) (uint16_t)(offsetof(we_clip_weights, vision) + offsetof(we_clip_vision_weights, f))

static const we_wentry g_clip_entries[] = {
    // text tower
    {"text_model.embeddings.token_embedding.weight", "t.token_embd.weight", G_TEXT, false, WE_W_TABLE, 0, C_TEXT, 2, {WE_D_VOCAB, WE_D_EMBD}, T(tok_emb)},
    {"text_model.embeddings.position_embedding.weight", "t.position_embd.weight", G_TEXT, false, WE_W_VEC, 0, C_TEXT, 2, {WE_D_POS, WE_D_EMBD}, T(pos_emb)},
    LAYER_ENTRIES(G_TEXT, C_TEXT, "text_model", "t"),
    {"text_model.final_layer_norm.weight", "t.post_ln.weight", G_TEXT, false, WE_W_VEC, 0, C_TEXT, 1, {WE_D_EMBD}, T(final_ln_w)},
    {"text_model.final_layer_norm.bias", "t.post_ln.bias", G_TEXT, false, WE_W_VEC, 0, C_TEXT, 1, {WE_D_EMBD}, T(final_ln_b)},
    {"text_projection.weight", "text_projection.weight", G_TEXT, false, WE_W_LINEAR, WE_WF_OPTIONAL, C_TEXT, 2, {WE_D_PROJ, WE_D_EMBD}, T(proj)},
    // vision tower
    {"vision_model.embeddings.class_embedding", "v.class_embd", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(class_emb)},
    {"vision_model.embeddings.patch_embedding.weight", "v.patch_embd.weight", G_VISION, false, WE_W_LINEAR, 0, C_VISION, 4,
     {WE_D_EMBD, WE_D_CHAN, WE_D_PATCH, WE_D_PATCH}, V(patch_emb)},
    {"vision_model.embeddings.position_embedding.weight", "v.position_embd.weight", G_VISION, false, WE_W_VEC, 0, C_VISION, 2, {WE_D_POS, WE_D_EMBD}, V(pos_emb)},
    {"vision_model.pre_layrnorm.weight", "v.pre_ln.weight", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(pre_ln_w)},
    {"vision_model.pre_layrnorm.bias", "v.pre_ln.bias", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(pre_ln_b)},
    LAYER_ENTRIES(G_VISION, C_VISION, "vision_model", "v"),
    {"vision_model.post_layernorm.weight", "v.post_ln.weight", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(post_ln_w)},
    {"vision_model.post_layernorm.bias", "v.post_ln.bias", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(post_ln_b)},
    {"visual_projection.weight", "visual_projection.weight", G_VISION, false, WE_W_LINEAR, WE_WF_OPTIONAL, C_VISION, 2, {WE_D_PROJ, WE_D_EMBD}, V(proj)},
    // shared
    {"logit_scale", NULL, G_SHARED, false, WE_W_VEC, WE_WF_OPTIONAL, 0, 0, {0}, W(logit_scale)},
};

static const char *const g_clip_prefixes[] = {"model.", "clip.", NULL};
static const char *const g_clip_gguf[] = {"clip", NULL};

// A tower config: its fields (defaults from CLIPTextConfig / CLIPVisionConfig), or zeros
// when the config has no such tower (its tensors are then skipped).
static wembed_status text_from_config(we_clip_text_hparams *t, const we_json *c, int32_t proj_default, we_err *err) {
    wembed_status rc;
    if ((rc = we_cfg_int(c, "vocab_size", 49408, 1, 1 << 24, &t->n_vocab, err)) ||
        (rc = we_cfg_int(c, "hidden_size", 512, 1, 65536, &t->n_embd, err)) ||
        (rc = we_cfg_int(c, "intermediate_size", 2048, 1, 1 << 20, &t->n_ff, err)) ||
        (rc = we_cfg_int(c, "num_hidden_layers", 12, 1, 1024, &t->n_layer, err)) ||
        (rc = we_cfg_int(c, "num_attention_heads", 8, 1, 4096, &t->n_head, err)) ||
        (rc = we_cfg_int(c, "max_position_embeddings", 77, 1, 1 << 20, &t->n_pos, err)) ||
        (rc = we_cfg_float(c, "layer_norm_eps", 1e-5, &t->eps, err)) ||
        (rc = we_cfg_act(c, "hidden_act", "quick_gelu", &t->act, err)) ||
        (rc = we_cfg_int(c, "pad_token_id", 1, 0, 1 << 24, &t->pad_token_id, err)) ||
        (rc = we_cfg_int(c, "bos_token_id", 49406, 0, 1 << 24, &t->bos_token_id, err)) ||
        (rc = we_cfg_int(c, "eos_token_id", 49407, 0, 1 << 24, &t->eos_token_id, err)))
        return rc;
    t->projection_dim = proj_default;
    if (t->n_embd % t->n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: text hidden_size %d is not a multiple of num_attention_heads %d",
                         t->n_embd, t->n_head);
    return WEMBED_STATUS_OK;
}

static wembed_status vision_from_config(we_clip_vision_hparams *v, const we_json *c, int32_t proj_default, we_err *err) {
    wembed_status rc;
    if ((rc = we_cfg_int(c, "hidden_size", 768, 1, 65536, &v->n_embd, err)) ||
        (rc = we_cfg_int(c, "intermediate_size", 3072, 1, 1 << 20, &v->n_ff, err)) ||
        (rc = we_cfg_int(c, "num_hidden_layers", 12, 1, 1024, &v->n_layer, err)) ||
        (rc = we_cfg_int(c, "num_attention_heads", 12, 1, 4096, &v->n_head, err)) ||
        (rc = we_cfg_int(c, "num_channels", 3, 1, 16, &v->n_channels, err)) ||
        (rc = we_cfg_int(c, "image_size", 224, 1, 16384, &v->image_size, err)) ||
        (rc = we_cfg_int(c, "patch_size", 32, 1, 16384, &v->patch_size, err)) ||
        (rc = we_cfg_float(c, "layer_norm_eps", 1e-5, &v->eps, err)) ||
        (rc = we_cfg_act(c, "hidden_act", "quick_gelu", &v->act, err)))
        return rc;
    if (v->n_embd % v->n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: vision hidden_size %d is not a multiple of num_attention_heads %d",
                         v->n_embd, v->n_head);
    if (v->patch_size > v->image_size)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: patch_size %d is larger than image_size %d", v->patch_size, v->image_size);
    int32_t side = v->image_size / v->patch_size;   // the conv's stride: a partial patch is dropped
    v->n_patches = side * side;
    v->n_pos = v->n_patches + 1;
    v->projection_dim = proj_default;
    return WEMBED_STATUS_OK;
}

static wembed_status clip_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    we_clip_hparams *hp = &ma->hp.clip;
    wembed_status rc;
    int32_t proj;
    if ((rc = we_cfg_int(cfg, "projection_dim", 512, 1, 65536, &proj, err)) ||
        (rc = we_cfg_float(cfg, "logit_scale_init_value", 2.6592, &hp->logit_scale_init, err)))
        return rc;
    if (strcmp(ma->model_type, "clip_text_model") == 0) {
        rc = text_from_config(&hp->text, cfg, proj, err);
    } else if (strcmp(ma->model_type, "clip_vision_model") == 0) {
        rc = vision_from_config(&hp->vision, cfg, proj, err);
    } else {
        // CLIPModel: the towers' own projection_dim is ignored; CLIPModel's is used for both.
        const we_json *tc = we_json_get(cfg, "text_config"), *vc = we_json_get(cfg, "vision_config");
        if (tc && tc->type != WE_JSON_NULL && tc->type != WE_JSON_OBJECT)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: text_config must be an object");
        if (vc && vc->type != WE_JSON_NULL && vc->type != WE_JSON_OBJECT)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: vision_config must be an object");
        if ((rc = text_from_config(&hp->text, tc, proj, err))) { we_err_prefix(err, "text_config"); return rc; }
        if ((rc = vision_from_config(&hp->vision, vc, proj, err))) { we_err_prefix(err, "vision_config"); return rc; }
    }
    return rc;
}

static wembed_status clip_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    we_clip_hparams *hp = &ma->hp.clip;
    wembed_status rc;
    bool has_text = false, has_vision = false;
    we_gguf_get_bool(g, "clip.has_text_encoder", &has_text);
    we_gguf_get_bool(g, "clip.has_vision_encoder", &has_vision);
    bool use_gelu = false;
    we_gguf_get_bool(g, "clip.use_gelu", &use_gelu);
    we_act act = use_gelu ? WE_ACT_GELU : WE_ACT_GELU_QUICK;
    double eps;
    if (has_text) {
        we_clip_text_hparams *t = &hp->text;
        if ((rc = we_gguf_cfg_int(g, "clip.text.embedding_length", -1, 1, 65536, &t->n_embd, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.block_count", -1, 1, 1024, &t->n_layer, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.attention.head_count", -1, 1, 4096, &t->n_head, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.feed_forward_length", -1, 1, 1 << 20, &t->n_ff, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.context_length", -1, 1, 1 << 20, &t->n_pos, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.projection_dim", 0, 0, 65536, &t->projection_dim, err)))
            return rc;
        if (t->n_embd % t->n_head) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: clip.text embedding_length is not a multiple of head_count");
        eps = 1e-5;
        we_gguf_get_float(g, "clip.text.attention.layer_norm_epsilon", &eps);
        t->eps = (float)eps;
        t->act = act;
        t->n_vocab = (int32_t)WE_MIN(we_gguf_rows(g, "t.token_embd.weight", 0), (int64_t)1 << 24);
        if (t->projection_dim == 0) t->projection_dim = (int32_t)WE_MIN(we_gguf_rows(g, "text_projection.weight", 0), (int64_t)65536);
        // The GGUF keeps the token list but not eos_token_id: CLIP's is "<|endoftext|>".
        t->eos_token_id = t->n_vocab - 1;
        t->bos_token_id = t->n_vocab - 2;
        t->pad_token_id = 1;
        const we_gguf_kv *toks = we_gguf_find(g, "tokenizer.ggml.tokens");
        if (toks && toks->type == WE_GGUF_ARRAY && toks->arr_type == WE_GGUF_STRING) {
            const we_gguf_str *s = toks->v.arr;
            for (uint64_t i = 0; i < toks->n && i < INT32_MAX; i++) {
                if (strcmp(s[i].s, "<|endoftext|>") == 0) t->eos_token_id = (int32_t)i;
                if (strcmp(s[i].s, "<|startoftext|>") == 0) t->bos_token_id = (int32_t)i;
            }
        }
    }
    if (has_vision) {
        we_clip_vision_hparams *v = &hp->vision;
        if ((rc = we_gguf_cfg_int(g, "clip.vision.embedding_length", -1, 1, 65536, &v->n_embd, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.vision.block_count", -1, 1, 1024, &v->n_layer, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.vision.attention.head_count", -1, 1, 4096, &v->n_head, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.vision.feed_forward_length", -1, 1, 1 << 20, &v->n_ff, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.vision.image_size", -1, 1, 16384, &v->image_size, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.vision.patch_size", -1, 1, 16384, &v->patch_size, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.vision.projection_dim", 0, 0, 65536, &v->projection_dim, err)))
            return rc;
        if (v->n_embd % v->n_head) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: clip.vision embedding_length is not a multiple of head_count");
        if (v->patch_size > v->image_size) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: clip.vision.patch_size is larger than image_size");
        eps = 1e-5;
        we_gguf_get_float(g, "clip.vision.attention.layer_norm_epsilon", &eps);
        v->eps = (float)eps;
        v->act = act;
        if (v->projection_dim == 0) v->projection_dim = (int32_t)WE_MIN(we_gguf_rows(g, "visual_projection.weight", 0), (int64_t)65536);
        const we_gguf_tensor *pe = we_gguf_find_tensor(g, "v.patch_embd.weight");
        v->n_channels = pe && pe->n_dims == 4 ? (int32_t)WE_MIN(pe->ne[2], (int64_t)16) : 3;
        int32_t side = v->image_size / v->patch_size;
        v->n_patches = side * side;
        v->n_pos = v->n_patches + 1;
    }
    // Not in llama.cpp's files: CLIPConfig's default.
    hp->logit_scale_init = 2.6592f;
    return WEMBED_STATUS_OK;
}

static int64_t clip_dim(const we_arch_model *ma, int sym, int group) {
    const we_clip_hparams *hp = &ma->hp.clip;
    if (group == G_TEXT) {
        switch (sym) {
        case WE_D_EMBD: return hp->text.n_embd;
        case WE_D_FF: return hp->text.n_ff;
        case WE_D_VOCAB: return hp->text.n_vocab;
        case WE_D_POS: return hp->text.n_pos;
        case WE_D_PROJ: return hp->text.projection_dim;
        }
    } else if (group == G_VISION) {
        switch (sym) {
        case WE_D_EMBD: return hp->vision.n_embd;
        case WE_D_FF: return hp->vision.n_ff;
        case WE_D_POS: return hp->vision.n_pos;
        case WE_D_PROJ: return hp->vision.projection_dim;
        case WE_D_CHAN: return hp->vision.n_channels;
        case WE_D_PATCH: return hp->vision.patch_size;
        }
    }
    return -1;
}

static int32_t clip_n_layer(const we_arch_model *ma, int group) {
    return group == G_TEXT ? ma->hp.clip.text.n_layer : group == G_VISION ? ma->hp.clip.vision.n_layer : 0;
}

// A tower is loadable only if its config is known (n_layer > 0) and, for a projection, its
// projection_dim is (GGUF files of towers without projection say 0).
static bool clip_enabled(const we_arch_model *ma, int cond) {
    if (cond == C_TEXT) return ma->hp.clip.text.n_layer > 0;
    if (cond == C_VISION) return ma->hp.clip.vision.n_layer > 0;
    return true;
}

static wembed_status clip_alloc(we_arch_model *ma, we_arena *a, we_err *err) {
    we_clip_weights *w = &ma->w.clip;
    if (ma->hp.clip.text.n_layer > 0) {
        w->text.layers = we_arena_calloc(a, (size_t)ma->hp.clip.text.n_layer, sizeof(we_clip_layer), _Alignof(we_clip_layer));
        if (!w->text.layers) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    }
    if (ma->hp.clip.vision.n_layer > 0) {
        w->vision.layers = we_arena_calloc(a, (size_t)ma->hp.clip.vision.n_layer, sizeof(we_clip_layer), _Alignof(we_clip_layer));
        if (!w->vision.layers) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    }
    return WEMBED_STATUS_OK;
}

static we_weight *clip_slot(we_arch_model *ma, const we_wentry *e, int il) {
    we_clip_weights *w = &ma->w.clip;
    if (e->per_layer) {
        we_clip_layer *layers = e->group == G_TEXT ? w->text.layers : w->vision.layers;
        return (we_weight *)((char *)&layers[il] + e->offset);
    }
    return (we_weight *)((char *)w + e->offset);
}

static wembed_status clip_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    we_clip_weights *w = &ma->w.clip;
    w->has_text = group_present[G_TEXT];
    w->has_vision = group_present[G_VISION];
    if (!w->has_text && !w->has_vision)
        return we_errorf(err, WEMBED_STATUS_MISSING_TENSOR,
                         "clip: the weights hold neither the text tower (text_model.*) nor the vision tower (vision_model.*)");
    ma->logit_scale = ma->hp.clip.logit_scale_init;
    if (w->logit_scale.data) ma->logit_scale = ((const float *)w->logit_scale.data)[0];
    return WEMBED_STATUS_OK;
}

const we_family we_family_clip = {
    .name = "clip",
    .arch = WE_ARCH_CLIP,
    .gguf_archs = g_clip_gguf,
    .entries = g_clip_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_clip_entries),
    .prefixes = g_clip_prefixes,
    .n_groups = 3,
    .from_config = clip_from_config,
    .from_gguf = clip_from_gguf,
    .dim = clip_dim,
    .n_layer = clip_n_layer,
    .enabled = clip_enabled,
    .alloc = clip_alloc,
    .slot = clip_slot,
    .finish = clip_finish,
};
