// fuzz-tokenizer-load.c - libFuzzer target for the tokenizer.json reader and the regex subset.
//
// An input starting with '{' is a tokenizer.json: it must load or be refused with a status
// and a message; a loaded tokenizer then encodes a few texts (and the input itself), and
// every encoding must keep its invariants. Any other input is "pattern\ntext" for the regex
// compiler and matcher: matches must be ordered, on char boundaries and cover the text.
// Nothing may leak (checked after every input).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/arena.h"
#include "../src/core/common.h"
#include "../src/core/utf8.h"
#include "../src/tokenizer/tok.h"
#include "../src/wembed.h"

static void check_encoding(const wembed_encoding *e, size_t len, int32_t vocab) {
    if (e->n_tokens < 0) __builtin_trap();
    for (int32_t i = 0; i < e->n_tokens; i++) {
        if (e->offsets[2 * i] > e->offsets[2 * i + 1] || e->offsets[2 * i + 1] > len) __builtin_trap();
        if (e->ids[i] < 0 || (vocab > 0 && e->ids[i] >= vocab && !e->special_tokens_mask[i])) __builtin_trap();
        if (!e->tokens[i] || e->token_lens[i] < 0) __builtin_trap();
    }
}

static void fuzz_json(const uint8_t *data, size_t size) {
    wembed_tokenizer *tok = NULL;
    wembed_status rc = wembed_tokenizer_load(data, size, &tok);
    if (rc != WEMBED_STATUS_OK) {
        if (!wembed_tokenizer_last_error(tok)[0] && rc != WEMBED_STATUS_ALLOC_FAILED) __builtin_trap();
        wembed_tokenizer_free(tok);
        return;
    }
    static const char *texts[] = { "", "Hello world!", "  caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x94\xac [CLS] <s>",
                                   "a\xff\xfe b\xc3", "1234567890 x\ty\nz" };
    int32_t vocab = wembed_tokenizer_vocab_size(tok);
    for (size_t i = 0; i <= sizeof texts / sizeof texts[0]; i++) {
        const char *t = i < sizeof texts / sizeof texts[0] ? texts[i] : (const char *)data;
        size_t n = i < sizeof texts / sizeof texts[0] ? strlen(t) : (size < 256 ? size : 256);
        for (int mode = 0; mode < 3; mode++) {
            wembed_tokenize_params p = wembed_tokenize_default_params();
            p.add_special_tokens = mode != 0;
            p.use_file_settings = mode == 2;
            p.max_length = mode == 2 ? 7 : 0;
            wembed_encoding *e = NULL;
            rc = wembed_tokenizer_encode(tok, t, n, &p, &e);
            if (rc == WEMBED_STATUS_OK) {
                check_encoding(e, n, vocab + 1024);
                wembed_encoding_free(e);
            } else if (!wembed_tokenizer_last_error(tok)[0] || e) {
                __builtin_trap();
            }
        }
    }
    wembed_tokenizer_free(tok);
}

static void fuzz_regex(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    const uint8_t *text = nl ? nl + 1 : data + size;
    size_t tlen = nl ? size - plen - 1 : 0;
    we_arena a;
    we_arena_init(&a, 0);
    we_err err = { { 0 } };
    we_regex *re = NULL;
    if (we_regex_compile(&a, (const char *)data, plen, &re, &err) == WEMBED_STATUS_OK && we_utf8_valid(text, tlen) && tlen < (1u << 20)) {
        we_work w;
        memset(&w, 0, sizeof w);
        w.err = &err;
        if (we_regex_find_matches(&w, re, text, (uint32_t)tlen) == WEMBED_STATUS_OK) {
            const we_match *m = w.matches.p;
            uint32_t pos = 0;
            for (size_t i = 0; i < w.matches.n; i++) {
                if (m[i].s != pos || m[i].e < m[i].s || m[i].e > tlen) __builtin_trap();
                if (m[i].s < tlen && (text[m[i].s] & 0xC0) == 0x80) __builtin_trap();
                if (m[i].e < tlen && (text[m[i].e] & 0xC0) == 0x80) __builtin_trap();
                pos = m[i].e;
            }
            if (pos != tlen) __builtin_trap();
        }
        we_buf_free(&w.matches);
        we_buf_free(&w.re_threads);
    } else if (!err.msg[0] && re == NULL && plen > 0 && !we_utf8_valid(data, plen)) {
        // invalid UTF-8 patterns are refused with a message too
    }
    we_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t live = we_alloc_live();
    if (size > 0 && data[0] == '{') fuzz_json(data, size);
    else fuzz_regex(data, size);
    if (we_alloc_live() != live) __builtin_trap();
    return 0;
}
