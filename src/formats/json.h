// json.h - a strict, bounded JSON reader (RFC 8259) for config.json, tokenizer.json,
// safetensors headers, preprocessor_config.json and the sentence-transformers files.
//
// It parses the whole text into a tree allocated in a caller-owned arena (freed with the
// arena) and trusts nothing: sizes, depth, node count and string lengths are bounded;
// strings must be valid UTF-8; \u escapes, surrogate pairs included, are decoded (a lone
// surrogate is an error, as in Rust's serde_json, which the tokenizers library uses);
// duplicate object keys are an error. Beyond RFC 8259 it accepts only NaN, Infinity and
// -Infinity, which Python's json module writes.
//
// Not: a streaming parser, a writer, comments, trailing commas.
#ifndef WE_JSON_H
#define WE_JSON_H

#include "../core/arena.h"
#include "../core/common.h"

typedef enum we_json_type {
    WE_JSON_NULL,
    WE_JSON_FALSE,
    WE_JSON_TRUE,
    WE_JSON_NUMBER,
    WE_JSON_STRING,
    WE_JSON_ARRAY,
    WE_JSON_OBJECT,
} we_json_type;

typedef struct we_json we_json;
typedef struct we_json_member we_json_member;

struct we_json {
    we_json_type type;
    uint32_t len;                 // STRING: bytes; ARRAY: items; OBJECT: members; NUMBER: bytes of its text
    union {
        struct {
            double f;             // the value as a double (correctly rounded), unless `text` is
                                  // set: then read it with we_json_as_double
            union {
                int64_t i;        // is_int: the exact value
                const char *text; // otherwise, when the value is not a single exact product or
                                  // quotient of its digits and a power of ten: the number's text
                                  // (len bytes, NUL-terminated, in the arena), converted on demand,
                                  // and there for readers that must round as another parser does
                                  // (serde_json); NULL when `f` is exact
            };
            bool is_int;          // written without fraction/exponent and fits int64
        } num;
        const char *str;          // STRING: UTF-8, NUL-terminated (may contain \0: use len)
        we_json *items;           // ARRAY
        we_json_member *members;  // OBJECT, in file order
    } u;
};

struct we_json_member {
    const char *key;              // UTF-8, NUL-terminated
    uint32_t key_len;
    we_json value;
};

typedef struct we_json_limits {
    size_t max_bytes;             // input size (default 256 MiB)
    int32_t max_depth;            // nesting of arrays/objects (default 128)
    size_t max_nodes;             // values in the whole document (default 64 Mi)
    size_t max_string;            // bytes in one decoded string (default 64 MiB)
} we_json_limits;

we_json_limits we_json_default_limits(void);

// Parses text[0..n) into *out (allocated in arena). lim NULL: defaults. On failure returns
// WEMBED_STATUS_BAD_FORMAT (syntax, with line:column and what was expected),
// WEMBED_STATUS_LIMIT (a limit exceeded, naming it) or WEMBED_STATUS_ALLOC_FAILED, and
// writes the message into err. What was allocated stays in the arena until it is freed.
wembed_status we_json_parse(we_arena *arena, const char *text, size_t n,
                            const we_json_limits *lim, const we_json **out, we_err *err);

// Lookups. All accept NULL and return NULL / false when the value is absent or of another
// type, so chains like we_json_get(we_json_get(root, "model"), "vocab") need no checks.
const we_json *we_json_get(const we_json *obj, const char *key);    // linear scan
const we_json *we_json_at(const we_json *arr, size_t i);
bool we_json_is(const we_json *v, we_json_type type);
bool we_json_as_int(const we_json *v, int64_t *out);     // exact integers only
bool we_json_as_double(const we_json *v, double *out);   // any number, correctly rounded
bool we_json_as_bool(const we_json *v, bool *out);
const char *we_json_as_str(const we_json *v, size_t *len);   // len may be NULL
// True if v is a string equal to s.
bool we_json_str_eq(const we_json *v, const char *s);

#endif // WE_JSON_H
