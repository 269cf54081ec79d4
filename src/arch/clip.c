// clip.c - the clip family (CLIPModel and its one-tower variants clip_text_model and
// clip_vision_model), as HF's modeling_clip.py computes it: hyper-parameters from config.json
// (CLIPConfig with text_config / vision_config, each falling back to the CLIPTextConfig /
// CLIPVisionConfig defaults when absent, or a bare one-tower config) or from llama.cpp's "clip"
// GGUF metadata, the tensor table, and the two towers: pre-LN transformer blocks with quick
// GELU, the text tower causal with a final layer norm, the vision tower with a patch
// convolution, a class token, pre_layrnorm and post_layernorm on the class row.
//
//   text:    x = E_tok[id] + E_pos[pos]; per layer x += attn(LN1 x) (causal); x += mlp(LN2 x);
//            x = final_LN(x)                                   -> (n_tok, E) last hidden states
//            text vector = text_projection(x[eos])
//   vision:  x = [class; patches(pixels) W_patch^T] + E_pos; x = pre_LN(x); per layer as above
//                                                              -> (B, 1 + n_patches, E), no post-LN
//            image vector = visual_projection(post_LN(x[0]))
//
// Subtle points: the eos row is found by HF's rule (eos_token_id 2, as old configs have it:
// the largest id, i.e. <|endoftext|>; otherwise the first eos_token_id); CLIPModel's own
// projection_dim serves both towers; the patch convolution has no bias and drops a partial
// patch. Either tower may be missing from the weights: a page that only searches by text
// loads only text_model.* (+ text_projection). A tower whose tensors are partly present is an
// error. GGUF names follow llama.cpp's convert_image_encoder_to_gguf.py, which renames mlp.fc1
// to ffn_down and mlp.fc2 to ffn_up (the shapes say which is which).
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../formats/gguf.h"
#include "forward.h"

typedef struct clip_text_hparams {
    int32_t n_vocab, n_embd, n_layer, n_head, n_ff;
    int32_t n_pos;            // max_position_embeddings (77): the longest input
    float eps;
    we_act act;
    int32_t bos_token_id, eos_token_id, pad_token_id;
    int32_t projection_dim;   // rows of text_projection
} clip_text_hparams;

typedef struct clip_vision_hparams {
    int32_t n_embd, n_layer, n_head, n_ff;
    int32_t image_size, patch_size, n_channels;
    int32_t n_patches;        // (image_size / patch_size)^2
    int32_t n_pos;            // n_patches + 1 (the class token)
    float eps;
    we_act act;
    int32_t projection_dim;   // rows of visual_projection
} clip_vision_hparams;

typedef struct clip_hparams {
    clip_text_hparams text;
    clip_vision_hparams vision;
    float logit_scale_init;   // logit_scale_init_value (used when the file has no logit_scale)
} clip_hparams;

typedef struct clip_text_weights {
    we_preln_text tower;          // text_model.* (77 positions)
    we_weight proj;               // (P, E)  text_projection (optional: CLIPTextModel has none)
} clip_text_weights;

typedef struct clip_vision_weights {
    we_weight class_emb;          // (E)     vision_model.embeddings.class_embedding
    we_weight patch_emb;          // (E, C, p, p) as (E, C*p*p): the patch conv (no bias) as a GEMM
    we_weight pos_emb;            // (n_patches + 1, E)
    we_weight pre_ln_w, pre_ln_b; // (E)     vision_model.pre_layrnorm (sic)
    we_preln_layer *layers;       // (n_layer)
    we_weight post_ln_w, post_ln_b;   // (E) vision_model.post_layernorm (on the class row)
    we_weight proj;               // (P, E)  visual_projection (optional)
} clip_vision_weights;

typedef struct clip_weights {
    bool has_text, has_vision;    // which towers the files held
    clip_text_weights text;
    clip_vision_weights vision;
    we_weight logit_scale;        // () optional: the log of the logit scale
} clip_weights;

#define W(f) (uint16_t)offsetof(clip_weights, f)

enum { G_SHARED = 0, G_TEXT = 1, G_VISION = 2 };
enum { C_TEXT = 1, C_VISION };


#define T(f) (uint16_t)(offsetof(clip_weights, text) + offsetof(clip_text_weights, f))
#define V(f) (uint16_t)(offsetof(clip_weights, vision) + offsetof(clip_vision_weights, f))

static const we_wentry g_clip_entries[] = {
    // text tower
    WE_PRELN_TEXT_ENTRIES(G_TEXT, C_TEXT, T(tower)),
    {"text_projection.weight", "text_projection.weight", G_TEXT, false, WE_W_LINEAR, WE_WF_OPTIONAL, C_TEXT, 2, {WE_D_PROJ, WE_D_EMBD}, T(proj)},
    // vision tower
    {"vision_model.embeddings.class_embedding", "v.class_embd", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(class_emb)},
    {"vision_model.embeddings.patch_embedding.weight", "v.patch_embd.weight", G_VISION, false, WE_W_LINEAR, 0, C_VISION, 4,
     {WE_D_EMBD, WE_D_CHAN, WE_D_PATCH, WE_D_PATCH}, V(patch_emb)},
    {"vision_model.embeddings.position_embedding.weight", "v.position_embd.weight", G_VISION, false, WE_W_VEC, 0, C_VISION, 2, {WE_D_POS, WE_D_EMBD}, V(pos_emb)},
    {"vision_model.pre_layrnorm.weight", "v.pre_ln.weight", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(pre_ln_w)},
    {"vision_model.pre_layrnorm.bias", "v.pre_ln.bias", G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(pre_ln_b)},
    WE_PRELN_LAYER_ENTRIES(G_VISION, C_VISION, "vision_model", "v"),
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
static wembed_status text_from_config(clip_text_hparams *t, const we_json *c, int32_t proj_default, we_err *err) {
    wembed_status rc;
    if ((rc = we_cfg_int(c, "vocab_size", 49408, 1, 1 << 24, &t->n_vocab, err)) ||
        (rc = we_cfg_int(c, "hidden_size", 512, 1, 65536, &t->n_embd, err)) ||
        (rc = we_cfg_int(c, "intermediate_size", 2048, 1, 1 << 20, &t->n_ff, err)) ||
        (rc = we_cfg_int(c, "num_hidden_layers", 12, 1, 1024, &t->n_layer, err)) ||
        (rc = we_cfg_int(c, "num_attention_heads", 8, 1, 4096, &t->n_head, err)) ||
        (rc = we_cfg_int(c, "max_position_embeddings", 77, 1, 1 << 20, &t->n_pos, err)) ||
        (rc = we_cfg_pos_float(c, "layer_norm_eps", 1e-5, &t->eps, err)) ||
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

static wembed_status vision_from_config(clip_vision_hparams *v, const we_json *c, int32_t proj_default, we_err *err) {
    wembed_status rc;
    if ((rc = we_cfg_int(c, "hidden_size", 768, 1, 65536, &v->n_embd, err)) ||
        (rc = we_cfg_int(c, "intermediate_size", 3072, 1, 1 << 20, &v->n_ff, err)) ||
        (rc = we_cfg_int(c, "num_hidden_layers", 12, 1, 1024, &v->n_layer, err)) ||
        (rc = we_cfg_int(c, "num_attention_heads", 12, 1, 4096, &v->n_head, err)) ||
        (rc = we_cfg_int(c, "num_channels", 3, 1, 16, &v->n_channels, err)) ||
        (rc = we_cfg_int(c, "image_size", 224, 1, 16384, &v->image_size, err)) ||
        (rc = we_cfg_int(c, "patch_size", 32, 1, 16384, &v->patch_size, err)) ||
        (rc = we_cfg_pos_float(c, "layer_norm_eps", 1e-5, &v->eps, err)) ||
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
    clip_hparams *hp = ma->hp;
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
        const we_json *tc, *vc;
        if ((rc = we_cfg_towers(cfg, &tc, &vc, err))) return rc;
        if ((rc = text_from_config(&hp->text, tc, proj, err))) { we_err_prefix(err, "text_config"); return rc; }
        if ((rc = vision_from_config(&hp->vision, vc, proj, err))) { we_err_prefix(err, "vision_config"); return rc; }
    }
    return rc;
}

static wembed_status clip_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    clip_hparams *hp = ma->hp;
    wembed_status rc;
    bool has_text = false, has_vision = false;
    we_gguf_get_bool(g, "clip.has_text_encoder", &has_text);
    we_gguf_get_bool(g, "clip.has_vision_encoder", &has_vision);
    bool use_gelu = false;
    we_gguf_get_bool(g, "clip.use_gelu", &use_gelu);
    we_act act = use_gelu ? WE_ACT_GELU : WE_ACT_GELU_QUICK;
    if (has_text) {
        clip_text_hparams *t = &hp->text;
        if ((rc = we_gguf_cfg_int(g, "clip.text.embedding_length", -1, 1, 65536, &t->n_embd, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.block_count", -1, 1, 1024, &t->n_layer, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.attention.head_count", -1, 1, 4096, &t->n_head, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.feed_forward_length", -1, 1, 1 << 20, &t->n_ff, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.context_length", -1, 1, 1 << 20, &t->n_pos, err)) ||
            (rc = we_gguf_cfg_int(g, "clip.text.projection_dim", 0, 0, 65536, &t->projection_dim, err)))
            return rc;
        if (t->n_embd % t->n_head) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: clip.text embedding_length is not a multiple of head_count");
        if ((rc = we_gguf_cfg_pos_float(g, "clip.text.attention.layer_norm_epsilon", 1e-5, &t->eps, err))) return rc;
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
        clip_vision_hparams *v = &hp->vision;
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
        if ((rc = we_gguf_cfg_pos_float(g, "clip.vision.attention.layer_norm_epsilon", 1e-5, &v->eps, err))) return rc;
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
    const clip_hparams *hp = ma->hp;
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
    return group == G_TEXT ? ((const clip_hparams *)ma->hp)->text.n_layer : group == G_VISION ? ((const clip_hparams *)ma->hp)->vision.n_layer : 0;
}

// A tower is loadable only if its config is known (n_layer > 0) and, for a projection, its
// projection_dim is (GGUF files of towers without projection say 0).
static bool clip_enabled(const we_arch_model *ma, int cond) {
    if (cond == C_TEXT) return ((const clip_hparams *)ma->hp)->text.n_layer > 0;
    if (cond == C_VISION) return ((const clip_hparams *)ma->hp)->vision.n_layer > 0;
    return true;
}

static wembed_status clip_text_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                       const we_fwd_opts *o, float *x, we_err *err) {
    (void)o;
    const clip_text_hparams *hp = &((const clip_hparams *)m->hp)->text;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    const bool causal = true;     // CLIPTextTransformer's causal mask
    return we_preln_text_forward(pool, &((const clip_weights *)m->w)->text.tower, tk, hp->n_layer, hp->n_embd, hp->n_head, hp->n_ff,
                                 &ln, hp->act, causal, x, err);
}

static wembed_status clip_vision_forward(const we_arch_model *m, wembed_pool *pool, const float *pixels, int B,
                                         float *hidden, float *pooled, we_err *err) {
    const clip_vision_hparams *hp = &((const clip_hparams *)m->hp)->vision;
    const clip_vision_weights *w = &((const clip_weights *)m->w)->vision;
    const int E = hp->n_embd, P = hp->patch_size, S = hp->image_size, C = hp->n_channels, d = E / hp->n_head;
    const int G = S / P, NP = G * G, T = NP + 1, n = B * T, KP = C * P * P;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    if (B <= 0) return WEMBED_STATUS_OK;
    int32_t *seq_off = we_malloc(sizeof(int32_t) * ((size_t)B + 1));
    if (!seq_off) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for %d images", B);
    const we_tokens tk = we_image_tokens(seq_off, B, T);
    const we_attn_params ap = { .n_head = hp->n_head, .n_kv_head = hp->n_head, .head_dim = d, .scale = 1.0f / sqrtf((float)d) };
    // Besides the blocks: the hidden states (when the caller wants none), the patches and
    // the patch GEMM's scratch, the class rows and the projection's scratch.
    size_t plin = we_linear_scratch_bytes(&w->patch_emb, B * NP), prj = w->proj.data ? we_linear_scratch_bytes(&w->proj, B) : 0;
    size_t extra = (hidden ? 0 : (size_t)n * E) + (size_t)B * NP * KP + (plin + prj) / sizeof(float) + 2 + (size_t)B * E;
    we_carve c = {0};
    float *buf, *attn, *more;
    void *lscratch;
    if (!we_preln_plan(&c, pool, &w->layers[0], &tk, E, hp->n_ff, &ap, extra, &buf, &attn, &lscratch, &more)) {
        we_free(seq_off);
        return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d images", B);
    }
    float *x = hidden ? hidden : more;
    float *patches = more + (hidden ? 0 : (size_t)n * E);
    float *cls = patches + (size_t)B * NP * KP;
    void *pscratch = cls + (size_t)B * E;
    // The patch convolution (stride = kernel, no bias) as a GEMM.
    we_image_patches(patches, pixels, B, C, S, P);
    float *pe = buf;   // (B * NP, E), the first part of the block activations (free until the blocks run)
    we_linear(pool, pe, E, patches, KP, &w->patch_emb, NULL, B * NP, WE_ACT_NONE, pscratch);
    const float *cls_emb = we_vec(&w->class_emb), *pos = we_vec(&w->pos_emb);
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * E;
        for (int e = 0; e < E; e++) xb[e] = cls_emb[e] + pos[e];
        for (int t = 1; t < T; t++)
            for (int e = 0; e < E; e++) xb[(size_t)t * E + e] = pe[((size_t)b * NP + t - 1) * E + e] + pos[(size_t)t * E + e];
    }
    we_apply_norm(pool, &ln, x, E, x, E, &w->pre_ln_w, &w->pre_ln_b, n, E);
    for (int il = 0; il < hp->n_layer; il++)
        we_preln_block(pool, &w->layers[il], x, &tk, E, hp->n_ff, &ln, hp->act, &ap, buf, attn, lscratch);
    // pooler_output = post_layernorm(class row); image_embeds = visual_projection(it)
    for (int b = 0; b < B; b++)
        we_apply_norm(NULL, &ln, cls + (size_t)b * E, E, x + (size_t)b * T * E, E, &w->post_ln_w, &w->post_ln_b, 1, E);
    if (w->proj.data) we_linear(pool, pooled, (int)w->proj.N, cls, E, &w->proj, NULL, B, WE_ACT_NONE, pscratch);
    else memcpy(pooled, cls, sizeof(float) * (size_t)B * E);
    we_carve_free(&c);
    we_free(seq_off);
    return WEMBED_STATUS_OK;
}

static wembed_status clip_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    clip_weights *w = ma->w;
    const clip_hparams *hp = ma->hp;
    wembed_status rc = we_towers_present(ma, group_present, &w->has_text, &w->has_vision, err);
    if (rc) return rc;
    ma->logit_scale = hp->logit_scale_init;
    if (w->logit_scale.data) ma->logit_scale = ((const float *)w->logit_scale.data)[0];
    if (w->has_text) {
        we_text_spec *t = &ma->text;
        t->hidden = hp->text.n_embd;
        t->proj = w->text.proj.data ? &w->text.proj : NULL;
        t->pooled = t->proj ? (int32_t)t->proj->N : t->hidden;
        t->n_layer = hp->text.n_layer; t->n_head = hp->text.n_head; t->n_ff = hp->text.n_ff; t->n_vocab = hp->text.n_vocab;
        t->n_ctx = hp->text.n_pos;
        t->pooling = WEMBED_POOLING_EOS;
        t->poolings = 1u << WEMBED_POOLING_EOS;    // (pooling none is always allowed)
    }
    if (w->has_vision) {
        we_vision_spec *v = &ma->vision;
        v->hidden = hp->vision.n_embd;
        v->pooled = w->vision.proj.data ? (int32_t)w->vision.proj.N : v->hidden;
        v->n_layer = hp->vision.n_layer; v->n_head = hp->vision.n_head; v->n_ff = hp->vision.n_ff;
        v->image_size = hp->vision.image_size;
        v->patch_size = hp->vision.patch_size;
        v->n_channels = hp->vision.n_channels;
        v->n_tokens = hp->vision.n_patches + 1;
    }
    return WEMBED_STATUS_OK;
}

static unsigned clip_parts(const we_json *cfg) { return we_tower_parts(cfg, "clip_text_model", "clip_vision_model"); }

// HF's rule for the row whose hidden state is the text's vector: eos_token_id 2, as old
// configs have it, means the largest id (<|endoftext|>); otherwise the first eos_token_id, or
// position 0 if there is none.
static int32_t clip_eos_index(const we_arch_model *m, const int32_t *ids, int32_t n) {
    int32_t eos = ((const clip_hparams *)m->hp)->text.eos_token_id, at = 0;
    if (eos == 2) {
        for (int32_t t = 1; t < n; t++) if (ids[t] > ids[at]) at = t;
    } else {
        for (int32_t t = 0; t < n; t++) if (ids[t] == eos) return t;
    }
    return at;
}

static int clip_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const clip_hparams *hp = ma->hp;
    const clip_weights *w = ma->w;
    return snprintf(buf, cap, "\"text\":%s,\"vision\":%s,\"text_eps\":%.7g,\"text_act\":\"%s\",\"bos_token_id\":%d,"
                    "\"eos_token_id\":%d,\"text_projection_dim\":%d,\"vision_eps\":%.7g,\"vision_act\":\"%s\",\"n_channels\":%d,"
                    "\"vision_positions\":%d,\"vision_projection_dim\":%d,\"logit_scale\":%.7g",
                    w->has_text ? "true" : "false", w->has_vision ? "true" : "false", (double)hp->text.eps, we_act_name(hp->text.act),
                    hp->text.bos_token_id, hp->text.eos_token_id, hp->text.projection_dim, (double)hp->vision.eps,
                    we_act_name(hp->vision.act), hp->vision.n_channels, hp->vision.n_pos, hp->vision.projection_dim, (double)ma->logit_scale);
}

static const char *const g_clip_types[] = {"clip", "clip_text_model", "clip_vision_model", NULL};

const we_family we_family_clip = {
    .name = "clip",
    .model_types = g_clip_types,
    .gguf_archs = g_clip_gguf,
    .hp_size = sizeof(clip_hparams),
    .w_size = sizeof(clip_weights),
    .layer_size = sizeof(we_preln_layer),
    .tower_layers = { offsetof(clip_weights, text.tower.layers), offsetof(clip_weights, vision.layers) },
    .entries = g_clip_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_clip_entries),
    .prefixes = g_clip_prefixes,
    .n_groups = 3,
    .from_config = clip_from_config,
    .from_gguf = clip_from_gguf,
    .dim = clip_dim,
    .n_layer = clip_n_layer,
    .enabled = clip_enabled,
    .alloc = we_alloc_towers,
    .slot = we_slot_towers,
    .finish = clip_finish,
    .parts = clip_parts,
    .describe = clip_describe,
    .forward = clip_text_forward,
    .eos_index = clip_eos_index,
    .vision_forward = clip_vision_forward,
};
