// test-model.c - the text encoders against the PyTorch reference fixtures (tests/data/fixtures,
// README.md there): last hidden states within 1e-4 where the mask is 1, pooled and normalized
// embeddings with cosine >= 0.99999; f16 and q8 weights within stated bounds of the f32 path;
// batch invariance; Matryoshka, int8 and binary outputs; chunking.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "formats/json.h"
#include "wembed.h"

// -----------------------------------------------------------------------------------------
// Fixture access

typedef struct fixture {
    const char *dir;
    we_arena arena;
    const we_json *manifest;
} fixture;

static bool fixture_open(fixture *f, const char *dir) {
    char rel[256];
    f->dir = dir;
    we_arena_init(&f->arena, 0);
    snprintf(rel, sizeof rel, "fixtures/%s/manifest.json", dir);
    size_t n;
    char *text = (char *)we_test_read_file(we_test_data_path(rel), &n);
    we_err err;
    bool ok = text && we_json_parse(&f->arena, text, n, NULL, &f->manifest, &err) == WEMBED_STATUS_OK;
    free(text);
    return CHECKF(ok, "fixture %s: no manifest", dir);
}

static void fixture_close(fixture *f) { we_arena_free(&f->arena); }

static const we_json *fixture_case(const fixture *f, const char *name) {
    const we_json *cases = we_json_get(f->manifest, "cases");
    for (uint32_t i = 0; cases && i < cases->len; i++)
        if (we_json_str_eq(we_json_get(we_json_at(cases, i), "name"), name)) return we_json_at(cases, i);
    return NULL;
}

// A tensor of a case (malloc'd), with its shape; NULL when the case has no such tensor.
static void *fixture_tensor(const fixture *f, const we_json *cs, const char *name, int64_t shape[4], int *n_dims) {
    const we_json *t = we_json_get(we_json_get(cs, "tensors"), name);
    if (!t) return NULL;
    const we_json *sh = we_json_get(t, "shape");
    *n_dims = (int)sh->len;
    for (uint32_t i = 0; i < sh->len && i < 4; i++) we_json_as_int(we_json_at(sh, i), &shape[i]);
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/%s/%s", f->dir, we_json_as_str(we_json_get(t, "file"), NULL));
    size_t n;
    return we_test_read_file(we_test_data_path(rel), &n);
}

// Loads the model of a fixture folder with whatever sentence-transformers files it has.
static wembed_model *load_fixture_model(const char *dir, wembed_dtype dtype) {
    static const char *names[] = { "config.json", "model.safetensors", "modules.json", "1_Pooling/config.json",
                                   "sentence_bert_config.json" };
    wembed_file files[5];
    void *bufs[5] = { 0 };
    size_t nf = 0;
    for (size_t i = 0; i < WE_ARRAY_LEN(names); i++) {
        char rel[256];
        size_t n;
        snprintf(rel, sizeof rel, "fixtures/%s/%s", dir, names[i]);
        void *data = we_test_read_file(we_test_data_path(rel), &n);
        if (!data) continue;
        bufs[nf] = data;
        files[nf++] = (wembed_file){ names[i], data, n };
    }
    wembed_model_params mp = wembed_model_default_params();
    mp.dtype = dtype;
    mp.n_threads = 2;
    wembed_model *m = NULL;
    wembed_status rc = wembed_model_load(files, nf, mp, &m);
    CHECKF(rc == WEMBED_STATUS_OK, "load %s: %s", dir, m ? wembed_model_last_error(m) : "?");
    for (size_t i = 0; i < nf; i++) free(bufs[i]);
    if (rc) { wembed_model_free(m); return NULL; }
    return m;
}

// -----------------------------------------------------------------------------------------

typedef struct batch {
    int32_t *ids, *mask, *types;
    int64_t B, S;
} batch;

static bool batch_of(const fixture *f, const we_json *cs, batch *b) {
    int64_t sh[4];
    int nd;
    b->ids = fixture_tensor(f, cs, "input_ids", sh, &nd);
    b->B = sh[0];
    b->S = sh[1];
    b->mask = fixture_tensor(f, cs, "attention_mask", sh, &nd);
    b->types = fixture_tensor(f, cs, "token_type_ids", sh, &nd);
    return b->ids && b->mask;
}

static void batch_free(batch *b) { free(b->ids); free(b->mask); free(b->types); }

// Compares last hidden states (B, S, E) where the mask is 1 against pooling NONE output.
static double hidden_diff(wembed_model *m, const batch *b, const float *ref, int E, const wembed_embed_params *base) {
    wembed_embed_params p = *base;
    p.pooling = WEMBED_POOLING_NONE;
    p.normalize = 0;
    int64_t n_real = 0;
    for (int64_t i = 0; i < b->B * b->S; i++) n_real += b->mask[i];
    float *out = malloc(sizeof(float) * (size_t)n_real * E);
    wembed_status rc = wembed_embed_ids(m, b->ids, b->types, b->mask, (int32_t)b->B, (int32_t)b->S, &p, out, sizeof(float) * (size_t)n_real * E);
    if (!CHECKF(rc == WEMBED_STATUS_OK, "embed_ids: %s", wembed_model_last_error(m))) { free(out); return INFINITY; }
    double md = 0;
    int64_t k = 0;
    for (int64_t r = 0; r < b->B; r++)
        for (int64_t t = 0; t < b->S; t++) {
            if (!b->mask[r * b->S + t]) continue;
            double d = we_max_abs_diff(out + (size_t)k * E, ref + ((size_t)r * b->S + t) * E, (size_t)E);
            if (d > md) md = d;
            k++;
        }
    free(out);
    return md;
}

// Pooled output vs a reference (B, D): the worst cosine and max abs diff over rows.
static void pooled_diff(wembed_model *m, const batch *b, const float *ref, int D, const wembed_embed_params *p,
                        double *min_cos, double *max_abs) {
    float *out = malloc(sizeof(float) * (size_t)b->B * D);
    wembed_status rc = wembed_embed_ids(m, b->ids, b->types, b->mask, (int32_t)b->B, (int32_t)b->S, p, out, sizeof(float) * (size_t)b->B * D);
    *min_cos = 1;
    *max_abs = 0;
    if (!CHECKF(rc == WEMBED_STATUS_OK, "embed_ids: %s", wembed_model_last_error(m))) { *min_cos = -1; free(out); return; }
    for (int64_t r = 0; r < b->B; r++) {
        double c = we_cosine(out + r * D, ref + r * D, (size_t)D), a = we_max_abs_diff(out + r * D, ref + r * D, (size_t)D);
        if (c < *min_cos) *min_cos = c;
        if (a > *max_abs) *max_abs = a;
    }
    free(out);
}

typedef struct pooled_ref { const char *tensor; int pooling; int normalize; int dims; } pooled_ref;

// Every case of a folder: hidden states and each pooled reference the case holds.
static void check_fixture(const char *dir, int E, wembed_dtype dtype, double tol_hidden, double min_cos_ok) {
    fixture f;
    if (!fixture_open(&f, dir)) return;
    wembed_model *m = load_fixture_model(dir, dtype);
    if (!m) { fixture_close(&f); return; }
    static const pooled_ref refs[] = {
        { "mean_pooled", WEMBED_POOLING_MEAN, 0, 0 },
        { "mean_pooled_normalized", WEMBED_POOLING_MEAN, 1, 0 },
        { "cls_pooled", WEMBED_POOLING_CLS, 0, 0 },
        { "cls_pooled_normalized", WEMBED_POOLING_CLS, 1, 0 },
        { "matryoshka_32", WEMBED_POOLING_MEAN, 1, 32 },
        { "matryoshka_16", WEMBED_POOLING_MEAN, 1, 16 },
        { "text_embeds", WEMBED_POOLING_EOS, 0, 0 },
        { "text_embeds_normalized", WEMBED_POOLING_EOS, 1, 0 },
    };
    const char *dt = dtype == WEMBED_DTYPE_F32 ? "f32" : dtype == WEMBED_DTYPE_F16 ? "f16" : "q8";
    const we_json *cases = we_json_get(f.manifest, "cases");
    for (uint32_t ci = 0; cases && ci < cases->len; ci++) {
        const we_json *cs = we_json_at(cases, ci);
        const char *name = we_json_as_str(we_json_get(cs, "name"), NULL);
        batch b;
        if (!batch_of(&f, cs, &b)) { batch_free(&b); continue; }   // (CLIP's image cases)
        wembed_embed_params p = wembed_embed_default_params();
        // nomic_bert_ntk's multi-row cases reproduce the reference's padded-length NTK.
        if (strcmp(dir, "nomic_bert_ntk") == 0 && b.B > 1) p.ntk_length = WEMBED_NTK_LENGTH_PADDED;
        int64_t sh[4];
        int nd;
        float *lhs = fixture_tensor(&f, cs, "last_hidden_state", sh, &nd);
        if (lhs) {
            double md = hidden_diff(m, &b, lhs, E, &p);
            CHECKF(md <= tol_hidden, "%s/%s [%s] last_hidden_state: max abs diff %.3g (tolerance %.0e)", dir, name, dt, md, tol_hidden);
            printf("%-16s %-16s %-4s hidden max|diff| %.2e\n", dir, name, dt, md);
            free(lhs);
        }
        for (size_t k = 0; k < WE_ARRAY_LEN(refs); k++) {
            float *ref = fixture_tensor(&f, cs, refs[k].tensor, sh, &nd);
            if (!ref) continue;
            wembed_embed_params q = p;
            q.pooling = refs[k].pooling;
            q.normalize = refs[k].normalize;
            q.dims = refs[k].dims;
            int D = (int)sh[nd - 1];
            double c, a;
            pooled_diff(m, &b, ref, D, &q, &c, &a);
            CHECKF(c >= min_cos_ok && (dtype != WEMBED_DTYPE_F32 || a <= 1e-4),
                   "%s/%s [%s] %s: cosine %.7f, max abs diff %.3g", dir, name, dt, refs[k].tensor, c, a);
            printf("%-16s %-16s %-4s %-24s cos %.8f max|diff| %.2e\n", dir, name, dt, refs[k].tensor, c, a);
            free(ref);
        }
        batch_free(&b);
    }
    wembed_model_free(m);
    fixture_close(&f);
}

// -----------------------------------------------------------------------------------------

// A row's vector does not depend on its batch (default NTK length: the row's own).
static void test_batch_invariance(void) {
    fixture f;
    if (!fixture_open(&f, "nomic_bert_ntk")) return;
    wembed_model *m = load_fixture_model("nomic_bert_ntk", WEMBED_DTYPE_F32);
    batch b;
    if (m && batch_of(&f, fixture_case(&f, "batch_long"), &b)) {
        wembed_embed_params p = wembed_embed_default_params();
        float both[2 * 64], alone[64];
        CHECK(wembed_embed_ids(m, b.ids, NULL, b.mask, 2, (int32_t)b.S, &p, both, sizeof both) == WEMBED_STATUS_OK);
        // row 1 alone, unpadded
        int32_t n1 = 0;
        for (int64_t t = 0; t < b.S; t++) n1 += b.mask[b.S + t];
        CHECK(wembed_embed_ids(m, b.ids + b.S, NULL, NULL, 1, n1, &p, alone, sizeof alone) == WEMBED_STATUS_OK);
        CHECKF(memcmp(both + 64, alone, sizeof alone) == 0, "batch invariance: row 1 differs from itself alone (cos %.8f)",
               we_cosine(both + 64, alone, 64));
        // and with the reference's padded length it does depend on the batch
        p.ntk_length = WEMBED_NTK_LENGTH_PADDED;
        CHECK(wembed_embed_ids(m, b.ids, NULL, b.mask, 2, (int32_t)b.S, &p, both, sizeof both) == WEMBED_STATUS_OK);
        CHECK(memcmp(both + 64, alone, sizeof alone) != 0);
        batch_free(&b);
    }
    wembed_model_free(m);
    fixture_close(&f);
}

// int8 and binary outputs are the quantized f32 vectors; chunking and truncation behave.
static void test_outputs(void) {
    wembed_model *m = load_fixture_model("nomic_bert", WEMBED_DTYPE_F32);
    if (!m) return;
    fixture f;
    fixture_open(&f, "nomic_bert");
    batch b;
    if (batch_of(&f, fixture_case(&f, "long300"), &b)) {
        int32_t S = (int32_t)b.S;
        wembed_embed_params p = wembed_embed_default_params();
        float v[64];
        int8_t q[64];
        uint8_t bits[8];
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &p, v, sizeof v) == WEMBED_STATUS_OK);
        p.output = WEMBED_OUTPUT_INT8;
        CHECK(wembed_embed_vector_bytes(m, &p) == 64);
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &p, q, sizeof q) == WEMBED_STATUS_OK);
        float mx = 0, qf[64];
        for (int e = 0; e < 64; e++) mx = fabsf(v[e]) > mx ? fabsf(v[e]) : mx;
        int off = 0;
        for (int e = 0; e < 64; e++) {
            off += abs(q[e] - (int)lrintf(v[e] * 127 / mx)) > 0;
            qf[e] = q[e];
        }
        CHECK(off == 0);
        CHECKF(we_cosine(qf, v, 64) > 0.9999, "int8 output cosine %.6f", we_cosine(qf, v, 64));
        p.output = WEMBED_OUTPUT_BINARY;
        CHECK(wembed_embed_vector_bytes(m, &p) == 8);
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &p, bits, sizeof bits) == WEMBED_STATUS_OK);
        int wrong = 0;
        for (int e = 0; e < 64; e++) wrong += ((bits[e / 8] >> (7 - e % 8)) & 1) != (v[e] > 0);
        CHECK(wrong == 0);
        p.output = WEMBED_OUTPUT_F32;

        // truncate: error refuses, end truncates (= embedding the first max_tokens ids)
        p.max_tokens = 100;
        p.truncate = WEMBED_TRUNCATE_ERROR;
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &p, v, sizeof v) == WEMBED_STATUS_TOO_LONG);
        CHECK(strstr(wembed_model_last_error(m), "300 tokens") != NULL);
        p.truncate = WEMBED_TRUNCATE_END;
        float t100[64], first100[64];
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &p, t100, sizeof t100) == WEMBED_STATUS_OK);
        p.max_tokens = 0;
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, 100, &p, first100, sizeof first100) == WEMBED_STATUS_OK);
        CHECK(memcmp(t100, first100, sizeof t100) == 0);

        // chunk: windows of 128 with 16 overlap over 300 tokens = [0,128) [112,240) [224,300);
        // the result is the token-weighted mean of the windows' mean-pooled vectors, normalized.
        p.max_tokens = 128;
        p.chunk_overlap = 16;
        p.truncate = WEMBED_TRUNCATE_CHUNK;
        float chunked[64], w[3][64];
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &p, chunked, sizeof chunked) == WEMBED_STATUS_OK);
        wembed_embed_params pw = wembed_embed_default_params();
        pw.normalize = 0;
        const int starts[3] = { 0, 112, 224 }, lens[3] = { 128, 128, 76 };
        double sum[64] = { 0 };
        for (int k = 0; k < 3; k++) {
            CHECK(wembed_embed_ids(m, b.ids + starts[k], NULL, NULL, 1, lens[k], &pw, w[k], sizeof w[k]) == WEMBED_STATUS_OK);
            for (int e = 0; e < 64; e++) sum[e] += (double)w[k][e] * lens[k];
        }
        float expect[64];
        double nn = 0;
        for (int e = 0; e < 64; e++) nn += sum[e] * sum[e];
        for (int e = 0; e < 64; e++) expect[e] = (float)(sum[e] / sqrt(nn));
        CHECKF(we_max_abs_diff(chunked, expect, 64) < 1e-6, "chunking: max abs diff %g", we_max_abs_diff(chunked, expect, 64));

        // bad calls: clear errors, model still usable
        wembed_embed_params bad = wembed_embed_default_params();
        bad.dims = 65;
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &bad, v, sizeof v) == WEMBED_STATUS_INVALID_ARGUMENT);
        bad = wembed_embed_default_params();
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &bad, v, 10) == WEMBED_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(wembed_model_last_error(m), "too small") != NULL);
        int32_t bad_ids[3] = { 1, 99999, 2 };
        CHECK(wembed_embed_ids(m, bad_ids, NULL, NULL, 1, 3, &bad, v, sizeof v) == WEMBED_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(wembed_model_last_error(m), "99999") != NULL);
        int32_t zero_mask[3] = { 0, 0, 0 };
        CHECK(wembed_embed_ids(m, bad_ids, NULL, zero_mask, 1, 3, &bad, v, sizeof v) == WEMBED_STATUS_INVALID_ARGUMENT);
        CHECK(wembed_embed_ids(m, b.ids, NULL, NULL, 1, S, &bad, v, sizeof v) == WEMBED_STATUS_OK);
        batch_free(&b);
    }
    fixture_close(&f);
    wembed_model_free(m);
}

// The CLIP vision tower: prepared pixels, raw images through the preprocessing, and the
// text-image logits of the fixture.
static void test_clip_images(wembed_dtype dtype, double min_cos) {
    fixture f;
    if (!fixture_open(&f, "clip")) return;
    wembed_file files[3];
    const char *names[3] = { "config.json", "model.safetensors", "preprocessor_config.json" };
    void *bufs[3];
    for (int i = 0; i < 3; i++) {
        char rel[128];
        size_t n;
        snprintf(rel, sizeof rel, "fixtures/clip/%s", names[i]);
        bufs[i] = we_test_read_file(we_test_data_path(rel), &n);
        files[i] = (wembed_file){ names[i], bufs[i], n };
    }
    wembed_model_params mp = wembed_model_default_params();
    mp.dtype = dtype;
    wembed_model *m = NULL;
    CHECK(wembed_model_load(files, 3, mp, &m) == WEMBED_STATUS_OK);
    for (int i = 0; i < 3; i++) free(bufs[i]);
    const char *dt = dtype == WEMBED_DTYPE_F32 ? "f32" : dtype == WEMBED_DTYPE_F16 ? "f16" : "q8";
    CHECK(wembed_image_size(m) == 32);
    int64_t sh[4];
    int nd;
    wembed_embed_params p = wembed_embed_default_params();

    // text vectors (normalized) for the logits
    batch tb;
    float text_norm[3 * 32];
    CHECK(batch_of(&f, fixture_case(&f, "text3"), &tb));
    CHECK(wembed_embed_ids(m, tb.ids, NULL, tb.mask, (int32_t)tb.B, (int32_t)tb.S, &p, text_norm, sizeof text_norm) == WEMBED_STATUS_OK);
    batch_free(&tb);

    const char *cases[] = { "images_random", "image_raw0", "image_raw1" };
    for (size_t ci = 0; ci < WE_ARRAY_LEN(cases); ci++) {
        const we_json *cs = fixture_case(&f, cases[ci]);
        float *pix = fixture_tensor(&f, cs, "pixel_values", sh, &nd);
        int B = (int)sh[0];
        float *lhs = fixture_tensor(&f, cs, "last_hidden_state", sh, &nd);
        float *emb = fixture_tensor(&f, cs, "image_embeds", sh, &nd);
        float *embn = fixture_tensor(&f, cs, "image_embeds_normalized", sh, &nd);
        float *logits = fixture_tensor(&f, cs, "logits_per_text", sh, &nd);
        uint8_t *raw = fixture_tensor(&f, cs, "image_uint8", sh, &nd);
        int rh = raw ? (int)sh[0] : 0, rw = raw ? (int)sh[1] : 0;
        float *out = malloc(sizeof(float) * (size_t)B * 17 * 96);
        // hidden states from the prepared pixels
        wembed_embed_params q = p;
        q.pooling = WEMBED_POOLING_NONE;
        q.normalize = 0;
        CHECK(wembed_embed_pixels(m, pix, B, &q, out, sizeof(float) * (size_t)B * 17 * 96) == WEMBED_STATUS_OK);
        double md = we_max_abs_diff(out, lhs, (size_t)B * 17 * 96);
        CHECKF(md <= (dtype == WEMBED_DTYPE_F32 ? 1e-4 : 0.5), "clip/%s [%s] vision last_hidden_state max abs diff %.3g", cases[ci], dt, md);
        printf("%-16s %-16s %-4s hidden max|diff| %.2e\n", "clip", cases[ci], dt, md);
        // projected, unnormalized and normalized
        q = p;
        q.normalize = 0;
        CHECK(wembed_embed_pixels(m, pix, B, &q, out, sizeof(float) * (size_t)B * 32) == WEMBED_STATUS_OK);
        double c = 1, a = 0;
        for (int b = 0; b < B; b++) {
            c = fmin(c, we_cosine(out + b * 32, emb + b * 32, 32));
            a = fmax(a, we_max_abs_diff(out + b * 32, emb + b * 32, 32));
        }
        CHECKF(c >= min_cos && (dtype != WEMBED_DTYPE_F32 || a <= 1e-4), "clip/%s [%s] image_embeds cos %.7f max abs %.3g", cases[ci], dt, c, a);
        printf("%-16s %-16s %-4s %-24s cos %.8f max|diff| %.2e\n", "clip", cases[ci], dt, "image_embeds", c, a);
        float *img_norm = malloc(sizeof(float) * (size_t)B * 32);
        if (raw) {
            // from the raw image: the preprocessing and the tower together
            wembed_image im = { raw, rw, rh, (size_t)rw * 3, 3 };
            float prep[3 * 32 * 32];
            CHECK(wembed_image_preprocess(m, &im, prep, sizeof prep) == WEMBED_STATUS_OK);
            CHECK(we_max_abs_diff(prep, pix, 3 * 32 * 32) <= 5e-7);
            CHECK(wembed_embed_images(m, &im, 1, &p, img_norm, sizeof(float) * 32) == WEMBED_STATUS_OK);
        } else {
            CHECK(wembed_embed_pixels(m, pix, B, &p, img_norm, sizeof(float) * (size_t)B * 32) == WEMBED_STATUS_OK);
        }
        c = 1;
        for (int b = 0; b < B; b++) c = fmin(c, we_cosine(img_norm + b * 32, embn + b * 32, 32));
        CHECKF(c >= min_cos, "clip/%s [%s] image_embeds_normalized cos %.7f", cases[ci], dt, c);
        // logits_per_text (3, B) = exp(logit_scale) * text_norm @ img_norm^T
        float scale = wembed_model_logit_scale(m);
        double ld = 0;
        for (int t = 0; t < 3; t++)
            for (int b = 0; b < B; b++) {
                double dot = 0;
                for (int e = 0; e < 32; e++) dot += (double)text_norm[t * 32 + e] * img_norm[b * 32 + e];
                ld = fmax(ld, fabs(scale * dot - logits[t * B + b]));
            }
        // q8: logits are exp(logit_scale) = 14.3 times a cosine; cosines within 0.02 of f32.
        CHECKF(ld <= (dtype == WEMBED_DTYPE_F32 ? 1e-4 : 0.3), "clip/%s [%s] logits_per_text max abs diff %.3g", cases[ci], dt, ld);
        printf("%-16s %-16s %-4s %-24s max|diff| %.2e\n", "clip", cases[ci], dt, "logits_per_text", ld);
        free(pix); free(lhs); free(emb); free(embn); free(logits); free(raw); free(out); free(img_norm);
    }
    // a corrupt image call: a clear error, and the model still works
    wembed_image bad = { (const uint8_t *)"abc", 0, 1, 3, 3 };
    float v[32];
    CHECK(wembed_embed_images(m, &bad, 1, &p, v, sizeof v) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(wembed_model_last_error(m), "image 0") != NULL);
    uint8_t px[3] = { 10, 200, 30 };
    wembed_image one = { px, 1, 1, 3, 3 };
    CHECK(wembed_embed_images(m, &one, 1, &p, v, sizeof v) == WEMBED_STATUS_OK);
    wembed_model_free(m);
    fixture_close(&f);
}

// xlm-roberta: BERT's encoder with positions counted from pad_token_id + 1 over non-pad ids
// (tests/data/roberta, made by gen/roberta_fixture.py with a float64 reference).
static void test_roberta(void) {
    size_t nc, ns, ne;
    void *cfg = we_test_read_file(we_test_data_path("roberta/config.json"), &nc);
    void *st = we_test_read_file(we_test_data_path("roberta/model.safetensors"), &ns);
    char *ex = (char *)we_test_read_file(we_test_data_path("roberta/expected.json"), &ne);
    if (!CHECK(cfg && st && ex)) return;
    wembed_file files[2] = { { "config.json", cfg, nc }, { "model.safetensors", st, ns } };
    wembed_model *m = NULL;
    CHECK(wembed_model_load(files, 2, wembed_model_default_params(), &m) == WEMBED_STATUS_OK);
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *root;
    we_err err;
    CHECK(we_json_parse(&a, ex, ne, NULL, &root, &err) == WEMBED_STATUS_OK);
    const we_json *jids = we_json_get(root, "input_ids"), *jmask = we_json_get(root, "attention_mask");
    const we_json *jh = we_json_get(root, "hidden");
    int B = (int)jids->len, S = (int)we_json_at(jids, 0)->len, n_real = 0;
    int32_t ids[64], mask[64];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++) {
            int64_t v;
            we_json_as_int(we_json_at(we_json_at(jids, (size_t)b), (size_t)t), &v);
            ids[b * S + t] = (int32_t)v;
            we_json_as_int(we_json_at(we_json_at(jmask, (size_t)b), (size_t)t), &v);
            mask[b * S + t] = (int32_t)v;
            n_real += (int)v;
        }
    wembed_embed_params p = wembed_embed_default_params();
    p.pooling = WEMBED_POOLING_NONE;
    p.normalize = 0;
    float out[64 * 32];
    CHECK(wembed_embed_ids(m, ids, NULL, mask, B, S, &p, out, sizeof out) == WEMBED_STATUS_OK);
    double md = 0;
    int k = 0;
    for (int b = 0; b < B; b++)
        for (uint32_t t = 0; t < we_json_at(jh, (size_t)b)->len; t++, k++)
            for (int e = 0; e < 32; e++) {
                double want;
                we_json_as_double(we_json_at(we_json_at(we_json_at(jh, (size_t)b), t), (size_t)e), &want);
                md = fmax(md, fabs(out[k * 32 + e] - want));
            }
    CHECKF(k == n_real && md <= 1e-4, "xlm-roberta hidden states: %d rows, max abs diff %.3g", k, md);
    printf("%-16s %-16s %-4s hidden max|diff| %.2e\n", "xlm-roberta", "batch2", "f32", md);
    we_arena_free(&a);
    wembed_model_free(m);
    free(cfg);
    free(st);
    free(ex);
}

// -----------------------------------------------------------------------------------------
// The long-input options (their numbers: test-families on nomic_long, gte_long, bert_tempscale)

// One call with params p; its status, and whether the model's message names `word`.
static wembed_status call_p(wembed_model *m, const wembed_embed_params *p, const char *word, bool *named) {
    int32_t ids[40], mask[40];
    for (int t = 0; t < 40; t++) ids[t] = 5 + t, mask[t] = 1;
    ids[0] = 1, ids[39] = 2;
    float v[64];
    wembed_status rc = wembed_embed_ids(m, ids, NULL, mask, 1, 40, p, v, sizeof v);
    *named = strstr(wembed_model_last_error(m), word) != NULL;
    return rc;
}

static void test_long_options(void) {
    bool named;
    // BERT: TempScale yes; RoPE scaling and SelfExtend are refused, naming the option.
    wembed_model *m = load_fixture_model("bert_tempscale", WEMBED_DTYPE_F32);
    if (!m) return;
    wembed_embed_params p = wembed_embed_default_params();
    CHECK(p.attention_temperature == 1.0f && p.self_extend_group == 0 && p.self_extend_window == 0);
    p.attention_temperature = 0.5f;
    CHECK(call_p(m, &p, "", &named) == WEMBED_STATUS_OK);
    p = wembed_embed_default_params();
    p.rope_scaling = WEMBED_ROPE_LINEAR;
    p.rope_factor = 2;
    CHECK(call_p(m, &p, "rope_scaling", &named) == WEMBED_STATUS_INVALID_ARGUMENT && named);
    CHECK(wembed_embed_dims(m, &p) == 0);
    p = wembed_embed_default_params();
    p.rope_factor = 2;                                   // a factor alone is a RoPE option too
    CHECK(call_p(m, &p, "rope_factor", &named) == WEMBED_STATUS_INVALID_ARGUMENT && named);
    p = wembed_embed_default_params();
    p.self_extend_group = 4, p.self_extend_window = 16;
    CHECK(call_p(m, &p, "self_extend", &named) == WEMBED_STATUS_UNSUPPORTED && named);
    CHECK(strstr(wembed_model_last_error(m), "bert") != NULL);
    // Bad values, on any family
    const float bad_tau[] = { 0.0f, -1.0f, NAN, INFINITY };
    for (size_t i = 0; i < WE_ARRAY_LEN(bad_tau); i++) {
        p = wembed_embed_default_params();
        p.attention_temperature = bad_tau[i];
        CHECKF(call_p(m, &p, "attention_temperature", &named) == WEMBED_STATUS_INVALID_ARGUMENT && named,
               "attention_temperature %g", (double)bad_tau[i]);
    }
    wembed_model_free(m);

    m = load_fixture_model("nomic_long", WEMBED_DTYPE_F32);
    if (!m) return;
    const int32_t bad_se[][2] = { { 4, 0 }, { 0, 16 }, { -1, 16 }, { 4, -3 } };
    for (size_t i = 0; i < WE_ARRAY_LEN(bad_se); i++) {
        p = wembed_embed_default_params();
        p.self_extend_group = bad_se[i][0], p.self_extend_window = bad_se[i][1];
        CHECKF(call_p(m, &p, "self_extend", &named) == WEMBED_STATUS_INVALID_ARGUMENT && named,
               "self_extend group %d, window %d", bad_se[i][0], bad_se[i][1]);
    }
    // SelfExtend with the whole window of options: RoPE scaling, TempScale, f16 / q8 weights
    // (below), chunked inputs (each window its own sequence).
    float ref[32], v[32];
    int32_t ids[150], mask[150];
    for (int t = 0; t < 150; t++) ids[t] = 5 + (t * 7) % 90, mask[t] = 1;
    p = wembed_embed_default_params();
    p.self_extend_group = 4, p.self_extend_window = 16;
    p.rope_scaling = WEMBED_ROPE_LINEAR, p.rope_factor = 2;
    p.attention_temperature = 0.9f;
    p.max_tokens = 150;
    CHECK(wembed_embed_ids(m, ids, NULL, mask, 1, 150, &p, ref, sizeof ref) == WEMBED_STATUS_OK);
    p.truncate = WEMBED_TRUNCATE_CHUNK, p.max_tokens = 60, p.chunk_overlap = 10;
    CHECK(wembed_embed_ids(m, ids, NULL, mask, 1, 150, &p, v, sizeof v) == WEMBED_STATUS_OK);
    wembed_model_free(m);
    const wembed_dtype dts[] = { WEMBED_DTYPE_F16, WEMBED_DTYPE_Q8 };
    for (size_t i = 0; i < WE_ARRAY_LEN(dts); i++) {
        m = load_fixture_model("nomic_long", dts[i]);
        if (!m) return;
        p.truncate = WEMBED_TRUNCATE_END, p.max_tokens = 150;
        CHECK(wembed_embed_ids(m, ids, NULL, mask, 1, 150, &p, v, sizeof v) == WEMBED_STATUS_OK);
        double cs = we_cosine(v, ref, 32);
        CHECKF(cs > (dts[i] == WEMBED_DTYPE_F16 ? 0.9999 : 0.995), "nomic_long SelfExtend + linear + TempScale, dtype %d: cosine %.6f to f32",
               (int)dts[i], cs);
        wembed_model_free(m);
    }

    // Images take none of them (text only), and say so.
    m = load_fixture_model("clip", WEMBED_DTYPE_F32);
    if (!m) return;
    uint8_t px[3] = { 10, 200, 30 };
    wembed_image one = { px, 1, 1, 3, 3 };
    p = wembed_embed_default_params();
    p.attention_temperature = 0.8f;
    CHECK(wembed_embed_images(m, &one, 1, &p, v, sizeof v) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(wembed_model_last_error(m), "attention_temperature") != NULL);
    p.attention_temperature = 1.0f;
    CHECK(wembed_embed_images(m, &one, 1, &p, v, sizeof v) == WEMBED_STATUS_OK);
    wembed_model_free(m);
}

int main(void) {
    // fp32 engine on fp32/fp16/bf16 weights: the fixtures' tolerances.
    check_fixture("bert", 64, WEMBED_DTYPE_F32, 1e-4, 0.99999);
    check_fixture("bert_cls", 64, WEMBED_DTYPE_F32, 1e-4, 0.99999);
    check_fixture("bert_fp16", 64, WEMBED_DTYPE_F32, 1e-4, 0.99999);
    check_fixture("bert_bf16", 64, WEMBED_DTYPE_F32, 1e-4, 0.99999);
    check_fixture("nomic_bert", 64, WEMBED_DTYPE_F32, 1e-4, 0.99999);
    check_fixture("nomic_bert_ntk", 64, WEMBED_DTYPE_F32, 1e-4, 0.99999);
    check_fixture("clip", 64, WEMBED_DTYPE_F32, 1e-4, 0.99999);
    test_clip_images(WEMBED_DTYPE_F32, 0.99999);
    test_roberta();
    // f16 weights: rounding every weight to half costs ~1e-3 relative per layer; pooled
    // vectors keep cosine >= 0.9999 against the f32 reference.
    check_fixture("bert", 64, WEMBED_DTYPE_F16, 2e-2, 0.9999);
    check_fixture("nomic_bert", 64, WEMBED_DTYPE_F16, 2e-2, 0.9999);
    // q8 weights (int8 per row) and int8 activations: cosine >= 0.995 against f32.
    check_fixture("bert", 64, WEMBED_DTYPE_Q8, 0.5, 0.995);
    check_fixture("nomic_bert", 64, WEMBED_DTYPE_Q8, 0.5, 0.995);
    check_fixture("clip", 64, WEMBED_DTYPE_Q8, 0.5, 0.995);
    test_clip_images(WEMBED_DTYPE_Q8, 0.995);
    test_batch_invariance();
    test_outputs();
    test_long_options();
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-model");
}
