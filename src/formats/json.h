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
// Not: a streaming parser (but the items of chosen arrays and objects can go to a function, not
// the tree: see we_json_sink), a writer, comments, trailing commas.
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

// The items of an array, or the members of an object, handed to a function as they are parsed
// instead of kept in the tree: a tokenizer.json's vocabulary of 250,000 [piece, score] pairs or
// {"token": id} members, or its 500,000 merges, need not exist as a tree of a million values (and
// a copy of every string) to be read into the tokenizer's own tables.
typedef struct we_json_sink {
    const char *const *path;  // (depth) the keys from the root object down to the container,
    int32_t depth;            // e.g. {"model", "vocab"}
    // Called with each item of the array (key NULL, key_len 0) or member of the object, in
    // order (index 0, 1, ...), the value as a tree and the key valid until it returns; a status
    // other than OK ends the parse with it (the message in err). The parser does not check a
    // handed-over object for duplicate keys: the function must, if it cares.
    wembed_status (*item)(void *user, const char *key, uint32_t key_len, const we_json *value, uint32_t index, we_err *err);
    void *user;
} we_json_sink;

// we_json_parse with sinks (n_sinks of them; none: NULL, 0), each at its own path; a container
// inside one sink's container goes to that sink, never to another. The container at a sink's
// path is in the tree as an ARRAY or OBJECT whose len is its number of items or members and whose
// items / members are NULL (we_json_at and we_json_get give NULL).
wembed_status we_json_parse_sink(we_arena *arena, const char *text, size_t n, const we_json_limits *lim,
                                 const we_json_sink *sinks, int32_t n_sinks, const we_json **out, we_err *err);

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
