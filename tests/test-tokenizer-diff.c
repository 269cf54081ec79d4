// test-tokenizer-diff.c - the differential test: the C tokenizer against the Rust `tokenizers`
// library on thousands of generated strings per tokenizer file.
//
// Runs `node scripts/tokenizer-diff.mjs` (the reference side, npm @anush008/tokenizers, a
// devDependency), which prints one JSON line per (tokenizer, string) with the reference ids,
// tokens and byte offsets; every line is encoded here and compared field by field: plain
// (ids, tokens, offsets), with special tokens (ids, offsets, type ids, special mask),
// truncated to 12 with special tokens (ids), and all-MiniLM-L6-v2 with its own padding and
// truncation (ids, attention mask). Exactness is the bar: any difference fails.
//
// Extra arguments for the script come from WEMBED_TOKENIZER_DIFF_ARGS (e.g. "--random 20000").
// Native builds only: the wasm test runners cannot start a process (the test then passes
// with a note).
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/arena.h"
#include "../src/formats/json.h"
#include "../src/wembed.h"
#include "harness.h"

#if defined(__EMSCRIPTEN__) || defined(__wasi__)
int main(void) {
    printf("tokenizer-diff: skipped (needs a native build to run node)\n");
    return 0;
}
#else

typedef struct stats {
    char name[64];
    long strings, fails;
    int shown;
} stats;

static void print_json_str(const char *s, size_t n) {
    fputc('"', stderr);
    for (size_t i = 0; i < n && i < 300; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(stderr, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) fprintf(stderr, "\\u%04x", c);
        else fputc(c, stderr);
    }
    fputc('"', stderr);
}

static bool int_array_eq(const we_json *a, const int32_t *v, int32_t n) {
    if (!we_json_is(a, WE_JSON_ARRAY) || a->len != (uint32_t)n) return false;
    for (int32_t i = 0; i < n; i++) {
        int64_t x;
        if (!we_json_as_int(we_json_at(a, (size_t)i), &x) || x != v[i]) return false;
    }
    return true;
}

static bool offsets_eq(const we_json *a, const wembed_encoding *e) {
    if (!we_json_is(a, WE_JSON_ARRAY) || a->len != 2u * (uint32_t)e->n_tokens) return false;
    for (int32_t i = 0; i < 2 * e->n_tokens; i++) {
        int64_t x;
        if (!we_json_as_int(we_json_at(a, (size_t)i), &x) || x != (int64_t)e->offsets[i]) return false;
    }
    return true;
}

static void show_enc(const char *what, const wembed_encoding *e) {
    fprintf(stderr, "    %s:", what);
    for (int32_t i = 0; e && i < e->n_tokens && i < 60; i++)
        fprintf(stderr, " %d[%u,%u]", e->ids[i], e->offsets[2 * i], e->offsets[2 * i + 1]);
    fprintf(stderr, "\n");
}

static void show_ref(const char *what, const we_json *ids, const we_json *offs) {
    fprintf(stderr, "    %s:", what);
    for (uint32_t i = 0; ids && i < ids->len && i < 60; i++) {
        int64_t id = 0, s = -1, e = -1;
        we_json_as_int(we_json_at(ids, i), &id);
        if (offs) { we_json_as_int(we_json_at(offs, 2 * i), &s); we_json_as_int(we_json_at(offs, 2 * i + 1), &e); }
        fprintf(stderr, " %lld[%lld,%lld]", (long long)id, (long long)s, (long long)e);
    }
    fprintf(stderr, "\n");
}

static void compare(wembed_tokenizer *tok, const we_json *d, int trunc, stats *st) {
    size_t tn;
    const char *text = we_json_as_str(we_json_get(d, "s"), &tn);
    if (!text) { st->fails++; return; }
    st->strings++;
    wembed_tokenize_params p = wembed_tokenize_default_params();
    wembed_encoding *ep = NULL, *es = NULL, *et = NULL, *ec = NULL;
    const char *what = NULL;

    p.add_special_tokens = false;
    if (wembed_tokenizer_encode(tok, text, tn, &p, &ep)) what = "encode failed";
    if (!what && !int_array_eq(we_json_get(d, "i"), ep->ids, ep->n_tokens)) what = "ids";
    if (!what && !offsets_eq(we_json_get(d, "o"), ep)) what = "offsets";
    if (!what) {
        const we_json *k = we_json_get(d, "k");
        for (int32_t i = 0; i < ep->n_tokens && !what; i++) {
            size_t l;
            const char *t = we_json_as_str(we_json_at(k, (size_t)i), &l);
            if (!t || l != (size_t)ep->token_lens[i] || memcmp(t, ep->tokens[i], l)) what = "tokens";
        }
    }
    p.add_special_tokens = true;
    if (!what && wembed_tokenizer_encode(tok, text, tn, &p, &es)) what = "encode (special) failed";
    if (!what && !int_array_eq(we_json_get(d, "is"), es->ids, es->n_tokens)) what = "ids with special tokens";
    if (!what && !offsets_eq(we_json_get(d, "os"), es)) what = "offsets with special tokens";
    if (!what && !int_array_eq(we_json_get(d, "ts"), es->type_ids, es->n_tokens)) what = "type ids";
    if (!what && !int_array_eq(we_json_get(d, "ms"), es->special_tokens_mask, es->n_tokens)) what = "special tokens mask";
    p.max_length = trunc;
    if (!what && wembed_tokenizer_encode(tok, text, tn, &p, &et)) what = "encode (truncated) failed";
    if (!what && !int_array_eq(we_json_get(d, "it"), et->ids, et->n_tokens)) what = "truncated ids";
    p.max_length = 0;
    if (!what && we_json_get(d, "ic")) {
        p.use_file_settings = true;
        if (wembed_tokenizer_encode(tok, text, tn, &p, &ec)) what = "encode (configured) failed";
        if (!what && !int_array_eq(we_json_get(d, "ic"), ec->ids, ec->n_tokens)) what = "ids as configured";
        if (!what && !int_array_eq(we_json_get(d, "ac"), ec->attention_mask, ec->n_tokens)) what = "attention mask as configured";
        if (!what && we_json_get(d, "tc") && !int_array_eq(we_json_get(d, "tc"), ec->type_ids, ec->n_tokens)) what = "type ids as configured";
        p.use_file_settings = false;
    }
    size_t pn;
    const char *pair = we_json_as_str(we_json_get(d, "p"), &pn);
    wembed_encoding *epair = NULL;
    if (!what && pair) {
        p.max_length = trunc;
        if (wembed_tokenizer_encode_pair(tok, text, tn, pair, pn, &p, &epair)) what = "encode (pair) failed";
        if (!what && !int_array_eq(we_json_get(d, "pi"), epair->ids, epair->n_tokens)) what = "pair ids";
        if (!what && !int_array_eq(we_json_get(d, "pt"), epair->type_ids, epair->n_tokens)) what = "pair type ids";
        if (!what && !offsets_eq(we_json_get(d, "po"), epair)) what = "pair offsets";
        p.max_length = 0;
    }
    if (what) {
        st->fails++;
        if (st->shown++ < 8) {
            fprintf(stderr, "  MISMATCH %s (%s): ", st->name, what);
            print_json_str(text, tn);
            fprintf(stderr, "\n");
            show_ref("want", we_json_get(d, "i"), we_json_get(d, "o"));
            show_enc("got ", ep);
            if (es) { show_ref("want special", we_json_get(d, "is"), we_json_get(d, "os")); show_enc("got  special", es); }
            if (et) { show_ref("want trunc", we_json_get(d, "it"), NULL); show_enc("got  trunc", et); }
            if (ec) { show_ref("want conf", we_json_get(d, "ic"), NULL); show_enc("got  conf", ec); }
            if (epair) { show_ref("want pair", we_json_get(d, "pi"), we_json_get(d, "po")); show_enc("got  pair", epair); }
        }
    }
    wembed_encoding_free(ep);
    wembed_encoding_free(es);
    wembed_encoding_free(et);
    wembed_encoding_free(ec);
    wembed_encoding_free(epair);
}

int main(void) {
    // The repository root is two levels above tests/data.
    char cmd[2048];
    const char *extra = getenv("WEMBED_TOKENIZER_DIFF_ARGS");
    snprintf(cmd, sizeof cmd, "node --expose-gc \"%s/../../scripts/tokenizer-diff.mjs\" %s", WEMBED_TEST_DATA, extra ? extra : "");
    FILE *f = popen(cmd, "r");
    if (!CHECKF(f != NULL, "cannot run %s", cmd)) return we_test_finish("tokenizer-diff");

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    wembed_tokenizer *tok = NULL;
    int trunc = 12;
    stats all[32];
    int n_stats = 0;
    stats *st = NULL;
    we_arena a;
    we_arena_init(&a, 0);
    while ((len = getline(&line, &cap, f)) > 0) {
        const we_json *d = NULL;
        we_err err = { { 0 } };
        we_arena_free(&a);
        if (!CHECKF(we_json_parse(&a, line, (size_t)len, NULL, &d, &err) == WEMBED_STATUS_OK, "bad line: %s", err.msg)) break;
        const char *name = we_json_as_str(we_json_get(d, "tokenizer"), NULL);
        if (name) {
            wembed_tokenizer_free(tok);
            tok = NULL;
            char rel[256];
            snprintf(rel, sizeof rel, "tokenizers/%s/tokenizer.json", name);
            size_t n;
            const char *inline_json = we_json_as_str(we_json_get(d, "json"), &n);   // variants
            uint8_t *json = inline_json ? NULL : we_test_read_data(rel, &n);
            CHECKF(json || inline_json, "read %s", rel);
            if ((json || inline_json) && wembed_tokenizer_load(inline_json ? (const void *)inline_json : json, n, &tok) != WEMBED_STATUS_OK) {
                CHECKF(false, "load %s: %s", name, wembed_tokenizer_last_error(tok));
                wembed_tokenizer_free(tok);
                tok = NULL;
            }
            free(json);
            int64_t t;
            if (we_json_as_int(we_json_get(d, "trunc"), &t)) trunc = (int)t;
            if (n_stats < 32) {
                st = &all[n_stats++];
                memset(st, 0, sizeof *st);
                snprintf(st->name, sizeof st->name, "%s", name);
            }
            continue;
        }
        if (tok && st) compare(tok, d, trunc, st);
    }
    we_arena_free(&a);
    free(line);
    int rc = pclose(f);
    CHECKF(rc == 0, "the reference script failed (exit %d): is node_modules/@anush008/tokenizers installed (npm install)?", rc);
    wembed_tokenizer_free(tok);
    long total = 0;
    for (int i = 0; i < n_stats; i++) {
        printf("%-24s %6ld strings compared, %ld differ\n", all[i].name, all[i].strings, all[i].fails);
        CHECKF(all[i].fails == 0, "%s: %ld of %ld strings differ from the Rust library", all[i].name, all[i].fails, all[i].strings);
        CHECKF(all[i].strings > 0, "%s: no strings", all[i].name);
        total += all[i].strings;
    }
    // 7 real files, the XLM-R-shaped one and 14 variants (one with --only NAME)
    CHECKF(n_stats >= (extra && strstr(extra, "--only") ? 1 : 22), "expected 8 tokenizer files and 14 variants, got %d", n_stats);
    printf("total: %ld strings\n", total);
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("tokenizer-diff");
}
#endif
