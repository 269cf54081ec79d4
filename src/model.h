// model.h - the model container (struct wembed_model) and what the rest of the engine reads
// from it: the architecture with its weights (arch/arch.h), the small files kept for the
// tokenizer and image stages, the sentence-transformers pooling defaults, the GGUF vocabulary.
//
// The loader behind wembed_loader_* / wembed_model_load lives in loader.c.
//
// Not: inference. The forward passes read model->arch; embed.c and embed_image.c implement the
// embedding calls.
#ifndef WE_MODEL_H
#define WE_MODEL_H

#include "arch/arch.h"
#include "core/arena.h"
#include "core/common.h"
#include "formats/gguf.h"
#include "formats/json.h"

// A sentence-transformers Dense module (sentence_transformers/models/Dense.py), applied to
// pooled vectors in modules.json order: y = act(W x + b). From <path>/config.json
// (in_features, out_features, bias, activation_function) and <path>/model.safetensors
// (linear.weight (out, in), linear.bias (out)); or from a GGUF's dense_2 / dense_3 tensors
// (llama.cpp's names; its converter keeps the weights only, and the activation is Identity).
typedef enum we_dense_act {
    WE_DENSE_IDENTITY = 0,        // torch.nn.modules.linear.Identity
    WE_DENSE_TANH,                // torch.nn.modules.activation.Tanh (the Dense default)
} we_dense_act;

typedef struct we_st_dense {
    const char *path;             // "2_Dense" (the module's folder), or "dense_2" (GGUF); arena
    int32_t in, out;              // in_features, out_features
    bool bias;
    we_dense_act act;
    we_weight w, b;               // linear.weight (out, in), linear.bias (out) when bias
} we_st_dense;

typedef struct we_model_file {
    const char *name;             // "tokenizer.json", "1_Pooling/config.json", ...
    const uint8_t *data;          // we_malloc'd copy, NUL-terminated (not counted in size)
    size_t size;
} we_model_file;

struct wembed_model {
    we_err err;
    bool failed;                  // a handle returned by a failed wembed_model_load: error only
    wembed_model_params params;
    we_arena arena;               // hparams' tables, names, parsed JSON, GGUF metadata
    we_arena weights;             // tensor data: one block per weights file
    we_arch_model arch;
    const char *format;           // "safetensors" or "gguf"

    we_model_file *files;         // (n_files) small files, kept whole
    uint32_t n_files;

    wembed_pooling pooling;       // default pooling
    bool normalize;               // Normalize module present (or no modules.json)
    bool pooling_from_files;      // pooling came from modules.json / GGUF, not the family default
    int32_t max_seq_length;       // sentence_bert_config.json, 0 if absent
    we_st_dense *dense;           // (n_dense) Dense modules after the pooling, in order (arena)
    uint32_t n_dense;
    bool dense_read;              // dense / n_dense are known (modules.json read, or the GGUF's)

    bool has_vocab;               // a GGUF file with tokenizer.ggml.*
    we_gguf_vocab vocab;

    we_weight **tensors;          // (n_tensors) every loaded weight, in table order
    uint32_t n_tensors;
    int64_t n_params;
    uint64_t weight_bytes;
    char *warnings;               // we_malloc'd, lines joined by '\n'; NULL: none
    const char *hparams;          // the family's hyper-parameters, a JSON object (in arena)

    // Inference (src/embed.c): the compute pool, params.pool or one of the model's own,
    // made at the first call that needs it.
    wembed_pool *pool;
    bool owns_pool;
    wembed_tokenizer *tokenizer;  // from tokenizer.json, loaded at the first text call
};

// A small file given at load time, or NULL. *n gets its size.
const uint8_t *we_model_file_data(const wembed_model *m, const char *name, size_t *n);

// The GGUF tokenizer, or NULL when the model did not come with one.
const we_gguf_vocab *we_model_gguf_vocab(const wembed_model *m);

// Appends a line to the model's warnings (dropped silently when out of memory: a warning is
// not worth failing a load for).
void we_model_warn(wembed_model *m, const char *fmt, ...) WE_PRINTF(2, 3);

// A new empty model (loader.c fills it), or NULL when out of memory.
wembed_model *we_model_new(wembed_model_params params);
// Frees everything the model holds but the struct and its error.
void we_model_clear(wembed_model *m);
// Parses the small file name (kept at load) into the model's arena; *out NULL when absent.
wembed_status we_model_json(wembed_model *m, const char *name, const we_json **out, we_err *err);
// Reads the sentence-transformers files into m->pooling, normalize, max_seq_length
// (st_modules.c); defaults from the family's text spec.
wembed_status we_st_read_modules(wembed_model *m, we_err *err);

// Reads the Dense modules of modules.json (in its order) and their config.json files into
// m->dense (weights not yet loaded); a no-op once m->dense_read. MISSING_FILE for a module's
// config.json not given, BAD_FORMAT / UNSUPPORTED (naming the key) for what Dense.py would
// not load or wembed does not implement (activations other than Identity and Tanh; a Dense
// after Normalize).
wembed_status we_st_read_dense(wembed_model *m, we_err *err);
// After the family's finish: the Dense chain must start at the pooled width and each module
// read its predecessor's width; the text spec's pooled width becomes the last out_features.
wembed_status we_st_finish_dense(wembed_model *m, we_err *err);

// Test hook: load matmul weights row-major instead of in the GEMM's packed layout.
void we_loader_set_layout(wembed_loader *ld, we_layout layout);

#endif // WE_MODEL_H
