// tokenizer.c - the public tokenizer API (wembed_tokenizer_* in wembed.h) and the encode
// pipeline: invalid UTF-8 replaced as TextDecoder does, added tokens, normalizer,
// pre-tokenizer, model, then post-processing; offsets mapped back to the caller's bytes.
#include <string.h>

#include "../core/utf8.h"
#include "tok.h"

struct wembed_tokenizer {
    we_tokenizer t;
    bool failed;              // load failed: only last_error and free are allowed
    we_enc window;            // we_tokenizer_window's tokens
    we_buf window_ids;        // int32_t: their ids
};

// One block for the result: the struct, its arrays and the token strings.
struct wembed_encoding_block {
    wembed_encoding enc;
};

static wembed_status truncation_prefix(we_tokenizer *t, const uint8_t *text, size_t n, uint32_t need, size_t *out);

// Input limit: offsets are 32-bit and the sanitized text may be 3x the input.
#define MAX_INPUT ((size_t)256 << 20)

// -----------------------------------------------------------------------------------------

wembed_status we_encode_sequence(we_tokenizer *tok, const uint8_t *text, uint32_t n, uint32_t type_id,
                                 we_enc *enc) {
    we_work *w = &tok->work;
    wembed_status rc;
    w->cur.n = w->next.n = 0;
    if ((rc = we_added_extract(tok, w, text, n))) return rc;
    if (tok->pretok && (rc = we_pretokenize(w, tok->pretok))) return rc;
    for (size_t idx = 0; idx < w->cur.n; idx++) {
        const we_split *sp = (const we_split *)w->cur.p + idx;
        const we_nstr *ns = &sp->ns;
        w->mtoks.n = 0;
        if (sp->added >= 0) {
            if (!we_buf_reserve(&w->mtoks, 1, sizeof(we_mtok))) return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
            ((we_mtok *)w->mtoks.p)[w->mtoks.n++] =
                (we_mtok){ tok->added[sp->added].id, 0, ns->len, (const char *)ns->s, ns->len };
        } else if ((rc = we_model_tokenize(w, &tok->model, ns->s, ns->len))) {
            return rc;
        }
        const we_mtok *mt = w->mtoks.p;
        for (size_t k = 0; k < w->mtoks.n; k++) {
            uint32_t os, oe, s = mt[k].s, e = mt[k].e;
            if (we_nstr_orig_range(ns, s, e, &os, &oe)) {
                s = ns->orig_shift + os;
                e = ns->orig_shift + oe;
            }
            if (we_enc_push(enc, mt[k].id, mt[k].val, mt[k].val_len, s, e, (int32_t)idx, type_id, 0, 1, 0))
                return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
        }
    }
    return WEMBED_STATUS_OK;
}

wembed_status we_tokenizer_truncation_prefix(wembed_tokenizer *tok, const char *text, size_t n, int32_t max_length,
                                             bool add_special, size_t *cut) {
    *cut = n;
    if (!tok || tok->failed || (!text && n)) return WEMBED_STATUS_INVALID_ARGUMENT;
    uint32_t n_special = add_special ? we_post_added(tok->t.post, false) : 0;
    if (max_length <= 0 || (uint32_t)max_length <= n_special) return WEMBED_STATUS_OK;
    return truncation_prefix(&tok->t, (const uint8_t *)text, n, (uint32_t)max_length - n_special, cut);
}

// -----------------------------------------------------------------------------------------
// Lifecycle

static void drop_scratch(we_tokenizer *t, size_t max_bytes);

static const char *const OOM_MSG = "out of memory";

wembed_tokenize_params wembed_tokenize_default_params(void) {
    wembed_tokenize_params p;
    memset(&p, 0, sizeof p);
    p.add_special_tokens = true;
    p.max_length = 0;
    p.truncation_side = WEMBED_TRUNCATION_RIGHT;
    p.use_file_settings = false;
    return p;
}

// Frees the work buffers bigger than max_bytes (they are kept between calls for speed; a huge
// input should not pin its memory until the tokenizer is freed).
static void drop_scratch(we_tokenizer *t, size_t max_bytes) {
    we_work *w = &t->work;
    we_bump_reset(&w->mem, max_bytes);
    we_buf *bufs[] = { &w->tx, &w->out_s, &w->out_al, &w->matches, &w->cur, &w->next, &w->mtoks,
                       &w->scratch, &w->scratch2, &w->re_threads };
    for (size_t i = 0; i < WE_ARRAY_LEN(bufs); i++)
        if (bufs[i]->cap > max_bytes) we_buf_free(bufs[i]);
}

we_tokenizer *we_tokenizer_of(wembed_tokenizer *tok) { return tok && !tok->failed ? &tok->t : NULL; }

void we_tokenizer_drop_scratch(wembed_tokenizer *tok) {
    if (!tok) return;
    drop_scratch(&tok->t, 0);
    we_enc_free(&tok->window);
    we_buf_free(&tok->window_ids);
    we_cache_free(&tok->t.work.cache);
}

void we_tokenizer_clear(we_tokenizer *t) {
    we_cache_free(&t->work.cache);
    we_strmap_free(&t->model.map);
    we_pairmap_free(&t->model.merges);
    we_strmap_free(&t->added_map);
    drop_scratch(t, 0);
    we_arena_free(&t->arena);
}

wembed_status wembed_tokenizer_load(const void *json, size_t n_json, wembed_tokenizer **out_tok) {
    if (!out_tok) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out_tok = NULL;
    wembed_tokenizer *h = we_calloc(1, sizeof *h);
    if (!h) return WEMBED_STATUS_ALLOC_FAILED;
    *out_tok = h;
    we_tokenizer *t = &h->t;
    we_arena_init(&t->arena, (size_t)1 << 20);
    t->work.err = &t->err;
    wembed_status rc;
    if (!json) {
        rc = we_errorf(&t->err, WEMBED_STATUS_INVALID_ARGUMENT, "wembed_tokenizer_load: NULL json");
    } else {
        rc = we_tokenizer_from_json(t, json, n_json, &t->err);
    }
    if (rc) {
        h->failed = true;
        we_tokenizer_clear(t);
        return rc;
    }
    drop_scratch(t, 0);
    we_err_clear(&t->err);
    return WEMBED_STATUS_OK;
}

wembed_status wembed_tokenizer_load_gguf(const void *gguf, size_t n, wembed_tokenizer **out_tok) {
    if (!out_tok) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out_tok = NULL;
    wembed_tokenizer *h = we_calloc(1, sizeof *h);
    if (!h) return WEMBED_STATUS_ALLOC_FAILED;
    *out_tok = h;
    we_tokenizer *t = &h->t;
    we_arena_init(&t->arena, (size_t)1 << 20);
    t->work.err = &t->err;
    wembed_status rc;
    if (!gguf) {
        rc = we_errorf(&t->err, WEMBED_STATUS_INVALID_ARGUMENT, "wembed_tokenizer_load_gguf: NULL data");
    } else {
        // The header (with the vocabulary) is parsed into its own arena, freed once copied.
        we_arena ga;
        we_arena_init(&ga, (size_t)1 << 20);
        we_gguf g;
        we_gguf_vocab v;
        bool more = false;
        rc = we_gguf_parse(&ga, gguf, n, n, &g, &more, &t->err);
        if (!rc && more) rc = we_errorf(&t->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: truncated header");
        if (!rc) rc = we_gguf_read_vocab(&g, &v, &t->err);
        if (!rc) rc = we_tokenizer_from_gguf(t, &v, &t->err);
        we_arena_free(&ga);
    }
    if (rc) {
        h->failed = true;
        we_tokenizer_clear(t);
        return rc;
    }
    drop_scratch(t, 0);
    we_err_clear(&t->err);
    return WEMBED_STATUS_OK;
}

void wembed_tokenizer_free(wembed_tokenizer *tok) {
    if (!tok) return;
    we_tokenizer_clear(&tok->t);
    we_enc_free(&tok->window);
    we_buf_free(&tok->window_ids);
    we_free(tok);
}

const char *wembed_tokenizer_last_error(const wembed_tokenizer *tok) {
    if (!tok) return OOM_MSG;
    return tok->t.err.msg;
}

// -----------------------------------------------------------------------------------------
// Queries

const char *we_tokenizer_id_to_token(const we_tokenizer *t, int32_t id, uint32_t *len) {
    for (uint32_t i = 0; i < t->n_added; i++) {
        if (t->added[i].id == id) {
            if (len) *len = t->added[i].len;
            return t->added[i].content;
        }
    }
    if (id >= 0 && (uint32_t)id < t->model.n_tok && t->model.tok[id]) {
        if (len) *len = t->model.tok_len[id];
        return t->model.tok[id];
    }
    return NULL;
}

const char *wembed_tokenizer_id_to_token(const wembed_tokenizer *tok, int32_t id) {
    if (!tok || tok->failed) return NULL;
    return we_tokenizer_id_to_token(&tok->t, id, NULL);
}

int32_t wembed_tokenizer_token_to_id(const wembed_tokenizer *tok, const char *token, size_t len) {
    if (!tok || tok->failed || !token) return -1;
    int32_t id;
    if (we_strmap_get(&tok->t.added_map, token, len, &id)) return id;
    if (we_model_token_id(&tok->t.model, token, len, &id)) return id;
    return -1;
}

int32_t wembed_tokenizer_vocab_size(const wembed_tokenizer *tok) {
    if (!tok || tok->failed) return 0;
    int64_t n = tok->t.model.n_tok;
    for (uint32_t i = 0; i < tok->t.n_added; i++)
        if ((int64_t)tok->t.added[i].id + 1 > n) n = (int64_t)tok->t.added[i].id + 1;
    return (int32_t)n;
}

int32_t wembed_tokenizer_special_id(const wembed_tokenizer *tok, wembed_special_token which) {
    if (!tok || tok->failed || (int)which < 0 || (int)which >= 7) return -1;
    return tok->t.special_ids[which];
}

int32_t wembed_tokenizer_max_length(const wembed_tokenizer *tok) {
    if (!tok || tok->failed || !tok->t.trunc.on) return 0;
    return (int32_t)tok->t.trunc.max_length;
}

// -----------------------------------------------------------------------------------------
// Encode

typedef struct input {
    const uint8_t *s;         // valid UTF-8 (the caller's text, or a sanitized copy)
    uint32_t n;
    uint32_t *map;            // (n + 1) sanitized offset -> caller offset, NULL when s is the caller's text
} input;

static wembed_status prepare_input(we_tokenizer *t, const char *text, size_t len, input *in) {
    memset(in, 0, sizeof *in);
    if (len > MAX_INPUT) return we_errorf(&t->err, WEMBED_STATUS_TOO_LONG, "tokenizer: text of %zu bytes is over the limit of %zu", len, MAX_INPUT);
    const uint8_t *s = (const uint8_t *)(text ? text : "");
    if (we_utf8_valid(s, len)) {
        in->s = s;
        in->n = (uint32_t)len;
        return WEMBED_STATUS_OK;
    }
    size_t n = we_utf8_sanitized_len(s, len);
    uint8_t *d = we_malloc(n + 1);
    uint32_t *map = we_malloc((n + 1) * sizeof(uint32_t));
    if (!d || !map) {
        we_free(d);
        we_free(map);
        return we_errorf(&t->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    }
    size_t i = 0, o = 0;
    while (i < len) {
        size_t st = i;
        uint32_t cp = we_utf8_next(s, len, &i);
        int l = we_utf8_encode(cp, d + o);
        for (int k = 0; k < l; k++) map[o + k] = (uint32_t)st;
        o += (size_t)l;
    }
    map[o] = (uint32_t)len;
    in->s = d;
    in->n = (uint32_t)o;
    in->map = map;
    return WEMBED_STATUS_OK;
}

static void free_input(input *in) {
    if (in->map) {
        we_free((void *)in->s);
        we_free(in->map);
    }
}

// -----------------------------------------------------------------------------------------
// Windows of long texts
//
// Truncation and chunking need the tokens of a part of a text, and a 10 MB text cut to 512
// tokens should cost what its first kilobytes cost, not 56 bytes of work memory per byte of
// text. Every stage decides a token from a bounded neighbourhood of its text: added tokens
// (their length, lstrip/rstrip over the adjacent whitespace), normalizers (a char, a combining
// sequence, a Precompiled rule, a Replace match, Strip at the ends), pre-tokenizer splits (a
// match plus a char of lookahead such as `\s+(?!\S)`, runs of digits or punctuation) and the
// model (one pre-token at a time). So a window of the text gives the whole text's tokens for
// every word (pre-token) that lies entirely more than WE_WINDOW_MARGIN bytes inside the window:
// tokens of the words touching the margins are dropped. A word longer than the window (no
// pre-tokenizer, Metaspace split: false, a run of a megabyte without a separator) never fits:
// the callers then widen the window up to the whole text, which stays exact but not bounded.
// tests/test-tokenizer-api.c compares windows with the whole text's tokens at random cuts.

// Encodes s[0..n) (part of a longer text: text_start / text_end say whether it begins / ends
// the text) into enc (offsets in bytes of s, word ids per pre-token), and gives the range
// [*first, *end) of tokens that are the whole text's own: from the first word starting at or
// after `from`, to the last word ending more than the margin before the window's end.
wembed_status we_encode_window(we_tokenizer *t, const uint8_t *s, uint32_t n, bool text_start, bool text_end,
                               uint32_t from, we_enc *enc, uint32_t *first, uint32_t *end) {
    *first = *end = 0;
    enc->toks.n = enc->pool.n = 0;
    input in;
    wembed_status rc = prepare_input(t, (const char *)s, n, &in);
    if (rc) return rc;
    rc = we_encode_sequence(t, in.s, in.n, 0, enc);
    we_bump_reset(&t->work.mem, (size_t)16 << 20);
    we_etok *tk = enc->toks.p;
    size_t nt = enc->toks.n;
    for (size_t k = 0; !rc && in.map && k < nt; k++) {   // sanitized offsets -> offsets in s
        tk[k].s = in.map[WE_MIN(tk[k].s, in.n)];
        tk[k].e = in.map[WE_MIN(tk[k].e, in.n)];
    }
    free_input(&in);
    if (rc) return rc;
    const uint32_t lo = WE_MAX(from, text_start ? 0u : WE_WINDOW_MARGIN);
    size_t i = 0;
    while (i < nt && !(tk[i].s >= lo && (i == 0 || tk[i].word != tk[i - 1].word))) i++;
    size_t j = nt;
    if (!text_end) {
        const uint32_t hi = n > WE_WINDOW_MARGIN ? n - WE_WINDOW_MARGIN : 0;
        for (j = i; j < nt && tk[j].s <= hi && tk[j].e <= hi; j++) {}
        if (j == nt && j > i) j--;   // nothing crosses the margin: the last word may still go on
        while (j > i && tk[j - 1].word == tk[j].word) j--;
    }
    *first = (uint32_t)i;
    *end = (uint32_t)j;
    return WEMBED_STATUS_OK;
}

wembed_status we_tokenizer_window(wembed_tokenizer *tok, const uint8_t *s, uint32_t n, bool text_start, bool text_end,
                                  uint32_t from, const int32_t **ids, uint32_t *n_ids, uint32_t *last_end) {
    *ids = NULL;
    *n_ids = *last_end = 0;
    if (!tok || tok->failed) return WEMBED_STATUS_INVALID_ARGUMENT;
    uint32_t first, end;
    wembed_status rc = we_encode_window(&tok->t, s, n, text_start, text_end, from, &tok->window, &first, &end);
    if (rc) return rc;
    tok->window_ids.n = 0;
    if (!we_buf_reserve(&tok->window_ids, end - first + 1, sizeof(int32_t)))
        return we_errorf(&tok->t.err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    const we_etok *tk = tok->window.toks.p;
    int32_t *out = tok->window_ids.p;
    for (uint32_t i = first; i < end; i++) out[i - first] = tk[i].id;
    *ids = out;
    *n_ids = end - first;
    if (end > first) *last_end = tk[end - 1].e;
    // A huge window (a word longer than the steps) should not pin its memory.
    if (tok->window.toks.cap > ((size_t)16 << 20)) we_enc_free(&tok->window);
    return WEMBED_STATUS_OK;
}

// A char boundary at or before `at` (UTF-8 continuation bytes are skipped back, at most 3).
uint32_t we_utf8_floor(const uint8_t *s, uint32_t at) {
    for (int k = 0; k < 3 && at > 0 && (s[at] & 0xC0) == 0x80; k++) at--;
    return at;
}

// The length of a prefix of text[0..n) whose encoding begins with more than `need` of the whole
// text's tokens (so truncating either to `need` tokens gives the same result), or n.
static wembed_status truncation_prefix(we_tokenizer *t, const uint8_t *text, size_t n, uint32_t need, size_t *out) {
    we_enc e = { 0 };
    wembed_status rc = WEMBED_STATUS_OK;
    *out = n;
    for (uint64_t len = (uint64_t)need * 16 + 4096 + 2 * WE_WINDOW_MARGIN; len < n; len *= 2) {
        uint32_t first, end, cut = we_utf8_floor(text, (uint32_t)len);
        if ((rc = we_encode_window(t, text, cut, true, false, 0, &e, &first, &end))) break;
        if (end - first > need) {
            *out = cut;
            break;
        }
    }
    we_enc_free(&e);
    return rc;
}

static wembed_status build_result(we_tokenizer *t, const we_enc *e, const input *ia, const input *ib,
                                  wembed_encoding **out) {
    size_t n = e->toks.n;
    const we_etok *et = e->toks.p;
    size_t pool = n;                 // strings + NULs (padding tokens share one pool string)
    for (size_t i = 0; i < n; i++) pool += et[i].str_len;
    size_t sz = sizeof(wembed_encoding) + n * (7 * sizeof(int32_t) + 2 * sizeof(uint32_t) + sizeof(char *)) + pool + 16;
    uint8_t *blk = we_malloc(sz);
    if (!blk) return we_errorf(&t->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    wembed_encoding *r = (wembed_encoding *)blk;
    uint8_t *p = blk + sizeof(wembed_encoding);
    const char **toks = (const char **)p;   p += n * sizeof(char *);
    int32_t *ids = (int32_t *)p;            p += n * sizeof(int32_t);
    int32_t *type_ids = (int32_t *)p;       p += n * sizeof(int32_t);
    int32_t *attn = (int32_t *)p;           p += n * sizeof(int32_t);
    int32_t *special = (int32_t *)p;        p += n * sizeof(int32_t);
    int32_t *words = (int32_t *)p;          p += n * sizeof(int32_t);
    int32_t *seqs = (int32_t *)p;           p += n * sizeof(int32_t);
    int32_t *lens = (int32_t *)p;           p += n * sizeof(int32_t);
    uint32_t *offs = (uint32_t *)p;         p += 2 * n * sizeof(uint32_t);
    char *strs = (char *)p;
    for (size_t i = 0; i < n; i++) {
        ids[i] = et[i].id;
        type_ids[i] = (int32_t)et[i].type_id;
        attn[i] = et[i].attn;
        special[i] = et[i].special;
        words[i] = et[i].word;
        seqs[i] = et[i].seq == 255 ? -1 : et[i].seq;
        uint32_t s = et[i].s, en = et[i].e;
        const input *in = et[i].seq == 1 ? ib : ia;
        if (in && in->map && et[i].seq != 255) {
            s = s <= in->n ? in->map[s] : in->map[in->n];
            en = en <= in->n ? in->map[en] : in->map[in->n];
        }
        offs[2 * i] = s;
        offs[2 * i + 1] = en;
        memcpy(strs, (const char *)e->pool.p + et[i].str_off, et[i].str_len);
        strs[et[i].str_len] = 0;
        toks[i] = strs;
        lens[i] = (int32_t)et[i].str_len;
        strs += et[i].str_len + 1;
    }
    r->n_tokens = (int32_t)n;
    r->ids = ids;
    r->type_ids = type_ids;
    r->attention_mask = attn;
    r->special_tokens_mask = special;
    r->word_ids = words;
    r->sequence_ids = seqs;
    r->offsets = offs;
    r->tokens = toks;
    r->token_lens = lens;
    *out = r;
    return WEMBED_STATUS_OK;
}

static wembed_status encode(wembed_tokenizer *tok, const char *text_a, size_t len_a, const char *text_b,
                            size_t len_b, bool pair, const wembed_tokenize_params *params, wembed_encoding **out) {
    if (out) *out = NULL;
    if (!tok || !out) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_tokenizer *t = &tok->t;
    if (tok->failed) return we_errorf(&t->err, WEMBED_STATUS_INVALID_ARGUMENT, "tokenizer: not loaded (%s)", t->err.msg);
    if ((!text_a && len_a) || (pair && !text_b && len_b))
        return we_errorf(&t->err, WEMBED_STATUS_INVALID_ARGUMENT, "wembed_tokenizer_encode: NULL text");
    wembed_tokenize_params p = params ? *params : wembed_tokenize_default_params();
    if (p.max_length < 0) return we_errorf(&t->err, WEMBED_STATUS_INVALID_ARGUMENT, "wembed_tokenizer_encode: negative max_length");
    if ((unsigned)p.truncation_strategy > WEMBED_TRUNCATION_ONLY_SECOND)
        return we_errorf(&t->err, WEMBED_STATUS_INVALID_ARGUMENT, "wembed_tokenizer_encode: unknown truncation_strategy %d", (int)p.truncation_strategy);
    we_err_clear(&t->err);

    // Truncation and padding: the caller's, or the file's when asked (max_length overrides).
    we_trunc trunc = { 0 };
    we_pad pad = { 0 };
    if (p.use_file_settings) {
        trunc = t->trunc;
        pad = t->pad;
    }
    if (p.max_length > 0) {
        // A length that cannot hold the special tokens is refused: the Rust library computes
        // max_length - n_added in usize, so a release build wraps around and truncates nothing
        // (a debug build panics); either way the result would be longer than asked for. (A
        // tokenizer.json's own max_length keeps that behaviour, for fidelity with the file.)
        uint32_t n_added = p.add_special_tokens ? we_post_added(t->post, pair) : 0;
        if ((uint32_t)p.max_length < n_added)
            return we_errorf(&t->err, WEMBED_STATUS_INVALID_ARGUMENT,
                             "max_length %d is less than the %u special tokens the tokenizer adds: no room for them",
                             (int)p.max_length, (unsigned)n_added);
        // The caller's length; the strategy and side stay the file's when it has them.
        if (!trunc.on) {
            trunc.strategy = p.truncation_strategy == WEMBED_TRUNCATION_ONLY_SECOND ? WE_TRUNC_ONLY_SECOND
                           : p.truncation_strategy == WEMBED_TRUNCATION_ONLY_FIRST ? WE_TRUNC_ONLY_FIRST
                                                                                     : WE_TRUNC_LONGEST_FIRST;
            trunc.left = p.truncation_side == WEMBED_TRUNCATION_LEFT;
        }
        trunc.on = true;
        trunc.max_length = (uint32_t)p.max_length;
    }

    // A single text cut on the right needs only the prefix that holds its kept tokens.
    wembed_status rc;
    uint32_t n_special = p.add_special_tokens ? we_post_added(t->post, false) : 0;
    if (!pair && trunc.on && !trunc.left && trunc.max_length > n_special && len_a > trunc.max_length) {
        size_t cut;
        if ((rc = truncation_prefix(t, (const uint8_t *)text_a, len_a, trunc.max_length - n_special, &cut))) return rc;
        len_a = cut;
    }
    input ia, ib;
    memset(&ib, 0, sizeof ib);
    rc = prepare_input(t, text_a, len_a, &ia);
    if (rc) return rc;
    if (pair && (rc = prepare_input(t, text_b, len_b, &ib))) { free_input(&ia); return rc; }
    we_enc ea = { 0 }, eb = { 0 }, res = { 0 };
    rc = we_encode_sequence(t, ia.s, ia.n, 0, &ea);
    we_bump_reset(&t->work.mem, (size_t)16 << 20);
    if (!rc && pair) {
        rc = we_encode_sequence(t, ib.s, ib.n, 1, &eb);
        we_bump_reset(&t->work.mem, (size_t)16 << 20);
    }
    if (!rc) rc = we_post_process(t, &ea, pair ? &eb : NULL, p.add_special_tokens, &trunc, &pad, ia.s, ia.n,
                                  pair ? ib.s : NULL, pair ? ib.n : 0, &res);
    if (!rc) rc = build_result(t, &res, &ia, pair ? &ib : NULL, out);
    we_enc_free(&ea);
    we_enc_free(&eb);
    we_enc_free(&res);
    free_input(&ia);
    free_input(&ib);
    drop_scratch(t, (size_t)16 << 20);
    return rc;
}

wembed_status wembed_tokenizer_encode(wembed_tokenizer *tok, const char *text, size_t len,
                                      const wembed_tokenize_params *params, wembed_encoding **out_enc) {
    return encode(tok, text, len, NULL, 0, false, params, out_enc);
}

wembed_status wembed_tokenizer_encode_pair(wembed_tokenizer *tok, const char *text_a, size_t len_a,
                                           const char *text_b, size_t len_b,
                                           const wembed_tokenize_params *params, wembed_encoding **out_enc) {
    return encode(tok, text_a, len_a, text_b, len_b, true, params, out_enc);
}

void wembed_encoding_free(wembed_encoding *enc) { we_free(enc); }

wembed_status wembed_encoding_utf16_offsets(const wembed_encoding *enc, const char *text, size_t len,
                                            uint32_t *out) {
    if (!enc || (!text && len) || !out) return WEMBED_STATUS_INVALID_ARGUMENT;
    // u16[b]: UTF-16 units before byte b (bytes inside a char get the char's start).
    uint32_t *u16 = we_malloc((len + 1) * sizeof(uint32_t));
    if (!u16) return WEMBED_STATUS_ALLOC_FAILED;
    const uint8_t *s = (const uint8_t *)text;
    size_t b = 0;
    uint32_t u = 0;
    while (b < len) {
        size_t st = b;
        uint32_t cp = we_utf8_next(s, len, &b);
        for (size_t k = st; k < b; k++) u16[k] = u;
        u += (uint32_t)we_utf16_units(cp);
    }
    u16[len] = u;
    for (int32_t i = 0; i < enc->n_tokens; i++)
        for (int k = 0; k < 2; k++) {
            uint32_t o = enc->offsets[2 * i + k];
            out[2 * i + k] = u16[o <= len ? o : len];
        }
    we_free(u16);
    return WEMBED_STATUS_OK;
}
