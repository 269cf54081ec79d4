// siglip.c - the siglip family (SiglipModel and its one-tower variants siglip_text_model and
// siglip_vision_model; the fixed-resolution SigLIP 2 checkpoints are SiglipModel too), as HF's
// modeling_siglip.py computes it: hyper-parameters from config.json (SiglipConfig with
// text_config / vision_config, each falling back to the SiglipTextConfig / SiglipVisionConfig
// defaults, or a bare one-tower config), the tensor table, and the two towers. Not here: the
// NaFlex SigLIP 2 checkpoints (model_type siglip2: patches as a Linear, variable resolution),
// and GGUF (llama.cpp names SigLIP only as the vision encoder of a multimodal projector, without
// the text tower or the pooling head).
//
//   text:    x = E_tok[id] + E_pos[pos]; per layer x += attn(LN1 x) (no mask); x += mlp(LN2 x);
//            x = final_LN(x)                                   -> (n_tok, E) last hidden states
//            text vector = head(x[last]) (Linear with bias)
//   vision:  x = patches(pixels) W_patch^T + b_patch + E_pos; per layer as above;
//            x = post_LN(x)                                    -> (B, n_patches, E)
//            h = MHA(probe, x, x); image vector = h + mlp(LN_head h)   (the MAP head)
//
// Subtle points:
//   - The text is padded with the pad token to max_position_embeddings (64), as the official
//     processors do (padding="max_length"), and there is NO attention mask: the padding is
//     attended to like any token (no causal mask either). The text vector is the LAST position
//     (63), whatever token is there, not the end-of-text token. The padding rule is the text
//     spec's pad_to: embed.c applies it to every call (texts and ids alike).
//   - Defaults the hub configs omit: 64 positions, gelu_pytorch_tanh (the tanh GELU) and
//     layer_norm_eps 1e-6 in both towers; the text head is Linear(E, projection_size = E).
//   - Vision: the patch convolution HAS a bias, there is no class token and no pre-LN,
//     post_layernorm applies to every token (the hidden states are after it), and the image
//     vector is the multi-head attention pooling head: a learned probe as the one query,
//     nn.MultiheadAttention with in_proj rows [q; k; v] and its out_proj, then a residual
//     MLP on a LayerNorm. There is no projection layer.
//   - Logits are exp(logit_scale) * cos + logit_bias, each a probability through a sigmoid
//     (no softmax over the candidates): ma->logit_sigmoid.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "forward.h"

typedef struct siglip_text_hparams {
    int32_t n_vocab, n_embd, n_layer, n_head, n_ff;
    int32_t n_pos;            // max_position_embeddings (64): the trained length, padded to
    float eps;
    we_act act;
    int32_t pad_token_id;     // the id the text is padded with
    int32_t projection_size;  // rows of head
} siglip_text_hparams;

typedef struct siglip_vision_hparams {
    int32_t n_embd, n_layer, n_head, n_ff;
    int32_t image_size, patch_size, n_channels;
    int32_t n_patches;        // (image_size / patch_size)^2: the tokens (no class token)
    float eps;
    we_act act;
} siglip_vision_hparams;

typedef struct siglip_hparams {
    siglip_text_hparams text;
    siglip_vision_hparams vision;
} siglip_hparams;

typedef struct siglip_text_weights {
    we_preln_text tower;          // text_model.* (64 positions)
    we_weight head_w, head_b;     // (P, E), (P) text_model.head
} siglip_text_weights;

typedef struct siglip_vision_weights {
    we_weight patch_w;            // (E, C, p, p) as (E, C*p*p): the patch conv as a GEMM
    we_weight patch_b;            // (E)     its bias
    we_weight pos_emb;            // (n_patches, E)
    we_preln_layer *layers;       // (n_layer)
    we_weight post_ln_w, post_ln_b;     // (E) vision_model.post_layernorm (every token)
    we_weight probe;              // (1, 1, E) head.probe: the pooling query
    we_weight in_w, in_b;         // (3E, E), (3E) head.attention.in_proj_*: rows q, k, v
    we_weight out_w, out_b;       // (E, E), (E)   head.attention.out_proj
    we_weight ln_w, ln_b;         // (E)     head.layernorm
    we_weight fc1_w, fc1_b;       // (F, E), (F)   head.mlp.fc1
    we_weight fc2_w, fc2_b;       // (E, F), (E)   head.mlp.fc2
} siglip_vision_weights;

typedef struct siglip_weights {
    bool has_text, has_vision;    // which towers the files held
    siglip_text_weights text;
    siglip_vision_weights vision;
    we_weight logit_scale;        // (1) the log of the logit scale (SiglipModel only)
    we_weight logit_bias;         // (1)
} siglip_weights;

enum { G_SHARED = 0, G_TEXT = 1, G_VISION = 2 };
enum { C_TEXT = 1, C_VISION };
enum { D_ONE = WE_D_FAMILY };     // the probe's leading 1s

#define W(f) (uint16_t)offsetof(siglip_weights, f)
#define T(f) (uint16_t)(offsetof(siglip_weights, text) + offsetof(siglip_text_weights, f))
#define V(f) (uint16_t)(offsetof(siglip_weights, vision) + offsetof(siglip_vision_weights, f))

// GGUF names are those of llama.cpp's clip files for the text tower and the blocks; this family
// reads no GGUF.
static const we_wentry g_siglip_entries[] = {
    // text tower
    WE_PRELN_TEXT_ENTRIES(G_TEXT, C_TEXT, T(tower)),
    {"text_model.head.weight", NULL, G_TEXT, false, WE_W_LINEAR, 0, C_TEXT, 2, {WE_D_PROJ, WE_D_EMBD}, T(head_w)},
    {"text_model.head.bias", NULL, G_TEXT, false, WE_W_VEC, 0, C_TEXT, 1, {WE_D_PROJ}, T(head_b)},
    // vision tower
    {"vision_model.embeddings.patch_embedding.weight", NULL, G_VISION, false, WE_W_LINEAR, 0, C_VISION, 4,
     {WE_D_EMBD, WE_D_CHAN, WE_D_PATCH, WE_D_PATCH}, V(patch_w)},
    {"vision_model.embeddings.patch_embedding.bias", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(patch_b)},
    {"vision_model.embeddings.position_embedding.weight", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 2, {WE_D_POS, WE_D_EMBD}, V(pos_emb)},
    WE_PRELN_LAYER_ENTRIES(G_VISION, C_VISION, "vision_model", "v"),
    {"vision_model.post_layernorm.weight", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(post_ln_w)},
    {"vision_model.post_layernorm.bias", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(post_ln_b)},
    {"vision_model.head.probe", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 3, {D_ONE, D_ONE, WE_D_EMBD}, V(probe)},
    {"vision_model.head.attention.in_proj_weight", NULL, G_VISION, false, WE_W_LINEAR, 0, C_VISION, 2, {WE_D_QKV, WE_D_EMBD}, V(in_w)},
    {"vision_model.head.attention.in_proj_bias", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_QKV}, V(in_b)},
    {"vision_model.head.attention.out_proj.weight", NULL, G_VISION, false, WE_W_LINEAR, 0, C_VISION, 2, {WE_D_EMBD, WE_D_EMBD}, V(out_w)},
    {"vision_model.head.attention.out_proj.bias", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(out_b)},
    {"vision_model.head.layernorm.weight", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(ln_w)},
    {"vision_model.head.layernorm.bias", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(ln_b)},
    {"vision_model.head.mlp.fc1.weight", NULL, G_VISION, false, WE_W_LINEAR, 0, C_VISION, 2, {WE_D_FF, WE_D_EMBD}, V(fc1_w)},
    {"vision_model.head.mlp.fc1.bias", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_FF}, V(fc1_b)},
    {"vision_model.head.mlp.fc2.weight", NULL, G_VISION, false, WE_W_LINEAR, 0, C_VISION, 2, {WE_D_EMBD, WE_D_FF}, V(fc2_w)},
    {"vision_model.head.mlp.fc2.bias", NULL, G_VISION, false, WE_W_VEC, 0, C_VISION, 1, {WE_D_EMBD}, V(fc2_b)},
    // shared (SiglipModel): shape (1)
    {"logit_scale", NULL, G_SHARED, false, WE_W_VEC, WE_WF_OPTIONAL, 0, 0, {0}, W(logit_scale)},
    {"logit_bias", NULL, G_SHARED, false, WE_W_VEC, WE_WF_OPTIONAL, 0, 0, {0}, W(logit_bias)},
};

static const char *const g_siglip_prefixes[] = {"model.", "siglip.", NULL};

// -----------------------------------------------------------------------------------------
// config.json

// A tower config: its fields, the SiglipTextConfig / SiglipVisionConfig defaults for the
// missing ones (the hub configs omit most of them).
static wembed_status text_from_config(siglip_text_hparams *t, const we_json *c, we_err *err) {
    wembed_status rc;
    if ((rc = we_cfg_int(c, "vocab_size", 32000, 1, 1 << 24, &t->n_vocab, err)) ||
        (rc = we_cfg_int(c, "hidden_size", 768, 1, 65536, &t->n_embd, err)) ||
        (rc = we_cfg_int(c, "intermediate_size", 3072, 1, 1 << 20, &t->n_ff, err)) ||
        (rc = we_cfg_int(c, "num_hidden_layers", 12, 1, 1024, &t->n_layer, err)) ||
        (rc = we_cfg_int(c, "num_attention_heads", 12, 1, 4096, &t->n_head, err)) ||
        (rc = we_cfg_int(c, "max_position_embeddings", 64, 1, 1 << 20, &t->n_pos, err)) ||
        (rc = we_cfg_pos_float(c, "layer_norm_eps", 1e-6, &t->eps, err)) ||
        (rc = we_cfg_act(c, "hidden_act", "gelu_pytorch_tanh", &t->act, err)) ||
        (rc = we_cfg_int(c, "pad_token_id", 1, 0, 1 << 24, &t->pad_token_id, err)) ||
        (rc = we_cfg_int(c, "projection_size", t->n_embd, 1, 65536, &t->projection_size, err)))
        return rc;
    if (t->n_embd % t->n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: text hidden_size %d is not a multiple of num_attention_heads %d",
                         t->n_embd, t->n_head);
    if (t->pad_token_id >= t->n_vocab)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: text pad_token_id %d is not below vocab_size %d", t->pad_token_id,
                         t->n_vocab);
    return WEMBED_STATUS_OK;
}

static wembed_status vision_from_config(siglip_vision_hparams *v, const we_json *c, we_err *err) {
    wembed_status rc;
    bool use_head;
    if ((rc = we_cfg_int(c, "hidden_size", 768, 1, 65536, &v->n_embd, err)) ||
        (rc = we_cfg_int(c, "intermediate_size", 3072, 1, 1 << 20, &v->n_ff, err)) ||
        (rc = we_cfg_int(c, "num_hidden_layers", 12, 1, 1024, &v->n_layer, err)) ||
        (rc = we_cfg_int(c, "num_attention_heads", 12, 1, 4096, &v->n_head, err)) ||
        (rc = we_cfg_int(c, "num_channels", 3, 1, 16, &v->n_channels, err)) ||
        (rc = we_cfg_int(c, "image_size", 224, 1, 16384, &v->image_size, err)) ||
        (rc = we_cfg_int(c, "patch_size", 16, 1, 16384, &v->patch_size, err)) ||
        (rc = we_cfg_pos_float(c, "layer_norm_eps", 1e-6, &v->eps, err)) ||
        (rc = we_cfg_act(c, "hidden_act", "gelu_pytorch_tanh", &v->act, err)) ||
        (rc = we_cfg_bool(c, "vision_use_head", true, &use_head, err)))
        return rc;
    if (!use_head)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: a vision tower without its pooling head (vision_use_head false) "
                         "gives no image embedding");
    if (v->n_embd % v->n_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: vision hidden_size %d is not a multiple of num_attention_heads %d",
                         v->n_embd, v->n_head);
    if (v->patch_size > v->image_size)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: patch_size %d is larger than image_size %d", v->patch_size, v->image_size);
    int32_t side = v->image_size / v->patch_size;   // the conv's stride: a partial patch is dropped
    v->n_patches = side * side;
    return WEMBED_STATUS_OK;
}

static wembed_status siglip_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    siglip_hparams *hp = ma->hp;
    wembed_status rc;
    if (strcmp(ma->model_type, "siglip_text_model") == 0) return text_from_config(&hp->text, cfg, err);
    if (strcmp(ma->model_type, "siglip_vision_model") == 0) return vision_from_config(&hp->vision, cfg, err);
    const we_json *tc, *vc;
    if ((rc = we_cfg_towers(cfg, &tc, &vc, err))) return rc;
    if ((rc = text_from_config(&hp->text, tc, err))) { we_err_prefix(err, "text_config"); return rc; }
    if ((rc = vision_from_config(&hp->vision, vc, err))) { we_err_prefix(err, "vision_config"); return rc; }
    return WEMBED_STATUS_OK;
}

static int64_t siglip_dim(const we_arch_model *ma, int sym, int group) {
    const siglip_hparams *hp = ma->hp;
    if (sym == D_ONE) return 1;
    if (group == G_TEXT) {
        switch (sym) {
        case WE_D_EMBD: return hp->text.n_embd;
        case WE_D_FF: return hp->text.n_ff;
        case WE_D_VOCAB: return hp->text.n_vocab;
        case WE_D_POS: return hp->text.n_pos;
        case WE_D_PROJ: return hp->text.projection_size;
        }
    } else if (group == G_VISION) {
        switch (sym) {
        case WE_D_EMBD: return hp->vision.n_embd;
        case WE_D_FF: return hp->vision.n_ff;
        case WE_D_POS: return hp->vision.n_patches;
        case WE_D_QKV: return 3 * (int64_t)hp->vision.n_embd;
        case WE_D_CHAN: return hp->vision.n_channels;
        case WE_D_PATCH: return hp->vision.patch_size;
        }
    }
    return -1;
}

static int32_t siglip_n_layer(const we_arch_model *ma, int group) {
    const siglip_hparams *hp = ma->hp;
    return group == G_TEXT ? hp->text.n_layer : group == G_VISION ? hp->vision.n_layer : 0;
}

// A tower is loadable only if its config is known (n_layer > 0).
static bool siglip_enabled(const we_arch_model *ma, int cond) {
    const siglip_hparams *hp = ma->hp;
    if (cond == C_TEXT) return hp->text.n_layer > 0;
    if (cond == C_VISION) return hp->vision.n_layer > 0;
    return true;
}

// -----------------------------------------------------------------------------------------
// Forward passes

// The text tower over the (already padded, embed.c) sequences of tk: no mask of any kind.
static wembed_status siglip_text_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                         const we_fwd_opts *o, float *x, we_err *err) {
    (void)o;
    const siglip_text_hparams *hp = &((const siglip_hparams *)m->hp)->text;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    const bool causal = false;    // the padding is attended like any token, no causal mask either
    return we_preln_text_forward(pool, &((const siglip_weights *)m->w)->text.tower, tk, hp->n_layer, hp->n_embd, hp->n_head, hp->n_ff,
                                 &ln, hp->act, causal, x, err);
}

static wembed_status siglip_vision_forward(const we_arch_model *m, wembed_pool *pool, const float *pixels, int B,
                                           float *hidden, float *pooled, we_err *err) {
    const siglip_vision_hparams *hp = &((const siglip_hparams *)m->hp)->vision;
    const siglip_vision_weights *w = &((const siglip_weights *)m->w)->vision;
    const int E = hp->n_embd, F = hp->n_ff, P = hp->patch_size, S = hp->image_size, C = hp->n_channels;
    const int T = hp->n_patches, n = B * T, KP = C * P * P, d = E / hp->n_head;
    const we_norm ln = { WE_NORM_LAYER, hp->eps };
    if (B <= 0) return WEMBED_STATUS_OK;
    int32_t *seq_off = we_malloc(sizeof(int32_t) * ((size_t)B + 1));
    if (!seq_off) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for %d images", B);
    const we_tokens tk = we_image_tokens(seq_off, B, T);
    const we_attn_params ap = { .n_head = hp->n_head, .n_kv_head = hp->n_head, .head_dim = d, .scale = 1.0f / sqrtf((float)d) };
    // Besides the blocks: the hidden states (when the caller wants none), the patches, and the
    // head's rows: q (3E: the probe through all of in_proj), o, a, hn (E each per image), ff
    // (F per image), the scores (T), and the Linear scratch of the patch GEMM and the head.
    // The head's k and v of every token (n, 3E) reuse the blocks' buffer.
    const we_weight *lin[] = { &w->in_w, &w->out_w, &w->fc1_w, &w->fc2_w };
    size_t lscr = WE_MAX(we_linear_scratch_bytes(&w->patch_w, n), WE_MAX(we_linear_scratch_max(n, lin, 1), we_linear_scratch_max(B, lin + 1, 3)));
    size_t lscr_floats = (lscr + 63) / 64 * 16;                 // keeps what follows 64-byte aligned
    size_t extra = lscr_floats + (hidden ? 0 : (size_t)n * E) + (size_t)n * KP + 3 * (size_t)E + 3 * (size_t)B * E +
                   (size_t)B * F + (size_t)T;
    we_carve c = {0};
    float *buf, *attn, *more;
    void *lscratch;
    if (!we_preln_plan(&c, pool, &w->layers[0], &tk, E, F, &ap, extra, &buf, &attn, &lscratch, &more)) {
        we_free(seq_off);
        return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d images", B);
    }
    void *hscratch = more;
    float *x = hidden ? hidden : more + lscr_floats;            // (n, E)
    float *patches = more + lscr_floats + (hidden ? 0 : (size_t)n * E);   // (n, C*P*P)
    float *q = patches + (size_t)n * KP;                        // (3E)
    float *o = q + 3 * (size_t)E, *a = o + (size_t)B * E, *hn = a + (size_t)B * E;   // (B, E) each
    float *ff = hn + (size_t)B * E;                             // (B, F)
    float *scores = ff + (size_t)B * F;                         // (T)

    // Patch convolution (with bias) as a GEMM, then the learned positions; no class token.
    we_image_patches(patches, pixels, B, C, S, P);
    we_linear(pool, x, E, patches, KP, &w->patch_w, &w->patch_b, n, WE_ACT_NONE, hscratch);
    const float *pos = we_vec(&w->pos_emb);
    for (int b = 0; b < B; b++) we_residual(x + (size_t)b * T * E, pos, (size_t)T * E);
    for (int il = 0; il < hp->n_layer; il++)
        we_preln_block(pool, &w->layers[il], x, &tk, E, F, &ln, hp->act, &ap, buf, attn, lscratch);
    // post_layernorm on every token: these are the tower's last hidden states.
    we_apply_norm(pool, &ln, x, E, x, E, &w->post_ln_w, &w->post_ln_b, n, E);

    // The MAP head. in_proj is one (3E, E) weight: the probe goes through all of it (its q is
    // the first E), the tokens too (their k and v are the other 2E; one GEMM instead of two
    // slices of a packed weight).
    float *kv = buf;                                            // (n, 3E)
    we_linear(pool, q, 3 * E, we_vec(&w->probe), E, &w->in_w, &w->in_b, 1, WE_ACT_NONE, hscratch);
    we_linear(pool, kv, 3 * E, x, E, &w->in_w, &w->in_b, n, WE_ACT_NONE, hscratch);
    we_attend_probe(o, E, q, 0, &tk, kv + E, 3 * E, kv + 2 * E, 3 * E, hp->n_head, d, 1.0f / sqrtf((float)d), scores);
    we_linear(pool, a, E, o, E, &w->out_w, &w->out_b, B, WE_ACT_NONE, hscratch);   // h = out_proj(o)
    we_apply_norm(pool, &ln, hn, E, a, E, &w->ln_w, &w->ln_b, B, E);
    we_linear(pool, ff, F, hn, E, &w->fc1_w, &w->fc1_b, B, hp->act, hscratch);
    we_linear(pool, pooled, E, ff, F, &w->fc2_w, &w->fc2_b, B, WE_ACT_NONE, hscratch);
    we_residual(pooled, a, (size_t)B * E);                      // h + mlp(layernorm(h))
    we_carve_free(&c);
    we_free(seq_off);
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// What the rest of the engine reads

static wembed_status siglip_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    siglip_weights *w = ma->w;
    const siglip_hparams *hp = ma->hp;
    wembed_status rc = we_towers_present(ma, group_present, &w->has_text, &w->has_vision, err);
    if (rc) return rc;
    if (w->logit_scale.data) ma->logit_scale = we_vec(&w->logit_scale)[0];
    if (w->logit_bias.data) ma->logit_bias = we_vec(&w->logit_bias)[0];
    ma->logit_sigmoid = true;
    if (w->has_text) {
        we_text_spec *t = &ma->text;
        t->hidden = hp->text.n_embd;
        t->proj = &w->text.head_w;
        t->proj_b = &w->text.head_b;
        t->pooled = hp->text.projection_size;
        t->n_layer = hp->text.n_layer; t->n_head = hp->text.n_head; t->n_ff = hp->text.n_ff; t->n_vocab = hp->text.n_vocab;
        t->n_ctx = hp->text.n_pos;
        t->pad_to = hp->text.n_pos;
        t->pad_id = hp->text.pad_token_id;
        t->pooling = WEMBED_POOLING_LAST;
        t->poolings = 1u << WEMBED_POOLING_LAST;    // (pooling none is always allowed)
    }
    if (w->has_vision) {
        we_vision_spec *v = &ma->vision;
        v->hidden = v->pooled = hp->vision.n_embd;
        v->n_layer = hp->vision.n_layer; v->n_head = hp->vision.n_head; v->n_ff = hp->vision.n_ff;
        v->image_size = hp->vision.image_size;
        v->patch_size = hp->vision.patch_size;
        v->n_channels = hp->vision.n_channels;
        v->n_tokens = hp->vision.n_patches;
    }
    return WEMBED_STATUS_OK;
}

static unsigned siglip_parts(const we_json *cfg) { return we_tower_parts(cfg, "siglip_text_model", "siglip_vision_model"); }

static int siglip_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const siglip_hparams *hp = ma->hp;
    const siglip_weights *w = ma->w;
    return snprintf(buf, cap, "\"text\":%s,\"vision\":%s,\"text_eps\":%.7g,\"text_act\":\"%s\",\"pad_token_id\":%d,"
                    "\"pad_to\":%d,\"text_projection_size\":%d,\"vision_eps\":%.7g,\"vision_act\":\"%s\",\"n_channels\":%d,"
                    "\"vision_positions\":%d,\"logit_scale\":%.7g,\"logit_bias\":%.7g",
                    w->has_text ? "true" : "false", w->has_vision ? "true" : "false", (double)hp->text.eps, we_act_name(hp->text.act),
                    hp->text.pad_token_id, hp->text.n_pos, hp->text.projection_size, (double)hp->vision.eps,
                    we_act_name(hp->vision.act), hp->vision.n_channels, hp->vision.n_patches, (double)ma->logit_scale,
                    (double)ma->logit_bias);
}

static const char *const g_siglip_types[] = {"siglip", "siglip_text_model", "siglip_vision_model", NULL};

const we_family we_family_siglip = {
    .name = "siglip",
    .model_types = g_siglip_types,
    .hp_size = sizeof(siglip_hparams),
    .w_size = sizeof(siglip_weights),
    .layer_size = sizeof(we_preln_layer),
    .tower_layers = { offsetof(siglip_weights, text.tower.layers), offsetof(siglip_weights, vision.layers) },
    .entries = g_siglip_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_siglip_entries),
    .prefixes = g_siglip_prefixes,
    .n_groups = 3,
    .from_config = siglip_from_config,
    .dim = siglip_dim,
    .n_layer = siglip_n_layer,
    .enabled = siglip_enabled,
    .alloc = we_alloc_towers,
    .slot = we_slot_towers,
    .finish = siglip_finish,
    .parts = siglip_parts,
    .describe = siglip_describe,
    .forward = siglip_text_forward,
    .vision_forward = siglip_vision_forward,
};
