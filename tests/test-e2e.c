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


// -----------------------------------------------------------------------------------------
// Long texts: chunked windows streamed (never all in memory) equal the windows of the whole
// text's tokens embedded one by one and averaged; a stream fed in small pieces gives the same
// bytes; truncation through a stream is the tokenizer's; progress and stopping.

typedef struct progress_log {
    int calls;
    float last;
    bool monotonic;
    int stop_at;               // > 0: return false on that call
} progress_log;

static bool on_progress(float f, void *user) {
    progress_log *pl = user;
    pl->monotonic = pl->monotonic && f >= pl->last && f <= 1.0f;
    pl->last = f;
    return ++pl->calls != pl->stop_at;
}

static void test_long_text(wembed_model *m, const char *const *tx, const size_t *lens, int n) {
    // ~2.5 MB: the texts over and over, numbered so that no window repeats another.
    size_t cap = (size_t)3 << 20, len = 0;
    char *text = malloc(cap);
    for (int k = 0; len + 4096 < (size_t)5 << 19; k++) {
        len += (size_t)snprintf(text + len, cap - len, " %d. ", k);
        memcpy(text + len, tx[k % n], lens[k % n]);
        len += lens[k % n];
    }
    const int T = 64, overlap = 8, E = 32;
    wembed_embed_params p = wembed_embed_default_params();
    p.pooling = WEMBED_POOLING_MEAN;   // the pooling alone: the average of windows is checkable
    p.normalize = 0;
    p.max_tokens = T;
    p.truncate = WEMBED_TRUNCATE_CHUNK;
    p.chunk_overlap = overlap;
    progress_log pl = { 0, 0, true, 0 };
    p.progress = on_progress;
    p.progress_user = &pl;
    float v[32], ref[32], piecewise[32];
    const char *one = text;
    we_alloc_reset_peak();
    size_t base = we_alloc_bytes();
    CHECKF(wembed_embed_text(m, &one, &len, 1, &p, v, sizeof v) == WEMBED_STATUS_OK, "chunk: %s", wembed_model_last_error(m));
    double peak_mb = (double)(we_alloc_peak_bytes() - base) / (1 << 20);
    CHECKF(peak_mb < 16, "chunking %zu bytes held %.1f MB at its peak", len, peak_mb);
    CHECKF(pl.calls >= 2 && pl.monotonic && pl.last == 1.0f, "progress: %d calls, last %g", pl.calls, (double)pl.last);

    // The reference: the whole text's tokens, windows of T - 2 body tokens every T - 2 - overlap.
    wembed_tokenizer *tok = wembed_model_tokenizer(m);
    wembed_tokenize_params tp = wembed_tokenize_default_params();
    wembed_encoding *e = NULL;
    CHECK(wembed_tokenizer_encode(tok, text, len, &tp, &e) == WEMBED_STATUS_OK);
    if (e) {
        const int32_t body = e->n_tokens - 2, wsize = T - 2, step = wsize - overlap;
        const int32_t n_win = 1 + (body - wsize + step - 1) / step;
        int32_t *ids = calloc((size_t)n_win * T, sizeof(int32_t)), *mask = calloc((size_t)n_win * T, sizeof(int32_t));
        float *out = malloc(sizeof(float) * E * (size_t)n_win);
        double acc[32] = { 0 }, count = 0;
        for (int32_t w = 0; w < n_win; w++) {
            int32_t s0 = w * step, bl = WE_MIN(wsize, body - s0);
            ids[(size_t)w * T] = e->ids[0];
            memcpy(ids + (size_t)w * T + 1, e->ids + 1 + s0, sizeof(int32_t) * (size_t)bl);
            ids[(size_t)w * T + 1 + bl] = e->ids[e->n_tokens - 1];
            for (int32_t t = 0; t < bl + 2; t++) mask[(size_t)w * T + t] = 1;
        }
        wembed_embed_params pi = p;
        pi.truncate = WEMBED_TRUNCATE_ERROR;
        pi.progress = NULL;
        CHECK(wembed_embed_ids(m, ids, NULL, mask, n_win, T, &pi, out, sizeof(float) * E * (size_t)n_win) == WEMBED_STATUS_OK);
        for (int32_t w = 0; w < n_win; w++) {
            int32_t wl = WE_MIN(wsize, body - w * step) + 2;
            for (int d = 0; d < E; d++) acc[d] += (double)out[(size_t)w * E + d] * wl;
            count += wl;
        }
        for (int d = 0; d < E; d++) ref[d] = (float)(acc[d] / count);
        double c = we_cosine(v, ref, E), a = we_max_abs_diff(v, ref, E);
        CHECKF(c > 0.9999999 && a < 1e-5, "chunked %zu bytes (%d windows): cosine %.9f, max abs diff %.3g to the windows of its whole tokenization",
               len, n_win, c, a);
        printf("long text: %zu bytes, %d windows, cosine %.9f to the reference, peak %.2f MB\n", len, n_win, c, peak_mb);
        free(ids);
        free(mask);
        free(out);
        wembed_encoding_free(e);
    }

    // A stream fed in small pieces that split UTF-8 chars: the same bytes.
    wembed_text_stream *s = NULL;
    CHECK(wembed_text_stream_new(m, &p, &s) == WEMBED_STATUS_OK);
    for (size_t off = 0, k = 0; s && off < len; k++) {
        size_t piece = WE_MIN(len - off, (size_t)(1 + (k * 7919) % 40000));
        CHECK(wembed_text_stream_write(s, text + off, piece) == WEMBED_STATUS_OK);
        off += piece;
    }
    CHECK(s && wembed_text_stream_finish(s, piecewise, sizeof piecewise) == WEMBED_STATUS_OK);
    CHECK(memcmp(piecewise, v, sizeof v) == 0);
    wembed_text_stream_free(s);

    // END through a stream: the first tokens (as truncation gives them), and the stream says
    // when it has had enough.
    p.truncate = WEMBED_TRUNCATE_END;
    CHECK(wembed_embed_text(m, &one, &len, 1, &p, ref, sizeof ref) == WEMBED_STATUS_OK);
    s = NULL;
    CHECK(wembed_text_stream_new(m, &p, &s) == WEMBED_STATUS_OK);
    size_t fed = 0;
    while (s && !wembed_text_stream_full(s) && fed < len) {
        size_t piece = WE_MIN(len - fed, (size_t)100000);
        CHECK(wembed_text_stream_write(s, text + fed, piece) == WEMBED_STATUS_OK);
        fed += piece;
    }
    CHECKF(fed < len, "END: the stream took all %zu bytes", fed);
    CHECK(s && wembed_text_stream_finish(s, piecewise, sizeof piecewise) == WEMBED_STATUS_OK);
    CHECK(we_cosine(piecewise, ref, E) > 0.9999999 && we_max_abs_diff(piecewise, ref, E) < 1e-6);
    wembed_text_stream_free(s);
    // ERROR: refused once past the limit, the count as far as read.
    p.truncate = WEMBED_TRUNCATE_ERROR;
    CHECK(wembed_embed_text(m, &one, &len, 1, &p, ref, sizeof ref) == WEMBED_STATUS_TOO_LONG);
    CHECK(strstr(wembed_model_last_error(m), "more than 64 tokens") != NULL);
    s = NULL;
    CHECK(wembed_text_stream_new(m, &p, &s) == WEMBED_STATUS_OK);
    CHECK(s && wembed_text_stream_write(s, text, 100000) == WEMBED_STATUS_TOO_LONG);
    CHECK(wembed_text_stream_full(s));
    wembed_text_stream_free(s);
    // Stopping from the progress callback: ABORTED, with the reason on the model.
    p.truncate = WEMBED_TRUNCATE_CHUNK;
    pl = (progress_log){ 0, 0, true, 2 };
    CHECK(wembed_embed_text(m, &one, &len, 1, &p, v, sizeof v) == WEMBED_STATUS_ABORTED);
    CHECK(pl.calls == 2);
    free(text);
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
        if (di == 0) test_long_text(m, tx, lens, n);
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
