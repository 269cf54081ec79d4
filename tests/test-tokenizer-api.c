// test-tokenizer-api.c - the tokenizer's API contract, without the reference library: invalid
// UTF-8 (replaced as TextDecoder does, offsets in the caller's bytes), UTF-16 offsets, special
// ids and vocabulary queries, pair truncation strategies, load errors that name what is wrong, the regex subset, and
// clean failure with no leak when any allocation fails.
#include <stdlib.h>
#include <string.h>

#include "../src/core/common.h"
#include "../src/formats/json.h"
#include "../src/tokenizer/tok.h"
#include "../src/wembed.h"
#include "harness.h"

static wembed_tokenizer *load_file(const char *rel) {
    size_t n;
    uint8_t *json = we_test_read_file(we_test_data_path(rel), &n);
    if (!CHECKF(json != NULL, "read %s", rel)) return NULL;
    wembed_tokenizer *tok = NULL;
    wembed_status rc = wembed_tokenizer_load(json, n, &tok);
    CHECKF(rc == WEMBED_STATUS_OK, "load %s: %s", rel, wembed_tokenizer_last_error(tok));
    free(json);
    if (rc) { wembed_tokenizer_free(tok); return NULL; }
    return tok;
}

static wembed_encoding *enc(wembed_tokenizer *tok, const char *s, size_t n, bool special) {
    wembed_tokenize_params p = wembed_tokenize_default_params();
    p.add_special_tokens = special;
    wembed_encoding *e = NULL;
    CHECK(wembed_tokenizer_encode(tok, s, n, &p, &e) == WEMBED_STATUS_OK);
    return e;
}

// -----------------------------------------------------------------------------------------

static void test_invalid_utf8(void) {
    const char *files[] = { "tokenizers/bge-small-en-v1.5/tokenizer.json", "tokenizers/clip-vit-base-patch32/tokenizer.json",
                            "tokenizers/t5-small/tokenizer.json" };
    // Raw bytes and the same text as TextDecoder gives it (each maximal ill-formed subpart -> U+FFFD).
    static const struct { const char *raw; size_t raw_len; const char *fixed; } cases[] = {
        { "a\xff" "b", 3, "a\xef\xbf\xbd" "b" },
        { "caf\xc3", 4, "caf\xef\xbf\xbd" },
        { "x\xe2\x82 y", 5, "x\xef\xbf\xbd y" },
        { "\xf0\x9f\x98 ok \xed\xa0\x80!", 11, "\xef\xbf\xbd ok \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!" },
        { "\xc0\xaf word \x80\x80", 10, "\xef\xbf\xbd\xef\xbf\xbd word \xef\xbf\xbd\xef\xbf\xbd" },
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        wembed_tokenizer *tok = load_file(files[f]);
        if (!tok) continue;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            wembed_encoding *a = enc(tok, cases[i].raw, cases[i].raw_len, true);
            wembed_encoding *b = enc(tok, cases[i].fixed, strlen(cases[i].fixed), true);
            if (!a || !b) { wembed_encoding_free(a); wembed_encoding_free(b); continue; }
            CHECKF(a->n_tokens == b->n_tokens, "%s case %zu: token count", files[f], i);
            for (int32_t k = 0; k < a->n_tokens && k < b->n_tokens; k++) {
                CHECKF(a->ids[k] == b->ids[k], "%s case %zu: id %d", files[f], i, k);
                // Offsets land inside the raw bytes, never past them.
                CHECKF(a->offsets[2 * k] <= a->offsets[2 * k + 1] && a->offsets[2 * k + 1] <= cases[i].raw_len,
                       "%s case %zu: offsets [%u,%u) outside %zu bytes", files[f], i, a->offsets[2 * k], a->offsets[2 * k + 1],
                       cases[i].raw_len);
            }
            wembed_encoding_free(a);
            wembed_encoding_free(b);
        }
        wembed_tokenizer_free(tok);
    }
    // A concrete mapping: BERT drops U+FFFD, so "a\xffb" is one word "ab" covering raw [0, 3).
    wembed_tokenizer *tok = load_file(files[0]);
    if (tok) {
        wembed_encoding *e = enc(tok, "a\xff" "b c", 5, false);
        if (e && CHECK_EQ_INT(e->n_tokens, 2)) {
            CHECK(strcmp(e->tokens[0], "ab") == 0);
            CHECK_EQ_INT(e->offsets[0], 0);
            CHECK_EQ_INT(e->offsets[1], 3);
            CHECK_EQ_INT(e->offsets[2], 4);
            CHECK_EQ_INT(e->offsets[3], 5);
        }
        wembed_encoding_free(e);
        wembed_tokenizer_free(tok);
    }
}

static void test_utf16_offsets(void) {
    wembed_tokenizer *tok = load_file("tokenizers/bge-small-en-v1.5/tokenizer.json");
    if (!tok) return;
    const char *s = "\xf0\x9f\x98\x80 caf\xc3\xa9 \xe4\xb8\xad";   // U+1F600 (2 units), "café", U+4E2D
    wembed_encoding *e = enc(tok, s, strlen(s), true);
    uint32_t u16[64];
    if (e && CHECK(e->n_tokens <= 32) && CHECK(wembed_encoding_utf16_offsets(e, s, strlen(s), u16) == WEMBED_STATUS_OK)) {
        // [CLS] [UNK](😀) cafe 中 [SEP]
        CHECK_EQ_INT(e->n_tokens, 5);
        CHECK_EQ_INT(u16[2], 0);  CHECK_EQ_INT(u16[3], 2);
        CHECK_EQ_INT(u16[4], 3);  CHECK_EQ_INT(u16[5], 7);
        CHECK_EQ_INT(u16[6], 8);  CHECK_EQ_INT(u16[7], 9);
        CHECK_EQ_INT(u16[0], 0);  CHECK_EQ_INT(u16[1], 0);
    }
    wembed_encoding_free(e);
    wembed_tokenizer_free(tok);
}

// Pairs (cross-encoders): the pair template's type ids and sequence ids, and the truncation
// strategies, only_second above all (the query is never cut). The ids themselves are compared
// with the Rust library in tests/js/rerank.test.js and scripts/tokenizer-diff.mjs.
static void test_pair_truncation(void) {
    wembed_tokenizer *tok = load_file("tokenizers/bge-small-en-v1.5/tokenizer.json");
    if (!tok) return;
    const char *q = "what is a small cat", *d = "cats are small animals that purr and sleep all day long";
    wembed_tokenize_params p = wembed_tokenize_default_params();
    wembed_encoding *full = NULL, *cut = NULL, *first = NULL, *e = NULL;
    CHECK(wembed_tokenizer_encode_pair(tok, q, strlen(q), d, strlen(d), &p, &full) == WEMBED_STATUS_OK);
    p.max_length = 12;
    p.truncation_strategy = WEMBED_TRUNCATION_ONLY_SECOND;
    CHECK(wembed_tokenizer_encode_pair(tok, q, strlen(q), d, strlen(d), &p, &cut) == WEMBED_STATUS_OK);
    p.truncation_strategy = WEMBED_TRUNCATION_ONLY_FIRST;
    p.max_length = full ? full->n_tokens - 2 : 0;
    CHECK(wembed_tokenizer_encode_pair(tok, q, strlen(q), d, strlen(d), &p, &first) == WEMBED_STATUS_OK);
    if (full && cut && first) {
        // [CLS] q(5) [SEP] d [SEP]: the query and its [SEP] keep type 0, the passage type 1
        CHECK_EQ_INT(cut->n_tokens, 12);
        int32_t n_q = 0, n_d = 0;
        for (int32_t i = 0; i < cut->n_tokens; i++) {
            n_q += cut->sequence_ids[i] == 0;
            n_d += cut->sequence_ids[i] == 1;
            CHECK_EQ_INT(cut->type_ids[i], i <= 6 ? 0 : 1);
            if (i < 7) CHECK_EQ_INT(cut->ids[i], full->ids[i]);   // the query is whole
        }
        CHECK_EQ_INT(n_q, 5);
        CHECK_EQ_INT(n_d, 12 - 5 - 3);
        CHECK_EQ_INT(cut->ids[11], full->ids[full->n_tokens - 1]);   // the closing [SEP] stays
        // only_first: two query tokens go, the passage is whole
        int32_t q_first = 0;
        for (int32_t i = 0; i < first->n_tokens; i++) q_first += first->sequence_ids[i] == 0;
        CHECK_EQ_INT(q_first, 3);
    }
    // A query that alone does not fit: TOO_LONG, not a cut query.
    p.truncation_strategy = WEMBED_TRUNCATION_ONLY_SECOND;
    p.max_length = 6;
    CHECK(wembed_tokenizer_encode_pair(tok, q, strlen(q), d, strlen(d), &p, &e) == WEMBED_STATUS_TOO_LONG);
    CHECK(e == NULL);
    // only_second on a single text is an error (as in the Rust library); an unknown strategy too.
    p.max_length = 3;
    CHECK(wembed_tokenizer_encode(tok, d, strlen(d), &p, &e) == WEMBED_STATUS_INVALID_ARGUMENT);
    p.truncation_strategy = (wembed_truncation_strategy)7;
    CHECK(wembed_tokenizer_encode(tok, d, strlen(d), &p, &e) == WEMBED_STATUS_INVALID_ARGUMENT);
    wembed_encoding_free(full);
    wembed_encoding_free(cut);
    wembed_encoding_free(first);
    wembed_tokenizer_free(tok);
}

static void test_queries(void) {
    wembed_tokenizer *b = load_file("tokenizers/bge-small-en-v1.5/tokenizer.json");
    wembed_tokenizer *m = load_file("tokenizers/all-MiniLM-L6-v2/tokenizer.json");
    wembed_tokenizer *c = load_file("tokenizers/clip-vit-base-patch32/tokenizer.json");
    wembed_tokenizer *t = load_file("tokenizers/t5-small/tokenizer.json");
    if (b) {
        CHECK_EQ_INT(wembed_tokenizer_vocab_size(b), 30522);
        CHECK_EQ_INT(wembed_tokenizer_special_id(b, WEMBED_SPECIAL_UNK), 100);
        CHECK_EQ_INT(wembed_tokenizer_special_id(b, WEMBED_SPECIAL_CLS), 101);
        CHECK_EQ_INT(wembed_tokenizer_special_id(b, WEMBED_SPECIAL_SEP), 102);
        CHECK_EQ_INT(wembed_tokenizer_special_id(b, WEMBED_SPECIAL_PAD), 0);
        CHECK_EQ_INT(wembed_tokenizer_special_id(b, WEMBED_SPECIAL_MASK), 103);
        CHECK_EQ_INT(wembed_tokenizer_max_length(b), 0);
        CHECK(strcmp(wembed_tokenizer_id_to_token(b, 7592), "hello") == 0);
        CHECK(strcmp(wembed_tokenizer_id_to_token(b, 101), "[CLS]") == 0);
        CHECK(wembed_tokenizer_id_to_token(b, 30522) == NULL);
        CHECK(wembed_tokenizer_id_to_token(b, -1) == NULL);
        CHECK_EQ_INT(wembed_tokenizer_token_to_id(b, "##ing", 5), 2075);
        CHECK_EQ_INT(wembed_tokenizer_token_to_id(b, "not-a-token", 11), -1);
    }
    if (m) {
        CHECK_EQ_INT(wembed_tokenizer_max_length(m), 128);
        // The file's padding: 128 tokens only when asked.
        wembed_tokenize_params p = wembed_tokenize_default_params();
        wembed_encoding *e = NULL;
        CHECK(wembed_tokenizer_encode(m, "hello", 5, &p, &e) == WEMBED_STATUS_OK);
        if (e) CHECK_EQ_INT(e->n_tokens, 3);
        wembed_encoding_free(e);
        p.use_file_settings = true;
        CHECK(wembed_tokenizer_encode(m, "hello", 5, &p, &e) == WEMBED_STATUS_OK);
        if (e) {
            CHECK_EQ_INT(e->n_tokens, 128);
            CHECK_EQ_INT(e->attention_mask[2], 1);
            CHECK_EQ_INT(e->attention_mask[3], 0);
            CHECK_EQ_INT(e->special_tokens_mask[3], 1);
            CHECK_EQ_INT(e->ids[127], 0);
            CHECK(strcmp(e->tokens[127], "[PAD]") == 0);
        }
        wembed_encoding_free(e);
        // max_length overrides the file's 128.
        p.max_length = 4;
        CHECK(wembed_tokenizer_encode(m, "a b c d e f", 11, &p, &e) == WEMBED_STATUS_OK);
        if (e) {
            CHECK_EQ_INT(e->n_tokens, 128);
            CHECK_EQ_INT(e->ids[0], 101);
            CHECK_EQ_INT(e->ids[3], 102);
            CHECK_EQ_INT(e->attention_mask[4], 0);
        }
        wembed_encoding_free(e);
    }
    if (c) {
        CHECK_EQ_INT(wembed_tokenizer_vocab_size(c), 49408);
        CHECK_EQ_INT(wembed_tokenizer_special_id(c, WEMBED_SPECIAL_BOS), 49406);
        CHECK_EQ_INT(wembed_tokenizer_special_id(c, WEMBED_SPECIAL_EOS), 49407);
        CHECK_EQ_INT(wembed_tokenizer_special_id(c, WEMBED_SPECIAL_UNK), 49407);
        CHECK_EQ_INT(wembed_tokenizer_special_id(c, WEMBED_SPECIAL_PAD), -1);
        // Left truncation keeps the end.
        wembed_tokenize_params p = wembed_tokenize_default_params();
        p.max_length = 4;
        p.truncation_side = WEMBED_TRUNCATION_LEFT;
        wembed_encoding *e = NULL;
        CHECK(wembed_tokenizer_encode(c, "one two three four", 18, &p, &e) == WEMBED_STATUS_OK);
        if (e && CHECK_EQ_INT(e->n_tokens, 4)) {
            CHECK(strcmp(e->tokens[1], "three</w>") == 0);
            CHECK(strcmp(e->tokens[2], "four</w>") == 0);
        }
        wembed_encoding_free(e);
    }
    if (t) {
        CHECK_EQ_INT(wembed_tokenizer_vocab_size(t), 32100);
        CHECK_EQ_INT(wembed_tokenizer_special_id(t, WEMBED_SPECIAL_UNK), 2);
        CHECK_EQ_INT(wembed_tokenizer_special_id(t, WEMBED_SPECIAL_EOS), 1);
        CHECK_EQ_INT(wembed_tokenizer_special_id(t, WEMBED_SPECIAL_BOS), -1);
        CHECK_EQ_INT(wembed_tokenizer_special_id(t, WEMBED_SPECIAL_PAD), 0);
        CHECK(strcmp(wembed_tokenizer_id_to_token(t, 32099), "<extra_id_0>") == 0);
    }
    // NULL handles and arguments.
    CHECK_EQ_INT(wembed_tokenizer_vocab_size(NULL), 0);
    CHECK(wembed_tokenizer_id_to_token(NULL, 1) == NULL);
    CHECK_EQ_INT(wembed_tokenizer_special_id(NULL, WEMBED_SPECIAL_UNK), -1);
    wembed_encoding *e = NULL;
    CHECK(wembed_tokenizer_encode(NULL, "x", 1, NULL, &e) == WEMBED_STATUS_INVALID_ARGUMENT);
    if (b) {
        CHECK(wembed_tokenizer_encode(b, NULL, 3, NULL, &e) == WEMBED_STATUS_INVALID_ARGUMENT);
        CHECK(e == NULL);
        CHECK(wembed_tokenizer_encode(b, NULL, 0, NULL, &e) == WEMBED_STATUS_OK);   // empty text
        if (e) CHECK_EQ_INT(e->n_tokens, 2);
        wembed_encoding_free(e);
    }
    wembed_tokenizer_free(b);
    wembed_tokenizer_free(m);
    wembed_tokenizer_free(c);
    wembed_tokenizer_free(t);
}

// -----------------------------------------------------------------------------------------

static void expect_load_error(const char *json, wembed_status want, const char *needle) {
    wembed_tokenizer *tok = NULL;
    wembed_status rc = wembed_tokenizer_load(json, strlen(json), &tok);
    const char *msg = wembed_tokenizer_last_error(tok);
    CHECKF(rc == want, "load of %.60s: status %d, want %d (%s)", json, (int)rc, (int)want, msg);
    CHECKF(strstr(msg, needle) != NULL, "error \"%s\" should mention \"%s\"", msg, needle);
    wembed_encoding *e = NULL;
    if (tok) CHECK(wembed_tokenizer_encode(tok, "x", 1, NULL, &e) == WEMBED_STATUS_INVALID_ARGUMENT);
    wembed_tokenizer_free(tok);
}

#define WL_MODEL "\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0,\"[UNK]\":1},\"unk_token\":\"[UNK]\"}"

static void test_load_errors(void) {
    expect_load_error("{", WEMBED_STATUS_BAD_FORMAT, "tokenizer.json");
    expect_load_error("[]", WEMBED_STATUS_BAD_FORMAT, "not a JSON object");
    expect_load_error("{\"model\":{\"type\":\"Magic\"}}", WEMBED_STATUS_UNSUPPORTED, "Magic");
    expect_load_error("{" WL_MODEL ",\"normalizer\":{\"type\":\"Shout\"}}", WEMBED_STATUS_UNSUPPORTED, "Shout");
    expect_load_error("{" WL_MODEL ",\"pre_tokenizer\":{\"type\":\"UnicodeScripts\"}}", WEMBED_STATUS_UNSUPPORTED, "UnicodeScripts");
    // (?i: ) is supported over ASCII literals only; what Oniguruma would fold further is refused.
    static const struct { const char *re, *needle; } icase[] = {
        { "(?i)ab", "inline options" }, { "(?i:[a-z])", "class under (?i)" }, { "(?i:\\\\w)", "class under (?i)" },
        { "(?i:\u00e9)", "non-ASCII literal" }, { "(?i:'st)", "multi-char case fold" }, { "x(?i:S)s", "" },
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(icase); i++) {
        char json[512];
        snprintf(json, sizeof json, "{" WL_MODEL ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"%s\"},\"behavior\":\"Isolated\",\"invert\":false}}", icase[i].re);
        if (icase[i].needle[0]) {
            expect_load_error(json, WEMBED_STATUS_UNSUPPORTED, icase[i].needle);
        } else {   // a fold pair across the group's end is no pair inside it
            wembed_tokenizer *t = NULL;
            CHECKF(wembed_tokenizer_load(json, strlen(json), &t) == WEMBED_STATUS_OK, "%s: %s", icase[i].re, wembed_tokenizer_last_error(t));
            wembed_tokenizer_free(t);
        }
    }
    expect_load_error("{" WL_MODEL ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?<=a)b\"},\"behavior\":\"Isolated\",\"invert\":false}}",
                      WEMBED_STATUS_UNSUPPORTED, "lookbehind");
    expect_load_error("{" WL_MODEL ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\p{Han}+\"},\"behavior\":\"Isolated\",\"invert\":false}}",
                      WEMBED_STATUS_UNSUPPORTED, "property");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\"]}}", WEMBED_STATUS_BAD_FORMAT,
                      "not in the vocabulary");
    expect_load_error("{\"model\":{\"type\":\"Unigram\",\"unk_id\":5,\"vocab\":[[\"a\",-1.0]]}}", WEMBED_STATUS_BAD_FORMAT, "unk_id");
    expect_load_error("{" WL_MODEL ",\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"@@@@\"}}",
                      WEMBED_STATUS_BAD_FORMAT, "base64");
    expect_load_error("{" WL_MODEL ",\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"[X]\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{}}}",
                      WEMBED_STATUS_BAD_FORMAT, "unknown special token");
    wembed_tokenizer *tok = NULL;
    CHECK(wembed_tokenizer_load(NULL, 0, &tok) == WEMBED_STATUS_INVALID_ARGUMENT);
    wembed_tokenizer_free(tok);
    CHECK(wembed_tokenizer_load("{}", 2, NULL) == WEMBED_STATUS_INVALID_ARGUMENT);
}

// -----------------------------------------------------------------------------------------
// The regex subset, with Oniguruma's leftmost-first answers worked out by hand.

static void test_regex(void) {
    static const struct { const char *re, *text; const char *want; } cases[] = {
        // "want": the matches as "s-e,s-e,..."
        { "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "I'll go  now!!  ", "0-1,1-4,4-7,7-8,8-12,12-14,14-16" },
        { "a+?", "aaa", "0-1,1-2,2-3" },
        // (?i: ) as Llama 3 and Qwen2/3 use it; s and k fold with U+017F and U+212A too (Oniguruma).
        { "(?i:'s|'t|'re|'ve|'m|'ll|'d)|\\p{L}+", "'S 's '\xc5\xbf 'T 'Re 'LL 'x", "0-2,3-5,6-9,10-12,13-16,17-20,22-23" },
        { "(?i:k)+", "kK\xe2\x84\xaaKx", "0-6" },
        { "a{2,3}", "aaaaaaa", "0-3,3-6" },
        { "a{2}b?", "aab aa", "0-3,4-6" },
        { "x*", "axx", "0-0,1-3" },        // onig: no empty match right where a match ended
        { "^ab|cd$", "ab\nabcd\ncd", "0-2,3-5,5-7,8-10" },
        { "\\Aa|b\\z", "aab ab", "0-1,5-6" },
        { "[^a-c\\d]+", "abcxyz123def", "3-6,9-12" },
        { "[\\p{Lu}\\p{Nd}]+", "abCD12ef", "2-6" },
        { "\\P{L}+", "ab12!?cd", "2-6" },
        { "(?:ab)+|a", "ababa", "0-4,4-5" },
        { "\\w+", "h\xc3\xa9llo_1 \xe2\x85\xa0", "0-8,9-12" },     // onig \w: letters, marks, numbers (incl. Nl), _
        { "\\d+", "12\xd9\xa3 \xe2\x85\xa0", "0-4" },              // \d: Nd only
        { ".+", "ab\ncd", "0-2,3-5" },
        { "\\x{1F600}|\\u00e9|\\x41", "A\xc3\xa9\xf0\x9f\x98\x80", "0-1,1-3,3-7" },
        { "(?<w>a)b", "abab", "0-2,2-4" },
        { "a|ab", "ab", "0-1" },
        { "colou?r", "color colour", "0-5,6-12" },
    };
    we_work w;
    memset(&w, 0, sizeof w);
    we_err err = { { 0 } };
    w.err = &err;
    we_arena a;
    we_arena_init(&a, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        we_regex *re = NULL;
        wembed_status rc = we_regex_compile(&a, cases[i].re, strlen(cases[i].re), &re, &err);
        if (!CHECKF(rc == WEMBED_STATUS_OK, "compile %s: %s", cases[i].re, err.msg)) continue;
        rc = we_regex_find_matches(&w, re, (const uint8_t *)cases[i].text, (uint32_t)strlen(cases[i].text));
        char got[256] = "";
        size_t gl = 0;
        const we_match *m = w.matches.p;
        for (size_t k = 0; k < w.matches.n; k++)
            if (m[k].is_match) gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%u-%u", gl ? "," : "", m[k].s, m[k].e);
        CHECKF(rc == WEMBED_STATUS_OK && strcmp(got, cases[i].want) == 0, "regex /%s/ on \"%s\": got %s, want %s",
               cases[i].re, cases[i].text, got, cases[i].want);
    }
    // The hand-written matchers (GPT-2's, CLIP's, \s+) against the VM on random text.
    static const char *fast[] = {
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
        "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
        "\\s+",
    };
    static const char *atoms[] = { " ", "  ", "\n", "\t", "\r\n", "\xc2\xa0", "\xe3\x80\x80", "a", "Zz", "\xc3\xa9", "\xe4\xb8\xad",
                                   "1", "42", "\xd9\xa3", "\xe2\x85\xa0", "!", "?!", "'", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
                                   "'x", "<", "|", ">", "<|endoftext|>", "<|startoftext|>", "<|end", "\xf0\x9f\x98\x80", "\xcc\x81", "_", "\xc2\x85" };
    we_rng rng = { 12345 };
    int compared = 0;
    for (size_t f = 0; f < sizeof fast / sizeof fast[0]; f++) {
        we_regex *re = NULL;
        if (!CHECK(we_regex_compile(&a, fast[f], strlen(fast[f]), &re, &err) == WEMBED_STATUS_OK)) continue;
        for (int iter = 0; iter < 3000; iter++) {
            char text[512];
            size_t tl = 0;
            int na = (int)(we_rng_next(&rng) % 24);
            for (int k = 0; k < na; k++) {
                const char *x = atoms[we_rng_next(&rng) % (sizeof atoms / sizeof atoms[0])];
                size_t xl = strlen(x);
                if (tl + xl < sizeof text) { memcpy(text + tl, x, xl); tl += xl; }
            }
            char lists[2][2048];
            for (int mode = 0; mode < 2; mode++) {
                w.regex_no_fast = mode == 1;
                we_regex_find_matches(&w, re, (const uint8_t *)text, (uint32_t)tl);
                size_t ll = 0;
                lists[mode][0] = 0;
                const we_match *m = w.matches.p;
                for (size_t k = 0; k < w.matches.n && ll + 24 < sizeof lists[mode]; k++)
                    ll += (size_t)snprintf(lists[mode] + ll, sizeof lists[mode] - ll, "%u-%u%c ", m[k].s, m[k].e, m[k].is_match ? '*' : ' ');
            }
            w.regex_no_fast = false;
            compared++;
            if (!CHECKF(strcmp(lists[0], lists[1]) == 0, "fast matcher %zu differs on \"%.*s\": %s vs VM %s", f, (int)tl, text, lists[0], lists[1]))
                break;
        }
    }
    printf("regex: hand-written matchers = VM on %d random texts\n", compared);
    we_arena_free(&a);
    we_buf_free(&w.matches);
    we_buf_free(&w.re_threads);
}

// -----------------------------------------------------------------------------------------
// Every allocation failing in turn: a clean status, no leak, and a working second attempt.

static const char SMALL[] =
    "{\"version\":\"1.0\",\"truncation\":{\"max_length\":6,\"strategy\":\"LongestFirst\",\"stride\":0,\"direction\":\"Right\"},"
    "\"padding\":{\"strategy\":{\"Fixed\":8},\"direction\":\"Right\",\"pad_to_multiple_of\":null,\"pad_id\":0,\"pad_type_id\":0,\"pad_token\":\"<pad>\"},"
    "\"added_tokens\":[{\"id\":0,\"content\":\"<pad>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true},"
    "{\"id\":7,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true},"
    "{\"id\":8,\"content\":\"hi there\",\"single_word\":false,\"lstrip\":true,\"rstrip\":false,\"normalized\":true,\"special\":false}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},{\"type\":\"Lowercase\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"}]},"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"RobertaProcessing\",\"sep\":[\"<s>\",7],\"cls\":[\"<s>\",7],\"trim_offsets\":true,\"add_prefix_space\":true},"
    "\"decoder\":null,"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,"
    "\"fuse_unk\":false,\"byte_fallback\":false,"
    "\"vocab\":{\"<pad>\":0,\"\xc4\xa0\":1,\"h\":2,\"i\":3,\"hi\":4,\"\xc4\xa0hi\":5,\"x\":6,\"<s>\":7},\"merges\":[\"h i\",\"\xc4\xa0 hi\"]}}";

// -----------------------------------------------------------------------------------------
// Long texts: truncation tokenizes only a prefix, and windows of a text give the whole text's
// tokens. Both compared with the whole text's tokenization, for every tokenizer of
// tests/data/tokenizers, on a long text mixing all the samples (scripts, emoji, runs of
// digits, whitespace and punctuation, a word longer than the window margin) at random cuts.

// A ~60 KB text from every samples file, in a random order with random separators.
static char *long_text(we_rng *rng, size_t *out_n) {
    static const char *const names[] = { "all-MiniLM-L6-v2", "bge-small-en-v1.5", "bge-small-zh-v1.5", "clip-vit-base-patch32", "t5-small" };
    static const char *const seps[] = { " ", "\n", "", "  ", "\t", ". ", " \n\n " };
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    const char *texts[2048];
    size_t lens[2048], nt = 0;
    we_arena a;
    we_arena_init(&a, 0);
    char *files[5] = { 0 };
    for (size_t f = 0; f < 5; f++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tokenizers/samples-%s.jsonl", names[f]);
        size_t fn;
        files[f] = (char *)we_test_read_file(we_test_data_path(rel), &fn);
        for (size_t i = 0; files[f] && i < fn;) {
            size_t e = i;
            while (e < fn && files[f][e] != '\n') e++;
            const we_json *d = NULL;
            we_err err = { { 0 } };
            if (e > i && nt < 2048 && we_json_parse(&a, files[f] + i, e - i, NULL, &d, &err) == WEMBED_STATUS_OK) {
                size_t l;
                const char *s = we_json_as_str(we_json_get(d, "text"), &l);
                if (s) { texts[nt] = s; lens[nt++] = l; }
            }
            i = e + 1;
        }
    }
    while (n < 60000 && nt) {
        size_t k = we_rng_next(rng) % nt;
        const char *sep = seps[we_rng_next(rng) % WE_ARRAY_LEN(seps)];
        size_t r = we_rng_next(rng) % 40;
        if (r < 3) {         // an added token that swallows the whitespace around it (the lstrip variant below)
            memcpy(out + n, "  [MASK]  ", 10);
            n += 10;
        }
        if (r == 0) {        // a run longer than the margin: digits, spaces, or one long word
            const char fill = "7 x"[we_rng_next(rng) % 3];
            memset(out + n, fill, 1500);
            n += 1500;
        }
        memcpy(out + n, texts[k], lens[k]);
        n += lens[k];
        memcpy(out + n, sep, strlen(sep));
        n += strlen(sep);
    }
    for (size_t f = 0; f < 5; f++) free(files[f]);
    we_arena_free(&a);
    *out_n = n;
    return out;
}

static size_t floor_char(const char *s, size_t at) { return we_utf8_floor((const uint8_t *)s, (uint32_t)at); }

// bge-small-en-v1.5 with [MASK] as an lstrip + rstrip added token (as RoBERTa's <mask>): what
// it swallows reaches past the word before it, so only the window margin keeps that word exact.
static wembed_tokenizer *load_lstrip_variant(void) {
    size_t n;
    char *json = (char *)we_test_read_file(we_test_data_path("tokenizers/bge-small-en-v1.5/tokenizer.json"), &n);
    if (!CHECK(json != NULL)) return NULL;
    static const char from[] = "\"[MASK]\",\n      \"single_word\": false,\n      \"lstrip\": false,\n      \"rstrip\": false";
    static const char to[] =   "\"[MASK]\",\n      \"single_word\": false,\n      \"lstrip\": true ,\n      \"rstrip\": true ";
    char *at = strstr(json, from);
    if (CHECK(at != NULL)) memcpy(at, to, sizeof to - 1);
    wembed_tokenizer *tok = NULL;
    CHECK(wembed_tokenizer_load(json, n, &tok) == WEMBED_STATUS_OK);
    free(json);
    return tok;
}

static void test_long_texts(void) {
    static const char *const files[] = { "tokenizers/all-MiniLM-L6-v2/tokenizer.json", "tokenizers/bge-small-en-v1.5/tokenizer.json",
                                         "tokenizers/bge-small-zh-v1.5/tokenizer.json", "tokenizers/clip-vit-base-patch32/tokenizer.json",
                                         "tokenizers/t5-small/tokenizer.json" };
#define NAME_OF(f) ((f) < WE_ARRAY_LEN(files) ? files[f] : "bge-small-en-v1.5 with an lstrip [MASK]")
    we_rng rng = { 0x9e3779b97f4a7c15ull };
    size_t n;
    char *text = long_text(&rng, &n);
    for (size_t f = 0; f <= WE_ARRAY_LEN(files); f++) {
        wembed_tokenizer *tok = f < WE_ARRAY_LEN(files) ? load_file(NAME_OF(f)) : load_lstrip_variant();
        if (!tok) continue;
        // 1. truncation of random prefixes to random lengths = the whole prefix's tokens, cut
        int cases = 0, cut = 0;
        for (int c = 0; c < 30; c++) {
            size_t len = floor_char(text, we_rng_next(&rng) % (n + 1));
            if (c < 3) len = n;
            int32_t k = 3 + (int32_t)(we_rng_next(&rng) % (c % 2 ? 40 : 700));
            wembed_tokenize_params p = wembed_tokenize_default_params();
            wembed_encoding *full = NULL, *tr = NULL;
            CHECK(wembed_tokenizer_encode(tok, text, len, &p, &full) == WEMBED_STATUS_OK);
            p.max_length = k;
            CHECK(wembed_tokenizer_encode(tok, text, len, &p, &tr) == WEMBED_STATUS_OK);
            if (full && tr) {
                int32_t n_pre = 0, n_post = 0;
                while (n_pre < full->n_tokens && full->special_tokens_mask[n_pre]) n_pre++;
                while (n_post < full->n_tokens - n_pre && full->special_tokens_mask[full->n_tokens - 1 - n_post]) n_post++;
                int32_t body = WE_MIN(full->n_tokens - n_pre - n_post, k - n_pre - n_post);
                bool same = tr->n_tokens == n_pre + body + n_post;
                for (int32_t i = 0; same && i < tr->n_tokens; i++) {
                    int32_t j = i < n_pre + body ? i : full->n_tokens - (tr->n_tokens - i);
                    same = tr->ids[i] == full->ids[j] && tr->word_ids[i] == full->word_ids[j] &&
                           tr->offsets[2 * i] == full->offsets[2 * j] && tr->offsets[2 * i + 1] == full->offsets[2 * j + 1];
                }
                CHECKF(same, "%s: %zu bytes cut to %d tokens: not the whole text's first tokens", NAME_OF(f), len, k);
                cases++;
                cut += full->n_tokens > k;
            }
            wembed_encoding_free(full);
            wembed_encoding_free(tr);
        }
        // 2. windows of random sizes and margins, walked over the text: the whole text's tokens
        wembed_tokenize_params p = wembed_tokenize_default_params();
        p.add_special_tokens = false;
        wembed_encoding *full = NULL;
        CHECK(wembed_tokenizer_encode(tok, text, n, &p, &full) == WEMBED_STATUS_OK);
        we_tokenizer *t = we_tokenizer_of(tok);
        we_enc e = { 0 };
        size_t at = 0, pos = 0, windows = 0;   // tokens matched so far; end offset of the last one
        bool ok = full != NULL;
        for (uint32_t grow = 0; ok;) {
            size_t back = WE_WINDOW_MARGIN + we_rng_next(&rng) % 300;
            size_t a = pos > back ? floor_char(text, pos - back) : 0;
            size_t b = WE_MIN(n, pos + WE_WINDOW_MARGIN + 1 + (we_rng_next(&rng) % 1500 << grow));
            b = b < n ? floor_char(text, b) : n;
            uint32_t first, end;
            if (!CHECK(we_encode_window(t, (const uint8_t *)text + a, (uint32_t)(b - a), a == 0, b == n, (uint32_t)(pos - a), &e,
                                        &first, &end) == WEMBED_STATUS_OK)) break;
            const we_etok *tk = e.toks.p;
            for (uint32_t i = first; ok && i < end; i++, at++)
                ok = CHECKF(at < (size_t)full->n_tokens && tk[i].id == full->ids[at] && tk[i].s + a == full->offsets[2 * at] &&
                            tk[i].e + a == full->offsets[2 * at + 1],
                            "%s: window [%zu, %zu) token %u is not the whole text's token %zu", NAME_OF(f), a, b, i, at);
            windows++;
            if (b == n) break;
            grow = end > first ? 0 : grow + 1;
            if (end > first) pos = tk[end - 1].e + a;
        }
        CHECKF(!ok || at == (size_t)full->n_tokens, "%s: windows gave %zu of %d tokens", NAME_OF(f), at, full ? full->n_tokens : 0);
        // 3. windows ending inside an added token: what was before it is still exact
        for (const char *m = text; full && (m = strstr(m + 1, "[MASK]")) != NULL && m - text < 30000;) {
            uint32_t first, end, at_m = (uint32_t)(m - text) + 3;
            if (!CHECK(we_encode_window(t, (const uint8_t *)text, at_m, true, false, 0, &e, &first, &end) == WEMBED_STATUS_OK)) break;
            const we_etok *tk = e.toks.p;
            bool same = end <= (uint32_t)full->n_tokens;
            for (uint32_t i = first; same && i < end; i++)
                same = tk[i].id == full->ids[i] && tk[i].s == full->offsets[2 * i] && tk[i].e == full->offsets[2 * i + 1];
            CHECKF(same, "%s: window cut inside the [MASK] at %u: tokens before it differ from the whole text's", NAME_OF(f), at_m - 3);
        }
        printf("%-48s %d truncations (%d cut), %zu windows over %zu bytes\n", NAME_OF(f), cases, cut, windows, n);
        we_enc_free(&e);
        wembed_encoding_free(full);
        wembed_tokenizer_free(tok);
    }
    free(text);
#undef NAME_OF
}

static void test_alloc_failures(void) {
    int64_t live0 = we_alloc_live();
    int loads = 0, encodes = 0;
    for (int64_t n = 0; n < 100000; n++) {
        we_alloc_fail_after(n);
        wembed_tokenizer *tok = NULL;
        wembed_status rc = wembed_tokenizer_load(SMALL, sizeof SMALL - 1, &tok);
        we_alloc_fail_after(-1);
        if (rc != WEMBED_STATUS_OK) {
            CHECKF(rc == WEMBED_STATUS_ALLOC_FAILED, "load with allocation %lld failing: status %d (%s)", (long long)n,
                   (int)rc, wembed_tokenizer_last_error(tok));
            wembed_tokenizer_free(tok);
            CHECK_EQ_INT(we_alloc_live(), live0);
            loads++;
            continue;
        }
        wembed_tokenize_params p = wembed_tokenize_default_params();
        p.use_file_settings = true;
        wembed_encoding *e = NULL;
        bool done = false;
        for (int64_t k = 0; k < 100000 && !done; k++) {
            we_alloc_fail_after(k);
            rc = wembed_tokenizer_encode(tok, "Hi  HI x hi there\xff", 19, &p, &e);
            we_alloc_fail_after(-1);
            if (rc == WEMBED_STATUS_OK) {
                done = true;
                // The Rust library: <s> Ġhi Ġhi Ġ x <s> <pad> <pad> (truncated to 6, padded to 8)
                static const int32_t want[8] = { 7, 5, 5, 1, 6, 7, 0, 0 };
                bool same = e->n_tokens == 8;
                for (int i = 0; same && i < 8; i++) same = e->ids[i] == want[i];
                CHECKF(same, "small tokenizer result: %d tokens", e->n_tokens);
                wembed_encoding_free(e);
            } else {
                CHECKF(rc == WEMBED_STATUS_ALLOC_FAILED && e == NULL, "encode with allocation %lld failing: status %d", (long long)k, (int)rc);
                encodes++;
            }
        }
        CHECK(done);
        wembed_tokenizer_free(tok);
        CHECK_EQ_INT(we_alloc_live(), live0);
        break;
    }
    printf("allocation failures: %d during load, %d during encode, all clean\n", loads, encodes);
    CHECK(loads > 10 && encodes > 5);
}

// A Unigram vocabulary with repeated pieces and an empty one. The Rust library's token_to_ids
// HashMap keeps the last id of a repeated piece, and the Viterbi scores a trie match with that
// id's score: "▁the" is id 8 (score -20), so "the" is ▁ t he (-7), not ▁the (id 1, -3).
// Expected ids from the Rust library (tokenizers 0.22.2).
static const char UNIGRAM_REPEAT[] =
    "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\",\"split\":true},"
    "\"post_processor\":null,\"decoder\":null,\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0],"
    "[\"\u2581the\",-3],[\"\u2581\",-2],[\"t\",-4],[\"h\",-4],[\"e\",-4],[\"he\",-1],[\"\",-2],[\"\u2581the\",-20],"
    "[\"x\",-1],[\"x\",-1.5]],\"byte_fallback\":false}}";

static void test_unigram_repeats(void) {
    wembed_tokenizer *tok = NULL;
    CHECKF(wembed_tokenizer_load(UNIGRAM_REPEAT, sizeof UNIGRAM_REPEAT - 1, &tok) == WEMBED_STATUS_OK, "load: %s",
           wembed_tokenizer_last_error(tok));
    static const struct { const char *s; int n; int32_t ids[8]; } cases[] = {
        { "the", 3, { 2, 3, 6 } },
        { "the ex", 6, { 2, 3, 6, 2, 5, 10 } },
        { "thex", 4, { 2, 3, 6, 10 } },
    };
    for (size_t c = 0; c < WE_ARRAY_LEN(cases); c++) {
        wembed_encoding *e = enc(tok, cases[c].s, strlen(cases[c].s), false);
        bool same = e && e->n_tokens == cases[c].n;
        for (int i = 0; same && i < cases[c].n; i++) same = e->ids[i] == cases[c].ids[i];
        CHECKF(same, "Unigram with repeated pieces: \"%s\"", cases[c].s);
        wembed_encoding_free(e);
    }
    CHECK_EQ_INT(wembed_tokenizer_token_to_id(tok, "\xe2\x96\x81the", 6), 8);
    CHECK_EQ_INT(wembed_tokenizer_token_to_id(tok, "x", 1), 10);
    CHECK_EQ_INT(wembed_tokenizer_token_to_id(tok, "", 0), 7);
    CHECK_EQ_INT(wembed_tokenizer_token_to_id(tok, "\xe2\x96\x81th", 5), -1);
    wembed_tokenizer_free(tok);

    // Every allocation of the load failing in turn (the vocabulary read while parsing, the trie).
    int64_t live0 = we_alloc_live();
    int fails = 0;
    for (int64_t n = 0; n < 10000; n++) {
        we_alloc_fail_after(n);
        tok = NULL;
        wembed_status rc = wembed_tokenizer_load(UNIGRAM_REPEAT, sizeof UNIGRAM_REPEAT - 1, &tok);
        we_alloc_fail_after(-1);
        wembed_tokenizer_free(tok);
        CHECK_EQ_INT(we_alloc_live(), live0);
        if (rc == WEMBED_STATUS_OK) break;
        CHECKF(rc == WEMBED_STATUS_ALLOC_FAILED, "Unigram load with allocation %lld failing: %s", (long long)n, wembed_status_str(rc));
        fails++;
    }
    CHECK(fails > 5);
}

int main(void) {
    test_invalid_utf8();
    test_unigram_repeats();
    test_utf16_offsets();
    test_queries();
    test_pair_truncation();
    test_load_errors();
    test_regex();
    test_alloc_failures();
    test_long_texts();
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("tokenizer-api");
}
