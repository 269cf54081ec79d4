// fuzz-tokenizer-encode.c - libFuzzer target for the encoder: any bytes through the five real
// tokenizer files (WordPiece x3, byte-level BPE, Unigram with a Precompiled charsmap).
//
// Input: byte 0 picks the tokenizer, byte 1 the options (special tokens, max_length, the
// file's own settings, a pair split at the first 0xFF, left truncation), the rest is the
// text: any bytes, invalid UTF-8 included. Every encoding must keep its invariants: offsets
// inside the text they refer to, ids inside the vocabulary, the length limit kept, and the
// same ids for the raw text and its TextDecoder repair. Nothing may leak.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/common.h"
#include "../src/core/utf8.h"
#include "../src/tokenizer/tok.h"
#include "../src/wembed.h"

static const char *const NAMES[] = { "bge-small-en-v1.5", "all-MiniLM-L6-v2", "bge-small-zh-v1.5",
                                     "clip-vit-base-patch32", "t5-small" };
#define N_TOK (sizeof NAMES / sizeof NAMES[0])
static wembed_tokenizer *toks[N_TOK];

// tests/data/tokenizers, found from this file's path (the fuzz targets get no WEMBED_TEST_DATA).
static void load_all(void) {
    static int done = 0;
    if (done) return;
    done = 1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    for (size_t i = 0; i < N_TOK; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/data/tokenizers/%s/tokenizer.json", dir, NAMES[i]);
        FILE *f = fopen(path, "rb");
        if (!f) { fprintf(stderr, "cannot open %s\n", path); abort(); }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)n);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) abort();
        fclose(f);
        if (wembed_tokenizer_load(buf, (size_t)n, &toks[i]) != WEMBED_STATUS_OK) {
            fprintf(stderr, "load %s: %s\n", path, wembed_tokenizer_last_error(toks[i]));
            abort();
        }
        free(buf);
    }
}

static void check(const wembed_encoding *e, size_t len_a, size_t len_b, int32_t vocab) {
    for (int32_t i = 0; i < e->n_tokens; i++) {
        size_t len = e->sequence_ids[i] == 1 ? len_b : len_a;
        if (e->offsets[2 * i] > e->offsets[2 * i + 1] || e->offsets[2 * i + 1] > len) __builtin_trap();
        if (e->ids[i] < 0 || e->ids[i] >= vocab) __builtin_trap();
        if ((int32_t)strlen(e->tokens[i]) > e->token_lens[i]) __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    load_all();
    if (size < 2) return 0;
    int64_t live = we_alloc_live();
    wembed_tokenizer *tok = toks[data[0] % N_TOK];
    uint8_t o = data[1];
    static const int32_t max_lens[8] = { 0, 1, 2, 3, 5, 8, 16, 64 };
    wembed_tokenize_params p = wembed_tokenize_default_params();
    p.add_special_tokens = o & 1;
    p.max_length = max_lens[(o >> 1) & 7];
    p.use_file_settings = (o >> 4) & 1;
    p.truncation_side = (o >> 6) & 1 ? WEMBED_TRUNCATION_LEFT : WEMBED_TRUNCATION_RIGHT;
    const char *text = (const char *)data + 2;
    size_t n = size - 2, nb = 0;
    const char *b = NULL;
    if ((o >> 5) & 1) {
        const char *sep = memchr(text, 0xFF, n);
        if (sep) {
            b = sep + 1;
            nb = n - (size_t)(b - text);
            n = (size_t)(sep - text);
        }
    }
    int32_t vocab = wembed_tokenizer_vocab_size(tok);
    wembed_encoding *e = NULL;
    wembed_status rc = b ? wembed_tokenizer_encode_pair(tok, text, n, b, nb, &p, &e)
                         : wembed_tokenizer_encode(tok, text, n, &p, &e);
    // A max_length below the special tokens the post-processor adds is refused (at most 4 here).
    bool short_max = p.max_length > 0 && p.max_length < 4 && p.add_special_tokens;
    if (rc != WEMBED_STATUS_OK) {
        if (rc != WEMBED_STATUS_ALLOC_FAILED && rc != WEMBED_STATUS_TOO_LONG && !(rc == WEMBED_STATUS_INVALID_ARGUMENT && short_max)) { fprintf(stderr, "status %d: %s\n", (int)rc, wembed_tokenizer_last_error(tok)); __builtin_trap(); }
    } else {
        check(e, n, nb, vocab);
        // A length limit is kept, whatever it is (one below the special tokens is refused
        // above); the file's own padding may add tokens after it, so only without use_file_settings.
        if (p.max_length > 0 && !p.use_file_settings && e->n_tokens > p.max_length) __builtin_trap();
        // Raw bytes and their TextDecoder repair give the same ids.
        if (!b && !we_utf8_valid((const uint8_t *)text, n)) {
            size_t fl = we_utf8_sanitized_len((const uint8_t *)text, n);
            char *fixed = malloc(fl + 1);
            if (fixed) {
                we_utf8_sanitize((uint8_t *)fixed, (const uint8_t *)text, n);
                wembed_encoding *f = NULL;
                if (wembed_tokenizer_encode(tok, fixed, fl, &p, &f) == WEMBED_STATUS_OK) {
                    if (f->n_tokens != e->n_tokens) __builtin_trap();
                    for (int32_t i = 0; i < f->n_tokens; i++)
                        if (f->ids[i] != e->ids[i]) __builtin_trap();
                }
                wembed_encoding_free(f);
                free(fixed);
            }
        }
        wembed_encoding_free(e);
    }
    // A window of the text (as long texts are read): ids of the vocabulary, an end inside it.
    {
        const int32_t *ids;
        uint32_t nw, last_end;
        size_t cut;
        rc = we_tokenizer_window(tok, (const uint8_t *)text, (uint32_t)n, o & 1, (o >> 1) & 1, o % (uint32_t)(n + 1), &ids, &nw, &last_end);
        if (rc != WEMBED_STATUS_OK && rc != WEMBED_STATUS_ALLOC_FAILED && rc != WEMBED_STATUS_TOO_LONG) __builtin_trap();
        for (uint32_t i = 0; !rc && i < nw; i++)
            if (ids[i] < 0 || ids[i] >= vocab) __builtin_trap();
        if (!rc && last_end > n) __builtin_trap();
        if (we_tokenizer_truncation_prefix(tok, text, n, p.max_length, p.add_special_tokens, &cut) == WEMBED_STATUS_OK && cut > n)
            __builtin_trap();
    }
    we_tokenizer_drop_scratch(tok);     // the work buffers a handle keeps between calls
    if (we_alloc_live() != live) { fprintf(stderr, "leak: %lld\n", (long long)(we_alloc_live() - live)); __builtin_trap(); }
    return 0;
}
