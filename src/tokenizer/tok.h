// tok.h - internals of the tokenizer (src/tokenizer/*.c): the normalized-string type with its
// alignments, and the pieces of a Hugging Face tokenizer.json pipeline (normalizers,
// pre-tokenizers, models, added tokens, post-processors).
//
// Everything here mirrors the Rust `tokenizers` library (0.22) closely, often quirk for quirk,
// because the goal is its exact ids and offsets. The names follow it: a "normalized string"
// carries, for every byte of its normalized text, the range of the original text it came
// from; normalizers rewrite it through `transforms` (a list of (char, change) pairs, see
// we_nstr_transform), pre-tokenizers cut it into pieces, models turn pieces into tokens.
//
// Not public: the API is in src/wembed.h.
#ifndef WE_TOK_H
#define WE_TOK_H

#include "../core/arena.h"
#include "../core/common.h"
#include "../core/utf8.h"
#include "../formats/gguf.h"
#include "../formats/json.h"
#include "window.h"

// -----------------------------------------------------------------------------------------
// Growable buffers (we_malloc'd, reused from call to call).

typedef struct we_buf {
    void *p;
    size_t n;                 // elements in use (their size is the caller's)
    size_t cap;               // bytes allocated
} we_buf;

// Makes room for `more` elements of `size` bytes; false when out of memory.
bool we_buf_grow(we_buf *b, size_t more, size_t size);
static inline bool we_buf_reserve(we_buf *b, size_t more, size_t size) {
    if (more <= 0x10000000 && size <= 0x10000 && (b->n + more) * size <= b->cap) return true;
    return we_buf_grow(b, more, size);
}
void we_buf_free(we_buf *b);

// Bump allocation for the pieces of one call, reset (not freed) between calls so that short
// texts do not pay for fresh memory every time.
typedef struct we_bump_chunk we_bump_chunk;
typedef struct we_bump {
    we_bump_chunk *head;      // newest first
} we_bump;

void *we_bump_alloc(we_bump *b, size_t n, size_t align);
// Forgets every allocation; keeps the newest chunk if it is at most keep_bytes.
void we_bump_reset(we_bump *b, size_t keep_bytes);

// -----------------------------------------------------------------------------------------
// Normalized strings

typedef struct we_align {
    uint32_t s, e;            // [s, e) in the original text of the string (see `base`)
} we_align;

// A piece of text as the Rust NormalizedString: the normalized bytes and, per byte, the
// original range it came from. Pieces made by slicing share their parent's arrays; their
// alignments then read al[i] - base. Arrays are immutable once made (transforms make new ones).
typedef struct we_nstr {
    const uint8_t *s;         // (len) normalized UTF-8
    const we_align *al;       // (len) original range per byte, minus `base`
    uint32_t len;
    uint32_t base;
    uint32_t orig_shift;      // where this piece's original starts in the whole input
    uint32_t orig_len;        // bytes of original text this piece covers
} we_nstr;

// One element of a transform: the new char and its change (Rust's (char, isize)):
//   0: replaces the next original char; 1: inserted; -N: replaces one char and removes N.
typedef struct we_tchar {
    uint32_t c;
    int32_t change;
} we_tchar;

typedef struct we_work we_work;

// Builds a transform list in w->tx (see we_work).
bool we_tx_grow(we_work *w);
static inline bool we_tx_push(we_work *w, uint32_t c, int32_t change);

// Rust NormalizedString::transform (over Range::Original(..)) with the list in w->tx and
// `initial_offset` chars removed at the start. Replaces *ns with the result (arena memory).
wembed_status we_nstr_transform(we_work *w, we_nstr *ns, uint32_t initial_offset);
// Rust transform_range over the normalized byte range [a, b).
wembed_status we_nstr_transform_range(we_work *w, we_nstr *ns, uint32_t a, uint32_t b,
                                      uint32_t initial_offset);

// Replaces the text and alignments of ns with s/al[0..n) (copied into the arena).
wembed_status we_nstr_set(we_work *w, we_nstr *ns, const uint8_t *s, const we_align *al, uint32_t n);

// Rust convert_offsets(Range::Normalized(a..b)): the original range (relative to the piece),
// false when Rust gives None.
bool we_nstr_orig_range(const we_nstr *ns, uint32_t a, uint32_t b, uint32_t *os, uint32_t *oe);

// Rust slice(Range::Normalized(a..b)) (a, b on char boundaries).
bool we_nstr_slice(const we_nstr *ns, uint32_t a, uint32_t b, we_nstr *out);

// A fresh piece for text[0..n) of the input at `shift` (identity alignments, in the arena).
wembed_status we_nstr_init(we_work *w, we_nstr *ns, const uint8_t *text, uint32_t n, uint32_t shift);

// -----------------------------------------------------------------------------------------
// Split patterns (Rust Pattern::find_matches): a list of ((start, end), is_match) covering
// the string.

typedef struct we_match {
    uint32_t s, e;
    bool is_match;
} we_match;

typedef enum we_split_behavior {
    WE_SPLIT_REMOVED, WE_SPLIT_ISOLATED, WE_SPLIT_MERGED_WITH_PREVIOUS,
    WE_SPLIT_MERGED_WITH_NEXT, WE_SPLIT_CONTIGUOUS
} we_split_behavior;

// Rust NormalizedString::split with the matches in w->matches; appends the pieces (non-empty
// ones only, as PreTokenizedString::split keeps them) to w->next.
wembed_status we_nstr_split(we_work *w, const we_nstr *ns, we_split_behavior behavior);

// Matches of a char predicate (Rust `impl Pattern for Fn(char) -> bool`) into w->matches.
typedef bool (*we_char_pred)(uint32_t c, const void *ctx);
wembed_status we_find_char_matches(we_work *w, const uint8_t *s, uint32_t n, we_char_pred pred,
                                   const void *ctx);

// -----------------------------------------------------------------------------------------
// Regular expressions: the subset tokenizer.json files use (see regex.c), matched with
// Oniguruma's leftmost-first semantics in linear time.

typedef struct we_regex we_regex;

// Compiles pattern[0..n) into the arena; WEMBED_STATUS_UNSUPPORTED names what is missing.
wembed_status we_regex_compile(we_arena *arena, const char *pattern, size_t n, we_regex **out,
                               we_err *err);
// A regex matching the literal text (Rust regex::escape).
wembed_status we_regex_literal(we_arena *arena, const char *text, size_t n, we_regex **out,
                               we_err *err);
// Rust `impl Pattern for &SysRegex` (onig find_iter): matches into w->matches.
wembed_status we_regex_find_matches(we_work *w, const we_regex *re, const uint8_t *s, uint32_t n);
// First match at or after `from`: 1 and [*ms, *me) when found, 0 when none, -1 when out of memory.
int we_regex_search(we_work *w, const we_regex *re, const uint8_t *s, uint32_t n, uint32_t from,
                    uint32_t *ms, uint32_t *me);

// -----------------------------------------------------------------------------------------
// Hash maps

typedef struct we_strmap {
    uint32_t *slots;          // (cap) index+1 into keys, 0 = empty
    const char **keys;        // (n)
    uint32_t *klens;          // (n)
    int32_t *vals;            // (n)
    uint32_t n, cap_items, cap;
} we_strmap;

// Inserts or replaces (last write wins, as a Rust HashMap collect). Memory: we_malloc.
wembed_status we_strmap_put(we_strmap *m, const char *key, uint32_t klen, int32_t val);
// Room for n keys in all, so that a load of known size allocates each table once (no
// rehash holding the old table and the new).
wembed_status we_strmap_reserve(we_strmap *m, uint32_t n);
bool we_strmap_get(const we_strmap *m, const char *key, size_t klen, int32_t *val);
void we_strmap_free(we_strmap *m);

typedef struct we_pairmap {
    uint64_t *keys;           // (cap) (a << 32 | b) + 1, 0 = empty
    uint32_t *rank, *id;      // (cap)
    uint32_t n, cap;
} we_pairmap;

wembed_status we_pairmap_put(we_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t id);
wembed_status we_pairmap_reserve(we_pairmap *m, uint32_t n);   // as we_strmap_reserve
bool we_pairmap_get(const we_pairmap *m, uint32_t a, uint32_t b, uint32_t *rank, uint32_t *id);
void we_pairmap_free(we_pairmap *m);

// A byte trie over a set of strings (Unigram's pieces), for common-prefix searches. Nodes are
// numbered breadth first from the root, 0, so that the children of node x are the nodes
// first[x] .. first[x + 1] - 1, sorted by the byte label[c] on the edge into each; value[x] is
// the index + 1 of the string ending at x (the last one of equal strings), 0 for none. A child
// is never the root, so 0 also means "no child". 9 bytes a node, in the arena.
typedef struct we_trie {
    uint32_t *first;          // (n_nodes + 1)
    uint32_t *value;          // (n_nodes)
    uint8_t *label;           // (n_nodes)
    uint32_t n_nodes;
    uint32_t root[256];       // the root's child by byte (0: none)
} we_trie;

#define WE_TRIE_MAX_NODES (1u << 30)
// Builds the trie of keys[i][0..lens[i]) -> i + 1 for i < n (an empty key is the root's
// value). The trie's arrays go to the arena; temporary memory is we_malloc'd and freed.
wembed_status we_trie_build(we_trie *t, we_arena *arena, const char *const *keys, const uint32_t *lens, uint32_t n,
                            we_err *err);
static inline uint32_t we_trie_child(const we_trie *t, uint32_t x, uint8_t byte);   // 0: none
// The value of the string s[0..n) (0: not in the trie).
uint32_t we_trie_find(const we_trie *t, const char *s, size_t n);

// -----------------------------------------------------------------------------------------
// Normalizers

typedef enum we_norm_type {
    WE_NORM_BERT, WE_NORM_NFC, WE_NORM_NFD, WE_NORM_NFKC, WE_NORM_NFKD, WE_NORM_LOWERCASE,
    WE_NORM_STRIP_ACCENTS, WE_NORM_REPLACE, WE_NORM_PREPEND, WE_NORM_STRIP,
    WE_NORM_PRECOMPILED, WE_NORM_SEQUENCE, WE_NORM_NMT, WE_NORM_BYTELEVEL
} we_norm_type;

typedef struct we_precompiled {
    const uint8_t *trie;      // (n_trie * 4) darts-clone double array units, little-endian
    uint32_t n_trie;
    const char *normalized;   // (n_normalized) replacement strings, NUL-separated
    uint32_t n_normalized;
} we_precompiled;

typedef struct we_normalizer we_normalizer;
struct we_normalizer {
    we_norm_type type;
    bool clean_text, handle_chinese_chars, strip_accents, lowercase;   // BERT
    bool strip_left, strip_right;                                       // STRIP
    const we_regex *pattern;  // REPLACE
    const char *content;      // REPLACE, PREPEND
    uint32_t content_len;
    we_precompiled pc;        // PRECOMPILED
    we_normalizer *items;     // SEQUENCE
    uint32_t n_items;
};

wembed_status we_normalize(we_work *w, const we_normalizer *nz, we_nstr *ns);

// The Precompiled charsmap: parses `blob` (taken by reference, must outlive the result).
wembed_status we_precompiled_parse(we_precompiled *pc, const uint8_t *blob, size_t n, we_err *err);

// -----------------------------------------------------------------------------------------
// Pre-tokenizers

typedef enum we_pretok_type {
    WE_PRE_BERT, WE_PRE_WHITESPACE, WE_PRE_WHITESPACE_SPLIT, WE_PRE_METASPACE,
    WE_PRE_BYTELEVEL, WE_PRE_PUNCTUATION, WE_PRE_DIGITS, WE_PRE_SPLIT, WE_PRE_SEQUENCE,
    WE_PRE_CHAR_DELIMITER
} we_pretok_type;

typedef enum we_prepend_scheme {
    WE_PREPEND_ALWAYS, WE_PREPEND_FIRST, WE_PREPEND_NEVER
} we_prepend_scheme;

typedef struct we_pretok we_pretok;
struct we_pretok {
    we_pretok_type type;
    uint32_t replacement;     // METASPACE
    we_prepend_scheme prepend_scheme;
    bool split;               // METASPACE
    bool add_prefix_space, use_regex;   // BYTELEVEL
    bool individual_digits;   // DIGITS
    bool invert;              // SPLIT
    uint32_t delimiter;       // CHAR_DELIMITER
    we_split_behavior behavior;   // PUNCTUATION, SPLIT
    const we_regex *pattern;  // SPLIT
    we_pretok *items;         // SEQUENCE
    uint32_t n_items;
};

// -----------------------------------------------------------------------------------------
// Models

typedef enum we_model_type { WE_MODEL_WORDPIECE, WE_MODEL_BPE, WE_MODEL_UNIGRAM, WE_MODEL_WORDLEVEL } we_model_type;

typedef struct we_model {
    we_model_type type;
    // Vocabulary: id -> string (NULL where an id has no token), string -> id (Unigram: its
    // trie instead; look ids up with we_model_token_id).
    const char **tok;         // (n_tok)
    uint32_t *tok_len;        // (n_tok)
    uint32_t n_tok;
    uint32_t vocab_size;      // entries in the vocabulary (Rust get_vocab_size)
    we_strmap map;
    // WordPiece, BPE, WordLevel
    const char *unk;          // NULL: none
    uint32_t unk_len;
    const char *prefix;       // continuing_subword_prefix (WordPiece, BPE; NULL: none)
    uint32_t prefix_len;
    uint32_t max_input_chars_per_word;
    uint32_t max_tok_bytes;   // longest token in bytes (WordPiece search bound)
    // BPE
    const char *suffix;       // end_of_word_suffix (NULL: none)
    uint32_t suffix_len;
    bool fuse_unk, byte_fallback, ignore_merges;
    we_pairmap merges;
    int32_t byte_ids[256];    // BPE/Unigram byte fallback: id of "<0xXX>" or -1
    // Unigram
    double *score;            // (n_tok)
    double min_score;
    int32_t unk_id;           // -1: none
    we_trie trie;             // the pieces -> their id + 1 (Unigram's string -> id map too: no `map`)
} we_model;

struct we_trie_edge {
    uint32_t next_sibling;    // 0: none (edge index + 1)
    uint32_t child;           // node
    uint8_t byte;
};

// One token of a model, offsets relative to the piece's normalized text.
typedef struct we_mtok {
    int32_t id;
    uint32_t s, e;
    const char *val;          // token text, not NUL-terminated
    uint32_t val_len;
} we_mtok;

// The id of token s[0..n) in the model's vocabulary (Rust Model::token_to_id); false if none.
bool we_model_token_id(const we_model *m, const char *s, size_t n, int32_t *id);

// Runs the model on a piece; appends tokens to w->mtoks.
wembed_status we_model_tokenize(we_work *w, const we_model *m, const uint8_t *s, uint32_t n);

// -----------------------------------------------------------------------------------------
// Added tokens

typedef struct we_added_token {
    const char *content;
    uint32_t len;
    int32_t id;
    bool special, single_word, lstrip, rstrip, normalized;
} we_added_token;

// Leftmost-longest matcher over a set of strings (a byte trie).
typedef struct we_matcher {
    uint32_t *first;          // (n_nodes) first edge index + 1 of each node, 0 = none
    uint32_t *value;          // (n_nodes) pattern index + 1 ending here, 0 = none
    struct we_trie_edge *edges;
    uint32_t n_nodes, n_edges;
} we_matcher;

// -----------------------------------------------------------------------------------------
// Post-processing

typedef enum we_post_type {
    WE_POST_TEMPLATE, WE_POST_BERT, WE_POST_ROBERTA, WE_POST_BYTELEVEL, WE_POST_SEQUENCE
} we_post_type;

typedef struct we_special {
    const char *name;         // key in the special_tokens map
    uint32_t name_len;
    const int32_t *ids;       // (n)
    const char **tokens;      // (n)
    uint32_t n;
} we_special;

typedef struct we_piece {
    bool is_seq;              // true: $A / $B; false: a special token
    uint8_t seq;              // 0 = A, 1 = B
    uint32_t type_id;
    int32_t special;          // index into the specials
} we_piece;

typedef struct we_post we_post;
struct we_post {
    we_post_type type;
    we_piece *single, *pair;  // TEMPLATE
    uint32_t n_single, n_pair;
    we_special *specials;
    uint32_t n_specials;
    const char *sep, *cls;    // BERT, ROBERTA
    int32_t sep_id, cls_id;
    bool trim_offsets, add_prefix_space;   // ROBERTA, BYTELEVEL
    we_post *items;           // SEQUENCE
    uint32_t n_items;
};

// -----------------------------------------------------------------------------------------
// Encodings (internal form; wembed_encoding is built from it)

typedef struct we_etok {
    int32_t id;
    uint32_t type_id;
    uint32_t s, e;            // byte offsets in the (sanitized) input
    int32_t word;             // -1: none
    uint8_t special, attn;
    uint8_t seq;              // 0, 1, or 255 (special tokens, padding)
    uint32_t str_off, str_len;   // token text in the pool
} we_etok;

typedef struct we_enc {
    we_buf toks;              // we_etok
    we_buf pool;              // char
} we_enc;

typedef enum we_trunc_strategy { WE_TRUNC_LONGEST_FIRST, WE_TRUNC_ONLY_FIRST, WE_TRUNC_ONLY_SECOND } we_trunc_strategy;

typedef struct we_trunc {
    bool on;
    uint32_t max_length, stride;
    we_trunc_strategy strategy;
    bool left;                // direction
} we_trunc;

typedef struct we_pad {
    bool on;
    bool fixed;               // Fixed(len) or BatchLongest
    uint32_t length, multiple;   // multiple: pad_to_multiple_of (0: none)
    bool left;
    int32_t pad_id;
    uint32_t pad_type_id;
    const char *pad_token;
} we_pad;

// -----------------------------------------------------------------------------------------
// The tokenizer and its per-call work space

typedef struct we_cache {
    uint32_t *slots;          // (cap) entry index + 1, 0 = empty
    struct we_cache_entry *ents;
    we_buf keys, toks;        // piece bytes, cached tokens
    uint32_t n, cap;
} we_cache;
void we_cache_free(we_cache *c);

typedef struct we_split {
    we_nstr ns;
    int32_t added;            // >= 0: index of the added token this split is (already a token)
} we_split;

struct we_work {
    we_bump mem;              // pieces of the current call
    we_buf tx;                // we_tchar: transform being built
    we_buf out_s, out_al;     // uint8_t, we_align: transform output before it goes to the arena
    we_buf matches;           // we_match
    we_buf cur, next;         // we_split
    we_buf mtoks;             // we_mtok
    we_buf scratch, scratch2; // general (model internals)
    we_buf re_threads;        // regex VM
    we_cache cache;           // model results of recent pieces
    bool regex_no_fast;       // tests: run the VM even for patterns with a hand-written matcher
    uint64_t re_steps;        // VM work of the current find_matches (bounded)
    we_err *err;
};

typedef struct we_tokenizer {
    we_arena arena;           // everything loaded
    we_err err;
    we_normalizer *normalizer;
    we_pretok *pretok;
    we_model model;
    we_post *post;
    we_trunc trunc;           // from the file
    we_pad pad;               // from the file
    we_added_token *added;    // (n_added) in file order
    uint32_t n_added;
    we_matcher match_raw, match_norm;       // added tokens matched on raw / normalized text
    int32_t *match_raw_tok, *match_norm_tok; // pattern index -> added token index
    uint32_t n_match_raw, n_match_norm;
    we_strmap added_map;      // content -> id
    int32_t special_ids[8];   // wembed_special order
    we_work work;
} we_tokenizer;

// Loads the tokenizer.json text json[0..n) into tok (zeroed by the caller, its arena initialized).
wembed_status we_tokenizer_from_json(we_tokenizer *tok, const char *json, size_t n, we_err *err);
void we_tokenizer_clear(we_tokenizer *tok);
// Frees the work buffers a handle keeps between calls (tests and fuzzers count allocations).
void we_tokenizer_drop_scratch(wembed_tokenizer *tok);
// The tokenizer inside a handle (NULL for a failed load).
we_tokenizer *we_tokenizer_of(wembed_tokenizer *tok);
// Builds tok (zeroed, arenas initialized) from a GGUF file's tokenizer.ggml.* metadata.
wembed_status we_tokenizer_from_gguf(we_tokenizer *tok, const we_gguf_vocab *v, we_err *err);

// Token text for id (added tokens first, as Rust id_to_token), or NULL.
const char *we_tokenizer_id_to_token(const we_tokenizer *tok, int32_t id, uint32_t *len);

// The whole encode of one sequence (no post-processing) into enc.
wembed_status we_encode_sequence(we_tokenizer *tok, const uint8_t *text, uint32_t n, uint32_t type_id,
                                 we_enc *enc);
// Windows of long texts (tokenizer.c): s[0..n) is part of a longer text; [*first, *end) of enc
// are the tokens that are the whole text's own (see the comment there), offsets in bytes of s.
wembed_status we_encode_window(we_tokenizer *tok, const uint8_t *s, uint32_t n, bool text_start, bool text_end,
                               uint32_t from, we_enc *enc, uint32_t *first, uint32_t *end);
// Post-processing: truncation, the processor, padding. a (and b, or NULL) are consumed; the
// result goes to out.
// text_a/text_b are the (sanitized) inputs, for ByteLevel's offset trimming.
wembed_status we_post_process(we_tokenizer *tok, we_enc *a, we_enc *b, bool add_special,
                              const we_trunc *trunc, const we_pad *pad, const uint8_t *text_a, uint32_t len_a,
                              const uint8_t *text_b, uint32_t len_b, we_enc *out);
void we_enc_free(we_enc *e);
static inline uint32_t we_enc_len(const we_enc *e) { return (uint32_t)e->toks.n; }
wembed_status we_enc_push(we_enc *e, int32_t id, const char *str, uint32_t str_len, uint32_t s, uint32_t eo,
                          int32_t word, uint32_t type_id, uint8_t special, uint8_t attn, uint8_t seq);
// Number of tokens the processor adds (Rust PostProcessor::added_tokens).
uint32_t we_post_added(const we_post *pp, bool pair);

// Added vocabulary: splits the input as Rust AddedVocabulary::extract_and_normalize into w->cur.
wembed_status we_added_extract(we_tokenizer *tok, we_work *w, const uint8_t *text, uint32_t n);
// Builds the two added-token matchers from tok->added (after the normalizer is set).
wembed_status we_added_build_matchers(we_tokenizer *tok, we_err *err);
wembed_status we_matcher_build(we_arena *arena, we_matcher *m, const char *const *pats, const uint32_t *lens,
                               uint32_t n, we_err *err);

// Pre-tokenization of w->cur (splits with added >= 0 are kept as they are).
wembed_status we_pretokenize(we_work *w, const we_pretok *pt);

// Char-level helpers shared by several files.
static inline uint32_t we_next_cp(const uint8_t *s, uint32_t n, uint32_t *i) {   // valid UTF-8 only
    (void)n;
    uint32_t p = *i;
    uint8_t b = s[p];
    if (b < 0x80) { *i = p + 1; return b; }
    if (b < 0xE0) { *i = p + 2; return ((uint32_t)(b & 0x1F) << 6) | (s[p + 1] & 0x3F); }
    if (b < 0xF0) {
        *i = p + 3;
        return ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(s[p + 1] & 0x3F) << 6) | (s[p + 2] & 0x3F);
    }
    *i = p + 4;
    return ((uint32_t)(b & 0x07) << 18) | ((uint32_t)(s[p + 1] & 0x3F) << 12) |
           ((uint32_t)(s[p + 2] & 0x3F) << 6) | (s[p + 3] & 0x3F);
}
static inline uint32_t we_cp_len(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }
static inline uint32_t we_lead_len(uint8_t b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }

static inline bool we_tx_push(we_work *w, uint32_t c, int32_t change) {
    if ((w->tx.n + 1) * sizeof(we_tchar) > w->tx.cap && !we_tx_grow(w)) return false;
    we_tchar *t = (we_tchar *)w->tx.p + w->tx.n++;
    t->c = c;
    t->change = change;
    return true;
}

static inline uint32_t we_trie_child(const we_trie *t, uint32_t x, uint8_t byte) {
    if (x == 0) return t->root[byte];
    uint32_t lo = t->first[x], hi = t->first[x + 1];
    while (hi - lo > 8) {   // labels are sorted: halve down to a few
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->label[mid] <= byte) lo = mid;
        else hi = mid;
    }
    for (; lo < hi; lo++)
        if (t->label[lo] == byte) return lo;
    return 0;
}

#endif // WE_TOK_H
