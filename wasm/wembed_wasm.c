// wembed_wasm.c - the export seam between the engine and the JS package.
//
// Everything the JS side calls is here, named wembed__* and marked WEMBED_WASM_EXPORT (SQLite's
// form: the attribute keeps it and exports it, no <emscripten.h> needed), so this file is the
// one export list of the shipped modules (the bench build adds wembed_bench_wasm.c's). Most are
// one-line forwards; the others exist where the C API takes a struct, a 64-bit integer or an
// array of pointers, which JS cannot pass.
// Pointers cross as 32-bit offsets into the module's memory. The JS side copies inputs in once
// and outputs out once, and frees in `finally` (js/heap.js has the helpers).
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "tokenizer/window.h"
#include "wembed.h"

// The Node addon compiles this same file (native/: its build defines both macros first, so that
// these functions stay inside the .node and a pointer JS wrote is an offset into its region).
#ifndef WEMBED_WASM_EXPORT
#define WEMBED_WASM_EXPORT __attribute__((used, visibility("default")))
#endif
// A pointer JS wrote into memory: an offset into the module's memory.
#ifndef WEMBED_SEAM_PTR
#define WEMBED_SEAM_PTR(off) ((void *)(uintptr_t)(uint32_t)(off))
#endif

// -----------------------------------------------------------------------------------------
// Library information

WEMBED_WASM_EXPORT const char *wembed__version(void) { return wembed_version(); }
WEMBED_WASM_EXPORT const char *wembed__system_info(void) { return wembed_system_info(); }
WEMBED_WASM_EXPORT const char *wembed__status_str(int rc) { return wembed_status_str((wembed_status)rc); }

// -----------------------------------------------------------------------------------------
// Names and numbers for JS, so that js/ never writes a list of names or a number of its own:
// the status names (wembed_status_str), the sentinels of wembed_embed_params, and
// wembed.h's table of option names (WEMBED_OPTION_NAMES), as
//   {"status": {"ok": 0, ...}, "default": {"pooling": -1, "normalize": -1},
//    "dtype": {"f32": 0, ...}, "pooling": {"none": 0, ...}, ..., "quantize": {"none": 0, ...}}
// in the table's order. Static string.

typedef struct json_buf {
    char s[4096];
    size_t len;
} json_buf;

static void jb_printf(json_buf *b, const char *fmt, ...) WE_PRINTF(2, 3);
static void jb_printf(json_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, sizeof b->s - b->len, fmt, ap);
    va_end(ap);
    WE_ASSERT(n >= 0 && (size_t)n < sizeof b->s - b->len);   // the buffer fits the table
    b->len += (size_t)n;
}

WEMBED_WASM_EXPORT const char *wembed__consts_json(void) {
    static json_buf b;
    if (b.len) return b.s;
    jb_printf(&b, "{\"status\":{");
    for (int rc = 0; strcmp(wembed_status_str((wembed_status)rc), "unknown") != 0; rc++)
        jb_printf(&b, "%s\"%s\":%d", rc ? "," : "", wembed_status_str((wembed_status)rc), rc);
    jb_printf(&b, "},\"default\":{\"pooling\":%d,\"normalize\":%d}", WEMBED_POOLING_DEFAULT, WEMBED_NORMALIZE_DEFAULT);
#define JSON_VALUE(value, name) jb_printf(&b, "%s\"%s\":%d", first ? "" : ",", name, (int)(value)), first = false;
#define JSON_OPTION(option, VALUES) { bool first = true; jb_printf(&b, ",\"%s\":{", option); VALUES(JSON_VALUE) jb_printf(&b, "}"); }
    WEMBED_OPTION_NAMES(JSON_OPTION)
#undef JSON_OPTION
#undef JSON_VALUE
    jb_printf(&b, "}");
    return b.s;
}

// The name of a value, from the same table.
#define NAME_CASE(value, name) case value: return name;
static const char *dtype_name(int v) { switch (v) { WEMBED_DTYPE_NAMES(NAME_CASE) } return "unknown"; }
static const char *pooling_name(int v) { switch (v) { WEMBED_POOLING_NAMES(NAME_CASE) } return "unknown"; }
#undef NAME_CASE

// -----------------------------------------------------------------------------------------
// Allocation counters

// The number of live engine allocations (tests check that JS-side calls leak nothing), the
// bytes they hold, and the most held since the last reset (memory reports and benchmarks).
WEMBED_WASM_EXPORT double wembed__alloc_live(void) { return (double)we_alloc_live(); }
WEMBED_WASM_EXPORT double wembed__alloc_bytes(void) { return (double)we_alloc_bytes(); }
WEMBED_WASM_EXPORT double wembed__alloc_peak_bytes(void) { return (double)we_alloc_peak_bytes(); }
WEMBED_WASM_EXPORT void wembed__alloc_reset_peak(void) { we_alloc_reset_peak(); }

// -----------------------------------------------------------------------------------------
// Thread pool

// Returns the pool or 0 (out of memory / bad count).
WEMBED_WASM_EXPORT wembed_pool *wembed__pool_new(int n_threads) {
    wembed_pool *pool = NULL;
    return wembed_pool_new(n_threads, &pool) == WEMBED_STATUS_OK ? pool : NULL;
}
WEMBED_WASM_EXPORT int wembed__pool_n_threads(const wembed_pool *pool) { return wembed_pool_n_threads(pool); }
WEMBED_WASM_EXPORT void wembed__pool_free(wembed_pool *pool) { wembed_pool_free(pool); }

// -----------------------------------------------------------------------------------------
// Loading (wembed_loader_* are called directly except for these two)

// A loader for dtype (wembed_dtype) sharing pool; 0 when out of memory or for bad arguments.
WEMBED_WASM_EXPORT wembed_loader *wembed__loader_new(int dtype, int n_threads, wembed_pool *pool) {
    wembed_model_params p = wembed_model_default_params();
    p.dtype = (wembed_dtype)dtype;
    p.n_threads = n_threads;
    p.pool = pool;
    wembed_loader *ld = NULL;
    return wembed_loader_new(p, &ld) == WEMBED_STATUS_OK ? ld : NULL;
}

// total_size as a double: file sizes stay exact up to 2^53 bytes.
WEMBED_WASM_EXPORT int wembed__loader_begin_file(wembed_loader *ld, const char *name, double total_size) {
    if (!(total_size >= 0 && total_size < 9007199254740992.0)) return WEMBED_STATUS_INVALID_ARGUMENT;
    return wembed_loader_begin_file(ld, name, (uint64_t)total_size);
}

WEMBED_WASM_EXPORT int wembed__loader_add_file(wembed_loader *ld, const char *name, const void *data, double size) {
    return wembed_loader_add_file(ld, name, data, (size_t)size);
}
WEMBED_WASM_EXPORT int wembed__loader_write(wembed_loader *ld, const void *chunk, double n) {
    return wembed_loader_write(ld, chunk, (size_t)n);
}
WEMBED_WASM_EXPORT int wembed__loader_end_file(wembed_loader *ld) { return wembed_loader_end_file(ld); }
WEMBED_WASM_EXPORT const char *wembed__loader_last_error(const wembed_loader *ld) { return wembed_loader_last_error(ld); }
WEMBED_WASM_EXPORT void wembed__loader_free(wembed_loader *ld) { wembed_loader_free(ld); }

// The finished model, or 0 (the loader's last error says why).
WEMBED_WASM_EXPORT wembed_model *wembed__loader_finish(wembed_loader *ld) {
    wembed_model *m = NULL;
    return wembed_loader_finish(ld, &m) == WEMBED_STATUS_OK ? m : NULL;
}

WEMBED_WASM_EXPORT const char *wembed__model_last_error(const wembed_model *m) { return wembed_model_last_error(m); }
WEMBED_WASM_EXPORT const char *wembed__model_warnings(const wembed_model *m) { return wembed_model_warnings(m); }
WEMBED_WASM_EXPORT void wembed__model_free(wembed_model *m) { wembed_model_free(m); }
WEMBED_WASM_EXPORT int wembed__image_size(const wembed_model *m) { return wembed_image_size(m); }

WEMBED_WASM_EXPORT int wembed__config_parts(const char *json, double n) { return wembed_config_parts(json, (size_t)n); }

// Model information as a JSON object, malloc'd (the caller frees it), or 0.
WEMBED_WASM_EXPORT char *wembed__model_info_json(const wembed_model *m) {
    wembed_model_info i;
    if (wembed_model_get_info(m, &i) != WEMBED_STATUS_OK) return NULL;
    size_t cap = 1024 + strlen(i.hparams);
    char *s = malloc(cap);
    if (!s) return NULL;
    snprintf(s, cap,
             "{\"architecture\":\"%s\",\"modelType\":\"%s\",\"format\":\"%s\",\"dtype\":\"%s\","
             "\"hiddenSize\":%d,\"layers\":%d,\"heads\":%d,\"intermediateSize\":%d,\"vocabSize\":%d,"
             "\"maxTokens\":%d,\"dims\":%d,\"hasText\":%s,\"hasVision\":%s,\"visionHiddenSize\":%d,"
             "\"visionLayers\":%d,\"visionHeads\":%d,\"imageSize\":%d,\"patchSize\":%d,\"parameters\":%.0f,"
             "\"weightBytes\":%.0f,\"pooling\":\"%s\",\"normalize\":%s,\"maxSeqLength\":%d,\"logitScale\":%.9g,"
             "\"logitBias\":%.9g,\"logitSigmoid\":%s,\"imageTokens\":%d,"
             "\"labels\":%d,\"sigmoid\":%s,\"trainedTokens\":%d,\"extension\":\"%s\",\"extendMaxTokens\":%d,\"hparams\":%s}",
             i.architecture, i.model_type, i.format, dtype_name(i.dtype), i.n_embd, i.n_layer, i.n_head, i.n_ff,
             i.n_vocab, i.n_ctx, i.n_out, i.has_text ? "true" : "false", i.has_vision ? "true" : "false",
             i.vision_n_embd, i.vision_n_layer, i.vision_n_head, i.image_size, i.patch_size, (double)i.n_params,
             (double)i.weight_bytes, pooling_name(i.pooling),
             i.normalize ? "true" : "false", i.max_seq_length, (double)wembed_model_logit_scale(m),
             (double)wembed_model_logit_bias(m), wembed_model_logit_sigmoid(m) ? "true" : "false", i.image_tokens, i.n_labels,
             i.sigmoid ? "true" : "false", i.n_trained, i.extension, WEMBED_EXTEND_MAX_TOKENS, i.hparams);
    return s;
}

// -----------------------------------------------------------------------------------------
// Embedding. The params arrive as scalars (JS never lays out a C struct).

static wembed_embed_params params_of(int pooling, int normalize, int dims, int max_tokens, int truncate,
                                     int chunk_overlap, int rope_scaling, double rope_factor, int ntk_length,
                                     int output, double attention_temperature, int self_extend_group,
                                     int self_extend_window, int allow_non_finite) {
    wembed_embed_params p = wembed_embed_default_params();
    p.pooling = pooling;
    p.normalize = normalize;
    p.dims = dims;
    p.max_tokens = max_tokens;
    p.truncate = (wembed_truncate)truncate;
    p.chunk_overlap = chunk_overlap;
    p.rope_scaling = (wembed_rope_scaling)rope_scaling;
    p.rope_factor = (float)rope_factor;
    p.ntk_length = (wembed_ntk_length)ntk_length;
    p.output = (wembed_output)output;
    p.attention_temperature = (float)attention_temperature;
    p.self_extend_group = self_extend_group;
    p.self_extend_window = self_extend_window;
    p.allow_non_finite = allow_non_finite;
    return p;
}

#define PARAMS_ARGS int pooling, int normalize, int dims, int max_tokens, int truncate, int chunk_overlap, \
                    int rope_scaling, double rope_factor, int ntk_length, int output, \
                    double attention_temperature, int self_extend_group, int self_extend_window, \
                    int allow_non_finite
#define PARAMS params_of(pooling, normalize, dims, max_tokens, truncate, chunk_overlap, rope_scaling, \
                         rope_factor, ntk_length, output, attention_temperature, self_extend_group, \
                         self_extend_window, allow_non_finite)

// Bytes of one output vector (0: invalid params; the model's last error says why).
// image: 1 for the image calls.
WEMBED_WASM_EXPORT double wembed__vector_bytes(wembed_model *m, int image, PARAMS_ARGS) {
    wembed_embed_params p = PARAMS;
    return (double)(image ? wembed_image_vector_bytes(m, &p) : wembed_embed_vector_bytes(m, &p));
}

// n texts, all in one UTF-8 buffer: text i is utf8[offsets[2i] .. offsets[2i] + offsets[2i+1]).
WEMBED_WASM_EXPORT int wembed__embed_text(wembed_model *m, const char *utf8, const int32_t *offsets, int n,
                                          void *out, double out_size, PARAMS_ARGS) {
    wembed_embed_params p = PARAMS;
    const char **texts = malloc(sizeof(char *) * ((size_t)n + 1));
    size_t *lens = malloc(sizeof(size_t) * ((size_t)n + 1));
    int rc = WEMBED_STATUS_ALLOC_FAILED;
    if (texts && lens) {
        for (int i = 0; i < n; i++) {
            texts[i] = utf8 + offsets[2 * i];
            lens[i] = (size_t)offsets[2 * i + 1];
        }
        rc = wembed_embed_text(m, texts, lens, n, &p, out, (size_t)out_size);
    }
    free(texts);
    free(lens);
    return rc;
}

// Text streams (one long text a piece at a time; errors on the model): *out gets the stream.
WEMBED_WASM_EXPORT int wembed__text_stream_new(wembed_model *m, wembed_text_stream **out, PARAMS_ARGS) {
    wembed_embed_params p = PARAMS;
    return wembed_text_stream_new(m, &p, out);
}
WEMBED_WASM_EXPORT int wembed__text_stream_write(wembed_text_stream *s, const char *text, double len) {
    return wembed_text_stream_write(s, text, (size_t)len);
}
WEMBED_WASM_EXPORT int wembed__text_stream_full(const wembed_text_stream *s) { return wembed_text_stream_full(s); }
WEMBED_WASM_EXPORT int wembed__text_stream_finish(wembed_text_stream *s, void *out, double out_size) {
    return wembed_text_stream_finish(s, out, (size_t)out_size);
}
WEMBED_WASM_EXPORT void wembed__text_stream_free(wembed_text_stream *s) { wembed_text_stream_free(s); }

WEMBED_WASM_EXPORT int wembed__embed_ids(wembed_model *m, const int32_t *ids, const int32_t *type_ids,
                                         const int32_t *mask, int B, int T, void *out, double out_size, PARAMS_ARGS) {
    wembed_embed_params p = PARAMS;
    return wembed_embed_ids(m, ids, type_ids, mask, B, T, &p, out, (size_t)out_size);
}

// The name of label i of a classification head (config.json id2label), or 0. Owned by the model.
WEMBED_WASM_EXPORT const char *wembed__model_label(const wembed_model *m, int i) { return wembed_model_label(m, i); }

// Classification (cross-encoders): raw logits, n_labels per row, into out (n_out floats).
WEMBED_WASM_EXPORT int wembed__classify_ids(wembed_model *m, const int32_t *ids, const int32_t *type_ids,
                                            const int32_t *mask, int B, int T, float *out, double n_out) {
    return wembed_classify_ids(m, ids, type_ids, mask, B, T, out, (size_t)n_out);
}

// n pairs in one UTF-8 buffer: pair i is utf8[offsets[4i] .. + offsets[4i+1]) (the query) and
// utf8[offsets[4i+2] .. + offsets[4i+3]) (the document). truncated[i]: 1 when document i was cut.
WEMBED_WASM_EXPORT int wembed__classify_pairs(wembed_model *m, const char *utf8, const int32_t *offsets, int n,
                                              float *out, double n_out, uint8_t *truncated) {
    const char **a = malloc(sizeof(char *) * 2 * ((size_t)n + 1));
    size_t *la = malloc(sizeof(size_t) * 2 * ((size_t)n + 1));
    int rc = WEMBED_STATUS_ALLOC_FAILED;
    if (a && la) {
        const char **b = a + n + 1;
        size_t *lb = la + n + 1;
        for (int i = 0; i < n; i++) {
            a[i] = utf8 + offsets[4 * i];
            la[i] = (size_t)offsets[4 * i + 1];
            b[i] = utf8 + offsets[4 * i + 2];
            lb[i] = (size_t)offsets[4 * i + 3];
        }
        rc = wembed_classify_pairs(m, a, la, b, lb, n, out, (size_t)n_out, truncated);
    }
    free(a);
    free(la);
    return rc;
}

// n images described by desc[5i..5i+5) = pixels pointer, width, height, stride, channels.
WEMBED_WASM_EXPORT int wembed__embed_images(wembed_model *m, const int32_t *desc, int n, void *out,
                                            double out_size, PARAMS_ARGS) {
    wembed_embed_params p = PARAMS;
    wembed_image *imgs = malloc(sizeof(wembed_image) * ((size_t)n + 1));
    if (!imgs) return WEMBED_STATUS_ALLOC_FAILED;
    for (int i = 0; i < n; i++)
        imgs[i] = (wembed_image){ (const uint8_t *)WEMBED_SEAM_PTR(desc[5 * i]), desc[5 * i + 1], desc[5 * i + 2],
                                  (size_t)(uint32_t)desc[5 * i + 3], desc[5 * i + 4] };
    int rc = wembed_embed_images(m, imgs, n, &p, out, (size_t)out_size);
    free(imgs);
    return rc;
}

WEMBED_WASM_EXPORT int wembed__embed_pixels(wembed_model *m, const float *pixels, int B, void *out, double out_size,
                                            PARAMS_ARGS) {
    wembed_embed_params p = PARAMS;
    return wembed_embed_pixels(m, pixels, B, &p, out, (size_t)out_size);
}

WEMBED_WASM_EXPORT int wembed__image_preprocess(wembed_model *m, const uint8_t *pixels, int w, int h, double stride,
                                                int channels, float *out, double out_size) {
    wembed_image img = { pixels, w, h, (size_t)stride, channels };
    return wembed_image_preprocess(m, &img, out, (size_t)out_size);
}

// -----------------------------------------------------------------------------------------
// Tokenizing. A tokenizer comes from wembed_model_tokenizer (owned by the model) or from
// wembed__tokenizer_load (owned by the caller: wembed_tokenizer_free).

// The model's tokenizer (owned by the model), or 0 (wembed__model_last_error).
WEMBED_WASM_EXPORT wembed_tokenizer *wembed__model_tokenizer(wembed_model *m) { return wembed_model_tokenizer(m); }
WEMBED_WASM_EXPORT const char *wembed__tokenizer_last_error(const wembed_tokenizer *t) { return wembed_tokenizer_last_error(t); }
WEMBED_WASM_EXPORT void wembed__tokenizer_free(wembed_tokenizer *t) { wembed_tokenizer_free(t); }
WEMBED_WASM_EXPORT int wembed__tokenizer_vocab_size(const wembed_tokenizer *t) { return wembed_tokenizer_vocab_size(t); }
WEMBED_WASM_EXPORT void wembed__encoding_free(wembed_encoding *e) { wembed_encoding_free(e); }
// out: 2 * n_tokens uint32 UTF-16 offsets into the text that was encoded.
WEMBED_WASM_EXPORT int wembed__encoding_utf16_offsets(const wembed_encoding *e, const char *text, double len, uint32_t *out) {
    return wembed_encoding_utf16_offsets(e, text, (size_t)len, out);
}

// The tokenizer, or 0 with wembed_tokenizer_last_error on *err_tok set (free it).
WEMBED_WASM_EXPORT wembed_tokenizer *wembed__tokenizer_load(const void *json, double n, wembed_tokenizer **err_tok) {
    wembed_tokenizer *tok = NULL;
    if (wembed_tokenizer_load(json, (size_t)n, &tok) == WEMBED_STATUS_OK) {
        *err_tok = NULL;
        return tok;
    }
    *err_tok = tok;
    return NULL;
}

// An encoding (wembed_encoding_free), or 0 (wembed_tokenizer_last_error).
// we_tokenizer_truncation_prefix: the cut (== len: this prefix of the text is not enough), -1 on error.
WEMBED_WASM_EXPORT double wembed__tokenize_prefix(wembed_tokenizer *tok, const char *text, double len, int add_special,
                                                  int max_length) {
    size_t cut;
    return we_tokenizer_truncation_prefix(tok, text, (size_t)len, max_length, add_special != 0, &cut) ? -1.0 : (double)cut;
}

WEMBED_WASM_EXPORT wembed_encoding *wembed__tokenize(wembed_tokenizer *tok, const char *text, double len,
                                                     int add_special, int max_length, int use_file_settings) {
    wembed_tokenize_params p = wembed_tokenize_default_params();
    p.add_special_tokens = add_special != 0;
    p.max_length = max_length;
    p.use_file_settings = use_file_settings != 0;
    wembed_encoding *enc = NULL;
    return wembed_tokenizer_encode(tok, text, (size_t)len, &p, &enc) == WEMBED_STATUS_OK ? enc : NULL;
}

// A pair (text, then text_b at its own offset in the same buffer or another), with a
// truncation strategy (wembed_truncation_strategy); 0 on error (wembed_tokenizer_last_error).
WEMBED_WASM_EXPORT wembed_encoding *wembed__tokenize_pair(wembed_tokenizer *tok, const char *text, double len,
                                                          const char *text_b, double len_b, int add_special,
                                                          int max_length, int strategy, int use_file_settings) {
    wembed_tokenize_params p = wembed_tokenize_default_params();
    p.add_special_tokens = add_special != 0;
    p.max_length = max_length;
    p.truncation_strategy = (wembed_truncation_strategy)strategy;
    p.use_file_settings = use_file_settings != 0;
    wembed_encoding *enc = NULL;
    return wembed_tokenizer_encode_pair(tok, text, (size_t)len, text_b, (size_t)len_b, &p, &enc) == WEMBED_STATUS_OK ? enc : NULL;
}

// The fields of an encoding, as offsets JS reads with its heap views.
WEMBED_WASM_EXPORT int wembed__encoding_n(const wembed_encoding *e) { return e->n_tokens; }
WEMBED_WASM_EXPORT const int32_t *wembed__encoding_ids(const wembed_encoding *e) { return e->ids; }
WEMBED_WASM_EXPORT const int32_t *wembed__encoding_type_ids(const wembed_encoding *e) { return e->type_ids; }
WEMBED_WASM_EXPORT const int32_t *wembed__encoding_attention_mask(const wembed_encoding *e) { return e->attention_mask; }
WEMBED_WASM_EXPORT const int32_t *wembed__encoding_special_mask(const wembed_encoding *e) { return e->special_tokens_mask; }
WEMBED_WASM_EXPORT const char *const *wembed__encoding_tokens(const wembed_encoding *e) { return e->tokens; }
WEMBED_WASM_EXPORT const int32_t *wembed__encoding_token_lens(const wembed_encoding *e) { return e->token_lens; }

// -----------------------------------------------------------------------------------------
// Vector index (src/search/search.h), driven by js/vector-index.js. Counts and slots cross
// as int32; the index's tiers are read and written by JS through the pointers returned here.

#include "search/search.h"

// The index, or 0 (bad arguments: JS validates them first; or out of memory).
WEMBED_WASM_EXPORT we_vindex *wembed__vindex_new(int dims, int metric, int storage, int rescore) {
    we_vindex *vi = NULL;
    return we_vindex_new(dims, (we_vi_metric)metric, (we_vi_storage)storage, (we_vi_rescore)rescore, &vi) ==
                   WEMBED_STATUS_OK ? vi : NULL;
}
WEMBED_WASM_EXPORT void wembed__vindex_free(we_vindex *vi) { we_vindex_free(vi); }
WEMBED_WASM_EXPORT const char *wembed__vindex_last_error(const we_vindex *vi) { return we_vindex_last_error(vi); }
WEMBED_WASM_EXPORT int wembed__vindex_count(const we_vindex *vi) { return we_vindex_count(vi); }
WEMBED_WASM_EXPORT double wembed__vindex_bytes(const we_vindex *vi) { return we_vindex_bytes(vi); }
WEMBED_WASM_EXPORT int wembed__vindex_reserve(we_vindex *vi, int n) { return we_vindex_reserve(vi, n); }
WEMBED_WASM_EXPORT int wembed__vindex_add(we_vindex *vi, const float *x, int n) { return we_vindex_add(vi, x, n); }
// *moved_from: the old slot of the row that moved into `slot`, or -1.
WEMBED_WASM_EXPORT int wembed__vindex_remove(we_vindex *vi, int slot, int32_t *moved_from) {
    return we_vindex_remove(vi, slot, moved_from);
}
WEMBED_WASM_EXPORT int wembed__vindex_get(we_vindex *vi, int slot, float *out) { return we_vindex_get(vi, slot, out); }
WEMBED_WASM_EXPORT int wembed__vindex_search(we_vindex *vi, wembed_pool *pool, const float *q, int nq, int k,
                                             int candidates, const uint8_t *allow, int32_t *slots, float *scores,
                                             int32_t *found) {
    return we_vindex_search(vi, pool, q, nq, k, candidates, allow, slots, scores, found);
}
// tier: 0 f32, 1 int8 codes, 2 int8 scales, 3 bits; 0 when the index does not keep it.
WEMBED_WASM_EXPORT const void *wembed__vindex_tier(const we_vindex *vi, int tier) {
    return we_vindex_tier(vi, (we_vi_tier)tier);
}
WEMBED_WASM_EXPORT int wembed__vindex_append_raw(we_vindex *vi, int n, const float *f32, const int8_t *i8,
                                                 const float *scales, const uint8_t *bits) {
    return we_vindex_append_raw(vi, n, f32, i8, scales, bits);
}
WEMBED_WASM_EXPORT const char *wembed__search_impl(void) { return we_search_impl(); }
