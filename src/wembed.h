// wembed.h - text and image embeddings with Hugging Face transformer models, in portable C11.
//
// Basic usage (the model API grows with the engine; see the README for what is in place):
//
//     #include "wembed.h"
//     #include <stdio.h>
//
//     int main(void) {
//         printf("wembed %s on %s\n", wembed_version(), wembed_system_info());
//         wembed_pool *pool = NULL;
//         if (wembed_pool_new(2, &pool) != WEMBED_STATUS_OK) return 1;
//         // ... load a model and embed with it (later sections of this header) ...
//         wembed_pool_free(pool);
//         return 0;
//     }
//
// Limitations:
//   - CPU only: scalar C everywhere, SIMD128 kernels in WebAssembly (and natively through
//     SIMDe), pthreads where the platform has them.
//   - The engine never touches the filesystem or the network: it is handed bytes.
//   - Not thread-safe per handle: one call at a time on a given handle; separate handles
//     may be used from separate threads.
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
} wembed_status;

// Static English name of a status ("ok", "alloc_failed", ...). Never NULL.
const char *wembed_status_str(wembed_status rc);

// -----------------------------------------------------------------------------------------
// Library information

// "0.1.0". Static string.
const char *wembed_version(void);

// What this build runs on, e.g. "simd128 threads" or "scalar". Static string.
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
// modules.json, <pooling path>/config.json, sentence_bert_config.json; every other small
// file given (tokenizer.json, preprocessor_config.json, ...) is kept for the later stages.

typedef enum wembed_dtype {
    WEMBED_DTYPE_F32 = 0,   // weights as float32
    WEMBED_DTYPE_F16 = 1,   // matmul weights and token embeddings as float16 (others f32)
    WEMBED_DTYPE_Q8 = 2,    // matmul weights and token embeddings as int8, one scale per row
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
    const char *architecture;         // family: "bert", "nomic_bert" or "clip"
    const char *model_type;           // config.json model_type ("xlm-roberta", ...) or GGUF architecture
    const char *format;               // "safetensors" or "gguf"
    wembed_dtype dtype;
    int32_t n_embd;                   // hidden size (CLIP: the text tower's, or the vision tower's if alone)
    int32_t n_layer, n_head, n_ff;    // likewise
    int32_t n_vocab;                  // rows of the token embedding (0: no text tower)
    int32_t n_ctx;                    // longest input the model takes, in tokens
    int32_t n_out;                    // size of the output embedding (CLIP: projection_dim)
    bool has_text, has_vision;
    int32_t vision_n_embd, vision_n_layer, vision_n_head, image_size, patch_size;
    int64_t n_params;                 // parameters loaded
    uint64_t weight_bytes;            // memory holding them
    wembed_pooling pooling;           // default pooling (sentence-transformers files, else the family's)
    bool normalize;                   // a Normalize module follows (or no modules.json: true)
    int32_t max_seq_length;           // sentence_bert_config.json max_seq_length, 0 if not given
} wembed_model_info;

// Fills *out; its strings are owned by the model and valid until wembed_model_free.
wembed_status wembed_model_get_info(const wembed_model *model, wembed_model_info *out);

void wembed_model_free(wembed_model *model);                              // NULL is a no-op

#ifdef __cplusplus
}
#endif

#endif // WEMBED_H
