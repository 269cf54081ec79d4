// json.c - the strict, bounded JSON reader declared in json.h.
//
// One pass over the text with an explicit stack (no recursion, so max_depth bounds memory and
// not the C stack). Values of an open array/object collect on a scratch stack and are copied
// into the arena, exactly sized, when the container closes; duplicate keys are found then with
// a small temporary hash set. Strings are scanned once to validate and size them, then decoded
// straight into their arena copy.
//
// Not: a streaming parser, a writer; no comments, no trailing commas, no single quotes.
#include "json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/utf8.h"

we_json_limits we_json_default_limits(void) {
    we_json_limits lim;
    lim.max_bytes = (size_t)256 << 20;
    lim.max_depth = 128;
    lim.max_nodes = (size_t)64 << 20;
    lim.max_string = (size_t)64 << 20;
    return lim;
}

// -----------------------------------------------------------------------------------------
// Parser state

typedef struct frame {
    bool is_object;
    size_t start;                 // first scratch slot of this container's items
} frame;

typedef struct parser {
    const uint8_t *s;
    size_t n, p;                  // text, its size, current offset
    we_json_limits lim;
    size_t nodes;
    we_arena *arena;
    we_err *err;

    we_json_member *scratch;      // (items of open containers) values of arrays, members of objects
    size_t n_scratch, cap_scratch;
    frame *frames;                // (depth) open containers
    int32_t depth;

    const we_json_sink *sinks;    // (n_sinks)
    int32_t n_sinks;
    const we_json_sink *sink;     // the sink whose container is open (NULL: none)
    int32_t sink_frame;           // index in frames of that container, -1: none
    uint32_t sink_items;          // items handed over so far
    we_arena *tree_arena;         // the caller's arena (ps->arena is item_arena within the array)
    we_arena item_arena;          // one item at a time
} parser;

// 1-based line and column (in code points) of byte offset `at`.
static void line_col(const parser *ps, size_t at, size_t *line, size_t *col) {
    size_t l = 1, line_start = 0;
    if (at > ps->n) at = ps->n;
    for (size_t i = 0; i < at; i++)
        if (ps->s[i] == '\n') { l++; line_start = i + 1; }
    size_t c = 1;
    for (size_t i = line_start; i < at; i++)
        if ((ps->s[i] & 0xC0) != 0x80) c++;   // count lead bytes, not continuation bytes
    *line = l;
    *col = c;
}

static wembed_status fail_at(parser *ps, size_t at, wembed_status rc, const char *fmt, ...) WE_PRINTF(4, 5);
static wembed_status fail_at(parser *ps, size_t at, wembed_status rc, const char *fmt, ...) {
    char what[WE_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t line, col;
    line_col(ps, at, &line, &col);
    return we_errorf(ps->err, rc, "JSON %zu:%zu: %s", line, col, what);
}

// Describes what is at offset `at` for messages: 'x', byte 0xNN, or end of input.
static const char *found(const parser *ps, size_t at, char *buf, size_t n) {
    if (at >= ps->n) return "end of input";
    uint8_t c = ps->s[at];
    if (c >= 0x20 && c < 0x7f) snprintf(buf, n, "'%c'", c);
    else snprintf(buf, n, "byte 0x%02X", c);
    return buf;
}

static wembed_status oom(parser *ps) {
    return we_errorf(ps->err, WEMBED_STATUS_ALLOC_FAILED, "JSON: out of memory");
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->n) {
        uint8_t c = ps->s[ps->p];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        ps->p++;
    }
}

static bool match_word(parser *ps, const char *w) {
    size_t k = strlen(w);
    if (ps->n - ps->p < k || memcmp(ps->s + ps->p, w, k) != 0) return false;
    ps->p += k;
    return true;
}

static wembed_status count_node(parser *ps, size_t at) {
    if (++ps->nodes > ps->lim.max_nodes)
        return fail_at(ps, at, WEMBED_STATUS_LIMIT, "more than %zu values (max_nodes limit)",
                       ps->lim.max_nodes);
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Strings

static int hex4(const uint8_t *h) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = h[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

// Scans (out NULL: validates and sizes) or decodes (out: writes) the string whose opening quote
// is at ps->p. On success *len is the decoded size and *end the offset past the closing quote.
// Decoding re-runs the validated scan, so it cannot fail.
static wembed_status string_pass(parser *ps, uint8_t *out, size_t *len, size_t *end) {
    const uint8_t *s = ps->s;
    size_t n = ps->n, p = ps->p + 1, k = 0;
    for (;;) {
        if (p >= n) return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "unterminated string");
        uint8_t c = s[p];
        if (c == '"') { p++; break; }
        if (c < 0x20)
            return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT,
                           "control character 0x%02X in a string (must be escaped)", c);
        if (c == '\\') {
            if (p + 1 >= n) return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "unterminated string");
            uint8_t e = s[p + 1];
            uint8_t simple = 0;
            switch (e) {
            case '"': simple = '"'; break;
            case '\\': simple = '\\'; break;
            case '/': simple = '/'; break;
            case 'b': simple = '\b'; break;
            case 'f': simple = '\f'; break;
            case 'n': simple = '\n'; break;
            case 'r': simple = '\r'; break;
            case 't': simple = '\t'; break;
            case 'u': break;
            default: {
                char b[16];
                return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT, "invalid escape '\\' followed by %s",
                               found(ps, p + 1, b, sizeof b));
            }
            }
            if (simple) {
                if (out) out[k] = simple;
                k++;
                p += 2;
                continue;
            }
            if (n - p < 6 || hex4(s + p + 2) < 0)
                return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT, "\\u must be followed by 4 hex digits");
            uint32_t cp = (uint32_t)hex4(s + p + 2);
            size_t esc_at = p;
            p += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail_at(ps, esc_at, WEMBED_STATUS_BAD_FORMAT,
                               "lone low surrogate \\u%04X (not preceded by a high surrogate)", cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo = (n - p >= 6 && s[p] == '\\' && s[p + 1] == 'u') ? hex4(s + p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail_at(ps, esc_at, WEMBED_STATUS_BAD_FORMAT,
                                   "lone high surrogate \\u%04X (not followed by a low surrogate \\uDC00-\\uDFFF)", cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                p += 6;
            }
            uint8_t u[4];
            int m = we_utf8_encode(cp, u);
            if (out) memcpy(out + k, u, (size_t)m);
            k += (size_t)m;
            continue;
        }
        if (c < 0x80) {
            if (out) out[k] = c;
            k++;
            p++;
            continue;
        }
        // A multi-byte sequence: it must be well-formed (no overlongs, surrogates, > U+10FFFF).
        size_t q = p;
        uint32_t cp = we_utf8_next(s, n, &q);
        if (cp == WE_REPLACEMENT_CHAR && !(q - p == 3 && s[p] == 0xEF))
            return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT, "invalid UTF-8 (byte 0x%02X) in a string", c);
        if (out) memcpy(out + k, s + p, q - p);
        k += q - p;
        p = q;
    }
    *len = k;
    *end = p;
    return WEMBED_STATUS_OK;
}

// Parses the string at ps->p (a '"') into *str / *len.
static wembed_status parse_string(parser *ps, const char **str, uint32_t *len) {
    size_t k, end;
    wembed_status rc = string_pass(ps, NULL, &k, &end);
    if (rc) return rc;
    if (k > ps->lim.max_string || k > UINT32_MAX)
        return fail_at(ps, ps->p, WEMBED_STATUS_LIMIT, "string of %zu bytes is over the limit of %zu (max_string)",
                       k, WE_MIN(ps->lim.max_string, (size_t)UINT32_MAX));
    uint8_t *buf = we_arena_alloc(ps->arena, k + 1, 1);
    if (!buf) return oom(ps);
    rc = string_pass(ps, buf, &k, &end);
    WE_ASSERT(rc == WEMBED_STATUS_OK);
    buf[k] = 0;
    *str = (const char *)buf;
    *len = (uint32_t)k;
    ps->p = end;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Numbers

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

// strtod of s[0..len) in the C locale's sense (an embedder's setlocale() must not change what
// we read): a NUL-terminated copy with the locale's decimal point. glibc and musl round
// correctly. False when out of memory or when the text is not all one number.
static bool strtod_c(const char *s, size_t len, double *out) {
    char small[128];
    char *buf = small;
    if (len + 1 > sizeof small) {
        buf = we_malloc(len + 1);
        if (!buf) return false;
    }
    memcpy(buf, s, len);
    buf[len] = 0;
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && dp[0] != '.' && !dp[1])
        for (size_t i = 0; i < len; i++) if (buf[i] == '.') buf[i] = dp[0];
    errno = 0;
    char *endp = NULL;
    *out = strtod(buf, &endp);
    bool whole = endp == buf + len;
    if (buf != small) we_free(buf);
    return whole;
}

// Powers of ten that doubles hold exactly.
static const double EXACT_POW10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

// Numbers are read in one pass over their digits. Integers that fit int64 convert exactly (the
// int64 -> double conversion rounds to nearest even, as strtod). Others whose significand has
// at most 2^53 and whose decimal exponent is within +-22 are one correctly rounded multiply or
// divide of two exact doubles (Clinger's fast path; needs FLT_EVAL_METHOD 0, which x86-64 SSE,
// arm64 and wasm have). The rest (17-digit scores of SentencePiece vocabularies, say) keep
// their text and are converted only when read: strtod is slow (in wasm, musl's strtod works in
// software 128-bit long doubles) and a tokenizer.json has hundreds of thousands of them that
// its reader rounds its own way. Whether such a number is past the range of a double is still
// decided here, by its magnitude, with strtod only near the edge.
static wembed_status parse_number(parser *ps, we_json *v) {
    const uint8_t *s = ps->s;
    size_t n = ps->n, start = ps->p, p = start;
    char b[16];
    bool neg = false, is_int = true;
    if (s[p] == '-') { neg = true; p++; }
    if (p < n && s[p] == 'I') {       // Infinity / -Infinity (Python's json writes these)
        ps->p = p;
        if (!match_word(ps, "Infinity"))
            return fail_at(ps, start, WEMBED_STATUS_BAD_FORMAT, "invalid literal (expected %sInfinity)", neg ? "-" : "");
        v->type = WE_JSON_NUMBER;
        v->len = (uint32_t)(ps->p - start);
        v->u.num.f = neg ? -INFINITY : INFINITY;
        v->u.num.text = NULL;
        v->u.num.is_int = false;
        return WEMBED_STATUS_OK;
    }
    if (p >= n || !is_digit(s[p]))
        return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT, "invalid number: expected a digit, found %s",
                       found(ps, p, b, sizeof b));
    if (s[p] == '0' && p + 1 < n && is_digit(s[p + 1]))
        return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT, "invalid number: leading zero");
    // The significand as an integer (sig, exact while `exact`), the count of digits that are
    // not leading zeros, the decimal exponent of sig's last digit, and the magnitude: the value
    // is below 10^mag (digits before the point, past leading zeros, plus the exponent).
    uint64_t sig = 0;
    bool exact = true;
    int64_t n_sig = 0, mag = 0, exp10 = 0;
    for (; p < n && is_digit(s[p]); p++) {
        if (n_sig || s[p] != '0') n_sig++;
        if (n_sig > 19) exact = false;
        else sig = sig * 10 + (uint64_t)(s[p] - '0');
    }
    mag = n_sig;
    if (p < n && s[p] == '.') {
        is_int = false;
        p++;
        if (p >= n || !is_digit(s[p]))
            return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT, "invalid number: expected a digit after '.', found %s",
                           found(ps, p, b, sizeof b));
        for (; p < n && is_digit(s[p]); p++) {
            if (!n_sig && s[p] == '0') { mag--; exp10--; continue; }
            if (++n_sig > 19) { exact = false; continue; }
            sig = sig * 10 + (uint64_t)(s[p] - '0');
            exp10--;
        }
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        is_int = false;
        p++;
        bool eneg = false;
        if (p < n && (s[p] == '+' || s[p] == '-')) eneg = s[p++] == '-';
        if (p >= n || !is_digit(s[p]))
            return fail_at(ps, p, WEMBED_STATUS_BAD_FORMAT, "invalid number: expected a digit in the exponent, found %s",
                           found(ps, p, b, sizeof b));
        int64_t e = 0;
        for (; p < n && is_digit(s[p]); p++)
            if (e < 100000000) e = e * 10 + (s[p] - '0');   // saturates far past any double
        mag += eneg ? -e : e;
        exp10 += eneg ? -e : e;
    }
    size_t len = p - start;
    if (len > UINT32_MAX) return fail_at(ps, start, WEMBED_STATUS_LIMIT, "number of %zu bytes", len);

    // Exact integer value, when it fits.
    int64_t iv = 0;
    if (is_int) {
        uint64_t acc = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t i = start + (neg ? 1 : 0); i < p && is_int; i++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (acc > (limit - d) / 10) is_int = false;
            else acc = acc * 10 + d;
        }
        if (is_int) iv = neg ? (int64_t)(0 - acc) : (int64_t)acc;   // two's complement wrap is exact
    }
    v->type = WE_JSON_NUMBER;
    v->len = (uint32_t)len;
    v->u.num.is_int = is_int;
    if (is_int) {
        v->u.num.f = (double)iv;
        if (iv == 0 && neg) v->u.num.f = -0.0;
        v->u.num.i = iv;
    } else if (exact && sig <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double f = (double)sig;
        f = exp10 >= 0 ? f * EXACT_POW10[exp10] : f / EXACT_POW10[-exp10];
        v->u.num.f = neg ? -f : f;
        v->u.num.text = NULL;
    } else {
        // Past the range of a double only if at least 10^308 (DBL_MAX is 1.8e308).
        if (n_sig && mag > 308) {
            double f;
            if (!strtod_c((const char *)s + start, len, &f)) return oom(ps);
            if (isinf(f))
                return fail_at(ps, start, WEMBED_STATUS_LIMIT, "number %.*s%s is out of the range of a double",
                               (int)WE_MIN(len, (size_t)40), (const char *)s + start, len > 40 ? "..." : "");
        }
        char *t = we_arena_alloc(ps->arena, len + 1, 1);
        if (!t) return oom(ps);
        memcpy(t, s + start, len);
        t[len] = 0;
        v->u.num.f = NAN;
        v->u.num.text = t;
    }
    ps->p = p;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Containers

static wembed_status scratch_push(parser *ps, const we_json_member *m) {
    if (ps->n_scratch == ps->cap_scratch) {
        size_t cap = ps->cap_scratch ? ps->cap_scratch * 2 : 64, bytes;
        if (!we_mul_size(cap, sizeof *ps->scratch, &bytes)) return oom(ps);
        we_json_member *nw = we_realloc(ps->scratch, bytes);
        if (!nw) return oom(ps);
        ps->scratch = nw;
        ps->cap_scratch = cap;
    }
    ps->scratch[ps->n_scratch++] = *m;
    return WEMBED_STATUS_OK;
}

static uint64_t hash_key(const char *k, uint32_t n) {
    uint64_t h = 1469598103934665603ull;   // FNV-1a
    for (uint32_t i = 0; i < n; i++) { h ^= (uint8_t)k[i]; h *= 1099511628211ull; }
    return h;
}

// Finds a repeated key among members m[0..n); returns its index (the second occurrence) or -1
// in *dup. Small objects compare pairwise; big ones (vocabularies) use a temporary hash set.
static wembed_status find_duplicate(parser *ps, const we_json_member *m, size_t n, ptrdiff_t *dup) {
    *dup = -1;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (m[i].key_len == m[j].key_len && memcmp(m[i].key, m[j].key, m[i].key_len) == 0) {
                    *dup = (ptrdiff_t)i;
                    return WEMBED_STATUS_OK;
                }
        return WEMBED_STATUS_OK;
    }
    size_t cap = 32, bytes;
    while (cap < n * 2) cap *= 2;
    if (!we_mul_size(cap, sizeof(uint32_t), &bytes)) return oom(ps);
    uint32_t *slots = we_malloc(bytes);   // member index + 1; 0 = empty
    if (!slots) return oom(ps);
    memset(slots, 0, bytes);
    for (size_t i = 0; i < n && *dup < 0; i++) {
        size_t h = (size_t)hash_key(m[i].key, m[i].key_len) & (cap - 1);
        for (;;) {
            uint32_t s = slots[h];
            if (!s) { slots[h] = (uint32_t)i + 1; break; }
            const we_json_member *o = &m[s - 1];
            if (o->key_len == m[i].key_len && memcmp(o->key, m[i].key, o->key_len) == 0) {
                *dup = (ptrdiff_t)i;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
    }
    we_free(slots);
    return WEMBED_STATUS_OK;
}

// Closes the innermost container (its closing bracket at `at`) into *v.
static wembed_status close_container(parser *ps, size_t at, we_json *v) {
    frame f = ps->frames[--ps->depth];
    if (ps->depth == ps->sink_frame) {   // its items went to the sink
        memset(v, 0, sizeof *v);
        v->type = f.is_object ? WE_JSON_OBJECT : WE_JSON_ARRAY;
        v->len = ps->sink_items;
        ps->sink = NULL;
        ps->sink_frame = -1;
        ps->arena = ps->tree_arena;
        we_arena_reset(&ps->item_arena);
        return WEMBED_STATUS_OK;
    }
    size_t count = ps->n_scratch - f.start;
    we_json_member *items = ps->scratch + f.start;
    if (count > UINT32_MAX)
        return fail_at(ps, at, WEMBED_STATUS_LIMIT, "container with more than %u items", UINT32_MAX);
    memset(v, 0, sizeof *v);
    v->len = (uint32_t)count;
    if (f.is_object) {
        ptrdiff_t dup;
        wembed_status rc = find_duplicate(ps, items, count, &dup);
        if (rc) return rc;
        if (dup >= 0)
            return fail_at(ps, at, WEMBED_STATUS_BAD_FORMAT, "duplicate key \"%.*s\" in the object closed here",
                           (int)WE_MIN(items[dup].key_len, 80u), items[dup].key);
        v->type = WE_JSON_OBJECT;
        if (count) {
            we_json_member *m = we_arena_alloc(ps->arena, count * sizeof *m, _Alignof(we_json_member));
            if (!m) return oom(ps);
            memcpy(m, items, count * sizeof *m);
            v->u.members = m;
        }
    } else {
        v->type = WE_JSON_ARRAY;
        if (count) {
            we_json *a = we_arena_alloc(ps->arena, count * sizeof *a, _Alignof(we_json));
            if (!a) return oom(ps);
            for (size_t i = 0; i < count; i++) a[i] = items[i].value;
            v->u.items = a;
        }
    }
    ps->n_scratch = f.start;
    return WEMBED_STATUS_OK;
}

// The sink whose path the container opening now ends, as the value of member `key` of the
// innermost open container (NULL: none): the keys of the containers it is in (each container's
// key is in the slot it took in its parent) are the sink's path. None inside a sink's container.
static const we_json_sink *sink_wanting(const parser *ps, const char *key, uint32_t key_len) {
    if (ps->sink_frame >= 0 || !key) return NULL;
    for (int32_t i = 0; i < ps->n_sinks; i++) {
        const we_json_sink *sk = &ps->sinks[i];
        if (ps->depth != sk->depth) continue;
        bool match = true;
        for (int32_t k = 0; k < ps->depth && match; k++) {
            const char *want = sk->path[k];
            const char *have = k + 1 < ps->depth ? ps->scratch[ps->frames[k + 1].start - 1].key : key;
            uint32_t have_len = k + 1 < ps->depth ? ps->scratch[ps->frames[k + 1].start - 1].key_len : key_len;
            match = ps->frames[k].is_object && have && strlen(want) == have_len && memcmp(want, have, have_len) == 0;
        }
        if (match) return sk;
    }
    return NULL;
}

// -----------------------------------------------------------------------------------------
// The parser loop. States: expecting a value (possibly the first of an array, which may
// instead be ']'), expecting a key (possibly the first of an object, or '}'), and after a
// value (',' or the closing bracket).

static wembed_status parse(parser *ps, we_json *root) {
    char b[16];
    const char *pending_key = NULL;   // key of the object member whose value comes next
    uint32_t pending_len = 0;
    bool first = false;               // just opened a container
    bool closed = false;              // v is a container just closed (its slot exists)

    for (;;) {
        wembed_status rc;
        we_json v;
        memset(&v, 0, sizeof v);
        bool in_object = ps->depth > 0 && ps->frames[ps->depth - 1].is_object;

        // ---- an object key (or '}' right after '{')
        if (in_object && !pending_key) {
            skip_ws(ps);
            if (first && ps->p < ps->n && ps->s[ps->p] == '}') {
                size_t at = ps->p++;
                rc = close_container(ps, at, &v);
                if (rc) return rc;
                closed = true;
                goto have_value;
            }
            if (ps->p >= ps->n || ps->s[ps->p] != '"')
                return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "expected %s, found %s",
                               first ? "a string key or '}'" : "a string key",
                               found(ps, ps->p, b, sizeof b));
            rc = parse_string(ps, &pending_key, &pending_len);
            if (rc) return rc;
            skip_ws(ps);
            if (ps->p >= ps->n || ps->s[ps->p] != ':')
                return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "expected ':' after an object key, found %s",
                               found(ps, ps->p, b, sizeof b));
            ps->p++;
            first = false;
        }

        // ---- a value (or ']' right after '[')
        skip_ws(ps);
        if (ps->p >= ps->n)
            return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "unexpected end of input, expected a value");
        size_t at = ps->p;
        uint8_t c = ps->s[at];
        if (first && c == ']') {
            ps->p++;
            rc = close_container(ps, at, &v);
            if (rc) return rc;
            closed = true;
            goto have_value;
        }
        first = false;
        rc = count_node(ps, at);
        if (rc) return rc;
        if (c == '[' || c == '{') {
            if (ps->depth >= ps->lim.max_depth)
                return fail_at(ps, at, WEMBED_STATUS_LIMIT, "nesting deeper than %d (max_depth limit)", ps->lim.max_depth);
            // The container's slot in its parent (with its key) is taken now, before its own
            // items, and filled in when it closes.
            if (ps->depth > 0) {
                we_json_member m;
                memset(&m, 0, sizeof m);
                m.key = pending_key;
                m.key_len = pending_len;
                rc = scratch_push(ps, &m);
                if (rc) return rc;
            }
            const we_json_sink *sk = sink_wanting(ps, pending_key, pending_len);
            if (sk) {
                ps->sink = sk;
                ps->sink_frame = ps->depth;
                ps->sink_items = 0;
                ps->arena = &ps->item_arena;
            }
            frame *f = &ps->frames[ps->depth++];
            f->is_object = c == '{';
            f->start = ps->n_scratch;
            pending_key = NULL;
            ps->p++;
            first = true;
            continue;
        }
        if (c == '"') {
            v.type = WE_JSON_STRING;
            rc = parse_string(ps, &v.u.str, &v.len);
            if (rc) return rc;
        } else if (c == '-' || is_digit(c) || c == 'I') {
            rc = parse_number(ps, &v);
            if (rc) return rc;
        } else if (match_word(ps, "true")) {
            v.type = WE_JSON_TRUE;
        } else if (match_word(ps, "false")) {
            v.type = WE_JSON_FALSE;
        } else if (match_word(ps, "null")) {
            v.type = WE_JSON_NULL;
        } else if (match_word(ps, "NaN")) {
            v.type = WE_JSON_NUMBER;
            v.len = 3;
            v.u.num.f = NAN;
            v.u.num.text = NULL;
        } else {
            return fail_at(ps, at, WEMBED_STATUS_BAD_FORMAT, "expected a value, found %s", found(ps, at, b, sizeof b));
        }
        // A literal must end at a delimiter ("truex", "12a" are errors).
        if (ps->p < ps->n) {
            uint8_t d = ps->s[ps->p];
            if (!(d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == ',' || d == ']' || d == '}' || d == ':')
                && v.type != WE_JSON_STRING)
                return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "unexpected %s after a %s",
                               found(ps, ps->p, b, sizeof b), v.type == WE_JSON_NUMBER ? "number" : "literal");
        }

    have_value:
        // ---- store v in its parent, then read ',' or the parent's closing bracket (which
        // completes the parent, itself a value of its own parent: loop).
        for (;;) {
            if (ps->depth == 0) {
                *root = v;
                skip_ws(ps);
                if (ps->p < ps->n)
                    return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "unexpected %s after the JSON value",
                                   found(ps, ps->p, b, sizeof b));
                return WEMBED_STATUS_OK;
            }
            frame *f = &ps->frames[ps->depth - 1];
            if (ps->depth - 1 == ps->sink_frame) {
                // An item or member of the sink's container: handed over (a container drops the
                // slot it took), then forgotten.
                const char *key = pending_key;
                uint32_t key_len = pending_len;
                if (closed) {
                    ps->n_scratch--;
                    key = ps->scratch[ps->n_scratch].key;
                    key_len = ps->scratch[ps->n_scratch].key_len;
                }
                if (ps->sink_items == UINT32_MAX)
                    return fail_at(ps, ps->p, WEMBED_STATUS_LIMIT, "container with more than %u items", UINT32_MAX);
                rc = ps->sink->item(ps->sink->user, f->is_object ? key : NULL, f->is_object ? key_len : 0, &v,
                                    ps->sink_items++, ps->err);
                if (rc) return rc;
                we_arena_reset(&ps->item_arena);
            } else if (closed) {
                // A closed container fills the slot it took (with its key) when it opened.
                ps->scratch[ps->n_scratch - 1].value = v;
            } else {
                we_json_member m;
                m.key = f->is_object ? pending_key : NULL;
                m.key_len = f->is_object ? pending_len : 0;
                m.value = v;
                rc = scratch_push(ps, &m);
                if (rc) return rc;
            }
            closed = false;
            pending_key = NULL;
            skip_ws(ps);
            if (ps->p >= ps->n)
                return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "unexpected end of input, expected ',' or '%c'",
                               f->is_object ? '}' : ']');
            uint8_t d = ps->s[ps->p];
            if (d == ',') {
                ps->p++;
                if (!f->is_object) {
                    skip_ws(ps);
                    if (ps->p < ps->n && ps->s[ps->p] == ']')
                        return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "trailing comma before ']'");
                } else {
                    skip_ws(ps);
                    if (ps->p < ps->n && ps->s[ps->p] == '}')
                        return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "trailing comma before '}'");
                }
                break;   // next member / item
            }
            if (d == (f->is_object ? '}' : ']')) {
                size_t close_at = ps->p++;
                rc = close_container(ps, close_at, &v);
                if (rc) return rc;
                closed = true;
                continue;   // v completes its parent
            }
            return fail_at(ps, ps->p, WEMBED_STATUS_BAD_FORMAT, "expected ',' or '%c' after %s, found %s",
                           f->is_object ? '}' : ']', f->is_object ? "an object member" : "an array item",
                           found(ps, ps->p, b, sizeof b));
        }
    }
}

wembed_status we_json_parse(we_arena *arena, const char *text, size_t n,
                            const we_json_limits *lim, const we_json **out, we_err *err) {
    return we_json_parse_sink(arena, text, n, lim, NULL, 0, out, err);
}

wembed_status we_json_parse_sink(we_arena *arena, const char *text, size_t n, const we_json_limits *lim,
                                 const we_json_sink *sinks, int32_t n_sinks, const we_json **out, we_err *err) {
    if (out) *out = NULL;
    if (n_sinks < 0 || (n_sinks && !sinks))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "we_json_parse: bad sinks");
    for (int32_t i = 0; i < n_sinks; i++)
        if (!sinks[i].item || sinks[i].depth < 1 || !sinks[i].path)
            return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "we_json_parse: bad sink");
    if (!arena || (!text && n) || !out)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "we_json_parse: NULL argument");
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.s = (const uint8_t *)(text ? text : "");
    ps.n = n;
    ps.lim = lim ? *lim : we_json_default_limits();
    if (ps.lim.max_depth < 1) ps.lim.max_depth = 1;
    ps.arena = ps.tree_arena = arena;
    ps.err = err;
    ps.sinks = sinks;
    ps.n_sinks = n_sinks;
    ps.sink_frame = -1;
    we_arena_init(&ps.item_arena, (size_t)4 << 10);
    if (n > ps.lim.max_bytes)
        return we_errorf(err, WEMBED_STATUS_LIMIT, "JSON text of %zu bytes is over the limit of %zu (max_bytes)",
                         n, ps.lim.max_bytes);
    // RFC 8259 section 8.1: a parser MAY ignore a UTF-8 byte order mark; editors add one.
    if (n >= 3 && memcmp(ps.s, "\xEF\xBB\xBF", 3) == 0) ps.p = 3;

    size_t fbytes;
    if (!we_mul_size((size_t)ps.lim.max_depth, sizeof(frame), &fbytes)) return oom(&ps);
    ps.frames = we_malloc(fbytes);
    if (!ps.frames) return oom(&ps);

    we_json *root = we_arena_alloc(arena, sizeof *root, _Alignof(we_json));
    wembed_status rc = root ? parse(&ps, root) : oom(&ps);
    we_free(ps.frames);
    we_free(ps.scratch);
    we_arena_free(&ps.item_arena);
    if (rc == WEMBED_STATUS_OK) *out = root;
    return rc;
}

// -----------------------------------------------------------------------------------------
// Lookups

const we_json *we_json_get(const we_json *obj, const char *key) {
    if (!obj || obj->type != WE_JSON_OBJECT || !obj->u.members || !key) return NULL;   // members NULL: a sink's
    size_t k = strlen(key);
    for (uint32_t i = 0; i < obj->len; i++) {
        const we_json_member *m = &obj->u.members[i];
        if (m->key_len == k && memcmp(m->key, key, k) == 0) return &m->value;
    }
    return NULL;
}

const we_json *we_json_at(const we_json *arr, size_t i) {
    if (!arr || arr->type != WE_JSON_ARRAY || !arr->u.items || i >= arr->len) return NULL;   // items NULL: a sink's
    return &arr->u.items[i];
}

bool we_json_is(const we_json *v, we_json_type type) { return v && v->type == type; }

bool we_json_as_int(const we_json *v, int64_t *out) {
    if (!v || v->type != WE_JSON_NUMBER) return false;
    if (v->u.num.is_int) { *out = v->u.num.i; return true; }
    // 512.0 or 1e3 written by a Python float: accept when the double is an exact integer
    // that every int64 holds without rounding.
    double f;
    if (!we_json_as_double(v, &f)) return false;
    if (f == floor(f) && fabs(f) <= 9007199254740992.0) { *out = (int64_t)f; return true; }
    return false;
}

bool we_json_as_double(const we_json *v, double *out) {
    if (!v || v->type != WE_JSON_NUMBER) return false;
    if (!v->u.num.is_int && v->u.num.text) return strtod_c(v->u.num.text, v->len, out);   // validated at parse
    *out = v->u.num.f;
    return true;
}

bool we_json_as_bool(const we_json *v, bool *out) {
    if (!v || (v->type != WE_JSON_TRUE && v->type != WE_JSON_FALSE)) return false;
    *out = v->type == WE_JSON_TRUE;
    return true;
}

const char *we_json_as_str(const we_json *v, size_t *len) {
    if (!v || v->type != WE_JSON_STRING) return NULL;
    if (len) *len = v->len;
    return v->u.str;
}

bool we_json_str_eq(const we_json *v, const char *s) {
    if (!v || v->type != WE_JSON_STRING || !s) return false;
    size_t k = strlen(s);
    return v->len == k && memcmp(v->u.str, s, k) == 0;
}
