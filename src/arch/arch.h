// arch.h - the model families: one descriptor (we_family) per family, in one file per family
// (src/arch/<family>.c), listed once in families.c. A family owns everything about its
// architecture: the config.json model_types and GGUF architectures it claims, its
// hyper-parameter readers, its weight table (HF names with llama.cpp's GGUF names beside
// them, STYLE.md item 4), its forward passes, and the spec the rest of the engine reads
// (hidden and output sizes, context length, position and pooling rules, ...). Its
// hyper-parameter and weight structs are private to its file.
//
// Nothing outside src/arch/ asks which family a model is: the loader (model.c) walks the weight
// table, the embedding calls (embed.c, embed_image.c) read the specs and call the hooks.
//
// Adding a family: one new file src/arch/<family>.c that defines `const we_family
// we_family_<name>`, and one line in the list of families.c (plus its registry entry, fixture
// and test).
#ifndef WE_ARCH_H
#define WE_ARCH_H

#include "../core/arena.h"
#include "../formats/json.h"
#include "../formats/tensor.h"
#include "../ops/ops.h"

struct we_gguf;
typedef struct we_family we_family;
typedef struct we_tokens we_tokens;

// -----------------------------------------------------------------------------------------
// What a loaded model is, as the embedding calls see it (filled by the family's finish).

// Position ids of the tokens of one text.
typedef enum we_pos_rule {
    WE_POS_PLAIN = 0,             // 0, 1, 2, ... from the start of the row
    WE_POS_FROM_PAD,              // RoBERTa / MPNet: pad_id + 1 on over non-pad ids; pad ids at pad_id
} we_pos_rule;

// What --dims does to a pooled vector before normalization.
typedef enum we_matryoshka {
    WE_MATRYOSHKA_TRUNCATE = 0,   // keep the first dims (sentence-transformers' truncate_dim)
    WE_MATRYOSHKA_LAYER_NORM,     // nomic's recipe: layer_norm (no affine, eps 1e-5), then truncate
} we_matryoshka;

// A sequence-classification head (cross-encoders) on the pooled last hidden state h of a text
// (pooling CLS: the first token's row; MEAN: the mean of its rows, as a masked mean over the
// padded batch gives it):
//   z = act(pre_w h + pre_b); z = tanh(z) if pre_tanh; z = LayerNorm(z) if norm_w
//   logits (n_labels) = out_w z + out_b                  (pre_w NULL: z = h)
// BertForSequenceClassification: CLS, pre = pooler.dense, tanh (BertPooler), out = classifier;
// RobertaClassificationHead: CLS, pre = classifier.dense, tanh, out = classifier.out_proj;
// ModernBertForSequenceClassification: classifier_pooling, pre = head.dense (bias per
// classifier_bias), act = classifier_activation, norm = head.norm, out = classifier;
// DebertaV2ForSequenceClassification: CLS, pre = pooler.dense, act = pooler_hidden_act (ContextPooler),
// out = classifier.
typedef struct we_cls_head {
    int32_t n_labels;             // 0: no head
    wembed_pooling pooling;       // WEMBED_POOLING_CLS or WEMBED_POOLING_MEAN
    const we_weight *pre_w, *pre_b;   // (E, E), (E) or NULL; pre_w NULL: out reads h itself
    we_act pre_act;               // fused into pre's linear
    bool pre_tanh;
    const we_weight *norm_w, *norm_b; // (E), (E) or NULL: a LayerNorm after pre; norm_w NULL: none
    float norm_eps;
    const we_weight *out_w, *out_b;   // (n_labels, E), (n_labels)
    bool sigmoid;                 // the config asks for sigmoid scores (sentence-transformers)
    const we_json *id2label;      // config.json's id2label object (in the model's arena), or NULL
} we_cls_head;

// What config.json says about a classification head (we_cfg_cls_head).
typedef struct we_cls_cfg {
    bool on;                      // architectures[0] is *ForSequenceClassification
    int32_t n_labels;             // num_labels, else the size of id2label, else 2 (HF's default)
    bool sigmoid;                 // sbert_ce_default_activation_function or
                                  // sentence_transformers.activation_fn names Sigmoid
    const we_json *id2label;      // the id2label object, or NULL (valid as long as cfg)
} we_cls_cfg;

// What truncate EXTEND does with an input longer than the trained length.
typedef enum we_extension {
    WE_EXT_DEFAULT = 0,           // the rule of we_text_extension: SELF_EXTEND on a family that takes
                                  // it, else NATIVE on one that extends, else CHUNK
    WE_EXT_SELF_EXTEND,           // SelfExtend, W = n_trained / 2, G per sequence (WE_SE_GROUP_AUTO)
    WE_EXT_NATIVE,                // runs whole: the model extends by itself (ALiBi; the config's own
                                  // dynamic NTK)
    WE_EXT_CHUNK,                 // windows of n_ctx tokens, averaged (truncate CHUNK)
} we_extension;

typedef struct we_text_spec {
    int32_t hidden;               // width of the last hidden states; 0: no text tower
    int32_t pooled;               // width of a pooled vector, after proj
    int32_t n_layer, n_head, n_ff, n_vocab;   // for info()
    int32_t n_ctx;                // the longest input the model was made for (its trained length)
    bool extends;                 // may run past n_ctx when asked (RoPE, ALiBi: no position table)
    bool rope;                    // takes the RoPE scaling options
    bool self_extend;             // takes SelfExtend (its forward rotates q and k through we_rope_carve)
    int32_t n_trained;            // the length its positions were trained to (0: n_ctx); nomic: max_trained_positions
    we_extension extension;       // what truncate EXTEND does past n_trained (0: we_text_extension's rule)
    we_pos_rule pos_rule;
    int32_t pad_id;               // WE_POS_FROM_PAD: the padding id (and padding position); pad_to: the id it pads with
    int32_t pad_to;               // > 0: every sequence is padded with pad_id to this many tokens before the
                                  // forward pass, and the padding is attended like any token (SigLIP's
                                  // tokenizer pads to the trained length and returns no mask); 0: none
    wembed_pooling pooling;       // default without sentence-transformers files
    uint32_t poolings;            // the poolings it allows, bits (1u << p); 0: all but eos
    bool chunks;                  // truncate CHUNK applies (windows averaged)
    we_matryoshka matryoshka;
    const we_weight *proj;        // applied to every pooled vector (CLIP's text_projection), or NULL
    const we_weight *proj_b;      // its bias (SigLIP's text head), or NULL
    we_cls_head head;             // the classification head (wembed_classify_*), n_labels 0: none
} we_text_spec;

// The trained length, and what truncate EXTEND does past it (the family's choice, or the rule).
static inline int32_t we_text_trained(const we_text_spec *t) { return t->n_trained > 0 ? t->n_trained : t->n_ctx; }
static inline we_extension we_text_extension(const we_text_spec *t) {
    if (t->extension != WE_EXT_DEFAULT) return t->extension;
    return t->self_extend ? WE_EXT_SELF_EXTEND : t->extends ? WE_EXT_NATIVE : WE_EXT_CHUNK;
}

typedef struct we_vision_spec {
    int32_t hidden;               // width of the tower's hidden states; 0: no vision tower
    int32_t pooled;               // width of an image embedding
    int32_t n_layer, n_head, n_ff;
    int32_t image_size, patch_size, n_channels;
    int32_t n_tokens;             // hidden-state rows per image (pooling none)
} we_vision_spec;

// How a call may override the model's RoPE scaling (wembed_embed_params).
typedef enum we_rope_mode {
    WE_ROPE_MODEL = 0,            // as the model's config says
    WE_ROPE_NONE,
    WE_ROPE_LINEAR,               // position interpolation: positions / factor
    WE_ROPE_NTK,                  // fixed NTK: base * factor^(rot/(rot-2)) at every length
    WE_ROPE_DYNAMIC_NTK,          // nomic's dynamic rule with the given factor
    // Model configs only (no call-time value, past the public enum's last):
    WE_ROPE_NTK_SCALED_FREQ,      // base * factor and every frequency / factor^(2/rot), at every length
} we_rope_mode;

typedef struct we_rope_opts {
    we_rope_mode mode;
    float factor;                 // 0: the model's own factor
} we_rope_opts;

#define WE_SE_GROUP_AUTO (-1)

// Inference-time options of one forward pass (wembed_embed_params, checked by embed.c).
typedef struct we_fwd_opts {
    we_rope_opts rope;
    float attn_temp;              // TempScale tau: every attention's logits / tau before the softmax;
                                  // 0 or 1: none. we_attend applies it (through we_tokens.opts), so
                                  // every family has it without a line of its own.
    int32_t se_group;             // SelfExtend group G (>= 1), or WE_SE_GROUP_AUTO (truncate EXTEND):
                                  // per sequence, the least that keeps it within the trained length;
                                  // we_rope_carve applies it
    int32_t se_window;            // SelfExtend neighbour window W; 0: off
} we_fwd_opts;

// The loaded architecture, as the forward passes see it.
typedef struct we_arch_model {
    const we_family *family;
    char model_type[32];          // config.json's model_type ("bert", "xlm-roberta", ...) or GGUF arch
    void *hp;                     // the family's hyper-parameters (family->hp_size bytes, zeroed)
    void *w;                      // the family's weights (family->w_size bytes, zeroed)
    we_text_spec text;
    we_vision_spec vision;
    float logit_scale;            // log of the image-text logit scale (0: none)
    float logit_bias;             // added to scaled cosines (SigLIP), 0 otherwise
    bool logit_sigmoid;           // image-text probabilities are sigmoid(logit), each on its own (SigLIP);
                                  // false: a softmax over the candidates (CLIP)
} we_arch_model;

// -----------------------------------------------------------------------------------------
// Weight tables

typedef enum we_wkind {
    WE_W_VEC = 0,     // biases, norms, class embedding, scalars: always f32
    WE_W_LINEAR,      // a matmul weight (N, K...): f32/f16/q8 per the dtype option, packed for GEMM
    WE_W_TABLE,       // an embedding table (rows, E): f32/f16/q8, always row-major (rows are gathered)
} we_wkind;

// Symbolic dimensions, resolved per family (and per group: the two CLIP towers differ).
// Families may define more from WE_D_FAMILY on.
enum {
    WE_D_EMBD = 1, WE_D_FF, WE_D_VOCAB, WE_D_POS, WE_D_TYPES, WE_D_QKV, WE_D_PROJ,
    WE_D_CHAN, WE_D_PATCH, WE_D_LABELS, WE_D_FAMILY = 32,
};

#define WE_WF_OPTIONAL 1   // may be absent (the pooler, a tower's projection, logit_scale)

typedef struct we_wentry {
    const char *hf;           // HF name; "%d" stands for the layer
    const char *gguf;         // llama.cpp GGUF name, or NULL when GGUF files never carry it
    uint8_t group;            // 0; two-tower families: 1 = text tower, 2 = vision tower, 0 = shared
    bool per_layer;
    uint8_t kind;             // we_wkind
    uint8_t flags;            // WE_WF_*
    uint8_t cond;             // family-defined condition (0: always); e.g. nomic's bias flags
    uint8_t n_dims;
    uint8_t dims[4];          // WE_D_* in torch order
    uint16_t offset;          // offsetof in the family's weights struct, or layer struct
} we_wentry;

struct we_family {
    const char *name;                 // "bert", "nomic_bert", "clip", ...
    const char *const *model_types;   // config.json model_type values it reads, NULL-terminated
    const char *const *gguf_archs;    // general.architecture values, NULL-terminated
    // Optional: claims a config.json of another family's model_type (jina-bert-v2 says
    // "bert"); checked before the model_type lists.
    bool (*claims)(const we_json *cfg);
    size_t hp_size, w_size;           // sizes of its private structs
    size_t layer_size;                // its layer struct, for we_slot_simple / we_alloc_layers
    // Two-tower families (we_alloc_towers / we_slot_towers): where the text tower's (group 1)
    // and the vision tower's (group 2) layer-array pointers sit in the weights struct.
    uint16_t tower_layers[2];
    const we_wentry *entries;
    uint32_t n_entries;
    const char *const *prefixes;      // stripped from HF names ("bert.", "model."), NULL-terminated
    uint8_t n_groups;                 // 1, or 3 for two towers (groups 1 and 2 are optional)

    // --- loading
    // config.json (already known to be of this family) -> ma->hp.
    wembed_status (*from_config)(we_arch_model *ma, const we_json *cfg, we_err *err);
    // GGUF metadata -> ma->hp. NULL: no GGUF form.
    wembed_status (*from_gguf)(we_arch_model *ma, const struct we_gguf *g, we_err *err);
    int64_t (*dim)(const we_arch_model *ma, int sym, int group);
    int32_t (*n_layer)(const we_arch_model *ma, int group);
    // Whether entries with this cond are expected; NULL: all are.
    bool (*enabled)(const we_arch_model *ma, int cond);
    // Allocates the per-layer arrays of ma->w in a (for the groups that are present).
    wembed_status (*alloc)(we_arch_model *ma, we_arena *a, we_err *err);
    // Where entry e of layer il lives in ma->w.
    we_weight *(*slot)(we_arch_model *ma, const we_wentry *e, int il);
    // After loading: derived values, final checks, and ma->text / ma->vision.
    wembed_status (*finish)(we_arch_model *ma, const bool *group_present, we_err *err);
    // Which towers a config.json describes (WEMBED_PART_*); NULL: text only.
    unsigned (*parts)(const we_json *cfg);
    // The hyper-parameters as the members of a JSON object ("\"eps\":1e-12,\"act\":\"gelu\"",
    // no braces) for info(); returns what snprintf returns.
    int (*describe)(const we_arch_model *ma, char *buf, size_t cap);

    // --- inference
    // The last hidden states of every token of tk into out (n_tok, text.hidden), after the
    // final norm where the architecture has one. NULL: no text tower.
    wembed_status (*forward)(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                             const we_fwd_opts *o, float *out, we_err *err);
    // Eos pooling: the row of a sequence of n ids whose hidden state is the text's vector.
    // NULL: the family has no eos pooling.
    int32_t (*eos_index)(const we_arch_model *m, const int32_t *ids, int32_t n);
    // Vision tower: B normalized images (B, C, S, S) -> hidden (B, n_tokens, hidden) when
    // hidden is not NULL, and pooled (B, vision.pooled) image embeddings (before
    // normalization). NULL: no vision tower.
    wembed_status (*vision_forward)(const we_arch_model *m, wembed_pool *pool, const float *pixels, int B,
                                    float *hidden, float *pooled, we_err *err);
};


// The family for a config.json, or NULL (we_supported_model_types() lists them).
const we_family *we_family_for_config(const we_json *cfg);
// The family of a GGUF general.architecture ("bert", "nomic-bert", "clip"), or NULL.
const we_family *we_family_for_gguf_arch(const char *arch);
// "bert, roberta, ..." (static).
const char *we_supported_model_types(void);
// "bert, nomic-bert, ..." (static).
const char *we_supported_gguf_archs(void);

// Helpers for the families' config readers: an optional integer/float/bool field with a
// default; a present field of the wrong type, or an integer out of [lo, hi], is an error
// naming the field.
wembed_status we_cfg_int(const we_json *cfg, const char *key, int64_t def, int64_t lo, int64_t hi,
                         int32_t *out, we_err *err);
wembed_status we_cfg_float(const we_json *cfg, const char *key, double def, float *out, we_err *err);
// A positive finite float (an epsilon, a RoPE base): zero, negative, NaN or infinite is an error
// at load, never NaN vectors later.
wembed_status we_cfg_pos_float(const we_json *cfg, const char *key, double def, float *out, we_err *err);
wembed_status we_cfg_bool(const we_json *cfg, const char *key, bool def, bool *out, we_err *err);
// A flag as Python's `if config.key:` reads it (remote-code configs write some as strings:
// snowflake-arctic-embed-m-v2.0 has "unpad_inputs": "true"): a bool, a number (non-zero), a
// string (non-empty: "false" is true!); absent or null -> def; an array or object: error.
wembed_status we_cfg_truthy(const we_json *cfg, const char *key, bool def, bool *out, we_err *err);
// The hyper-parameters every one-tower text family has, as the first member (`base`) of its
// hyper-parameter struct, so that the generic hooks below read them through ma->hp.
typedef struct we_text_hp {
    int32_t n_vocab;              // rows of the token table
    int32_t n_embd;               // hidden width
    int32_t n_layer;
    int32_t n_head;
    int32_t n_ff;                 // the MLP's inner width (a gated MLP's projection is a multiple of it)
    int32_t n_ctx;                // the longest input the model was made for
} we_text_hp;

// Hooks for a family whose hyper-parameters start with we_text_hp and whose weights have one
// array of layers (we_alloc_layers): dims WE_D_EMBD, WE_D_FF, WE_D_VOCAB, WE_D_QKV (3 x n_embd,
// a fused q|k|v) and -1 for the rest (a family's dim hook handles its own, then falls back
// here); the layer count; the layer array.
int64_t we_text_hp_dim(const we_arch_model *ma, int sym, int group);
int32_t we_text_hp_n_layer(const we_arch_model *ma, int group);
wembed_status we_text_hp_alloc(we_arch_model *ma, we_arena *a, we_err *err);
// The text spec's sizes: hidden = pooled = n_embd, n_layer, n_head, n_ff, n_vocab, n_ctx.
void we_text_hp_spec(const we_text_hp *hp, we_text_spec *t);

// The classification head config.json describes (architectures, num_labels / id2label, the
// sentence-transformers activation); out->on false when it describes none.
wembed_status we_cfg_cls_head(const we_json *cfg, we_cls_cfg *out, we_err *err);
// hidden_act strings -> we_act ("gelu", "quick_gelu", "silu"/"swish", "gelu_pytorch_tanh");
// others UNSUPPORTED.
wembed_status we_cfg_act(const we_json *cfg, const char *key, const char *def, we_act *out, we_err *err);

// RoPE scaling that changes nothing: rope_scaling absent, null, or {"rope_type" (or "type"):
// "default"}; another type is UNSUPPORTED, naming it and the family. A transformers v5
// config's "rope_parameters" is UNSUPPORTED too (the hub configs of these families write
// rope_theta / rope_scaling).
wembed_status we_cfg_rope_scaling_none(const we_json *cfg, const char *family, we_err *err);

// GGUF metadata: the integer key (full name) into *out within [lo, hi]; absent -> def, or an
// error when def < 0 (required).
// GGUF metadata: a positive finite float (an epsilon); absent -> def.
wembed_status we_gguf_cfg_pos_float(const struct we_gguf *g, const char *key, double def, float *out, we_err *err);
wembed_status we_gguf_cfg_int(const struct we_gguf *g, const char *key, int64_t def, int64_t lo, int64_t hi,
                              int32_t *out, we_err *err);
// Outermost dimension (rows) of a GGUF tensor, or def when the file has no such tensor.
int64_t we_gguf_rows(const struct we_gguf *g, const char *name, int64_t def);

// The common slot rule: entry e lives at e->offset in the weights struct, or, per layer, in
// the layer struct at (*layers)[il] (layers: the first member of the family's weights struct
// when it has one array of layers). Families with one layer array use it as their slot hook.
we_weight *we_slot_simple(we_arch_model *ma, const we_wentry *e, int il);
// Allocates n_layer layer structs (family->layer_size bytes each) into the first pointer of ma->w.
wembed_status we_alloc_layers(we_arch_model *ma, we_arena *a, int32_t n_layer, we_err *err);

// The same for two towers (CLIP, SigLIP), used as their alloc and slot hooks: one array of
// family->n_layer(ma, group) layer structs per tower present (n_layer > 0), its pointer at
// family->tower_layers[group - 1] in ma->w; a per-layer entry lives in its group's array.
wembed_status we_alloc_towers(we_arch_model *ma, we_arena *a, we_err *err);
we_weight *we_slot_towers(we_arch_model *ma, const we_wentry *e, int il);
// A two-tower config.json (CLIPConfig, SiglipConfig): its text_config and vision_config, each
// an object, or null / absent (the tower's defaults); another type is an error.
wembed_status we_cfg_towers(const we_json *cfg, const we_json **tc, const we_json **vc, we_err *err);
// The towers such a config describes (the parts hook): its text-only and vision-only
// model_types one each, any other both.
unsigned we_tower_parts(const we_json *cfg, const char *text_type, const char *vision_type);
// After loading: which towers the files held (groups 1 and 2); neither is MISSING_TENSOR.
wembed_status we_towers_present(const we_arch_model *ma, const bool *group_present, bool *has_text, bool *has_vision, we_err *err);

#endif // WE_ARCH_H
