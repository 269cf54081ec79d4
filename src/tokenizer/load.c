// load.c - tokenizer.json (the json.c tree) into the structures of tok.h, with the defaults
// and checks of the Rust library's deserializers: missing fields take serde's defaults, an
// unknown component or an unsupported regex is an error naming it, and the model's merges and
// ids are validated so that encoding never meets a dangling id.
//
// Not: training fields, decoders (ignored), pre-tokenized input.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"
#include "unicode.h"

// model.vocab and model.merges read while the JSON is parsed (their items go to vocab_item and
// merge_item, not the tree): the tokens copied into the tokenizer's arena, the rest into buffers,
// checked by the model's loader (the vocabulary may be an array, a Unigram's, or an object).
typedef struct vocab_sink {
    we_arena *arena;
    we_buf tok, tok_len;      // const char *, uint32_t
    we_buf score;             // double: array items [piece, score]
    we_buf id;                // uint32_t: object members "token": id
    bool is_map;              // the vocabulary was an object (set from the tree after the parse)
    int64_t bad;              // the first item that is not [piece, score] / member whose value is
                              // not an id in range, -1: none
    char bad_key[68];         // that member's key (its first 64 bytes)
} vocab_sink;

// The merges as records (uint32_t len_a, uint32_t len_b, a, b) in the order read.
typedef struct merge_sink {
    we_buf rec;
    uint32_t n;               // records
    int64_t bad;              // the first merge that is neither "a b" nor [a, b] (no records after it), -1: none
    bool bad_no_space;        // it was a string without a space
} merge_sink;

typedef struct loader {
    we_tokenizer *tok;
    we_arena *arena;
    we_err *err;
    vocab_sink *vocab;        // model.vocab's items (NULL: not handed over)
    merge_sink *merges;       // model.merges' items (NULL: not handed over)
} loader;

#define FAIL(ld, rc, ...) we_errorf((ld)->err, rc, __VA_ARGS__)
#define OOM(ld) we_errorf((ld)->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer.json: out of memory")

static const char *dup_str(loader *ld, const we_json *v, uint32_t *len) {
    size_t n;
    const char *s = we_json_as_str(v, &n);
    if (!s) return NULL;
    char *d = we_arena_strndup(ld->arena, s, n);
    if (len) *len = (uint32_t)n;
    return d;
}

// Optional bool field: absent or null gives def; another type is an error.
static wembed_status get_bool(loader *ld, const we_json *obj, const char *key, bool def, bool *out, const char *what) {
    const we_json *v = we_json_get(obj, key);
    *out = def;
    if (!v || v->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (!we_json_as_bool(v, out)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: \"%s\" must be true or false", what, key);
    return WEMBED_STATUS_OK;
}

static wembed_status get_uint(loader *ld, const we_json *obj, const char *key, int64_t def, int64_t max, int64_t *out, const char *what) {
    const we_json *v = we_json_get(obj, key);
    *out = def;
    if (!v || v->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (!we_json_as_int(v, out) || *out < 0 || *out > max)
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: \"%s\" must be an integer in 0..%lld", what, key, (long long)max);
    return WEMBED_STATUS_OK;
}

// A required or optional string field. NULL (and OK) when absent/null and optional.
static wembed_status get_str(loader *ld, const we_json *obj, const char *key, bool required, const char **out,
                             uint32_t *len, const char *what) {
    const we_json *v = we_json_get(obj, key);
    *out = NULL;
    if (len) *len = 0;
    if (!v || v->type == WE_JSON_NULL) {
        if (required) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: missing \"%s\"", what, key);
        return WEMBED_STATUS_OK;
    }
    if (v->type != WE_JSON_STRING) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: \"%s\" must be a string", what, key);
    if (!(*out = dup_str(ld, v, len))) return OOM(ld);
    return WEMBED_STATUS_OK;
}

static const char *type_of(const we_json *obj) {
    const we_json *t = we_json_get(obj, "type");
    return we_json_as_str(t, NULL);
}

static bool is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

// -----------------------------------------------------------------------------------------
// Numbers as serde_json reads them (without its float_roundtrip feature), from the file's own
// digits: the decimal significand as a u64 (digits past what fits are dropped, an integer-part
// digit then adding one to the exponent), turned into f64, then multiplied or divided by an
// exact power of ten (f64_from_parts). That differs from correct rounding in the last bit for
// 17-digit scores, and Unigram's Viterbi compares sums of them. Integers are read as i64 then
// converted, as serde does; a number json.c read exactly (a significand of at most 2^53 and an
// exponent within +-22: one exact multiply or divide) is the same in both.
static bool u64_fits(uint64_t sig, uint64_t d) {   // serde's overflow! on sig * 10 + d
    return !(sig >= UINT64_MAX / 10 && (sig > UINT64_MAX / 10 || d > UINT64_MAX % 10));
}

static double serde_f64(const we_json *v) {
    if (v->u.num.is_int || !v->u.num.text) return v->u.num.f;
    const char *p = v->u.num.text, *end = p + v->len;
    bool neg = *p == '-';
    if (neg) p++;
    uint64_t sig = 0;
    int64_t exp = 0;
    bool dropped = false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (!dropped && u64_fits(sig, d)) sig = sig * 10 + d;
        else { dropped = true; exp++; }
    }
    if (p < end && *p == '.')
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            uint64_t d = (uint64_t)(*p - '0');
            if (!dropped && u64_fits(sig, d)) { sig = sig * 10 + d; exp--; }
            else dropped = true;
        }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = *p == '-';
        if (*p == '-' || *p == '+') p++;
        int64_t e = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if ((e = e * 10 + (*p - '0')) > INT32_MAX) return sig == 0 || eneg ? (neg ? -0.0 : 0.0) : (neg ? -INFINITY : INFINITY);   // serde: 0, or an error
        exp += eneg ? -e : e;
    }
    // serde_json's POW10 table holds 1e0..1e308; a larger negative exponent divides by 1e308 first.
    double f = (double)sig;
    for (;;) {
        int64_t a = exp < 0 ? -exp : exp;
        if (a <= 308) {
            double pw = pow(10.0, (double)a);     // exact for a <= 22, correctly rounded literal otherwise
            f = exp >= 0 ? f * pw : f / pw;
            break;
        }
        if (f == 0 || exp >= 0) break;
        f /= 1e308;
        exp += 308;
    }
    return neg ? -f : f;
}

// -----------------------------------------------------------------------------------------
// Base64 (standard alphabet, '=' padding), for the Precompiled charsmap

static int b64v(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static wembed_status base64_decode(loader *ld, const char *s, size_t n, uint8_t **out, size_t *out_n) {
    if (n % 4) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Precompiled: precompiled_charsmap is not base64 (length %zu)", n);
    uint8_t *d = we_arena_alloc(ld->arena, n / 4 * 3 + 4, 4);
    if (!d) return OOM(ld);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            uint8_t c = (uint8_t)s[i + k];
            v[k] = c == '=' && i + 4 == n && k >= 2 ? -2 : b64v(c);
            if (v[k] == -1) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Precompiled: precompiled_charsmap is not base64");
        }
        if (v[2] == -2 && v[3] != -2) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Precompiled: bad base64 padding");
        d[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        if (v[2] != -2) d[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
        if (v[3] != -2) d[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
    }
    *out = d;
    *out_n = o;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Patterns: {"String": "..."} or {"Regex": "..."}

static wembed_status load_pattern(loader *ld, const we_json *v, const we_regex **out, const char *what) {
    const we_json *s = we_json_get(v, "String"), *r = we_json_get(v, "Regex");
    size_t n;
    const char *str;
    we_regex *re = NULL;
    wembed_status rc;
    if (s && (str = we_json_as_str(s, &n))) {
        rc = we_regex_literal(ld->arena, str, n, &re, ld->err);
    } else if (r && (str = we_json_as_str(r, &n))) {
        rc = we_regex_compile(ld->arena, str, n, &re, ld->err);
    } else {
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}", what);
    }
    if (rc) { we_err_prefix(ld->err, "%s", what); return rc; }
    *out = re;
    return WEMBED_STATUS_OK;
}

static wembed_status load_behavior(loader *ld, const we_json *obj, we_split_behavior def, we_split_behavior *out, const char *what) {
    const we_json *v = we_json_get(obj, "behavior");
    *out = def;
    if (!v || v->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    static const char *names[] = { "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous" };
    for (int i = 0; i < 5; i++) {
        if (we_json_str_eq(v, names[i])) { *out = (we_split_behavior)i; return WEMBED_STATUS_OK; }
    }
    return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: unknown behavior", what);
}

// -----------------------------------------------------------------------------------------
// Normalizers

static wembed_status load_normalizer(loader *ld, const we_json *v, we_normalizer *nz, int depth) {
    memset(nz, 0, sizeof *nz);
    const char *t = type_of(v);
    wembed_status rc;
    if (depth > 16) return FAIL(ld, WEMBED_STATUS_LIMIT, "normalizer: sequences nested too deeply");
    if (!t) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "normalizer: missing \"type\"");
    if (is(t, "BertNormalizer")) {
        nz->type = WE_NORM_BERT;
        bool strip_set;
        const we_json *sa = we_json_get(v, "strip_accents");
        if ((rc = get_bool(ld, v, "clean_text", true, &nz->clean_text, t)) ||
            (rc = get_bool(ld, v, "handle_chinese_chars", true, &nz->handle_chinese_chars, t)) ||
            (rc = get_bool(ld, v, "lowercase", true, &nz->lowercase, t)))
            return rc;
        strip_set = sa && sa->type != WE_JSON_NULL;
        if (strip_set) {
            if (!we_json_as_bool(sa, &nz->strip_accents)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "BertNormalizer: bad strip_accents");
        } else {
            nz->strip_accents = nz->lowercase;      // None follows lowercase
        }
    } else if (is(t, "NFC")) nz->type = WE_NORM_NFC;
    else if (is(t, "NFD")) nz->type = WE_NORM_NFD;
    else if (is(t, "NFKC")) nz->type = WE_NORM_NFKC;
    else if (is(t, "NFKD")) nz->type = WE_NORM_NFKD;
    else if (is(t, "Lowercase")) nz->type = WE_NORM_LOWERCASE;
    else if (is(t, "StripAccents")) nz->type = WE_NORM_STRIP_ACCENTS;
    else if (is(t, "Nmt")) nz->type = WE_NORM_NMT;
    else if (is(t, "ByteLevel")) nz->type = WE_NORM_BYTELEVEL;
    else if (is(t, "Strip")) {
        nz->type = WE_NORM_STRIP;
        if ((rc = get_bool(ld, v, "strip_left", true, &nz->strip_left, t)) ||
            (rc = get_bool(ld, v, "strip_right", true, &nz->strip_right, t)))
            return rc;
    } else if (is(t, "Replace")) {
        nz->type = WE_NORM_REPLACE;
        if ((rc = load_pattern(ld, we_json_get(v, "pattern"), &nz->pattern, "Replace"))) return rc;
        if ((rc = get_str(ld, v, "content", true, &nz->content, &nz->content_len, t))) return rc;
    } else if (is(t, "Prepend")) {
        nz->type = WE_NORM_PREPEND;
        if ((rc = get_str(ld, v, "prepend", true, &nz->content, &nz->content_len, t))) return rc;
    } else if (is(t, "Precompiled")) {
        nz->type = WE_NORM_PRECOMPILED;
        size_t n;
        const char *b64 = we_json_as_str(we_json_get(v, "precompiled_charsmap"), &n);
        if (!b64) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Precompiled: missing precompiled_charsmap");
        uint8_t *blob = NULL;
        size_t bn = 0;
        if ((rc = base64_decode(ld, b64, n, &blob, &bn))) return rc;
        if ((rc = we_precompiled_parse(&nz->pc, blob, bn, ld->err))) return rc;
    } else if (is(t, "Sequence")) {
        nz->type = WE_NORM_SEQUENCE;
        const we_json *items = we_json_get(v, "normalizers");
        if (!we_json_is(items, WE_JSON_ARRAY)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "normalizer Sequence: missing \"normalizers\"");
        nz->n_items = items->len;
        nz->items = we_arena_calloc(ld->arena, items->len ? items->len : 1, sizeof(we_normalizer), 8);
        if (!nz->items) return OOM(ld);
        for (uint32_t i = 0; i < items->len; i++)
            if ((rc = load_normalizer(ld, we_json_at(items, i), &nz->items[i], depth + 1))) return rc;
    } else {
        return FAIL(ld, WEMBED_STATUS_UNSUPPORTED, "normalizer \"%.64s\" is not supported", t);
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Pre-tokenizers

static const char GPT2_PATTERN[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static wembed_status load_pretok(loader *ld, const we_json *v, we_pretok *pt, int depth) {
    memset(pt, 0, sizeof *pt);
    const char *t = type_of(v);
    wembed_status rc;
    if (depth > 16) return FAIL(ld, WEMBED_STATUS_LIMIT, "pre_tokenizer: sequences nested too deeply");
    if (!t) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "pre_tokenizer: missing \"type\"");
    if (is(t, "BertPreTokenizer")) pt->type = WE_PRE_BERT;
    else if (is(t, "Whitespace")) pt->type = WE_PRE_WHITESPACE;
    else if (is(t, "WhitespaceSplit")) pt->type = WE_PRE_WHITESPACE_SPLIT;
    else if (is(t, "Metaspace")) {
        pt->type = WE_PRE_METASPACE;
        size_t n;
        const char *rep = we_json_as_str(we_json_get(v, "replacement"), &n);
        size_t i = 0;
        if (!rep || n == 0) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Metaspace: missing \"replacement\"");
        pt->replacement = we_utf8_next((const uint8_t *)rep, n, &i);
        if (i != n) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Metaspace: \"replacement\" must be one character");
        pt->prepend_scheme = WE_PREPEND_ALWAYS;
        const we_json *ps = we_json_get(v, "prepend_scheme");
        if (ps && ps->type != WE_JSON_NULL) {
            if (we_json_str_eq(ps, "always")) pt->prepend_scheme = WE_PREPEND_ALWAYS;
            else if (we_json_str_eq(ps, "first")) pt->prepend_scheme = WE_PREPEND_FIRST;
            else if (we_json_str_eq(ps, "never")) pt->prepend_scheme = WE_PREPEND_NEVER;
            else return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Metaspace: unknown prepend_scheme");
        }
        bool aps;
        const we_json *apv = we_json_get(v, "add_prefix_space");
        if ((rc = get_bool(ld, v, "add_prefix_space", true, &aps, t))) return rc;
        if (apv && apv->type != WE_JSON_NULL && !aps) pt->prepend_scheme = WE_PREPEND_NEVER;
        if ((rc = get_bool(ld, v, "split", true, &pt->split, t))) return rc;
    } else if (is(t, "ByteLevel")) {
        pt->type = WE_PRE_BYTELEVEL;
        if ((rc = get_bool(ld, v, "add_prefix_space", true, &pt->add_prefix_space, t)) ||
            (rc = get_bool(ld, v, "use_regex", true, &pt->use_regex, t)))
            return rc;
        we_regex *re;
        if ((rc = we_regex_compile(ld->arena, GPT2_PATTERN, sizeof GPT2_PATTERN - 1, &re, ld->err))) return rc;
        pt->pattern = re;
    } else if (is(t, "Punctuation")) {
        pt->type = WE_PRE_PUNCTUATION;
        if ((rc = load_behavior(ld, v, WE_SPLIT_ISOLATED, &pt->behavior, t))) return rc;
    } else if (is(t, "Digits")) {
        pt->type = WE_PRE_DIGITS;
        if ((rc = get_bool(ld, v, "individual_digits", false, &pt->individual_digits, t))) return rc;
    } else if (is(t, "Split")) {
        pt->type = WE_PRE_SPLIT;
        if ((rc = load_pattern(ld, we_json_get(v, "pattern"), &pt->pattern, "Split"))) return rc;
        const we_json *b = we_json_get(v, "behavior");
        if (!b) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Split: missing \"behavior\"");
        if ((rc = load_behavior(ld, v, WE_SPLIT_REMOVED, &pt->behavior, t))) return rc;
        if ((rc = get_bool(ld, v, "invert", false, &pt->invert, t))) return rc;
    } else if (is(t, "CharDelimiterSplit")) {
        pt->type = WE_PRE_CHAR_DELIMITER;
        size_t n, i = 0;
        const char *d = we_json_as_str(we_json_get(v, "delimiter"), &n);
        if (!d || n == 0) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "CharDelimiterSplit: missing \"delimiter\"");
        pt->delimiter = we_utf8_next((const uint8_t *)d, n, &i);
        if (i != n) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "CharDelimiterSplit: \"delimiter\" must be one character");
    } else if (is(t, "Sequence")) {
        pt->type = WE_PRE_SEQUENCE;
        const we_json *items = we_json_get(v, "pretokenizers");
        if (!we_json_is(items, WE_JSON_ARRAY)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "pre_tokenizer Sequence: missing \"pretokenizers\"");
        pt->n_items = items->len;
        pt->items = we_arena_calloc(ld->arena, items->len ? items->len : 1, sizeof(we_pretok), 8);
        if (!pt->items) return OOM(ld);
        for (uint32_t i = 0; i < items->len; i++)
            if ((rc = load_pretok(ld, we_json_at(items, i), &pt->items[i], depth + 1))) return rc;
    } else {
        return FAIL(ld, WEMBED_STATUS_UNSUPPORTED, "pre_tokenizer \"%.64s\" is not supported", t);
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Models

static wembed_status set_token(loader *ld, we_model *m, const char *s, uint32_t len, int64_t id) {
    if (id < 0 || (uint64_t)id >= m->n_tok) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "model: token id %lld out of range", (long long)id);
    m->tok[id] = s;
    m->tok_len[id] = len;
    if (len > m->max_tok_bytes) m->max_tok_bytes = len;
    if (we_strmap_put(&m->map, s, len, (int32_t)id)) return OOM(ld);
    return WEMBED_STATUS_OK;
}

#define MAX_VOCAB (1u << 24)

// {"token": id, ...}, handed over by the parser (vocab_item)
static wembed_status load_vocab_map(loader *ld, we_model *m, const we_json *vocab, const char *what) {
    vocab_sink *vs = ld->vocab;
    if (!we_json_is(vocab, WE_JSON_OBJECT) || !vs || !vs->is_map) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: \"vocab\" must be an object", what);
    if (vs->bad >= 0)
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: vocab id of \"%s\" must be an integer in 0..%u", what, vs->bad_key, MAX_VOCAB - 1);
    const char **toks = vs->tok.p;
    const uint32_t *lens = vs->tok_len.p, *ids = vs->id.p;
    uint32_t n = (uint32_t)vs->tok.n;
    int64_t max_id = -1;
    for (uint32_t i = 0; i < n; i++)
        if ((int64_t)ids[i] > max_id) max_id = ids[i];
    m->n_tok = (uint32_t)(max_id + 1);
    m->vocab_size = n;
    m->tok = we_arena_calloc(ld->arena, m->n_tok ? m->n_tok : 1, sizeof(char *), 8);
    m->tok_len = we_arena_calloc(ld->arena, m->n_tok ? m->n_tok : 1, sizeof(uint32_t), 4);
    if (!m->tok || !m->tok_len || we_strmap_reserve(&m->map, n)) return OOM(ld);
    for (uint32_t i = 0; i < n; i++) {
        // The parser leaves a handed-over object's keys unchecked: a repeated token is an error,
        // as a repeated key anywhere else in the file.
        int32_t prev;
        if (we_strmap_get(&m->map, toks[i], lens[i], &prev))
            return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: duplicate key \"%.64s\" in \"vocab\"", what, toks[i]);
        wembed_status rc = set_token(ld, m, toks[i], lens[i], ids[i]);
        if (rc) return rc;
    }
    return WEMBED_STATUS_OK;
}

static void find_byte_ids(we_model *m) {
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        int32_t id;
        m->byte_ids[b] = we_model_token_id(m, name, 6, &id) ? id : -1;
    }
}

static bool lookup(const we_model *m, const char *s, size_t n, int32_t *id) { return we_model_token_id(m, s, n, id); }

static wembed_status load_bpe(loader *ld, we_model *m, const we_json *v) {
    wembed_status rc;
    m->type = WE_MODEL_BPE;
    if ((rc = load_vocab_map(ld, m, we_json_get(v, "vocab"), "BPE"))) return rc;
    if ((rc = get_str(ld, v, "unk_token", false, &m->unk, &m->unk_len, "BPE")) ||
        (rc = get_str(ld, v, "continuing_subword_prefix", false, &m->prefix, &m->prefix_len, "BPE")) ||
        (rc = get_str(ld, v, "end_of_word_suffix", false, &m->suffix, &m->suffix_len, "BPE")) ||
        (rc = get_bool(ld, v, "fuse_unk", false, &m->fuse_unk, "BPE")) ||
        (rc = get_bool(ld, v, "byte_fallback", false, &m->byte_fallback, "BPE")) ||
        (rc = get_bool(ld, v, "ignore_merges", false, &m->ignore_merges, "BPE")))
        return rc;
    const we_json *merges = we_json_get(v, "merges");
    merge_sink *ms = ld->merges;
    if (!we_json_is(merges, WE_JSON_ARRAY) || !ms) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "BPE: \"merges\" must be an array");
    uint32_t prefix_len = m->prefix ? m->prefix_len : 0;
    if (we_pairmap_reserve(&m->merges, ms->n)) return OOM(ld);
    we_buf key = { 0 };
    const char *r = ms->rec.p;
    for (uint32_t i = 0; i < ms->n; i++) {
        uint32_t al, bl;
        memcpy(&al, r, 4);
        memcpy(&bl, r + 4, 4);
        const char *a = r + 8, *b = a + al;
        r = b + bl;
        int32_t ida, idb, idn;
        if (!lookup(m, a, al, &ida) || !lookup(m, b, bl, &idb)) {
            we_buf_free(&key);
            return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "BPE: merge %u uses a token that is not in the vocabulary", i);
        }
        if (bl < prefix_len) { we_buf_free(&key); return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "BPE: merge %u is shorter than the prefix", i); }
        key.n = 0;
        if (!we_buf_reserve(&key, al + bl + 1, 1)) { we_buf_free(&key); return OOM(ld); }
        memcpy(key.p, a, al);
        memcpy((char *)key.p + al, b + prefix_len, bl - prefix_len);
        if (!lookup(m, key.p, al + bl - prefix_len, &idn)) {
            we_buf_free(&key);
            return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "BPE: merge %u makes a token that is not in the vocabulary", i);
        }
        if (we_pairmap_put(&m->merges, (uint32_t)ida, (uint32_t)idb, i, (uint32_t)idn)) { we_buf_free(&key); return OOM(ld); }
    }
    if (ms->bad >= 0) {
        we_buf_free(&key);
        if (ms->bad_no_space) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "BPE: merge %u has no space", (uint32_t)ms->bad);
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "BPE: merge %u must be \"a b\" or [a, b]", (uint32_t)ms->bad);
    }
    we_buf_free(&key);
    find_byte_ids(m);
    return WEMBED_STATUS_OK;
}

static wembed_status load_wordpiece(loader *ld, we_model *m, const we_json *v) {
    wembed_status rc;
    m->type = WE_MODEL_WORDPIECE;
    if ((rc = load_vocab_map(ld, m, we_json_get(v, "vocab"), "WordPiece"))) return rc;
    const we_json *u = we_json_get(v, "unk_token");
    if (u && u->type != WE_JSON_NULL) {
        if ((rc = get_str(ld, v, "unk_token", true, &m->unk, &m->unk_len, "WordPiece"))) return rc;
    } else {
        m->unk = "[UNK]";
        m->unk_len = 5;
    }
    const we_json *p = we_json_get(v, "continuing_subword_prefix");
    if (p && p->type != WE_JSON_NULL) {
        if ((rc = get_str(ld, v, "continuing_subword_prefix", true, &m->prefix, &m->prefix_len, "WordPiece"))) return rc;
    } else {
        m->prefix = "##";
        m->prefix_len = 2;
    }
    int64_t mx;
    if ((rc = get_uint(ld, v, "max_input_chars_per_word", 100, UINT32_MAX, &mx, "WordPiece"))) return rc;
    m->max_input_chars_per_word = (uint32_t)mx;
    return WEMBED_STATUS_OK;
}

static wembed_status load_wordlevel(loader *ld, we_model *m, const we_json *v) {
    wembed_status rc;
    m->type = WE_MODEL_WORDLEVEL;
    if ((rc = load_vocab_map(ld, m, we_json_get(v, "vocab"), "WordLevel"))) return rc;
    return get_str(ld, v, "unk_token", false, &m->unk, &m->unk_len, "WordLevel");
}

// One item of model.vocab: [piece, score] of an array, or a member "token": id of an object,
// kept as read (and checked by the model's loader, as the container may turn out not to be the
// model's kind of vocabulary).
static wembed_status vocab_item(void *user, const char *key, uint32_t key_len, const we_json *e, uint32_t i, we_err *err) {
    vocab_sink *vs = user;
    if (vs->bad >= 0) return WEMBED_STATUS_OK;
    const char *str;
    uint32_t len;
    int64_t id = 0;
    if (key) {
        if (!we_json_as_int(e, &id) || id < 0 || id >= MAX_VOCAB) {
            vs->bad = i;
            snprintf(vs->bad_key, sizeof vs->bad_key, "%.64s", key);
            return WEMBED_STATUS_OK;
        }
        str = key;
        len = key_len;
    } else {
        const we_json *piece = we_json_at(e, 0), *score = we_json_at(e, 1);
        if (!we_json_is(e, WE_JSON_ARRAY) || e->len != 2 || !we_json_is(piece, WE_JSON_STRING) ||
            !we_json_is(score, WE_JSON_NUMBER) || i >= MAX_VOCAB) {
            vs->bad = i;
            return WEMBED_STATUS_OK;
        }
        str = piece->u.str;
        len = piece->len;
        if (!we_buf_reserve(&vs->score, 1, sizeof(double))) goto oom;
        ((double *)vs->score.p)[vs->score.n++] = serde_f64(score);
    }
    const char *s = we_arena_strndup(vs->arena, str, len);
    if (!s || !we_buf_reserve(&vs->tok, 1, sizeof(char *)) || !we_buf_reserve(&vs->tok_len, 1, sizeof(uint32_t)) ||
        (key && !we_buf_reserve(&vs->id, 1, sizeof(uint32_t))))
        goto oom;
    ((const char **)vs->tok.p)[vs->tok.n++] = s;
    ((uint32_t *)vs->tok_len.p)[vs->tok_len.n++] = len;
    if (key) ((uint32_t *)vs->id.p)[vs->id.n++] = (uint32_t)id;
    return WEMBED_STATUS_OK;
oom:
    return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer.json: out of memory");
}

// One item of model.merges: "a b" (split at the first space, as splitn(2, ' ')) or [a, b].
static wembed_status merge_item(void *user, const char *key, uint32_t key_len, const we_json *e, uint32_t i, we_err *err) {
    (void)key_len;
    merge_sink *ms = user;
    if (ms->bad >= 0) return WEMBED_STATUS_OK;
    const char *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    if (!key && e->type == WE_JSON_STRING) {
        const char *sp = memchr(e->u.str, ' ', e->len);
        if (sp) {
            a = e->u.str; al = (size_t)(sp - a);
            b = sp + 1; bl = e->len - al - 1;
        } else {
            ms->bad_no_space = true;
        }
    } else if (!key && e->type == WE_JSON_ARRAY && e->len == 2) {
        a = we_json_as_str(we_json_at(e, 0), &al);
        b = we_json_as_str(we_json_at(e, 1), &bl);
    }
    if (!a || !b) {
        ms->bad = i;
        return WEMBED_STATUS_OK;
    }
    if (!we_buf_reserve(&ms->rec, 8 + al + bl, 1)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer.json: out of memory");
    uint32_t l[2] = { (uint32_t)al, (uint32_t)bl };
    char *p = (char *)ms->rec.p + ms->rec.n;
    memcpy(p, l, 8);
    memcpy(p + 8, a, al);
    memcpy(p + 8 + al, b, bl);
    ms->rec.n += 8 + al + bl;
    ms->n++;
    return WEMBED_STATUS_OK;
}

static wembed_status load_unigram(loader *ld, we_model *m, const we_json *v) {
    wembed_status rc;
    m->type = WE_MODEL_UNIGRAM;
    m->fuse_unk = true;
    const we_json *vocab = we_json_get(v, "vocab");
    vocab_sink *vs = ld->vocab;
    if (!we_json_is(vocab, WE_JSON_ARRAY) || !vs || vs->is_map || vocab->len >= MAX_VOCAB)
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Unigram: \"vocab\" must be an array of [piece, score]");
    if (vs->bad >= 0) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Unigram: vocab entry %u must be [piece, score]", (uint32_t)vs->bad);
    m->n_tok = m->vocab_size = vocab->len;
    size_t nt = m->n_tok ? m->n_tok : 1;
    m->tok = we_arena_alloc(ld->arena, nt * sizeof(char *), 8);
    m->tok_len = we_arena_alloc(ld->arena, nt * sizeof(uint32_t), 4);
    m->score = we_arena_alloc(ld->arena, nt * sizeof(double), 8);
    if (!m->tok || !m->tok_len || !m->score) return OOM(ld);
    if (m->n_tok) {
        memcpy(m->tok, vs->tok.p, m->n_tok * sizeof(char *));
        memcpy(m->tok_len, vs->tok_len.p, m->n_tok * sizeof(uint32_t));
        memcpy(m->score, vs->score.p, m->n_tok * sizeof(double));
    }
    m->min_score = INFINITY;
    for (uint32_t i = 0; i < m->n_tok; i++) {
        if (m->score[i] < m->min_score) m->min_score = m->score[i];
        if (m->tok_len[i] > m->max_tok_bytes) m->max_tok_bytes = m->tok_len[i];
    }
    const we_json *u = we_json_get(v, "unk_id");
    m->unk_id = -1;
    if (u && u->type != WE_JSON_NULL) {
        int64_t id;
        if (!we_json_as_int(u, &id) || id < 0) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Unigram: bad unk_id");
        if (vocab->len == 0) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Unigram: unk_id with an empty vocabulary");
        if ((uint64_t)id >= vocab->len) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "Unigram: unk_id %lld is not in the vocabulary", (long long)id);
        m->unk_id = (int32_t)id;
    }
    if ((rc = get_bool(ld, v, "byte_fallback", false, &m->byte_fallback, "Unigram"))) return rc;
    // The byte trie of the pieces, for the Viterbi's common-prefix search; a piece's node holds
    // its id + 1, the last id of equal pieces, as the Rust library's token_to_ids HashMap keeps
    // the last. It is also the string -> id map (no we_strmap for Unigram).
    if ((rc = we_trie_build(&m->trie, ld->arena, m->tok, m->tok_len, m->n_tok, ld->err))) return rc;
    find_byte_ids(m);
    return WEMBED_STATUS_OK;
}

static wembed_status load_model(loader *ld, const we_json *v) {
    we_model *m = &ld->tok->model;
    if (!we_json_is(v, WE_JSON_OBJECT)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "tokenizer.json: missing \"model\"");
    const char *t = type_of(v);
    if (!t) {
        // Untagged, as serde tries the variants: BPE (merges), WordPiece, WordLevel, Unigram.
        const we_json *vocab = we_json_get(v, "vocab");
        if (we_json_is(vocab, WE_JSON_ARRAY)) t = "Unigram";
        else if (we_json_get(v, "merges")) t = "BPE";
        else if (we_json_get(v, "continuing_subword_prefix") || we_json_get(v, "max_input_chars_per_word")) t = "WordPiece";
        else t = "WordLevel";
    }
    if (is(t, "BPE")) return load_bpe(ld, m, v);
    if (is(t, "WordPiece")) return load_wordpiece(ld, m, v);
    if (is(t, "WordLevel")) return load_wordlevel(ld, m, v);
    if (is(t, "Unigram")) return load_unigram(ld, m, v);
    return FAIL(ld, WEMBED_STATUS_UNSUPPORTED, "model \"%.64s\" is not supported", t);
}

// -----------------------------------------------------------------------------------------
// Added tokens

static int32_t token_to_id(const we_tokenizer *tok, const char *s, size_t n) {
    int32_t id;
    if (we_strmap_get(&tok->added_map, s, n, &id)) return id;
    if (we_model_token_id(&tok->model, s, n, &id)) return id;
    return -1;
}

static wembed_status load_added(loader *ld, const we_json *list) {
    we_tokenizer *tok = ld->tok;
    if (!list || list->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (!we_json_is(list, WE_JSON_ARRAY)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "\"added_tokens\" must be an array");
    tok->added = we_arena_calloc(ld->arena, list->len ? list->len : 1, sizeof(we_added_token), 8);
    if (!tok->added) return OOM(ld);
    int64_t next_id = -1;     // the largest id given so far (Rust: max of added_tokens_map)
    for (uint32_t i = 0; i < list->len; i++) {
        const we_json *v = we_json_at(list, i);
        we_added_token at;
        memset(&at, 0, sizeof at);
        wembed_status rc;
        const char *what = "added_tokens";
        if ((rc = get_str(ld, v, "content", true, &at.content, &at.len, what)) ||
            (rc = get_bool(ld, v, "special", false, &at.special, what)) ||
            (rc = get_bool(ld, v, "single_word", false, &at.single_word, what)) ||
            (rc = get_bool(ld, v, "lstrip", false, &at.lstrip, what)) ||
            (rc = get_bool(ld, v, "rstrip", false, &at.rstrip, what)) ||
            (rc = get_bool(ld, v, "normalized", !at.special, &at.normalized, what)))
            return rc;
        if (at.len == 0) continue;
        // Rust add_tokens: an existing token keeps its id; a new one takes the next id after
        // the vocabulary and the added tokens so far. The "id" field is only checked there.
        int32_t id = token_to_id(tok, at.content, at.len);
        if (id < 0) {
            int64_t vs = tok->model.vocab_size;
            id = (int32_t)(next_id < 0 ? vs : (next_id >= vs || vs == 0) ? next_id + 1 : vs);
        }
        if (id > next_id) next_id = id;
        at.id = id;
        if (we_strmap_put(&tok->added_map, at.content, at.len, id)) return OOM(ld);
        // A later entry for the same content replaces the earlier one.
        bool replaced = false;
        for (uint32_t k = 0; k < tok->n_added; k++) {
            if (tok->added[k].len == at.len && memcmp(tok->added[k].content, at.content, at.len) == 0) {
                tok->added[k] = at;
                replaced = true;
                break;
            }
        }
        if (!replaced) tok->added[tok->n_added++] = at;
    }
    return we_added_build_matchers(tok, ld->err);
}

wembed_status we_added_build_matchers(we_tokenizer *tok, we_err *err) {
    loader l = { tok, &tok->arena, err, NULL, NULL }, *ld = &l;
    // The two matchers: specials first, then the others (Rust's order), split by `normalized`.
    const char **pats = we_arena_alloc(ld->arena, (size_t)(tok->n_added + 1) * sizeof(char *), 8);
    uint32_t *lens = we_arena_alloc(ld->arena, (size_t)(tok->n_added + 1) * sizeof(uint32_t), 4);
    tok->match_raw_tok = we_arena_alloc(ld->arena, (size_t)(tok->n_added + 1) * sizeof(int32_t), 4);
    tok->match_norm_tok = we_arena_alloc(ld->arena, (size_t)(tok->n_added + 1) * sizeof(int32_t), 4);
    if (!pats || !lens || !tok->match_raw_tok || !tok->match_norm_tok) return OOM(ld);
    for (int normalized = 0; normalized < 2; normalized++) {
        uint32_t n = 0;
        int32_t *map = normalized ? tok->match_norm_tok : tok->match_raw_tok;
        for (int special = 1; special >= 0; special--) {
            for (uint32_t k = 0; k < tok->n_added; k++) {
                const we_added_token *at = &tok->added[k];
                if (at->special != (bool)special || at->normalized != (bool)normalized) continue;
                pats[n] = at->content;
                lens[n] = at->len;
                if (normalized && tok->normalizer) {
                    // The pattern is the token's content once normalized.
                    we_nstr ns;
                    we_work *w = &tok->work;
                    wembed_status rc = we_nstr_init(w, &ns, (const uint8_t *)at->content, at->len, 0);
                    if (!rc) rc = we_normalize(w, tok->normalizer, &ns);
                    if (rc) return rc;
                    char *p = we_arena_strndup(ld->arena, (const char *)ns.s, ns.len);
                    if (!p) return OOM(ld);
                    pats[n] = p;
                    lens[n] = ns.len;
                }
                map[n++] = (int32_t)k;
            }
        }
        wembed_status rc = we_matcher_build(ld->arena, normalized ? &tok->match_norm : &tok->match_raw, pats, lens, n, ld->err);
        if (rc) return rc;
        if (normalized) tok->n_match_norm = n;
        else tok->n_match_raw = n;
    }
    we_bump_reset(&tok->work.mem, 0);
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Post-processors

static wembed_status load_special_pair(loader *ld, const we_json *v, const char **name, int32_t *id, const char *what) {
    int64_t x;
    if (!we_json_is(v, WE_JSON_ARRAY) || v->len != 2 || !we_json_is(we_json_at(v, 0), WE_JSON_STRING) ||
        !we_json_as_int(we_json_at(v, 1), &x) || x < 0 || x > INT32_MAX)
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: cls/sep must be [token, id]", what);
    if (!(*name = dup_str(ld, we_json_at(v, 0), NULL))) return OOM(ld);
    *id = (int32_t)x;
    return WEMBED_STATUS_OK;
}

static int find_special(const we_post *pp, const char *name, size_t n) {
    for (uint32_t i = 0; i < pp->n_specials; i++)
        if (pp->specials[i].name_len == n && memcmp(pp->specials[i].name, name, n) == 0) return (int)i;
    return -1;
}

static wembed_status load_template(loader *ld, we_post *pp, const we_json *v, we_piece **out, uint32_t *n_out, const char *what) {
    if (!v || v->type == WE_JSON_NULL) { *out = NULL; *n_out = 0; return WEMBED_STATUS_OK; }
    if (!we_json_is(v, WE_JSON_ARRAY)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: template must be an array", what);
    we_piece *p = we_arena_calloc(ld->arena, v->len ? v->len : 1, sizeof(we_piece), 8);
    if (!p) return OOM(ld);
    for (uint32_t i = 0; i < v->len; i++) {
        const we_json *e = we_json_at(v, i);
        const we_json *sq = we_json_get(e, "Sequence"), *st = we_json_get(e, "SpecialToken");
        int64_t type_id;
        if (sq) {
            p[i].is_seq = true;
            const we_json *id = we_json_get(sq, "id");
            if (we_json_str_eq(id, "A")) p[i].seq = 0;
            else if (we_json_str_eq(id, "B")) p[i].seq = 1;
            else return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: sequence id must be A or B", what);
            if (!we_json_as_int(we_json_get(sq, "type_id"), &type_id) || type_id < 0 || type_id > UINT32_MAX)
                return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: bad type_id", what);
            p[i].type_id = (uint32_t)type_id;
        } else if (st) {
            size_t n;
            const char *name = we_json_as_str(we_json_get(st, "id"), &n);
            int sp = name ? find_special(pp, name, n) : -1;
            if (sp < 0) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: template uses an unknown special token", what);
            if (!we_json_as_int(we_json_get(st, "type_id"), &type_id) || type_id < 0 || type_id > UINT32_MAX)
                return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: bad type_id", what);
            p[i].special = sp;
            p[i].type_id = (uint32_t)type_id;
        } else {
            return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "%s: template piece must be Sequence or SpecialToken", what);
        }
    }
    *out = p;
    *n_out = v->len;
    return WEMBED_STATUS_OK;
}

static wembed_status load_post(loader *ld, const we_json *v, we_post *pp, int depth) {
    memset(pp, 0, sizeof *pp);
    const char *t = type_of(v);
    wembed_status rc;
    if (depth > 16) return FAIL(ld, WEMBED_STATUS_LIMIT, "post_processor: sequences nested too deeply");
    if (!t) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "post_processor: missing \"type\"");
    if (is(t, "BertProcessing") || is(t, "RobertaProcessing")) {
        pp->type = is(t, "BertProcessing") ? WE_POST_BERT : WE_POST_ROBERTA;
        if ((rc = load_special_pair(ld, we_json_get(v, "sep"), &pp->sep, &pp->sep_id, t)) ||
            (rc = load_special_pair(ld, we_json_get(v, "cls"), &pp->cls, &pp->cls_id, t)))
            return rc;
        if (pp->type == WE_POST_ROBERTA &&
            ((rc = get_bool(ld, v, "trim_offsets", true, &pp->trim_offsets, t)) ||
             (rc = get_bool(ld, v, "add_prefix_space", true, &pp->add_prefix_space, t))))
            return rc;
    } else if (is(t, "ByteLevel")) {
        pp->type = WE_POST_BYTELEVEL;
        if ((rc = get_bool(ld, v, "trim_offsets", true, &pp->trim_offsets, t)) ||
            (rc = get_bool(ld, v, "add_prefix_space", true, &pp->add_prefix_space, t)))
            return rc;
    } else if (is(t, "TemplateProcessing")) {
        pp->type = WE_POST_TEMPLATE;
        const we_json *sp = we_json_get(v, "special_tokens");
        if (sp && sp->type != WE_JSON_NULL) {
            if (!we_json_is(sp, WE_JSON_OBJECT)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "TemplateProcessing: bad special_tokens");
            pp->n_specials = sp->len;
            pp->specials = we_arena_calloc(ld->arena, sp->len ? sp->len : 1, sizeof(we_special), 8);
            if (!pp->specials) return OOM(ld);
            for (uint32_t i = 0; i < sp->len; i++) {
                const we_json_member *mb = &sp->u.members[i];
                we_special *s = &pp->specials[i];
                s->name = mb->key;
                s->name_len = mb->key_len;
                if (!(s->name = we_arena_strndup(ld->arena, mb->key, mb->key_len))) return OOM(ld);
                const we_json *ids = we_json_get(&mb->value, "ids"), *toks = we_json_get(&mb->value, "tokens");
                if (!we_json_is(ids, WE_JSON_ARRAY) || !we_json_is(toks, WE_JSON_ARRAY) || ids->len != toks->len)
                    return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "TemplateProcessing: special token \"%.64s\" needs ids and tokens of equal length", mb->key);
                s->n = ids->len;
                int32_t *idv = we_arena_alloc(ld->arena, (size_t)(s->n ? s->n : 1) * sizeof(int32_t), 4);
                const char **tv = we_arena_alloc(ld->arena, (size_t)(s->n ? s->n : 1) * sizeof(char *), 8);
                if (!idv || !tv) return OOM(ld);
                for (uint32_t k = 0; k < s->n; k++) {
                    int64_t x;
                    if (!we_json_as_int(we_json_at(ids, k), &x) || x < 0 || x > INT32_MAX)
                        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "TemplateProcessing: bad id for \"%.64s\"", mb->key);
                    idv[k] = (int32_t)x;
                    if (!(tv[k] = dup_str(ld, we_json_at(toks, k), NULL)))
                        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "TemplateProcessing: bad token for \"%.64s\"", mb->key);
                }
                s->ids = idv;
                s->tokens = tv;
            }
        }
        if ((rc = load_template(ld, pp, we_json_get(v, "single"), &pp->single, &pp->n_single, "TemplateProcessing single")) ||
            (rc = load_template(ld, pp, we_json_get(v, "pair"), &pp->pair, &pp->n_pair, "TemplateProcessing pair")))
            return rc;
    } else if (is(t, "Sequence")) {
        pp->type = WE_POST_SEQUENCE;
        const we_json *items = we_json_get(v, "processors");
        if (!we_json_is(items, WE_JSON_ARRAY)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "post_processor Sequence: missing \"processors\"");
        pp->n_items = items->len;
        pp->items = we_arena_calloc(ld->arena, items->len ? items->len : 1, sizeof(we_post), 8);
        if (!pp->items) return OOM(ld);
        for (uint32_t i = 0; i < items->len; i++)
            if ((rc = load_post(ld, we_json_at(items, i), &pp->items[i], depth + 1))) return rc;
    } else {
        return FAIL(ld, WEMBED_STATUS_UNSUPPORTED, "post_processor \"%.64s\" is not supported", t);
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Truncation and padding

static wembed_status load_trunc(loader *ld, const we_json *v, we_trunc *t) {
    memset(t, 0, sizeof *t);
    if (!v || v->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (!we_json_is(v, WE_JSON_OBJECT)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "\"truncation\" must be an object or null");
    int64_t x;
    wembed_status rc;
    t->on = true;
    if ((rc = get_uint(ld, v, "max_length", 512, INT32_MAX, &x, "truncation"))) return rc;
    t->max_length = (uint32_t)x;
    if ((rc = get_uint(ld, v, "stride", 0, INT32_MAX, &x, "truncation"))) return rc;
    t->stride = (uint32_t)x;
    const we_json *s = we_json_get(v, "strategy");
    if (!s || we_json_str_eq(s, "LongestFirst")) t->strategy = WE_TRUNC_LONGEST_FIRST;
    else if (we_json_str_eq(s, "OnlyFirst")) t->strategy = WE_TRUNC_ONLY_FIRST;
    else if (we_json_str_eq(s, "OnlySecond")) t->strategy = WE_TRUNC_ONLY_SECOND;
    else return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "truncation: unknown strategy");
    const we_json *d = we_json_get(v, "direction");
    if (d && !we_json_str_eq(d, "Right") && !we_json_str_eq(d, "Left"))
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "truncation: unknown direction");
    t->left = we_json_str_eq(d, "Left");
    return WEMBED_STATUS_OK;
}

static wembed_status load_pad(loader *ld, const we_json *v, we_pad *p) {
    memset(p, 0, sizeof *p);
    if (!v || v->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (!we_json_is(v, WE_JSON_OBJECT)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "\"padding\" must be an object or null");
    p->on = true;
    const we_json *s = we_json_get(v, "strategy");
    int64_t x;
    wembed_status rc;
    if (!s || we_json_str_eq(s, "BatchLongest")) {
        p->fixed = false;
    } else if (we_json_is(s, WE_JSON_OBJECT) && we_json_as_int(we_json_get(s, "Fixed"), &x) && x >= 0 && x <= INT32_MAX) {
        p->fixed = true;
        p->length = (uint32_t)x;
    } else {
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "padding: unknown strategy");
    }
    const we_json *d = we_json_get(v, "direction");
    if (d && !we_json_str_eq(d, "Right") && !we_json_str_eq(d, "Left"))
        return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "padding: unknown direction");
    p->left = we_json_str_eq(d, "Left");
    if ((rc = get_uint(ld, v, "pad_to_multiple_of", 0, INT32_MAX, &x, "padding"))) return rc;
    p->multiple = (uint32_t)x;
    if ((rc = get_uint(ld, v, "pad_id", 0, INT32_MAX, &x, "padding"))) return rc;
    p->pad_id = (int32_t)x;
    if ((rc = get_uint(ld, v, "pad_type_id", 0, INT32_MAX, &x, "padding"))) return rc;
    p->pad_type_id = (uint32_t)x;
    uint32_t len;
    if ((rc = get_str(ld, v, "pad_token", false, &p->pad_token, &len, "padding"))) return rc;
    if (!p->pad_token) p->pad_token = "[PAD]";
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------

static int32_t added_id(const we_tokenizer *tok, const char *name) {
    int32_t id;
    return we_strmap_get(&tok->added_map, name, strlen(name), &id) ? id : -1;
}

// Special ids as the file defines them (wembed_special_token order: UNK, CLS, SEP, PAD, BOS,
// EOS, MASK). CLS/BOS: what the post-processor puts before the text; SEP/EOS: after it.
static void find_specials(we_tokenizer *tok) {
    for (int i = 0; i < 8; i++) tok->special_ids[i] = -1;
    const we_model *m = &tok->model;
    if (m->type == WE_MODEL_UNIGRAM) tok->special_ids[0] = m->unk_id;
    else if (m->unk) tok->special_ids[0] = token_to_id(tok, m->unk, m->unk_len);
    const we_post *pp = tok->post;
    while (pp && pp->type == WE_POST_SEQUENCE) {
        const we_post *found = NULL;
        for (uint32_t i = 0; i < pp->n_items && !found; i++)
            if (pp->items[i].type != WE_POST_BYTELEVEL) found = &pp->items[i];
        pp = found;
    }
    int32_t before = -1, after = -1;
    if (pp && (pp->type == WE_POST_BERT || pp->type == WE_POST_ROBERTA)) {
        before = pp->cls_id;
        after = pp->sep_id;
    } else if (pp && pp->type == WE_POST_TEMPLATE) {
        bool seen_seq = false;
        for (uint32_t i = 0; i < pp->n_single; i++) {
            const we_piece *p = &pp->single[i];
            if (p->is_seq) { seen_seq = true; continue; }
            const we_special *s = &pp->specials[p->special];
            if (s->n == 0) continue;
            if (!seen_seq && before < 0) before = s->ids[0];
            if (seen_seq && after < 0) after = s->ids[0];
        }
    }
    tok->special_ids[1] = tok->special_ids[4] = before;
    tok->special_ids[2] = tok->special_ids[5] = after;
    if (tok->pad.on) tok->special_ids[3] = tok->pad.pad_id;
    else {
        static const char *pads[] = { "[PAD]", "<pad>", "<|pad|>", "<|padding|>" };
        for (size_t i = 0; i < WE_ARRAY_LEN(pads) && tok->special_ids[3] < 0; i++) tok->special_ids[3] = added_id(tok, pads[i]);
    }
    static const char *masks[] = { "[MASK]", "<mask>", "<|mask|>" };
    for (size_t i = 0; i < WE_ARRAY_LEN(masks) && tok->special_ids[6] < 0; i++) tok->special_ids[6] = added_id(tok, masks[i]);
}

static wembed_status from_tree(loader *ld, const we_json *root);

wembed_status we_tokenizer_from_json(we_tokenizer *tok, const char *json, size_t n, we_err *err) {
    // The JSON tree lives in its own arena, freed once the tokenizer has copied what it keeps;
    // the model's vocabulary and merges go straight from the parser to the tokenizer's tables
    // and buffers (vocab_item, merge_item): most of a big file, never a tree.
    vocab_sink vs;
    memset(&vs, 0, sizeof vs);
    vs.arena = &tok->arena;
    vs.bad = -1;
    merge_sink ms;
    memset(&ms, 0, sizeof ms);
    ms.bad = -1;
    static const char *const vocab_path[] = { "model", "vocab" }, *const merges_path[] = { "model", "merges" };
    const we_json_sink sinks[] = { { vocab_path, 2, vocab_item, &vs }, { merges_path, 2, merge_item, &ms } };
    loader ld = { tok, &tok->arena, err, NULL, NULL };
    we_arena ja;
    we_arena_init(&ja, (size_t)1 << 20);
    const we_json *root = NULL;
    wembed_status rc = we_json_parse_sink(&ja, json, n, NULL, sinks, 2, &root, err);
    if (rc) {
        we_err_prefix(err, "tokenizer.json");
    } else {
        const we_json *model = we_json_get(root, "model");
        const we_json *vocab = we_json_get(model, "vocab"), *merges = we_json_get(model, "merges");
        // handed over: a container at the path with its items elsewhere (an empty one counts)
        if ((we_json_is(vocab, WE_JSON_ARRAY) || we_json_is(vocab, WE_JSON_OBJECT)) && !vocab->u.items) {
            vs.is_map = vocab->type == WE_JSON_OBJECT;
            ld.vocab = &vs;
        }
        if ((we_json_is(merges, WE_JSON_ARRAY) || we_json_is(merges, WE_JSON_OBJECT)) && !merges->u.items) ld.merges = &ms;
        rc = from_tree(&ld, root);
    }
    we_arena_free(&ja);
    we_buf_free(&vs.tok);
    we_buf_free(&vs.tok_len);
    we_buf_free(&vs.score);
    we_buf_free(&vs.id);
    we_buf_free(&ms.rec);
    return rc;
}

static wembed_status from_tree(loader *ld, const we_json *root) {
    we_tokenizer *tok = ld->tok;
    wembed_status rc;
    tok->work.err = ld->err;
    if (!we_json_is(root, WE_JSON_OBJECT)) return FAIL(ld, WEMBED_STATUS_BAD_FORMAT, "tokenizer.json: not a JSON object");
    if ((rc = load_model(ld, we_json_get(root, "model")))) return rc;
    const we_json *v = we_json_get(root, "normalizer");
    if (v && v->type != WE_JSON_NULL) {
        tok->normalizer = we_arena_calloc(&tok->arena, 1, sizeof(we_normalizer), 8);
        if (!tok->normalizer) return OOM(ld);
        if ((rc = load_normalizer(ld, v, tok->normalizer, 0))) return rc;
    }
    v = we_json_get(root, "pre_tokenizer");
    if (v && v->type != WE_JSON_NULL) {
        tok->pretok = we_arena_calloc(&tok->arena, 1, sizeof(we_pretok), 8);
        if (!tok->pretok) return OOM(ld);
        if ((rc = load_pretok(ld, v, tok->pretok, 0))) return rc;
    }
    v = we_json_get(root, "post_processor");
    if (v && v->type != WE_JSON_NULL) {
        tok->post = we_arena_calloc(&tok->arena, 1, sizeof(we_post), 8);
        if (!tok->post) return OOM(ld);
        if ((rc = load_post(ld, v, tok->post, 0))) return rc;
    }
    if ((rc = load_trunc(ld, we_json_get(root, "truncation"), &tok->trunc)) ||
        (rc = load_pad(ld, we_json_get(root, "padding"), &tok->pad)) ||
        (rc = load_added(ld, we_json_get(root, "added_tokens"))))
        return rc;
    find_specials(tok);
    return WEMBED_STATUS_OK;
}
