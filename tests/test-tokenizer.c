// test-tokenizer.c - the tokenizer against the Rust `tokenizers` library (0.22.2): every public
// sample of tests/data/tokenizers/samples-*.jsonl (ids, tokens, byte offsets, special tokens,
// truncation, and all-MiniLM-L6-v2's own padding/truncation), the same fields for the real Gemma 3
// and Qwen3 files (tests/data/tokenizers/<name>/samples.jsonl, scripts/tokenizer-samples.mjs),
// llama.cpp's bge goldens, and the house goldens tests/tokenizer/<vocab>.inp/.out (made by
// scripts/tokenizer-goldens.mjs).
#include <stdlib.h>
#include <string.h>

#include "../src/core/arena.h"
#include "../src/formats/json.h"
#include "../src/wembed.h"
#include "harness.h"

static wembed_tokenizer *load_tok(const char *rel) {
    size_t n;
    uint8_t *json = we_test_read_data(rel, &n);
    CHECKF(json != NULL, "read %s", rel);
    if (!json) return NULL;
    wembed_tokenizer *tok = NULL;
    wembed_status rc = wembed_tokenizer_load(json, n, &tok);
    CHECKF(rc == WEMBED_STATUS_OK, "load %s: %s", rel, wembed_tokenizer_last_error(tok));
    free(json);
    if (rc) { wembed_tokenizer_free(tok); return NULL; }
    return tok;
}

static bool ids_equal(const wembed_encoding *e, const we_json *ids) {
    if (!we_json_is(ids, WE_JSON_ARRAY) || ids->len != (uint32_t)e->n_tokens) return false;
    for (uint32_t i = 0; i < ids->len; i++) {
        int64_t v;
        if (!we_json_as_int(we_json_at(ids, i), &v) || v != e->ids[i]) return false;
    }
    return true;
}

static void print_ids(const char *what, const wembed_encoding *e) {
    fprintf(stderr, "  %s:", what);
    for (int32_t i = 0; i < e->n_tokens && i < 40; i++) fprintf(stderr, " %d(%s)[%u,%u]", e->ids[i], e->tokens[i], e->offsets[2 * i], e->offsets[2 * i + 1]);
    fprintf(stderr, "\n");
}

static int g_samples = 0;

static void check_sample(wembed_tokenizer *tok, const we_json *d, const char *file) {
    size_t tn;
    const char *text = we_json_as_str(we_json_get(d, "text"), &tn);
    const char *id = we_json_as_str(we_json_get(d, "id"), NULL);
    if (!text) { CHECKF(false, "%s: sample without text", file); return; }
    g_samples++;
    wembed_tokenize_params p = wembed_tokenize_default_params();
    wembed_encoding *e = NULL;

    // 1. Without special tokens: ids, tokens, byte offsets.
    p.add_special_tokens = false;
    CHECK(wembed_tokenizer_encode(tok, text, tn, &p, &e) == WEMBED_STATUS_OK);
    if (!e) return;
    const we_json *ids = we_json_get(d, "ids"), *toks = we_json_get(d, "tokens"), *offs = we_json_get(d, "offsets_utf8");
    bool ok = ids_equal(e, ids);
    for (uint32_t i = 0; ok && i < toks->len; i++) {
        size_t l;
        const char *t = we_json_as_str(we_json_at(toks, i), &l);
        ok = t && l == (size_t)e->token_lens[i] && memcmp(t, e->tokens[i], l) == 0;
    }
    for (uint32_t i = 0; ok && i < offs->len; i++) {
        int64_t a, b;
        const we_json *o = we_json_at(offs, i);
        ok = we_json_as_int(we_json_at(o, 0), &a) && we_json_as_int(we_json_at(o, 1), &b) &&
             a == e->offsets[2 * i] && b == e->offsets[2 * i + 1];
    }
    if (!CHECKF(ok, "%s %s: ids/tokens/offsets differ", file, id)) print_ids("got", e);
    wembed_encoding_free(e);

    // 2. With special tokens.
    p.add_special_tokens = true;
    CHECK(wembed_tokenizer_encode(tok, text, tn, &p, &e) == WEMBED_STATUS_OK);
    if (!e) return;
    ok = ids_equal(e, we_json_get(d, "ids_special"));
    const we_json *mask = we_json_get(d, "special_tokens_mask");
    for (uint32_t i = 0; ok && i < mask->len; i++) {
        int64_t v;
        ok = we_json_as_int(we_json_at(mask, i), &v) && v == e->special_tokens_mask[i];
    }
    if (!CHECKF(ok, "%s %s: ids_special differ", file, id)) print_ids("got", e);
    wembed_encoding_free(e);

    // 3. Truncated (LongestFirst, right, special tokens counted).
    int64_t max_len;
    const we_json *tr = we_json_get(d, "ids_truncated");
    if (we_json_as_int(we_json_get(d, "truncation_max_length"), &max_len)) {
        p.max_length = (int32_t)max_len;
        CHECK(wembed_tokenizer_encode(tok, text, tn, &p, &e) == WEMBED_STATUS_OK);
        if (!e) return;
        ok = ids_equal(e, tr && tr->type != WE_JSON_NULL ? tr : we_json_get(d, "ids_special"));
        if (!CHECKF(ok, "%s %s: ids_truncated differ", file, id)) print_ids("got", e);
        wembed_encoding_free(e);
        p.max_length = 0;
    }

    // 4. The file's own truncation and padding (all-MiniLM-L6-v2).
    const we_json *conf = we_json_get(d, "ids_as_configured");
    if (conf) {
        p.use_file_settings = true;
        CHECK(wembed_tokenizer_encode(tok, text, tn, &p, &e) == WEMBED_STATUS_OK);
        if (!e) return;
        ok = ids_equal(e, conf);
        const we_json *am = we_json_get(d, "attention_mask_as_configured");
        for (uint32_t i = 0; ok && i < am->len; i++) {
            int64_t v;
            ok = we_json_as_int(we_json_at(am, i), &v) && v == e->attention_mask[i];
        }
        if (!CHECKF(ok, "%s %s: ids_as_configured differ", file, id)) print_ids("got", e);
        wembed_encoding_free(e);
        p.use_file_settings = false;
    }
}

// The samples of tokenizers/samples-<name>.jsonl, or, for the big files stored compressed,
// tokenizers/<name>/samples.jsonl (scripts/tokenizer-samples.mjs).
static void test_samples(const char *name, bool own_folder) {
    char rel[256];
    snprintf(rel, sizeof rel, "tokenizers/%s/tokenizer.json", name);
    wembed_tokenizer *tok = load_tok(rel);
    if (!tok) return;
    if (own_folder) snprintf(rel, sizeof rel, "tokenizers/%s/samples.jsonl", name);
    else snprintf(rel, sizeof rel, "tokenizers/samples-%s.jsonl", name);
    size_t n;
    char *data = (char *)we_test_read_file(we_test_data_path(rel), &n);
    CHECKF(data != NULL, "read %s", rel);
    int before = g_samples;
    for (size_t i = 0; data && i < n;) {
        size_t e = i;
        while (e < n && data[e] != '\n') e++;
        if (e > i) {
            we_arena a;
            we_arena_init(&a, 0);
            const we_json *d = NULL;
            we_err err = { { 0 } };
            if (CHECKF(we_json_parse(&a, data + i, e - i, NULL, &d, &err) == WEMBED_STATUS_OK, "%s: %s", rel, err.msg))
                check_sample(tok, d, name);
            we_arena_free(&a);
        }
        i = e + 1;
    }
    printf("%-24s %d samples\n", name, g_samples - before);
    free(data);
    wembed_tokenizer_free(tok);
}

static wembed_tokenizer *load_gguf_tok(const char *rel) {
    size_t n;
    uint8_t *data = we_test_read_file(we_test_data_path(rel), &n);
    CHECKF(data != NULL, "read %s", rel);
    if (!data) return NULL;
    wembed_tokenizer *tok = NULL;
    wembed_status rc = wembed_tokenizer_load_gguf(data, n, &tok);
    CHECKF(rc == WEMBED_STATUS_OK, "load %s: %s", rel, wembed_tokenizer_last_error(tok));
    free(data);
    if (rc) { wembed_tokenizer_free(tok); return NULL; }
    return tok;
}

// llama.cpp-style goldens: cases joined by `sep`, one line of " id" per case in .out.
static void test_goldens(const char *tok_rel, const char *inp_rel, const char *out_rel, const char *sep) {
    size_t tl = strlen(tok_rel);
    wembed_tokenizer *tok = tl > 5 && strcmp(tok_rel + tl - 5, ".gguf") == 0 ? load_gguf_tok(tok_rel) : load_tok(tok_rel);
    if (!tok) return;
    size_t ni, no;
    char *inp = (char *)we_test_read_file(we_test_data_path(inp_rel), &ni);
    char *out = (char *)we_test_read_file(we_test_data_path(out_rel), &no);
    CHECKF(inp && out, "read %s / %s", inp_rel, out_rel);
    size_t sl = strlen(sep), pi = 0, po = 0;
    int cases = 0;
    wembed_tokenize_params p = wembed_tokenize_default_params();
    p.add_special_tokens = false;
    while (inp && out && pi < ni) {
        const char *hit = NULL;
        for (size_t k = pi; k + sl <= ni; k++)
            if (memcmp(inp + k, sep, sl) == 0) { hit = inp + k; break; }
        if (!hit) break;
        size_t len = (size_t)(hit - (inp + pi));
        size_t le = po;
        while (le < no && out[le] != '\n') le++;
        wembed_encoding *e = NULL;
        CHECK(wembed_tokenizer_encode(tok, inp + pi, len, &p, &e) == WEMBED_STATUS_OK);
        char line[16384];
        size_t ll = 0;
        for (int32_t i = 0; e && i < e->n_tokens && ll + 16 < sizeof line; i++)
            ll += (size_t)snprintf(line + ll, sizeof line - ll, " %d", e->ids[i]);
        bool ok = ll == le - po && memcmp(line, out + po, ll) == 0;
        if (!CHECKF(ok, "%s case %d differs", inp_rel, cases)) {
            fprintf(stderr, "  text: %.*s\n  want:%.*s\n  got: %.*s\n", (int)WE_MIN(len, 200u), inp + pi,
                    (int)WE_MIN(le - po, 400u), out + po, (int)WE_MIN(ll, 400u), line);
        }
        wembed_encoding_free(e);
        cases++;
        pi = (size_t)(hit - inp) + sl;
        po = le + 1;
    }
    CHECKF(cases > 0, "%s: no cases", inp_rel);
    printf("%-24s %d golden cases\n", inp_rel, cases);
    free(inp);
    free(out);
    wembed_tokenizer_free(tok);
}

// The GGUF-built tokenizer against bge's tokenizer.json on the bge samples, special tokens on.
static void test_gguf_vs_json(void) {
    wembed_tokenizer *g = load_gguf_tok("tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf");
    wembed_tokenizer *j = load_tok("tokenizers/bge-small-en-v1.5/tokenizer.json");
    size_t n;
    char *data = (char *)we_test_read_file(we_test_data_path("tokenizers/samples-bge-small-en-v1.5.jsonl"), &n);
    int same = 0, total = 0;
    for (size_t i = 0; g && j && data && i < n;) {
        size_t e = i;
        while (e < n && data[e] != '\n') e++;
        we_arena a;
        we_arena_init(&a, 0);
        const we_json *d = NULL;
        we_err err = { { 0 } };
        size_t tn;
        const char *text;
        if (e > i && we_json_parse(&a, data + i, e - i, NULL, &d, &err) == WEMBED_STATUS_OK &&
            (text = we_json_as_str(we_json_get(d, "text"), &tn))) {
            wembed_encoding *x = NULL, *y = NULL;
            wembed_tokenizer_encode(g, text, tn, NULL, &x);
            wembed_tokenizer_encode(j, text, tn, NULL, &y);
            bool ok = x && y && x->n_tokens == y->n_tokens;
            for (int32_t k = 0; ok && k < x->n_tokens; k++)
                ok = x->ids[k] == y->ids[k] && x->offsets[2 * k] == y->offsets[2 * k] && x->offsets[2 * k + 1] == y->offsets[2 * k + 1];
            same += ok;
            total++;
            wembed_encoding_free(x);
            wembed_encoding_free(y);
        }
        we_arena_free(&a);
        i = e + 1;
    }
    CHECKF(total == 68 && same == total, "GGUF vs tokenizer.json: %d of %d samples identical", same, total);
    free(data);
    wembed_tokenizer_free(g);
    wembed_tokenizer_free(j);
}

int main(void) {
    test_gguf_vs_json();
    const char *names[] = { "bge-small-en-v1.5", "all-MiniLM-L6-v2", "bge-small-zh-v1.5", "clip-vit-base-patch32", "t5-small" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) test_samples(names[i], false);
    // The real Gemma 3 (SentencePiece BPE, byte fallback, 262k) and Qwen3 (byte-level BPE, 151k) files.
    test_samples("gemma-3", true);
    test_samples("qwen3", true);
    test_goldens("tokenizers/bge-small-en-v1.5/tokenizer.json", "tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf.inp",
                 "tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf.out", "\n__ggml_vocab_test__\n");
    // The same goldens through llama.cpp's vocab-only GGUF, and the house goldens of bge too.
    test_goldens("tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf", "tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf.inp",
                 "tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf.out", "\n__ggml_vocab_test__\n");
    test_goldens("tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf", "../tokenizer/bge-small-en-v1.5.inp",
                 "../tokenizer/bge-small-en-v1.5.out", "\n__wembed_vocab_test__\n");
    const char *goldens[] = { "bge-small-en-v1.5", "bge-small-zh-v1.5", "clip-vit-base-patch32", "t5-small" };
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
        char t[256], in[256], out[256];
        snprintf(t, sizeof t, "tokenizers/%s/tokenizer.json", goldens[i]);
        snprintf(in, sizeof in, "../tokenizer/%s.inp", goldens[i]);
        snprintf(out, sizeof out, "../tokenizer/%s.out", goldens[i]);
        test_goldens(t, in, out, "\n__wembed_vocab_test__\n");
    }
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("tokenizer");
}
