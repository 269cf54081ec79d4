// test-e2e.c - text to vector end to end: the real bert-base-uncased tokenizer (bge-small-en
// tokenizer.json) and a small random-weight BERT with the full 30,522-token vocabulary
// (tests/data/e2e, made by gen/e2e_fixture.py: ids from the Rust tokenizers library,
// vectors from a float64 PyTorch forward pass).
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "formats/json.h"
#include "wembed.h"

static wembed_model *load(wembed_dtype dtype) {
    static const char *names[] = { "config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json" };
    wembed_file files[5];
    void *bufs[5];
    for (int i = 0; i < 5; i++) {
        char rel[128];
        size_t n = 0;
        snprintf(rel, sizeof rel, "e2e/%s", names[i]);
        bufs[i] = we_test_read_file(we_test_data_path(rel), &n);
        CHECKF(bufs[i] != NULL, "missing %s", rel);
        files[i] = (wembed_file){ names[i], bufs[i], n };
    }
    wembed_model_params mp = wembed_model_default_params();
    mp.dtype = dtype;
    mp.n_threads = 2;
    wembed_model *m = NULL;
    wembed_status rc = wembed_model_load(files, 5, mp, &m);
    CHECKF(rc == WEMBED_STATUS_OK, "load: %s", m ? wembed_model_last_error(m) : "");
    for (int i = 0; i < 5; i++) free(bufs[i]);
    return m;
}

int main(void) {
    we_arena arena;
    we_arena_init(&arena, 0);
    size_t n_texts_json, n_expected_json;
    char *texts_json = (char *)we_test_read_file(we_test_data_path("e2e/texts.json"), &n_texts_json);
    char *expected_json = (char *)we_test_read_file(we_test_data_path("e2e/expected.json"), &n_expected_json);
    const we_json *texts = NULL, *expected = NULL;
    we_err err;
    CHECK(texts_json && we_json_parse(&arena, texts_json, n_texts_json, NULL, &texts, &err) == WEMBED_STATUS_OK);
    CHECK(expected_json && we_json_parse(&arena, expected_json, n_expected_json, NULL, &expected, &err) == WEMBED_STATUS_OK);
    const we_json *cases = we_json_get(expected, "cases");
    int n = texts ? (int)texts->len : 0;
    CHECK(n >= 8 && cases && (int)cases->len == n);

    const char **tx = calloc((size_t)n, sizeof(char *));
    size_t *lens = calloc((size_t)n, sizeof(size_t));
    for (int i = 0; i < n; i++) tx[i] = we_json_as_str(we_json_at(texts, (size_t)i), &lens[i]);

    wembed_dtype dtypes[2] = { WEMBED_DTYPE_F32, WEMBED_DTYPE_Q8 };
    for (int di = 0; di < 2; di++) {
        wembed_model *m = load(dtypes[di]);
        if (!m) break;
        // 1. the ids, as the Rust library gives them (truncated at 512 with [SEP] kept)
        wembed_tokenizer *tok = wembed_model_tokenizer(m);
        CHECK(tok != NULL);
        wembed_tokenize_params tp = wembed_tokenize_default_params();
        tp.max_length = 512;
        for (int i = 0; tok && di == 0 && i < n; i++) {
            wembed_encoding *enc = NULL;
            CHECK(wembed_tokenizer_encode(tok, tx[i], lens[i], &tp, &enc) == WEMBED_STATUS_OK);
            const we_json *want = we_json_get(we_json_at(cases, (size_t)i), "ids");
            bool same = enc && (uint32_t)enc->n_tokens == want->len;
            for (int32_t k = 0; same && k < enc->n_tokens; k++) {
                int64_t id;
                we_json_as_int(we_json_at(want, (size_t)k), &id);
                same = enc->ids[k] == id;
            }
            CHECKF(same, "text %d: token ids differ from the Rust tokenizer's", i);
            wembed_encoding_free(enc);
        }
        // 2. the vectors: the model's defaults (mean pooling, normalized: sentence-transformers files)
        wembed_embed_params p = wembed_embed_default_params();
        float *out = malloc(sizeof(float) * 32 * (size_t)n);
        wembed_status rc = wembed_embed_text(m, tx, lens, n, &p, out, sizeof(float) * 32 * (size_t)n);
        CHECKF(rc == WEMBED_STATUS_OK, "embed_text: %s", wembed_model_last_error(m));
        double worst = 1, worst_abs = 0;
        for (int i = 0; rc == WEMBED_STATUS_OK && i < n; i++) {
            const we_json *ref = we_json_get(we_json_at(cases, (size_t)i), "mean_normalized");
            float r[32];
            for (int e = 0; e < 32; e++) {
                double d;
                we_json_as_double(we_json_at(ref, (size_t)e), &d);
                r[e] = (float)d;
            }
            double c = we_cosine(out + i * 32, r, 32), a = we_max_abs_diff(out + i * 32, r, 32);
            worst = c < worst ? c : worst;
            worst_abs = a > worst_abs ? a : worst_abs;
        }
        // f32: the fixtures' tolerances; q8 weights and activations: cosine >= 0.995.
        if (di == 0) CHECKF(worst >= 0.99999 && worst_abs <= 1e-4, "f32: worst cosine %.8f, max abs diff %.3g", worst, worst_abs);
        else CHECKF(worst >= 0.995, "q8: worst cosine %.6f", worst);
        printf("e2e %s: %d texts, worst cosine %.8f, max abs diff %.2e\n", di == 0 ? "f32" : "q8", n, worst, worst_abs);

        // 3. a text longer than 512 tokens: an error when asked, windows when chunking
        p.truncate = WEMBED_TRUNCATE_ERROR;
        CHECK(wembed_embed_text(m, &tx[8], &lens[8], 1, &p, out, sizeof(float) * 32) == WEMBED_STATUS_TOO_LONG);
        p.truncate = WEMBED_TRUNCATE_CHUNK;
        CHECK(wembed_embed_text(m, &tx[8], &lens[8], 1, &p, out, sizeof(float) * 32) == WEMBED_STATUS_OK);
        free(out);
        wembed_model_free(m);
    }
    // A model without tokenizer.json: a clear error for text.
    {
        size_t nc, ns;
        void *cfg = we_test_read_file(we_test_data_path("fixtures/bert/config.json"), &nc);
        void *st = we_test_read_file(we_test_data_path("fixtures/bert/model.safetensors"), &ns);
        wembed_file files[2] = { { "config.json", cfg, nc }, { "model.safetensors", st, ns } };
        wembed_model *m = NULL;
        CHECK(wembed_model_load(files, 2, wembed_model_default_params(), &m) == WEMBED_STATUS_OK);
        wembed_embed_params p = wembed_embed_default_params();
        float v[64];
        CHECK(wembed_embed_text(m, tx, lens, 1, &p, v, sizeof v) == WEMBED_STATUS_MISSING_FILE);
        CHECK(strstr(wembed_model_last_error(m), "tokenizer.json") != NULL);
        wembed_model_free(m);
        free(cfg);
        free(st);
    }
    free(tx);
    free(lens);
    free(texts_json);
    free(expected_json);
    we_arena_free(&arena);
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-e2e");
}
