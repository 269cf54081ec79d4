// arch.h - the architecture families the engine loads: their hyper-parameters (read from
// config.json exactly as Hugging Face names them, or from GGUF metadata), their weights (one
// we_weight per tensor, grouped per layer so a forward pass can read them by name), and the
// tables that list each family's tensors by their HF names with llama.cpp's GGUF names beside
// them (STYLE.md item 4).
//
//   model_type (config.json)           family       weights file names
//   bert, roberta, xlm-roberta         bert         encoder.layer.%d.attention.self.query.weight
//   nomic_bert                         nomic_bert   encoder.layers.%d.attn.Wqkv.weight
//   clip, clip_text_model,
//   clip_vision_model                  clip         text_model.encoder.layers.%d.self_attn.q_proj.weight
//
// Not: the forward passes (src/arch/<family>.c) nor the loader (src/model.c), which walks
// these tables generically.
#ifndef WE_ARCH_H
#define WE_ARCH_H

#include "../core/arena.h"
#include "../formats/json.h"
#include "../formats/tensor.h"
#include "../ops/ops.h"

struct we_gguf;

typedef enum we_arch {
    WE_ARCH_BERT = 0,
    WE_ARCH_NOMIC_BERT,
    WE_ARCH_CLIP,
} we_arch;

// -----------------------------------------------------------------------------------------
// bert (also roberta and xlm-roberta: the same tensors, positions offset by pad_token_id + 1)

typedef struct we_bert_hparams {
    int32_t n_vocab;          // vocab_size
    int32_t n_embd;           // hidden_size
    int32_t n_layer;          // num_hidden_layers
    int32_t n_head;           // num_attention_heads
    int32_t n_ff;             // intermediate_size
    int32_t n_pos;            // max_position_embeddings (rows of the position table)
    int32_t n_types;          // type_vocab_size
    float eps;                // layer_norm_eps
    we_act act;               // hidden_act
    int32_t pad_token_id;
    // roberta / xlm-roberta: position ids are cumsum(mask) * mask + pad_token_id (HF's
    // create_position_ids_from_input_ids), so the first token is at pad_token_id + 1.
    bool pos_from_pad;
    int32_t n_ctx;            // longest input: n_pos, or n_pos - pad_token_id - 1 (roberta)
} we_bert_hparams;

typedef struct we_bert_layer {
    we_weight q_w, q_b;           // (E, E), (E)   attention.self.query
    we_weight k_w, k_b;           // (E, E), (E)
    we_weight v_w, v_b;           // (E, E), (E)
    we_weight o_w, o_b;           // (E, E), (E)   attention.output.dense
    we_weight attn_ln_w, attn_ln_b;   // (E)       attention.output.LayerNorm (post-LN)
    we_weight up_w, up_b;         // (F, E), (F)   intermediate.dense
    we_weight down_w, down_b;     // (E, F), (E)   output.dense
    we_weight out_ln_w, out_ln_b; // (E)           output.LayerNorm
} we_bert_layer;

typedef struct we_bert_weights {
    we_weight tok_emb;            // (V, E)  embeddings.word_embeddings
    we_weight pos_emb;            // (P, E)  embeddings.position_embeddings
    we_weight type_emb;           // (T, E)  embeddings.token_type_embeddings
    we_weight emb_ln_w, emb_ln_b; // (E)     embeddings.LayerNorm
    we_bert_layer *layers;        // (n_layer)
    we_weight pooler_w, pooler_b; // (E, E), (E)  optional (not in GGUF files)
} we_bert_weights;

// -----------------------------------------------------------------------------------------
// nomic_bert (nomic-embed-text-v1/v1.5): GPT-2 style config names

typedef struct we_nomic_hparams {
    int32_t n_vocab;          // vocab_size rounded up to pad_vocab_size_multiple
    int32_t n_embd;           // n_embd
    int32_t n_layer;          // n_layer
    int32_t n_head;           // n_head
    int32_t n_ff;             // n_inner (or 8*n_embd/3), rounded up to 256 as NomciBertGatedMLP does
    int32_t n_types;          // type_vocab_size
    int32_t n_ctx;            // n_positions: longest input
    float eps;                // layer_norm_epsilon
    float rope_base;          // rotary_emb_base
    int32_t rope_dim;         // head_dim * rotary_emb_fraction (dims rotated, half-split)
    float rope_scaling;       // rotary_scaling_factor for dynamic NTK; 0 = none (null)
    int32_t max_trained_pos;  // max_trained_positions (the NTK threshold)
    we_act gate_act;          // swiglu: SILU (fc2(fc11(x) * silu(fc12(x)))); geglu: GELU
    bool qkv_bias, fc1_bias, fc2_bias;   // qkv_proj_bias, mlp_fc1_bias, mlp_fc2_bias
} we_nomic_hparams;

typedef struct we_nomic_layer {
    we_weight qkv_w, qkv_b;       // (3E, E), (3E)  attn.Wqkv (q, k, v stacked by rows)
    we_weight o_w, o_b;           // (E, E), (E)    attn.out_proj
    we_weight norm1_w, norm1_b;   // (E)            norm1 (after attention, post-LN)
    we_weight fc11_w, fc11_b;     // (F, E), (F)    mlp.fc11 (value)
    we_weight fc12_w, fc12_b;     // (F, E), (F)    mlp.fc12 (gate)
    we_weight fc2_w, fc2_b;       // (E, F), (E)    mlp.fc2
    we_weight norm2_w, norm2_b;   // (E)            norm2 (after the MLP)
} we_nomic_layer;

typedef struct we_nomic_weights {
    we_weight tok_emb;            // (V, E)  embeddings.word_embeddings
    we_weight type_emb;           // (T, E)  embeddings.token_type_embeddings
    we_weight emb_ln_w, emb_ln_b; // (E)     emb_ln
    we_nomic_layer *layers;       // (n_layer)
} we_nomic_weights;

// -----------------------------------------------------------------------------------------
// clip: a text tower and a vision tower, either of which may be absent from the files

typedef struct we_clip_text_hparams {
    int32_t n_vocab, n_embd, n_layer, n_head, n_ff;
    int32_t n_pos;            // max_position_embeddings (77): the longest input
    float eps;
    we_act act;
    int32_t bos_token_id, eos_token_id, pad_token_id;
    int32_t projection_dim;   // rows of text_projection
} we_clip_text_hparams;

typedef struct we_clip_vision_hparams {
    int32_t n_embd, n_layer, n_head, n_ff;
    int32_t image_size, patch_size, n_channels;
    int32_t n_patches;        // (image_size / patch_size)^2
    int32_t n_pos;            // n_patches + 1 (the class token)
    float eps;
    we_act act;
    int32_t projection_dim;   // rows of visual_projection
} we_clip_vision_hparams;

typedef struct we_clip_hparams {
    we_clip_text_hparams text;
    we_clip_vision_hparams vision;
    float logit_scale_init;   // logit_scale_init_value (used when the file has no logit_scale)
} we_clip_hparams;

typedef struct we_clip_layer {
    we_weight ln1_w, ln1_b;       // (E)            layer_norm1 (pre-LN)
    we_weight q_w, q_b;           // (E, E), (E)    self_attn.q_proj
    we_weight k_w, k_b;
    we_weight v_w, v_b;
    we_weight o_w, o_b;           // (E, E), (E)    self_attn.out_proj
    we_weight ln2_w, ln2_b;       // (E)            layer_norm2
    we_weight fc1_w, fc1_b;       // (F, E), (F)    mlp.fc1
    we_weight fc2_w, fc2_b;       // (E, F), (E)    mlp.fc2
} we_clip_layer;

typedef struct we_clip_text_weights {
    we_weight tok_emb;            // (V, E)  text_model.embeddings.token_embedding
    we_weight pos_emb;            // (77, E) text_model.embeddings.position_embedding
    we_clip_layer *layers;        // (n_layer)
    we_weight final_ln_w, final_ln_b;   // (E)  text_model.final_layer_norm
    we_weight proj;               // (P, E)  text_projection (optional: CLIPTextModel has none)
} we_clip_text_weights;

typedef struct we_clip_vision_weights {
    we_weight class_emb;          // (E)     vision_model.embeddings.class_embedding
    we_weight patch_emb;          // (E, C, p, p) as (E, C*p*p): the patch conv (no bias) as a GEMM
    we_weight pos_emb;            // (n_patches + 1, E)
    we_weight pre_ln_w, pre_ln_b; // (E)     vision_model.pre_layrnorm (sic)
    we_clip_layer *layers;        // (n_layer)
    we_weight post_ln_w, post_ln_b;   // (E) vision_model.post_layernorm (on the class row)
    we_weight proj;               // (P, E)  visual_projection (optional)
} we_clip_vision_weights;

typedef struct we_clip_weights {
    bool has_text, has_vision;    // which towers the files held
    we_clip_text_weights text;
    we_clip_vision_weights vision;
    we_weight logit_scale;        // () optional; see we_arch_model.logit_scale
} we_clip_weights;

// -----------------------------------------------------------------------------------------
// The loaded architecture, as the forward passes see it.

typedef struct we_family we_family;

typedef struct we_arch_model {
    const we_family *family;
    char model_type[32];          // config.json's model_type ("bert", "xlm-roberta", ...)
    union {
        we_bert_hparams bert;
        we_nomic_hparams nomic;
        we_clip_hparams clip;
    } hp;
    union {
        we_bert_weights bert;
        we_nomic_weights nomic;
        we_clip_weights clip;
    } w;
    float logit_scale;            // clip: the logit_scale parameter (log of the scale)
} we_arch_model;

// -----------------------------------------------------------------------------------------
// Weight tables

typedef enum we_wkind {
    WE_W_VEC = 0,     // biases, norms, class embedding, scalars: always f32
    WE_W_LINEAR,      // a matmul weight (N, K...): f32/f16/q8 per the dtype option, packed for GEMM
    WE_W_TABLE,       // an embedding table (rows, E): f32/f16/q8, always row-major (rows are gathered)
} we_wkind;

// Symbolic dimensions, resolved per family (and per group: the two CLIP towers differ).
enum {
    WE_D_EMBD = 1, WE_D_FF, WE_D_VOCAB, WE_D_POS, WE_D_TYPES, WE_D_QKV, WE_D_PROJ,
    WE_D_CHAN, WE_D_PATCH,
};

#define WE_WF_OPTIONAL 1   // may be absent (the pooler, a tower's projection, logit_scale)

typedef struct we_wentry {
    const char *hf;           // HF name; "%d" stands for the layer
    const char *gguf;         // llama.cpp GGUF name, or NULL when GGUF files never carry it
    uint8_t group;            // 0; clip: 1 = text tower, 2 = vision tower, 0 = shared
    bool per_layer;
    uint8_t kind;             // we_wkind
    uint8_t flags;            // WE_WF_*
    uint8_t cond;             // family-defined condition (0: always); e.g. nomic's bias flags
    uint8_t n_dims;
    uint8_t dims[4];          // WE_D_* in torch order
    uint16_t offset;          // offsetof in the family's weights struct, or layer struct
} we_wentry;

struct we_family {
    const char *name;                 // "bert", "nomic_bert", "clip"
    we_arch arch;
    const char *const *gguf_archs;    // general.architecture values ("bert"), NULL-terminated
    const we_wentry *entries;
    uint32_t n_entries;
    const char *const *prefixes;      // stripped from HF names ("bert.", "model."), NULL-terminated
    uint8_t n_groups;                 // 1, or 3 for clip (groups 1 and 2 are optional towers)

    // config.json (already known to be of this family) -> ma->hp.
    wembed_status (*from_config)(we_arch_model *ma, const we_json *cfg, we_err *err);
    // GGUF metadata -> ma->hp.
    wembed_status (*from_gguf)(we_arch_model *ma, const struct we_gguf *g, we_err *err);
    int64_t (*dim)(const we_arch_model *ma, int sym, int group);
    int32_t (*n_layer)(const we_arch_model *ma, int group);
    bool (*enabled)(const we_arch_model *ma, int cond);
    // Allocates the per-layer arrays of ma->w in a (for the groups that are present).
    wembed_status (*alloc)(we_arch_model *ma, we_arena *a, we_err *err);
    // Where entry e of layer il lives in ma->w.
    we_weight *(*slot)(we_arch_model *ma, const we_wentry *e, int il);
    // After loading: derived values and final checks (which towers, logit_scale...).
    wembed_status (*finish)(we_arch_model *ma, const bool *group_present, we_err *err);
};

extern const we_family we_family_bert;
extern const we_family we_family_nomic_bert;
extern const we_family we_family_clip;

// The family of a config.json model_type, or NULL (we_supported_model_types() lists them).
const we_family *we_family_for_model_type(const char *model_type);
// The family of a GGUF general.architecture ("bert", "nomic-bert", "clip"), or NULL.
const we_family *we_family_for_gguf_arch(const char *arch);
// "bert, roberta, xlm-roberta, nomic_bert, clip" (static).
const char *we_supported_model_types(void);

// Helpers for the families' config readers: an optional integer/float/bool field with a
// default; a present field of the wrong type, or an integer out of [lo, hi], is an error
// naming the field.
wembed_status we_cfg_int(const we_json *cfg, const char *key, int64_t def, int64_t lo, int64_t hi,
                         int32_t *out, we_err *err);
wembed_status we_cfg_float(const we_json *cfg, const char *key, double def, float *out, we_err *err);
wembed_status we_cfg_bool(const we_json *cfg, const char *key, bool def, bool *out, we_err *err);
// hidden_act strings -> we_act ("gelu", "quick_gelu", "silu"/"swish"); others UNSUPPORTED.
wembed_status we_cfg_act(const we_json *cfg, const char *key, const char *def, we_act *out, we_err *err);

// GGUF metadata: the integer key (full name) into *out within [lo, hi]; absent -> def, or an
// error when def < 0 (required).
wembed_status we_gguf_cfg_int(const struct we_gguf *g, const char *key, int64_t def, int64_t lo, int64_t hi,
                              int32_t *out, we_err *err);
// Outermost dimension (rows) of a GGUF tensor, or def when the file has no such tensor.
int64_t we_gguf_rows(const struct we_gguf *g, const char *name, int64_t def);

#endif // WE_ARCH_H
