// gguf.h - reading GGUF files (llama.cpp's format, versions 2 and 3): metadata of every value
// type, arrays, general.alignment, tensor infos, and the embedded tokenizer (tokenizer.ggml.*).
//
// Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv; n_kv times
// (string key, u32 type, value); n_tensors times (string name, u32 n_dims, u64 ne[n_dims],
// u32 ggml_type, u64 offset); padding to the alignment; the data section. Strings are
// u64 length + bytes (no NUL). ne[0] is the innermost dimension (the reverse of torch order).
//
// The header is parsed from a prefix of the file: we_gguf_parse says when it needs more bytes,
// so the streaming loader can buffer only the header and route the data section chunk by
// chunk. Nothing read from the file is trusted: counts are bounded by the bytes that could
// hold them, sizes are checked for overflow, duplicate keys and tensor names are refused,
// offsets must be aligned, inside the file and non-overlapping.
//
// Not: a writer (gen/gguf_writer.py writes the test files), nor a reader of tensor data.
#ifndef WE_GGUF_H
#define WE_GGUF_H

#include "../core/arena.h"
#include "tensor.h"

#define WE_GGUF_MAX_KV 65536
#define WE_GGUF_MAX_TENSORS 65536
#define WE_GGUF_MAX_HEADER ((uint64_t)512 << 20)   // metadata + tensor infos

typedef enum we_gguf_type {
    WE_GGUF_U8 = 0, WE_GGUF_I8 = 1, WE_GGUF_U16 = 2, WE_GGUF_I16 = 3, WE_GGUF_U32 = 4,
    WE_GGUF_I32 = 5, WE_GGUF_F32 = 6, WE_GGUF_BOOL = 7, WE_GGUF_STRING = 8, WE_GGUF_ARRAY = 9,
    WE_GGUF_U64 = 10, WE_GGUF_I64 = 11, WE_GGUF_F64 = 12,
} we_gguf_type;

typedef struct we_gguf_str {
    const char *s;                // arena copy, NUL-terminated (may contain NULs: use n)
    uint64_t n;
} we_gguf_str;

typedef struct we_gguf_kv {
    const char *key;
    we_gguf_type type;
    we_gguf_type arr_type;        // ARRAY: type of the elements (never ARRAY: nested arrays are refused)
    uint64_t n;                   // ARRAY: number of elements
    union {
        uint64_t u;               // U8..U64, BOOL (0/1)
        int64_t i;                // I8..I64
        double f;                 // F32, F64
        we_gguf_str str;          // STRING
        const void *arr;          // ARRAY: n elements as native uint8_t/int32_t/float/.../we_gguf_str
    } v;
} we_gguf_kv;

typedef struct we_gguf_tensor {
    const char *name;
    uint32_t ggml_type;           // the file's code
    we_dtype dtype;
    int32_t n_dims;
    int64_t ne[4];                // GGML order: ne[0] innermost; unused dims are 1
    uint64_t n_elems;
    uint64_t offset;              // within the data section
    uint64_t nbytes;
} we_gguf_tensor;

typedef struct we_gguf {
    uint32_t version;             // 2 or 3
    uint64_t n_kv;
    we_gguf_kv *kv;               // (n_kv) in file order
    uint64_t n_tensors;
    we_gguf_tensor *tensors;      // (n_tensors) sorted by offset
    uint32_t alignment;           // general.alignment, default 32
    uint64_t data_start;          // file offset of the data section
    uint64_t file_size;
} we_gguf;

// True if the first 4 bytes are the GGUF magic.
bool we_gguf_is_gguf(const uint8_t *p, size_t n);

// Parses the header from buf[0..n), the first n bytes of a file of file_size bytes.
// When the header extends past n (and n < file_size) it returns OK with *need_more set and
// nothing in *out (call again with more bytes). Else BAD_FORMAT, UNSUPPORTED (version,
// big-endian, tensor type), LIMIT or ALLOC_FAILED, with the message in err.
wembed_status we_gguf_parse(we_arena *a, const uint8_t *buf, size_t n, uint64_t file_size,
                            we_gguf *out, bool *need_more, we_err *err);

const we_gguf_kv *we_gguf_find(const we_gguf *g, const char *key);
// Typed lookups: false when absent or of another kind. Integers of any integer type convert
// when the value fits; floats accept F32 and F64.
bool we_gguf_get_int(const we_gguf *g, const char *key, int64_t *out);
bool we_gguf_get_float(const we_gguf *g, const char *key, double *out);
bool we_gguf_get_bool(const we_gguf *g, const char *key, bool *out);
const char *we_gguf_get_str(const we_gguf *g, const char *key);
const we_gguf_tensor *we_gguf_find_tensor(const we_gguf *g, const char *name);
// "F32", "Q4_K", ... or "type N" for codes the engine does not know (static or in buf).
const char *we_gguf_type_name(uint32_t ggml_type);

// -----------------------------------------------------------------------------------------
// The embedded tokenizer, as llama.cpp's converters write it. Every pointer points into the
// arena the GGUF header was parsed in.

typedef struct we_gguf_vocab {
    const char *model;            // tokenizer.ggml.model: "bert", "gpt2", "llama", "t5", ... (NULL: no vocab)
    const char *pre;              // tokenizer.ggml.pre, or NULL
    uint32_t n_tokens;
    const we_gguf_str *tokens;    // (n_tokens) tokenizer.ggml.tokens
    const float *scores;          // (n_tokens) tokenizer.ggml.scores, or NULL
    const int32_t *token_types;   // (n_tokens) tokenizer.ggml.token_type, or NULL
                                  //   1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
    uint32_t n_merges;
    const we_gguf_str *merges;    // (n_merges) tokenizer.ggml.merges ("a b"), or NULL
    int32_t bos_id, eos_id, unk_id, sep_id, pad_id, cls_id, mask_id;   // -1: absent
    int8_t add_bos, add_eos;      // tokenizer.ggml.add_bos_token / add_eos_token; -1: absent
    const uint8_t *charsmap;      // tokenizer.ggml.precompiled_charsmap (T5), or NULL
    uint64_t n_charsmap;
} we_gguf_vocab;

// Reads tokenizer.ggml.* from g. A file without tokenizer.ggml.tokens gives model == NULL and
// OK; present keys of the wrong type or length, or special ids out of range, are BAD_FORMAT.
wembed_status we_gguf_read_vocab(const we_gguf *g, we_gguf_vocab *out, we_err *err);

#endif // WE_GGUF_H
