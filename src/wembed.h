// wembed.h - text and image embeddings with Hugging Face transformer models, in portable C11.
//
// Basic usage: load a model folder, embed two texts, compare them, free everything. (The tests
// compile and run this program exactly as it stands here, on tests/data/e2e.)
//
//     #include "wembed.h"
//     #include <stdio.h>
//     #include <stdlib.h>
//
//     static wembed_file read_file(const char *dir, const char *name) {   // the whole file, malloc'd
//         char path[1024];
//         snprintf(path, sizeof path, "%s/%s", dir, name);
//         wembed_file file = { name, NULL, 0 };
//         FILE *f = fopen(path, "rb");
//         long n = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
//         void *data = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
//         if (data && fread(data, 1, (size_t)n, f) == (size_t)n) {
//             file.data = data;
//             file.size = (size_t)n;
//         } else {
//             free(data);
//         }
//         if (f) fclose(f);
//         return file;                                   // no data: the load says which file
//     }
//
//     int main(int argc, char **argv) {
//         const char *dir = argc > 1 ? argv[1] : ".";   // holds config.json, tokenizer.json, ...
//         wembed_file files[] = { read_file(dir, "config.json"), read_file(dir, "tokenizer.json"),
//                                 read_file(dir, "model.safetensors") };
//         wembed_model *m = NULL;
//         wembed_status rc = wembed_model_load(files, 3, wembed_model_default_params(), &m);
//         if (rc == WEMBED_STATUS_OK) {
//             const char *texts[] = { "a cat", "a kitten" };
//             size_t lens[] = { 5, 8 };
//             wembed_embed_params p = wembed_embed_default_params();   // the model's pooling, normalized
//             int32_t d = wembed_embed_dims(m, &p);
//             size_t bytes = 2 * (size_t)d * sizeof(float);   // two vectors, the caller's memory
//             float *v = malloc(bytes);
//             rc = v ? wembed_embed_text(m, texts, lens, 2, &p, v, bytes) : WEMBED_STATUS_ALLOC_FAILED;
//             float cosine = 0;                                 // of unit vectors: their dot product
//             for (int32_t i = 0; rc == WEMBED_STATUS_OK && i < d; i++) cosine += v[i] * v[d + i];
//             if (rc == WEMBED_STATUS_OK) printf("%d dimensions, cosine %.4f\n", (int)d, cosine);
//             free(v);
//         }
//         if (rc != WEMBED_STATUS_OK)
//             fprintf(stderr, "%s\n", m ? wembed_model_last_error(m) : wembed_status_str(rc));
//         wembed_model_free(m);                          // NULL is a no-op
//         for (int i = 0; i < 3; i++) free((void *)files[i].data);
//         return rc == WEMBED_STATUS_OK ? 0 : 1;
//     }
//
// Limitations:
//   - CPU only: scalar C everywhere, SIMD128 kernels in WebAssembly (and natively through
//     SIMDe; the int8 GEMM on relaxed SIMD's dot product in modules built with it, where the
//     host computes it exactly), pthreads where the platform has them.
//   - The engine never touches the filesystem or the network: it is handed bytes.
//   - Not thread-safe per handle: one call at a time on a given handle; separate handles
//     may be used from separate threads.
//   - Long inputs (wembed_embed_params): TempScale on the text tower of every family, SelfExtend
//     on the RoPE families that take it (nomic_bert, gte), RoPE scaling on RoPE families only;
//     none of them on images.
//   - Memory does not grow with a text's size (truncation reads a prefix, chunking streams:
//     wembed_text_stream) except for tokenizers that make one word of a whole text (no
//     pre-tokenizer, Metaspace split false), pairs, and left truncation, tokenized whole.
//     Images are taken decoded: bounding their size (JS maxPixels) is the caller's job.
//
// Conventions:
//   - Every function that can fail on input returns a wembed_status; on failure the handle
//     it was given (if any) holds a message, read with that handle's *_last_error().
//   - Strings returned by the engine are owned by it; each declaration says until when.
//   - Enum values only ever get added at the end.
#ifndef WEMBED_H
#define WEMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEMBED_VERSION_MAJOR 0
#define WEMBED_VERSION_MINOR 1
#define WEMBED_VERSION_PATCH 0

// -----------------------------------------------------------------------------------------
// Status codes

typedef enum wembed_status {
    WEMBED_STATUS_OK = 0,
    WEMBED_STATUS_INVALID_ARGUMENT = 1,  // the caller passed something that cannot be right
    WEMBED_STATUS_ALLOC_FAILED = 2,      // out of memory
    WEMBED_STATUS_BAD_FORMAT = 3,        // a file is malformed (truncated, bad header, ...)
    WEMBED_STATUS_UNSUPPORTED = 4,       // well-formed but not supported (architecture, dtype)
    WEMBED_STATUS_MISSING_FILE = 5,      // a file the model needs was not given
    WEMBED_STATUS_MISSING_TENSOR = 6,    // a tensor the architecture needs is absent
    WEMBED_STATUS_SHAPE_MISMATCH = 7,    // a tensor's shape disagrees with config.json
    WEMBED_STATUS_TOO_LONG = 8,          // input longer than allowed (truncate: error)
    WEMBED_STATUS_ABORTED = 9,           // a progress callback asked to stop
    WEMBED_STATUS_LIMIT = 10,            // a size or depth limit of a parser was exceeded
    WEMBED_STATUS_INTERNAL = 11,         // a bug: please report it
    WEMBED_STATUS_NON_FINITE = 12,       // an output vector has NaN or infinite values (see allow_non_finite)
} wembed_status;

// Static English name of a status ("ok", "alloc_failed", ...). Never NULL.
const char *wembed_status_str(wembed_status rc);

// -----------------------------------------------------------------------------------------
// Library information

// "0.1.0". Static string.
const char *wembed_version(void);

// What this build runs on, e.g. "simd128 threads wasm32", "simd128 relaxed-dot-u8 wasm32" (the
// int8 GEMM on relaxed SIMD's dot product) or "scalar". Static string.
const char *wembed_system_info(void);

// -----------------------------------------------------------------------------------------
// Thread pool. Kernels split their output over the pool's threads; the caller's thread is
// one of them. A pool of 1 thread (or a build without threads) runs everything inline.

typedef struct wembed_pool wembed_pool;

// Number of threads worth using here (online CPUs, or 1 without threads).
int32_t wembed_default_threads(void);

// Creates a pool of n_threads (0 = wembed_default_threads()); *out_pool is owned by the
// caller, freed with wembed_pool_free. A build without threads gives a 1-thread pool.
wembed_status wembed_pool_new(int32_t n_threads, wembed_pool **out_pool);
int32_t       wembed_pool_n_threads(const wembed_pool *pool);
void          wembed_pool_free(wembed_pool *pool);                       // NULL is a no-op

// -----------------------------------------------------------------------------------------
// Models: loading Hugging Face model folders (config.json + model.safetensors, or sharded
// model-0000N-of-0000M.safetensors with model.safetensors.index.json) or llama.cpp GGUF
// files, from whole buffers or streamed in chunks; information; freeing.
//
//     wembed_model_params p = wembed_model_default_params();
//     p.dtype = WEMBED_DTYPE_Q8;                        // quantize matmul weights while loading
//     wembed_file files[] = {
//         {"config.json", cfg, cfg_len}, {"modules.json", mods, mods_len},
//         {"1_Pooling/config.json", pool, pool_len}, {"model.safetensors", st, st_len},
//     };
//     wembed_model *m = NULL;
//     if (wembed_model_load(files, 4, p, &m) != WEMBED_STATUS_OK)
//         fprintf(stderr, "%s\n", m ? wembed_model_last_error(m) : "out of memory");
//     wembed_model_free(m);
//
// Streaming (JS fetches in chunks): wembed_loader_new, then for each file either
// wembed_loader_add_file (small files) or wembed_loader_begin_file / _write (any chunk
// sizes) / _end_file (weights), then wembed_loader_finish. Tensor data goes straight from
// each chunk into the model's buffers (converted or quantized on the way), so loading needs
// the final weight memory plus one chunk. config.json must come before a safetensors
// weights file (a GGUF file carries its own configuration).
//
// Files the engine reads: config.json, model.safetensors / shards + index, *.gguf,
// modules.json, <pooling path>/config.json, sentence_bert_config.json, and for each Dense
// module of modules.json <path>/config.json and <path>/model.safetensors (a weights file: give
// modules.json and <path>/config.json before it); tokenizer.json is parsed into the model's
// tokenizer when it is given (its errors fail the load then; its bytes are not kept: give it
// before the weights, and its parse's working memory is reused by them); every other small
// file given (preprocessor_config.json, ...) is kept for the later stages.

typedef enum wembed_dtype {
    WEMBED_DTYPE_F32 = 0,   // weights as float32
    WEMBED_DTYPE_F16 = 1,   // matmul weights and token embeddings as float16 (others f32)
    WEMBED_DTYPE_Q8 = 2,    // matmul weights and token embeddings as int8, one scale per row
    WEMBED_DTYPE_Q4 = 3,    // matmul weights as 4-bit integers in blocks of 32 with one scale
                            // each (GGUF Q4_0's rule), token embeddings too when the table has
                            // 16M entries or more (else int8); activations int8
} wembed_dtype;

typedef enum wembed_pooling {
    WEMBED_POOLING_NONE = 0,          // per-token vectors
    WEMBED_POOLING_MEAN = 1,
    WEMBED_POOLING_CLS = 2,
    WEMBED_POOLING_EOS = 3,           // CLIP text: the end-of-text token's row
    WEMBED_POOLING_LAST = 4,          // the last unmasked token
    WEMBED_POOLING_MAX = 5,
    WEMBED_POOLING_MEAN_SQRT_LEN = 6,
    WEMBED_POOLING_WEIGHTED_MEAN = 7,
} wembed_pooling;

// Loading progress in [0, 1], never decreasing; return false to abort (the load then fails
// with WEMBED_STATUS_ABORTED).
typedef bool (*wembed_progress_fn)(float progress, void *user);

typedef struct wembed_model_params {
    wembed_dtype dtype;               // default WEMBED_DTYPE_F32
    int32_t n_threads;                // for inference; 0 = wembed_default_threads()
    wembed_progress_fn progress;      // may be NULL
    void *progress_user;
    wembed_pool *pool;                // compute pool to share (borrowed: must outlive the
                                      // model); NULL: the model makes its own of n_threads
} wembed_model_params;

wembed_model_params wembed_model_default_params(void);

typedef struct wembed_file {
    const char *name;                 // path inside the model folder: "config.json", "1_Pooling/config.json"
    const void *data;                 // the file's bytes, read during the call only
    size_t size;
} wembed_file;

typedef struct wembed_model wembed_model;
typedef struct wembed_loader wembed_loader;

// A loader; *out_loader is owned by the caller (wembed_loader_free).
wembed_status wembed_loader_new(wembed_model_params params, wembed_loader **out_loader);
// A whole small file (copied), or a whole weights file (streamed through like a chunk).
wembed_status wembed_loader_add_file(wembed_loader *ld, const char *name, const void *data, size_t size);
// A file arriving in chunks: its total size first (needed to validate headers early).
wembed_status wembed_loader_begin_file(wembed_loader *ld, const char *name, uint64_t total_size);
wembed_status wembed_loader_write(wembed_loader *ld, const void *chunk, size_t n);
wembed_status wembed_loader_end_file(wembed_loader *ld);
// Checks that everything the model needs arrived and hands over the model (*out_model owned
// by the caller: wembed_model_free). The loader is spent afterwards; free it.
wembed_status wembed_loader_finish(wembed_loader *ld, wembed_model **out_model);
// After a failure: what went wrong. Owned by the loader; valid until its next call or free.
// Every call after a failure returns the same status.
const char *wembed_loader_last_error(const wembed_loader *ld);
void wembed_loader_free(wembed_loader *ld);                               // NULL is a no-op

// Loads from whole buffers (small files are added first, whatever the order given).
// Like sqlite3_open: on failure *out_model is still a handle (NULL only if even that could not
// be allocated) that holds the message for wembed_model_last_error and must be freed; any
// other call on it returns WEMBED_STATUS_INVALID_ARGUMENT.
wembed_status wembed_model_load(const wembed_file *files, size_t n_files, wembed_model_params params,
                                wembed_model **out_model);

// The last error on this handle ("" if none). Owned by the model; valid until its next call.
const char *wembed_model_last_error(const wembed_model *model);
// Warnings from loading, one per line ("" if none): NaN/Inf in weights, tensors not used,
// sentence-transformers modules not applied. Owned by the model; valid until freed.
const char *wembed_model_warnings(const wembed_model *model);

typedef struct wembed_model_info {
    const char *architecture;         // family: "bert", "nomic_bert", "clip", "gte", "qwen3", "gemma3", ...
    const char *model_type;           // config.json model_type ("xlm-roberta", ...) or GGUF architecture
    const char *format;               // "safetensors" or "gguf"
    wembed_dtype dtype;
    int32_t n_embd;                   // hidden size (CLIP: the text tower's, or the vision tower's if alone)
    int32_t n_layer, n_head, n_ff;    // likewise
    int32_t n_vocab;                  // rows of the token embedding (0: no text tower)
    int32_t n_ctx;                    // longest input the model takes, in tokens
    int32_t n_out;                    // size of the output embedding (CLIP: projection_dim; with
                                      // sentence-transformers Dense modules: the last one's out_features)
    bool has_text, has_vision;
    int32_t vision_n_embd, vision_n_layer, vision_n_head, image_size, patch_size;
    int64_t n_params;                 // parameters loaded
    uint64_t weight_bytes;            // memory holding them
    wembed_pooling pooling;           // default pooling (sentence-transformers files, else the family's)
    bool normalize;                   // a Normalize module follows (or no modules.json: true)
    int32_t max_seq_length;           // sentence_bert_config.json max_seq_length, 0 if not given
    const char *hparams;              // the family's hyper-parameters as a JSON object ("{\"eps\":1e-12,...}")
    int32_t n_labels;                 // labels of a sequence-classification head (cross-encoders); 0: none
    bool sigmoid;                     // the config asks for sigmoid scores (sentence-transformers'
                                      // CrossEncoder activation); the classify calls return raw logits
    int32_t image_tokens;             // rows per image of the image calls with pooling NONE (CLIP: 1 +
                                      // patches; SigLIP: patches); 0: no vision tower
    int32_t n_trained;                // the length its positions were trained to (nomic: max_trained_positions;
                                      // else n_ctx); 0 without a text tower
    const char *extension;            // what truncate "extend" does past n_trained: "self-extend", "native"
                                      // (ALiBi, the config's dynamic NTK), "chunk"; "" without a text tower
} wembed_model_info;

// Fills *out; its strings are owned by the model and valid until wembed_model_free.
wembed_status wembed_model_get_info(const wembed_model *model, wembed_model_info *out);

// Which parts a model's config.json describes, before any weights are fetched (a page that
// only embeds text needs no image preprocessing files): WEMBED_PART_TEXT and/or
// WEMBED_PART_VISION, or 0 when the JSON is not an object or its architecture is not supported.
enum { WEMBED_PART_TEXT = 1, WEMBED_PART_VISION = 2 };
int wembed_config_parts(const char *config_json, size_t n);

void wembed_model_free(wembed_model *model);                              // NULL is a no-op

// -----------------------------------------------------------------------------------------
// Embedding (src/embed.c): token ids in, vectors out, with the model's pooling and the
// caller's choice of normalization, Matryoshka dimensions and output quantization.
//
//     wembed_embed_params ep = wembed_embed_default_params();
//     ep.dims = 256;                                     // Matryoshka, with the model's rule
//     int32_t ids[2][4] = {{101, 7592, 102, 0}, {101, 2088, 2003, 102}};
//     int32_t mask[2][4] = {{1, 1, 1, 0}, {1, 1, 1, 1}};
//     float out[2 * 256];
//     wembed_embed_ids(m, &ids[0][0], NULL, &mask[0][0], 2, 4, &ep, out, sizeof out);
//
// A batch is B rows of T token ids with a mask; only positions with mask 1 are real tokens
// (positions still count from the row's start, as in the reference models). The engine
// packs the real tokens of all rows together, so padding costs nothing and a row's vector
// never depends on the others in its batch (see ntk_length for the one opt-in exception).

enum { WEMBED_POOLING_DEFAULT = -1, WEMBED_NORMALIZE_DEFAULT = -1 };

typedef enum wembed_truncate {
    WEMBED_TRUNCATE_END = 0,          // keep the first max_tokens tokens (default)
    WEMBED_TRUNCATE_ERROR = 1,        // a longer input fails with WEMBED_STATUS_TOO_LONG
    WEMBED_TRUNCATE_CHUNK = 2,        // embed overlapping windows, average them by token count
    // Keep a long input whole and let the model's extension method carry it past its trained length
    // (wembed_model_info.extension): SelfExtend on a RoPE family (window trained / 2, per text the
    // least group that keeps it within the trained length; a text within it is left alone) unless
    // the call names self_extend or rope_scaling itself; the model alone where it extends by itself
    // (ALiBi, a config's dynamic NTK); CHUNK on a family that cannot extend. max_tokens 0: up to
    // WEMBED_EXTEND_MAX_TOKENS tokens (CHUNK: the model's limit per window).
    WEMBED_TRUNCATE_EXTEND = 3,
} wembed_truncate;

#define WEMBED_EXTEND_MAX_TOKENS 131072

typedef enum wembed_rope_scaling {
    WEMBED_ROPE_MODEL = 0,            // as the model's config says
    WEMBED_ROPE_NONE = 1,
    WEMBED_ROPE_LINEAR = 2,           // position interpolation: positions / factor
    WEMBED_ROPE_NTK = 3,              // fixed NTK-aware base: base * factor^(d/(d-2))
    WEMBED_ROPE_DYNAMIC_NTK = 4,      // nomic's dynamic NTK, factor from the call or config
} wembed_rope_scaling;                // (any value but MODEL on a family without RoPE: INVALID_ARGUMENT)

typedef enum wembed_ntk_length {
    WEMBED_NTK_LENGTH_OWN = 0,        // each row's own token count (batch-invariant)
    WEMBED_NTK_LENGTH_PADDED = 1,     // the batch's padded width T, as nomic's reference does
} wembed_ntk_length;

typedef enum wembed_output {
    WEMBED_OUTPUT_F32 = 0,            // float per dimension
    WEMBED_OUTPUT_INT8 = 1,           // int8 per dimension: round(v * 127 / max|v|) (cosine-preserving)
    WEMBED_OUTPUT_BINARY = 2,         // one bit per dimension (v > 0), packed MSB first, ceil(dims/8) bytes
} wembed_output;

// The names of the options' values, as the JS package and the CLI spell them, in one table:
// WEMBED_OPTION_NAMES(O) calls O(option, VALUES) for each option that takes a name, and
// VALUES(X) calls X(enum value, "name") for each of its values. Options are named in
// snake_case here; JS spells them in camelCase (ropeScaling), the CLI in kebab-case
// (--rope-scaling). `quantize` is the wembed_output field: "none" is WEMBED_OUTPUT_F32.
// wasm/wembed_wasm.c hands the table to JS (wembed__consts_json), which keeps no list of its
// own. A new enum value gets its name here, in the same change.
#define WEMBED_DTYPE_NAMES(X) X(WEMBED_DTYPE_F32, "f32") X(WEMBED_DTYPE_F16, "f16") X(WEMBED_DTYPE_Q8, "q8") X(WEMBED_DTYPE_Q4, "q4")
#define WEMBED_POOLING_NAMES(X)                                                                    \
    X(WEMBED_POOLING_NONE, "none") X(WEMBED_POOLING_MEAN, "mean") X(WEMBED_POOLING_CLS, "cls")     \
    X(WEMBED_POOLING_EOS, "eos") X(WEMBED_POOLING_LAST, "last") X(WEMBED_POOLING_MAX, "max")       \
    X(WEMBED_POOLING_MEAN_SQRT_LEN, "mean_sqrt_len") X(WEMBED_POOLING_WEIGHTED_MEAN, "weighted_mean")
#define WEMBED_TRUNCATE_NAMES(X) \
    X(WEMBED_TRUNCATE_END, "truncate") X(WEMBED_TRUNCATE_ERROR, "error") X(WEMBED_TRUNCATE_CHUNK, "chunk") \
    X(WEMBED_TRUNCATE_EXTEND, "extend")
#define WEMBED_ROPE_SCALING_NAMES(X)                                                               \
    X(WEMBED_ROPE_MODEL, "model") X(WEMBED_ROPE_NONE, "none") X(WEMBED_ROPE_LINEAR, "linear")      \
    X(WEMBED_ROPE_NTK, "ntk") X(WEMBED_ROPE_DYNAMIC_NTK, "dynamic-ntk")
#define WEMBED_NTK_LENGTH_NAMES(X) X(WEMBED_NTK_LENGTH_OWN, "own") X(WEMBED_NTK_LENGTH_PADDED, "padded")
#define WEMBED_OUTPUT_NAMES(X) \
    X(WEMBED_OUTPUT_F32, "none") X(WEMBED_OUTPUT_INT8, "int8") X(WEMBED_OUTPUT_BINARY, "binary")
#define WEMBED_OPTION_NAMES(O)                                                                     \
    O("dtype", WEMBED_DTYPE_NAMES) O("pooling", WEMBED_POOLING_NAMES)                              \
    O("truncate", WEMBED_TRUNCATE_NAMES) O("rope_scaling", WEMBED_ROPE_SCALING_NAMES)              \
    O("ntk_length", WEMBED_NTK_LENGTH_NAMES) O("quantize", WEMBED_OUTPUT_NAMES)

typedef struct wembed_embed_params {
    int32_t pooling;                  // a wembed_pooling, or WEMBED_POOLING_DEFAULT: the model's, followed
                                      // by its sentence-transformers Dense modules (what encode() gives);
                                      // a pooling named here is that pooling alone, without them
    int32_t normalize;                // 1, 0 or WEMBED_NORMALIZE_DEFAULT (the model's, for pooled vectors)
    int32_t dims;                     // keep the first dims dimensions with the model's Matryoshka rule
                                      // (nomic: layer_norm first), at any dims, the full width included;
                                      // 0: all, the plain output
    int32_t max_tokens;               // 0: the model's limit
    wembed_truncate truncate;
    int32_t chunk_overlap;            // tokens shared by consecutive windows (TRUNCATE_CHUNK); < 0: max_tokens / 8
    wembed_rope_scaling rope_scaling;
    float rope_factor;                // 0: the model's own (rotary_scaling_factor, rope_scaling.factor)
    wembed_ntk_length ntk_length;
    wembed_output output;
    // Long inputs (text calls only). TempScale (Length_Collapse): every attention layer of any
    // family computes softmax((q.k / sqrt(d) + bias + mask) / attention_temperature); 1 (the
    // default) is the plain model, below 1 sharpens. Must be finite and > 0.
    float attention_temperature;
    // SelfExtend (LongEmbed's bidirectional variant), RoPE families only: pairs of tokens at
    // least self_extend_window apart see each other at grouped positions floor(p / group), the
    // query shifted by window - window / group for keys at or before it, the key for keys after
    // it; nearer pairs keep their positions. Applies to a sequence longer than the window; both
    // 0 (the default): off; window > 0 needs group >= 1 (1 changes nothing).
    int32_t self_extend_group;
    int32_t self_extend_window;
    int32_t allow_non_finite;         // 0 (default): an output vector with a NaN or an infinity fails the
                                      // call with WEMBED_STATUS_NON_FINITE; 1: returned as computed
    // wembed_embed_text: called as the long texts of a chunked call are read, with the part
    // read in [0, 1]; returning false stops the call (WEMBED_STATUS_ABORTED). NULL: none.
    wembed_progress_fn progress;
    void *progress_user;
} wembed_embed_params;

wembed_embed_params wembed_embed_default_params(void);

// Dimensions of each output vector under these params (pooled: dims or the model's size;
// pooling NONE: the hidden size), or 0 with an error on the model for invalid params.
int32_t wembed_embed_dims(wembed_model *model, const wembed_embed_params *params);
// Bytes of one output vector (F32: 4 * dims, INT8: dims, BINARY: ceil(dims / 8)).
size_t wembed_embed_vector_bytes(wembed_model *model, const wembed_embed_params *params);

// Embeds B rows of T token ids. type_ids and mask may be NULL (all 0 / all 1). out receives
// one vector per row (pooled), or one per real token in row order (pooling NONE), each
// wembed_embed_vector_bytes long; out_size is checked against that. Owned by the caller.
wembed_status wembed_embed_ids(wembed_model *model, const int32_t *ids, const int32_t *type_ids,
                               const int32_t *mask, int32_t B, int32_t T,
                               const wembed_embed_params *params, void *out, size_t out_size);

typedef struct wembed_tokenizer wembed_tokenizer;

// -----------------------------------------------------------------------------------------
// Classification (cross-encoders, rerankers): models whose config.json names a
// *ForSequenceClassification architecture (BertForSequenceClassification: the pooler's dense
// + tanh on [CLS], then classifier; XLMRobertaForSequenceClassification: dense + tanh +
// out_proj on <s>; DebertaV2ForSequenceClassification: ContextPooler's dense + pooler_hidden_act
// on [CLS], then classifier). The outputs are raw logits, n_labels per input (a reranker has one label:
// the score); apply a sigmoid yourself when wembed_model_info.sigmoid says the model wants it.
//
//     const char *q[] = { "what is a cat", "what is a cat" }, *d[] = { "a small feline", "a car" };
//     float scores[2];
//     uint8_t cut[2];                                    // 1: that passage was cut to fit
//     wembed_classify_pairs(m, q, NULL, d, NULL, 2, scores, 2, cut);

// Labels of the model's classification head, or 0 when it has none.
int32_t wembed_model_n_labels(const wembed_model *model);
// The name of label i (config.json id2label), or NULL. Owned by the model; valid until freed.
const char *wembed_model_label(const wembed_model *model, int32_t i);

// B rows of T token ids (type_ids and mask may be NULL: all 0 / all 1), already encoded as the
// model's pairs. logits receives B * n_labels floats (n_logits is its capacity, in floats),
// owned by the caller. A row longer than the model's limit is WEMBED_STATUS_TOO_LONG.
wembed_status wembed_classify_ids(wembed_model *model, const int32_t *ids, const int32_t *type_ids,
                                  const int32_t *mask, int32_t B, int32_t T, float *logits, size_t n_logits);

// n (a, b) text pairs (query, passage): each encoded with the tokenizer's pair template (type
// ids 0 on the first segment, 1 on the second where the model has them), cut to the model's
// limit (sentence-transformers max_seq_length, else its positions) by removing tokens from the
// end of b only (only_second): a pair whose a alone does not fit is WEMBED_STATUS_TOO_LONG.
// lens_a / lens_b may be NULL (NUL-terminated texts). truncated (n entries, may be NULL) gets 1
// for each pair whose b was cut, 0 otherwise. logits: n * n_labels floats; both owned by the caller.
wembed_status wembed_classify_pairs(wembed_model *model, const char *const *texts_a, const size_t *lens_a,
                                    const char *const *texts_b, const size_t *lens_b, int32_t n,
                                    float *logits, size_t n_logits, uint8_t *truncated);

// Texts: each UTF-8 text (any bytes; invalid UTF-8 is decoded as TextDecoder does) is
// tokenized with the model's tokenizer.json (special tokens added as its post-processor says),
// then embedded as by wembed_embed_ids. Truncation keeps the special tokens; CHUNK windows
// each get them too. ntk_length PADDED uses the longest text of the call (a chunked text's
// windows: max_tokens). No prefix is ever added: put a model's query/document prefix in the text.
// Memory does not grow with a text's size: truncation tokenizes only the prefix it keeps (the
// tokens are exactly the whole text's first ones), and a chunked text goes through a text
// stream (below). params->progress reports the chunked texts' progress and can stop the call.
wembed_status wembed_embed_text(wembed_model *model, const char *const *texts, const size_t *lens, int32_t n,
                                const wembed_embed_params *params, void *out, size_t out_size);

// Text streams: one text of any size, given a piece at a time (pieces may split a UTF-8 char),
// embedded into one pooled vector as wembed_embed_text would (truncate END: its first tokens;
// ERROR: WEMBED_STATUS_TOO_LONG as soon as it does not fit; CHUNK: its windows, averaged),
// holding only the model's window of tokens and about 1 MB of text at a time. Errors are on
// the model (wembed_model_last_error); after one, every call returns it. Pooling NONE does not
// apply. The stream borrows the model: free it first.
typedef struct wembed_text_stream wembed_text_stream;
wembed_status wembed_text_stream_new(wembed_model *model, const wembed_embed_params *params, wembed_text_stream **out);
wembed_status wembed_text_stream_write(wembed_text_stream *s, const char *text, size_t len);
// True once the stream needs no more text (END past the limit, or an error): stop writing.
bool wembed_text_stream_full(const wembed_text_stream *s);
// The vector (wembed_embed_vector_bytes bytes) into out, owned by the caller.
wembed_status wembed_text_stream_finish(wembed_text_stream *s, void *out, size_t out_size);
void wembed_text_stream_free(wembed_text_stream *s);   // NULL is a no-op
// The model's tokenizer (from tokenizer.json), or NULL with an error on the model when it has
// none. Owned by the model; valid until wembed_model_free.
wembed_tokenizer *wembed_model_tokenizer(wembed_model *model);

// Images (a vision tower: CLIP's, SigLIP's, nomic-embed-vision's). Pixels are 8-bit RGB or RGBA
// (alpha is dropped, as the reference's convert("RGB")), any size from 1x1, rows `stride` bytes
// apart. They are prepared as the model's preprocessor_config.json says (Pillow-exact resize,
// center crop when the processor has one, rescale, normalize; CLIP's defaults when the file is
// absent). Pooling: the model's image embedding (default: CLIP's class token through
// post_layernorm and visual_projection, SigLIP's attention-pooling head, nomic-embed-vision's
// row 0 of its last_hidden_state), or NONE for the tower's per-token states (CLIP and
// nomic-embed-vision: 1 + patches rows; SigLIP: patches rows, after post_layernorm).
// Normalization, dims and output as for text.
typedef struct wembed_image {
    const uint8_t *pixels;
    int32_t width, height;
    size_t stride;                    // bytes per row (>= width * channels)
    int32_t channels;                 // 3 (RGB) or 4 (RGBA)
} wembed_image;

// out: n vectors (pooled) or n * tokens (pooling NONE: CLIP 1 + patches, SigLIP patches), each
// wembed_image_vector_bytes long.
wembed_status wembed_embed_images(wembed_model *model, const wembed_image *images, int32_t n,
                                  const wembed_embed_params *params, void *out, size_t out_size);
// The same from pixel values already prepared: B x 3 x S x S floats (S = wembed_image_size).
wembed_status wembed_embed_pixels(wembed_model *model, const float *pixel_values, int32_t B,
                                  const wembed_embed_params *params, void *out, size_t out_size);
// Bytes of one output vector of the image calls under these params (0 on invalid params).
size_t wembed_image_vector_bytes(wembed_model *model, const wembed_embed_params *params);
// The side S of the square model input, or 0 when the model has no vision tower.
int32_t wembed_image_size(const wembed_model *model);
// Only the preparation: out receives 3 x S x S floats (out_size bytes at least).
wembed_status wembed_image_preprocess(wembed_model *model, const wembed_image *image, float *out, size_t out_size);
// The image-text logit scale, exp(logit_scale): similarity logits are scale * cosine + bias
// (CLIP, SigLIP). 0 for a model without one.
float wembed_model_logit_scale(const wembed_model *model);
// The logit bias added to those logits (SigLIP's logit_bias; 0 for CLIP and models without one).
float wembed_model_logit_bias(const wembed_model *model);
// Whether each logit is a probability on its own through a sigmoid (SigLIP: zero-shot labels
// are independent), rather than through a softmax over the candidates (CLIP).
bool wembed_model_logit_sigmoid(const wembed_model *model);

// -----------------------------------------------------------------------------------------
// Tokenizer (src/tokenizer/): a Hugging Face tokenizer.json pipeline giving the ids, tokens and
// offsets of the Rust `tokenizers` library (0.22): normalizers, pre-tokenizers, WordPiece /
// BPE / Unigram / WordLevel, added tokens, post-processors, truncation and padding.
//
//     wembed_tokenizer *tok = NULL;
//     if (wembed_tokenizer_load(json, json_len, &tok) != WEMBED_STATUS_OK) {
//         fprintf(stderr, "%s\n", wembed_tokenizer_last_error(tok));   // tok holds the message
//         wembed_tokenizer_free(tok);
//         return 1;
//     }
//     wembed_tokenize_params tp = wembed_tokenize_default_params();  // [CLS] ... [SEP], no limit
//     tp.max_length = 512;
//     wembed_encoding *enc = NULL;
//     if (wembed_tokenizer_encode(tok, "Hello world", 11, &tp, &enc) == WEMBED_STATUS_OK) {
//         for (int32_t i = 0; i < enc->n_tokens; i++)
//             printf("%d %s [%u, %u)\n", enc->ids[i], enc->tokens[i], enc->offsets[2 * i], enc->offsets[2 * i + 1]);
//         wembed_encoding_free(enc);
//     }
//     wembed_tokenizer_free(tok);
//
// Limitations (tokenizer):
//   - Unicode data is 15.0 (Debian's unicode-data): characters assigned after 15.0 may differ
//     from the reference, whose Rust std and Oniguruma know Unicode 16/17 (case mapping,
//     letters/numbers, graphemes). Normalization forms follow the reference's own Unicode 9.0.
//   - Split/Replace regexes: the subset real tokenizers use (see src/tokenizer/regex.c); any
//     other construct is a load error naming it. No UnicodeScripts/FixedLength pre-tokenizers.
//   - Unigram scores are read the way serde_json reads them (not correctly rounded), from the
//     file's own digits.
//   - A JSON object with a repeated key (e.g. in a vocab) is refused (serde keeps the last).
//   - Offsets are bytes of the caller's text; invalid UTF-8 is decoded as TextDecoder does
//     (each maximal ill-formed subpart becomes U+FFFD) and offsets still point into the
//     caller's bytes. wembed_encoding_utf16_offsets gives JS string indices.


typedef enum wembed_truncation_side {
    WEMBED_TRUNCATION_RIGHT = 0,      // keep the first tokens (default)
    WEMBED_TRUNCATION_LEFT = 1,       // keep the last tokens
} wembed_truncation_side;

typedef enum wembed_truncation_strategy {
    WEMBED_TRUNCATION_LONGEST_FIRST = 0,  // pairs: cut the longer text first (default)
    WEMBED_TRUNCATION_ONLY_FIRST = 1,     // cut only the first text
    WEMBED_TRUNCATION_ONLY_SECOND = 2,    // cut only the second (a cross-encoder's passage);
                                          // TOO_LONG when that is not enough; single texts: error
} wembed_truncation_strategy;

typedef struct wembed_tokenize_params {
    bool add_special_tokens;          // default true: what the file's post-processor adds
    int32_t max_length;               // > 0: at most this many tokens, special tokens included (fewer
                                      // than the special tokens added: WEMBED_STATUS_INVALID_ARGUMENT)
                                      // (longest-first for pairs); 0: no limit (default)
    wembed_truncation_side truncation_side;   // unless the file's truncation applies
    bool use_file_settings;           // default false: ignore the file's "truncation" and
                                      // "padding"; true: apply them as the Rust library does
                                      // (max_length, if > 0, replaces the file's length)
    wembed_truncation_strategy truncation_strategy;   // unless the file's truncation applies
} wembed_tokenize_params;

wembed_tokenize_params wembed_tokenize_default_params(void);

// The result of an encode: parallel arrays of n_tokens entries, in one block owned by the
// caller and freed with wembed_encoding_free.
typedef struct wembed_encoding {
    int32_t n_tokens;
    const int32_t *ids;
    const int32_t *type_ids;
    const int32_t *attention_mask;      // 1, or 0 for padding
    const int32_t *special_tokens_mask; // 1 for tokens the post-processor or padding added
    const int32_t *word_ids;            // pre-tokenizer word index, -1 for added special tokens
    const int32_t *sequence_ids;        // 0 (first text), 1 (second text), -1 (added special)
    const uint32_t *offsets;            // (2 * n_tokens) [start, end) byte offsets in the text the
                                        // token came from; [0, 0) for added special tokens
    const char *const *tokens;          // token strings, NUL-terminated UTF-8
    const int32_t *token_lens;          // their lengths in bytes (a token may contain a NUL)
} wembed_encoding;

// Loads tokenizer.json bytes (read during the call only). Like sqlite3_open: on failure
// *out_tok is still a handle (NULL only when out of memory) holding the message for
// wembed_tokenizer_last_error; it must be freed, and any other call on it fails.
wembed_status wembed_tokenizer_load(const void *json, size_t n_json, wembed_tokenizer **out_tok);
// The same from a llama.cpp GGUF file's tokenizer.ggml.* metadata (the whole file or at least
// its header; read during the call only). Only tokenizer.ggml.model "bert" is supported.
wembed_status wembed_tokenizer_load_gguf(const void *gguf, size_t n, wembed_tokenizer **out_tok);
void wembed_tokenizer_free(wembed_tokenizer *tok);                       // NULL is a no-op
// The last error on this handle ("" if none). Owned by the tokenizer; valid until its next call.
const char *wembed_tokenizer_last_error(const wembed_tokenizer *tok);

// Encodes text[0..len) (any bytes; NUL is an ordinary character). params NULL: defaults.
// *out_enc is owned by the caller (wembed_encoding_free).
wembed_status wembed_tokenizer_encode(wembed_tokenizer *tok, const char *text, size_t len,
                                      const wembed_tokenize_params *params, wembed_encoding **out_enc);
// A pair of texts (cross-encoders): the post-processor's pair template, type ids 0 / 1.
wembed_status wembed_tokenizer_encode_pair(wembed_tokenizer *tok, const char *text_a, size_t len_a,
                                           const char *text_b, size_t len_b,
                                           const wembed_tokenize_params *params, wembed_encoding **out_enc);
void wembed_encoding_free(wembed_encoding *enc);                          // NULL is a no-op
// The offsets of enc in UTF-16 code units of text (JS string indices): out has 2 * n_tokens
// entries, owned by the caller. text must be the one encoded (the first of a pair).
wembed_status wembed_encoding_utf16_offsets(const wembed_encoding *enc, const char *text, size_t len,
                                            uint32_t *out);

// Number of ids: the largest id of the vocabulary or the added tokens, plus one.
int32_t wembed_tokenizer_vocab_size(const wembed_tokenizer *tok);
// The token of an id (added tokens first), or NULL. Owned by the tokenizer; valid until freed.
const char *wembed_tokenizer_id_to_token(const wembed_tokenizer *tok, int32_t id);
// The id of a token string (exact match), or -1.
int32_t wembed_tokenizer_token_to_id(const wembed_tokenizer *tok, const char *token, size_t len);

typedef enum wembed_special_token {
    WEMBED_SPECIAL_UNK = 0,           // the model's unknown token
    WEMBED_SPECIAL_CLS = 1,           // the token the post-processor puts before the text
    WEMBED_SPECIAL_SEP = 2,           // the token it puts after the text
    WEMBED_SPECIAL_PAD = 3,           // the file's padding id, else an added [PAD] / <pad>
    WEMBED_SPECIAL_BOS = 4,           // same as CLS
    WEMBED_SPECIAL_EOS = 5,           // same as SEP (CLIP's <|endoftext|>, T5's </s>)
    WEMBED_SPECIAL_MASK = 6,          // an added [MASK] / <mask>
} wembed_special_token;

// The id of a special token as the file defines it, or -1.
int32_t wembed_tokenizer_special_id(const wembed_tokenizer *tok, wembed_special_token which);
// The file's truncation max_length, or 0 when it has none.
int32_t wembed_tokenizer_max_length(const wembed_tokenizer *tok);

#ifdef __cplusplus
}
#endif

#endif // WEMBED_H
