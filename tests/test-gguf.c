// test-gguf.c - the GGUF reader (src/formats/gguf.c) and GGUF model loading: llama.cpp's real
// vocab-only file (its tokenizer metadata), every metadata value type, the block decoders
// against numpy references (exact), incremental header parsing, bert / nomic-bert / clip /
// modern-bert files made from the fixtures by gen/gguf_writer.py (F32 round trip exact against
// the safetensors load; quantized types within stated bounds), jina-bert-v2 files with the
// gated projection fused or split (gen/jina_fixture.py), streaming in chunks, and every
// malformed-file case refused with its own status and message.
// safetensors load; quantized types within stated bounds), qwen3 and gemma-embedding (with
// its Dense modules) files embedding like the safetensors fixtures they come from, streaming
// in chunks, and every malformed-file case refused with its own status and message.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/f16.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model.h"

static uint8_t *read_data(const char *rel, size_t *n) {
    uint8_t *b = we_test_read_file(we_test_data_path(rel), n);
    CHECKF(b != NULL, "read %s", rel);
    return b;
}

// -----------------------------------------------------------------------------------------
// The real llama.cpp vocab-only file

static void test_vocab_file(void) {
    size_t n;
    uint8_t *b = read_data("tokenizers/llama.cpp/ggml-vocab-bert-bge.gguf", &n);
    if (!b) return;
    we_arena a;
    we_arena_init(&a, 0);
    we_gguf g;
    bool more;
    we_err err;
    CHECKF(we_gguf_parse(&a, b, n, n, &g, &more, &err) == WEMBED_STATUS_OK && !more, "%s", err.msg);
    CHECK(g.version == 3 && g.n_kv == 20 && g.n_tensors == 0 && g.alignment == 32);
    CHECK(strcmp(we_gguf_get_str(&g, "general.architecture"), "bert") == 0);
    CHECK(strcmp(we_gguf_get_str(&g, "tokenizer.ggml.pre"), "bert-bge") == 0);
    int64_t i;
    CHECK(we_gguf_get_int(&g, "bert.embedding_length", &i) && i == 384);
    CHECK(we_gguf_get_int(&g, "bert.block_count", &i) && i == 12);
    double d;
    CHECK(we_gguf_get_float(&g, "bert.attention.layer_norm_epsilon", &d) && (float)d == 1e-12f);
    bool bv = true;
    CHECK(we_gguf_get_bool(&g, "bert.attention.causal", &bv) && !bv);
    CHECK(!we_gguf_get_int(&g, "general.name", &i) && we_gguf_get_str(&g, "bert.block_count") == NULL);

    we_gguf_vocab v;
    CHECKF(we_gguf_read_vocab(&g, &v, &err) == WEMBED_STATUS_OK, "%s", err.msg);
    CHECK(v.n_tokens == 30522 && strcmp(v.model, "bert") == 0 && strcmp(v.pre, "bert-bge") == 0);
    CHECK(v.unk_id == 100 && v.sep_id == 102 && v.pad_id == 0 && v.cls_id == 101 && v.mask_id == 103);
    CHECK(v.bos_id == -1 && v.eos_id == -1 && v.add_bos == -1 && v.scores == NULL && v.merges == NULL);
    CHECK(strcmp(v.tokens[0].s, "[PAD]") == 0 && strcmp(v.tokens[101].s, "[CLS]") == 0);
    CHECK(strcmp(v.tokens[1996].s, "\xE2\x96\x81the") == 0 && v.tokens[1996].n == 6);   // "▁the": a word start
    CHECK(strcmp(v.tokens[2015].s, "s") == 0);                                          // "##s": a continuation
    CHECK(v.token_types && v.token_types[0] == 3 && v.token_types[101] == 3 && v.token_types[1996] == 1);
    we_arena_free(&a);

    // Incremental: every prefix shorter than the header asks for more, never fails.
    int asked = 0;
    for (size_t k = 0; k < n; k += 9973) {
        we_arena_init(&a, 0);
        wembed_status rc = we_gguf_parse(&a, b, k, n, &g, &more, &err);
        CHECKF(rc == WEMBED_STATUS_OK && more, "prefix %zu: %s", k, err.msg);
        asked += more;
        we_arena_free(&a);
    }
    CHECK(asked > 60);

    // As a model: the architecture is known, the tensors are not there.
    wembed_file f = {"ggml-vocab-bert-bge.gguf", b, n};
    wembed_model *m = NULL;
    CHECK(wembed_model_load(&f, 1, wembed_model_default_params(), &m) == WEMBED_STATUS_MISSING_TENSOR);
    CHECKF(m && strstr(wembed_model_last_error(m), "missing tensor embeddings.word_embeddings.weight (and 196 more) for bert"),
           "%s", m ? wembed_model_last_error(m) : "");
    wembed_model_free(m);
    free(b);
}

// -----------------------------------------------------------------------------------------
// Metadata types and block decoders

static const we_gguf_tensor *tensor(const we_gguf *g, const char *name) {
    const we_gguf_tensor *t = we_gguf_find_tensor(g, name);
    CHECKF(t != NULL, "tensor %s", name);
    return t;
}

static void test_blocks(void) {
    size_t n;
    uint8_t *b = read_data("gguf/quant-blocks.gguf", &n);
    if (!b) return;
    we_arena a;
    we_arena_init(&a, 0);
    we_gguf g;
    bool more;
    we_err err;
    CHECKF(we_gguf_parse(&a, b, n, n, &g, &more, &err) == WEMBED_STATUS_OK, "%s", err.msg);
    int64_t i;
    double d;
    bool bv;
    const we_gguf_kv *kv;
    CHECK(we_gguf_get_int(&g, "test.u8", &i) && i == 250);
    CHECK(we_gguf_get_int(&g, "test.i8", &i) && i == -7);
    CHECK(we_gguf_get_int(&g, "test.u16", &i) && i == 65000);
    CHECK(we_gguf_get_int(&g, "test.i16", &i) && i == -30000);
    CHECK(we_gguf_get_int(&g, "test.u32", &i) && i == 4000000000LL);
    CHECK(we_gguf_get_int(&g, "test.i32", &i) && i == -2000000000LL);
    CHECK(we_gguf_get_float(&g, "test.f32", &d) && d == 0.25);
    CHECK(we_gguf_get_bool(&g, "test.bool", &bv) && bv);
    CHECK(strcmp(we_gguf_get_str(&g, "test.str"), "h\xC3\xA9llo") == 0);
    kv = we_gguf_find(&g, "test.u64");
    CHECK(kv && kv->type == WE_GGUF_U64 && kv->v.u == (1ULL << 63) + 5 && !we_gguf_get_int(&g, "test.u64", &i));
    CHECK(we_gguf_get_int(&g, "test.i64", &i) && i == -(1LL << 62));
    CHECK(we_gguf_get_float(&g, "test.f64", &d) && d == 1e-300);
    kv = we_gguf_find(&g, "test.arr_i16");
    CHECK(kv && kv->type == WE_GGUF_ARRAY && kv->arr_type == WE_GGUF_I16 && kv->n == 3 && ((const int16_t *)kv->v.arr)[1] == -2);
    kv = we_gguf_find(&g, "test.arr_str");
    CHECK(kv && kv->n == 3 && ((const we_gguf_str *)kv->v.arr)[1].n == 0 && strcmp(((const we_gguf_str *)kv->v.arr)[2].s, "\xC3\xA7") == 0);
    kv = we_gguf_find(&g, "test.arr_bool");
    CHECK(kv && kv->n == 2 && ((const uint8_t *)kv->v.arr)[0] == 1 && ((const uint8_t *)kv->v.arr)[1] == 0);
    kv = we_gguf_find(&g, "test.arr_f64");
    CHECK(kv && ((const double *)kv->v.arr)[1] == -1.5);
    kv = we_gguf_find(&g, "test.arr_empty");
    CHECK(kv && kv->n == 0 && kv->arr_type == WE_GGUF_U32);

    static const char *types[] = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    const uint8_t *data = b + g.data_start;
    for (size_t k = 0; k < WE_ARRAY_LEN(types); k++) {
        char ref_name[32];
        snprintf(ref_name, sizeof ref_name, "%s.ref", types[k]);
        const we_gguf_tensor *t = tensor(&g, types[k]), *r = tensor(&g, ref_name);
        if (!t || !r) continue;
        CHECK(strcmp(we_dtype_info(t->dtype)->name, types[k]) == 0 && t->n_elems == r->n_elems);
        const we_dtype_traits *tr = we_dtype_info(t->dtype);
        int bad = 0;
        for (uint64_t blk = 0; blk < t->n_elems / tr->block_elems; blk++) {
            float out[256];
            we_dtype_to_f32(t->dtype, data + t->offset + blk * tr->block_bytes, out);
            for (uint32_t e = 0; e < tr->block_elems; e++) {
                float want;
                memcpy(&want, data + r->offset + 4 * (blk * tr->block_elems + e), 4);
                if (out[e] != want && bad++ < 3) CHECKF(false, "%s block %llu elem %u: %.9g want %.9g", types[k], (unsigned long long)blk, e, out[e], want);
            }
        }
        CHECKF(bad == 0, "%s: %d values differ from numpy's dequantization", types[k], bad);
    }
    we_arena_free(&a);
    free(b);
}

// -----------------------------------------------------------------------------------------
// Models from GGUF

static wembed_model *load_gguf(const uint8_t *b, size_t n, wembed_dtype dt, size_t chunk, char *msg) {
    wembed_model_params p = wembed_model_default_params();
    p.dtype = dt;
    wembed_loader *ld;
    wembed_loader_new(p, &ld);
    we_loader_set_layout(ld, WE_LAYOUT_PACKED);
    wembed_status rc = wembed_loader_begin_file(ld, "model.gguf", n);
    if (chunk == 0) chunk = n;
    for (size_t off = 0; off < n && !rc; off += chunk) rc = wembed_loader_write(ld, b + off, WE_MIN(chunk, n - off));
    if (!rc) rc = wembed_loader_end_file(ld);
    wembed_model *m = NULL;
    if (!rc) rc = wembed_loader_finish(ld, &m);
    snprintf(msg, 512, "%s", wembed_loader_last_error(ld));
    wembed_loader_free(ld);
    return m;
}

static wembed_model *load_st_fixture(const char *dir, wembed_dtype dt) {
    char rel[128];
    size_t nc, ns;
    snprintf(rel, sizeof rel, "fixtures/%s/config.json", dir);
    uint8_t *c = read_data(rel, &nc);
    snprintf(rel, sizeof rel, "fixtures/%s/model.safetensors", dir);
    uint8_t *s = read_data(rel, &ns);
    wembed_model_params p = wembed_model_default_params();
    p.dtype = dt;
    wembed_loader *ld;
    wembed_loader_new(p, &ld);
    we_loader_set_layout(ld, WE_LAYOUT_PACKED);
    wembed_loader_add_file(ld, "config.json", c, nc);
    wembed_loader_add_file(ld, "model.safetensors", s, ns);
    wembed_model *m = NULL;
    wembed_status rc = wembed_loader_finish(ld, &m);
    CHECKF(rc == WEMBED_STATUS_OK, "%s: %s", dir, wembed_loader_last_error(ld));
    wembed_loader_free(ld);
    free(c);
    free(s);
    return m;
}

static const we_weight *find_weight(const wembed_model *m, const char *name) {
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i]->name, name) == 0) return m->tensors[i];
    return NULL;
}

// Max error of g against the reference weight r, in units of the block quantization step of
// the given type (step: Q8_0 amax/127, Q4_0 amax/8, Q5_0 amax/16, Q4_1 range/15, Q5_1
// range/31, over each block of 32 of r); 0 for an exact match.
static double max_err_steps(const we_weight *g, const we_weight *r, const char *type) {
    double worst = 0;
    for (int64_t n = 0; n < r->N; n++)
        for (int64_t k0 = 0; k0 < r->K; k0 += 32) {
            double amax = 0, mn = INFINITY, mx = -INFINITY;
            int64_t k1 = WE_MIN(k0 + 32, r->K);
            for (int64_t k = k0; k < k1; k++) {
                double v = we_weight_get(r, n, k);
                amax = fmax(amax, fabs(v)); mn = fmin(mn, v); mx = fmax(mx, v);
            }
            double step = 1;
            if (!strcmp(type, "Q8_0")) step = amax / 127;
            else if (!strcmp(type, "Q4_0")) step = amax / 8;
            else if (!strcmp(type, "Q5_0")) step = amax / 16;
            else if (!strcmp(type, "Q4_1")) step = (mx - mn) / 15;
            else if (!strcmp(type, "Q5_1")) step = (mx - mn) / 31;
            for (int64_t k = k0; k < k1; k++) {
                double e = fabs((double)we_weight_get(g, n, k) - we_weight_get(r, n, k));
                if (e > 0) worst = fmax(worst, step > 0 ? e / step : INFINITY);
            }
        }
    return worst;
}

static void test_bert_gguf(void) {
    size_t n;
    uint8_t *b = read_data("gguf/bert-f32.gguf", &n);
    if (!b) return;
    char msg[512];
    // f32: every weight identical to the safetensors load (same values, same packed layout).
    static const wembed_dtype dts[] = {WEMBED_DTYPE_F32, WEMBED_DTYPE_F16, WEMBED_DTYPE_Q8};
    for (size_t di = 0; di < 3; di++) {
        wembed_model *st = load_st_fixture("bert", dts[di]);
        static const size_t chunks[] = {0, 7, 4093, 300000};
        for (size_t c = 0; c < WE_ARRAY_LEN(chunks); c++) {
            if (chunks[c] == 7 && di != 2) continue;
            wembed_model *m = load_gguf(b, n, dts[di], chunks[c], msg);
            if (!CHECKF(m != NULL, "bert-f32.gguf dtype %d chunk %zu: %s", (int)dts[di], chunks[c], msg)) continue;
            wembed_model_info info;
            wembed_model_get_info(m, &info);
            CHECK(strcmp(info.architecture, "bert") == 0 && strcmp(info.format, "gguf") == 0 && strcmp(info.model_type, "bert") == 0);
            CHECK(info.n_embd == 64 && info.n_layer == 2 && info.n_head == 4 && info.n_ff == 128 && info.n_vocab == 512 && info.n_ctx == 512);
            CHECKF(info.n_params == 136896 - 4160, "params %lld", (long long)info.n_params);   // no pooler in GGUF
            CHECK(info.pooling == WEMBED_POOLING_MEAN && m->pooling_from_files);
            CHECKF(strstr(info.hparams, "\"n_types\":2,\"eps\":1e-12,\"act\":\"gelu\"") != NULL, "%s", info.hparams);
            const we_gguf_vocab *v = we_model_gguf_vocab(m);
            CHECK(v && v->n_tokens == 512 && v->cls_id == 101 && strcmp(v->tokens[101].s, "[CLS]") == 0);
            int same = 0, total = 0;
            for (uint32_t t = 0; t < m->n_tensors; t++) {
                const we_weight *w = m->tensors[t], *r = find_weight(st, w->name);
                total++;
                if (!r || w->type != r->type || w->layout != r->layout || w->nbytes != r->nbytes) continue;
                size_t db = w->nbytes - (w->scale ? (size_t)w->N * 4 : 0);
                same += memcmp(w->data, r->data, db) == 0 && (!w->scale || memcmp(w->scale, r->scale, (size_t)w->N * 4) == 0);
            }
            CHECKF(same == total && total == 37, "dtype %d chunk %zu: %d of %d tensors identical to the safetensors load",
                   (int)dts[di], chunks[c], same, total);
            wembed_model_free(m);
        }
        wembed_model_free(st);
    }
    free(b);

    // Mixed quantized types (GGUF v2): within the stated bound of each type.
    b = read_data("gguf/bert-mixed.gguf", &n);
    if (!b) return;
    static const struct { const char *name, *type; double bound; } mixed[] = {
        // Q8_0 0.5 step + the f16 scale's rounding (127 x 2^-11 steps); Q4_0/Q5_0 clamp the
        // value opposite the block's max to 7/15 steps: up to 1 step; Q4_1/Q5_1 0.5 step + f16 d and m.
        {"embeddings.word_embeddings.weight", "Q8_0", 0.57},
        {"encoder.layer.0.attention.self.query.weight", "Q4_0", 1.01},
        {"encoder.layer.0.attention.self.key.weight", "Q4_1", 0.52},
        {"encoder.layer.0.attention.self.value.weight", "Q5_0", 1.01},
        {"encoder.layer.0.attention.output.dense.weight", "Q5_1", 0.53},
        {"encoder.layer.1.attention.self.query.weight", "Q5_1", 0.53},
        {"encoder.layer.1.attention.output.dense.weight", "Q4_0", 1.01},
        {"encoder.layer.1.output.dense.weight", "Q8_0", 0.57},
    };
    wembed_model *st = load_st_fixture("bert", WEMBED_DTYPE_F32);
    wembed_model *m = load_gguf(b, n, WEMBED_DTYPE_F32, 65536, msg);
    if (CHECKF(m && st, "bert-mixed.gguf: %s", msg)) {
        CHECK(find_weight(m, "encoder.layer.0.output.dense.weight") != NULL);
        for (size_t k = 0; k < WE_ARRAY_LEN(mixed); k++) {
            const we_weight *w = find_weight(m, mixed[k].name), *r = find_weight(st, mixed[k].name);
            double e = w && r ? max_err_steps(w, r, mixed[k].type) : 99;
            CHECKF(e <= mixed[k].bound && e > 0.3, "%s (%s): max error %.3f steps (bound %.2f)", mixed[k].name, mixed[k].type, e, mixed[k].bound);
        }
        // F16 and BF16 tensors: exactly the rounding of the f32 values.
        const we_weight *w = find_weight(m, "encoder.layer.0.output.dense.weight"), *r = find_weight(st, "encoder.layer.0.output.dense.weight");
        const we_weight *w2 = find_weight(m, "encoder.layer.1.intermediate.dense.weight"), *r2 = find_weight(st, "encoder.layer.1.intermediate.dense.weight");
        int bad = 0;
        for (int64_t i = 0; i < r->N; i++)
            for (int64_t k = 0; k < r->K; k++) bad += we_weight_get(w, i, k) != we_f16_to_f32(we_f32_to_f16(we_weight_get(r, i, k)));
        for (int64_t i = 0; i < r2->N; i++)
            for (int64_t k = 0; k < r2->K; k++) bad += we_weight_get(w2, i, k) != we_bf16_to_f32(we_f32_to_bf16(we_weight_get(r2, i, k)));
        CHECKF(bad == 0, "F16/BF16 GGUF tensors: %d values off", bad);
        // Biases and norms stay exact.
        CHECK(max_err_steps(find_weight(m, "encoder.layer.1.output.LayerNorm.bias"), find_weight(st, "encoder.layer.1.output.LayerNorm.bias"), "F32") == 0);
    }
    wembed_model_free(m);
    // q8 from quantized GGUF: re-quantized per row; error adds half a q8 step of the row.
    m = load_gguf(b, n, WEMBED_DTYPE_Q8, 0, msg);
    if (CHECKF(m != NULL, "bert-mixed.gguf q8: %s", msg)) {
        const we_weight *w = find_weight(m, "encoder.layer.0.attention.self.query.weight"), *r = find_weight(st, "encoder.layer.0.attention.self.query.weight");
        CHECK(w->type == WE_WTYPE_Q8);
        double e = max_err_steps(w, r, "Q4_0");
        CHECKF(e <= 1.01 + 0.5 * 8.0 / 127 * 1.01 + 0.01, "Q4_0 -> q8: %.3f Q4_0 steps", e);
    }
    wembed_model_free(m);
    // q4 from Q4_0 blocks: the same values exactly (the blocks' own scales and integers come
    // back); from Q8_0, within a q4 step of the block.
    m = load_gguf(b, n, WEMBED_DTYPE_Q4, 0, msg);
    wembed_model *m32 = load_gguf(b, n, WEMBED_DTYPE_F32, 0, msg);
    if (CHECKF(m && m32, "bert-mixed.gguf q4: %s", msg)) {
        static const char *const q4_0[] = {"encoder.layer.0.attention.self.query.weight", "encoder.layer.1.attention.output.dense.weight"};
        for (size_t k = 0; k < WE_ARRAY_LEN(q4_0); k++) {
            const we_weight *w = find_weight(m, q4_0[k]), *r = find_weight(m32, q4_0[k]);
            int bad = 0;
            for (int64_t i = 0; i < r->N; i++)
                for (int64_t j = 0; j < r->K; j++) bad += we_weight_get(w, i, j) != we_weight_get(r, i, j);
            CHECKF(w->type == WE_WTYPE_Q4 && bad == 0, "Q4_0 -> q4 %s: %d values differ", q4_0[k], bad);
        }
    }
    wembed_model_free(m);
    wembed_model_free(m32);
    wembed_model_free(st);
    free(b);
}

static void test_nomic_clip_gguf(void) {
    char msg[512];
    size_t n;
    uint8_t *b = read_data("gguf/nomic-q8_0.gguf", &n);
    wembed_model *st = load_st_fixture("nomic_bert", WEMBED_DTYPE_F32);
    wembed_model *m = b ? load_gguf(b, n, WEMBED_DTYPE_F32, 4096, msg) : NULL;
    if (CHECKF(m && st, "nomic-q8_0.gguf: %s", msg)) {
        wembed_model_info info;
        wembed_model_get_info(m, &info);
        CHECK(strcmp(info.architecture, "nomic_bert") == 0 && strcmp(info.model_type, "nomic-bert") == 0);
        CHECK(info.n_embd == 64 && info.n_ff == 256 && info.n_vocab == 512 && info.n_ctx == 2048);
        CHECKF(strstr(info.hparams, "\"n_types\":2,") && strstr(info.hparams, "\"rope_base\":1000,\"rope_dim\":16,\"rope_scaling\":0,"
                      "\"max_trained_positions\":2048,\"gate_act\":\"silu\",\"qkv_bias\":false,\"fc1_bias\":false,\"fc2_bias\":false"),
               "%s", info.hparams);
        static const char *names[] = {"encoder.layers.0.attn.Wqkv.weight", "encoder.layers.1.mlp.fc12.weight",
                                      "encoder.layers.1.mlp.fc2.weight", "embeddings.word_embeddings.weight"};
        for (size_t k = 0; k < WE_ARRAY_LEN(names); k++) {
            double e = max_err_steps(find_weight(m, names[k]), find_weight(st, names[k]), "Q8_0");
            CHECKF(e > 0.3 && e <= 0.57, "%s: %.3f Q8_0 steps", names[k], e);
        }
        CHECK(max_err_steps(find_weight(m, "embeddings.token_type_embeddings.weight"), find_weight(st, "embeddings.token_type_embeddings.weight"), "F32") == 0);
        CHECK(m->n_params == st->n_params);
    }
    wembed_model_free(m);
    wembed_model_free(st);
    free(b);

    b = read_data("gguf/clip-f16.gguf", &n);
    st = load_st_fixture("clip", WEMBED_DTYPE_F32);
    m = b ? load_gguf(b, n, WEMBED_DTYPE_F32, 65536, msg) : NULL;
    if (CHECKF(m && st, "clip-f16.gguf: %s", msg)) {
        wembed_model_info info;
        wembed_model_get_info(m, &info);
        CHECK(info.has_text && info.has_vision && info.n_vocab == 512 && info.n_ctx == 77);
        CHECKF(strstr(info.hparams, "\"text\":true,\"vision\":true,") && strstr(info.hparams, "\"text_act\":\"gelu_quick\",\"bos_token_id\":510,"
                      "\"eos_token_id\":511,\"text_projection_dim\":32,\"vision_eps\":1e-05,") &&
               strstr(info.hparams, "\"n_channels\":3,\"vision_positions\":17,\"vision_projection_dim\":32,"), "%s", info.hparams);
        CHECK(m->n_params == st->n_params - 1);   // logit_scale is not in llava's GGUF
        CHECK(strstr(wembed_model_warnings(m), "not used") == NULL);
        int bad = 0, checked = 0;
        for (uint32_t t = 0; t < m->n_tensors; t++) {
            const we_weight *w = m->tensors[t], *r = find_weight(st, w->name);
            if (!r) { bad++; continue; }
            // llava's converter: 4-D and 2-D ".weight" tensors F16 (position tables too), the rest F32
            bool half = r->n_dims >= 2 && strstr(w->name, ".weight") != NULL;
            for (int64_t i = 0; i < r->N; i++)
                for (int64_t k = 0; k < r->K; k++) {
                    float want = we_weight_get(r, i, k);
                    if (half) want = we_f16_to_f32(we_f32_to_f16(want));
                    bad += we_weight_get(w, i, k) != want;
                    checked++;
                }
        }
        CHECKF(bad == 0 && checked == 387136, "clip-f16.gguf: %d of %d values off", bad, checked);
    }
    wembed_model_free(m);
    wembed_model_free(st);
    free(b);
}

// jina-bert-v2 (llama.cpp's names) against the safetensors of the same weights: the gated
// projection as one ffn_up (identical tensors), or split into ffn_gate (the activated half) and
// ffn_up, which must land on the right half of the checkpoint's gated_layers (the FIRST half
// is the gate) or up_gated_layer (the SECOND half is).
static void test_jina_gguf(void) {
    static const struct { const char *dir; bool gate_first; int n_ctx; } models[] = {
        {"jina_own", true, 32}, {"jina_own_code", false, 32}, {"jina_own_orig", false, 32},
    };
    static const char *files[] = {"model.gguf", "model-split.gguf"};
    for (size_t mi = 0; mi < WE_ARRAY_LEN(models); mi++) {
        wembed_model *st = load_st_fixture(models[mi].dir, WEMBED_DTYPE_F32);
        if (!st) continue;
        for (size_t fi = 0; fi < WE_ARRAY_LEN(files); fi++) {
            char rel[128], msg[512];
            snprintf(rel, sizeof rel, "fixtures/%s/%s", models[mi].dir, files[fi]);
            size_t n;
            uint8_t *b = we_test_read_file(we_test_data_path(rel), &n);
            if (!b) {
                CHECKF(fi == 1 && strcmp(models[mi].dir, "jina_own_orig") == 0, "read %s", rel);   // the original MLP has no gate
                continue;
            }
            wembed_model *m = load_gguf(b, n, WEMBED_DTYPE_F32, 4093, msg);
            if (CHECKF(m != NULL, "%s: %s", rel, msg)) {
                wembed_model_info info;
                wembed_model_get_info(m, &info);
                CHECKF(strcmp(info.architecture, "jina_bert_v2") == 0 && strcmp(info.model_type, "jina-bert-v2") == 0 &&
                       info.n_ctx == models[mi].n_ctx && info.n_embd == st->arch.text.hidden && info.pooling == WEMBED_POOLING_MEAN,
                       "%s: %s %s ctx %d", rel, info.architecture, info.model_type, info.n_ctx);
                CHECKF(strstr(info.hparams, fi ? "\"split_gate\":true" : "\"split_gate\":false") != NULL, "%s: %s", rel, info.hparams);
                const we_weight *pooler = find_weight(st, "pooler.dense.weight");
                CHECKF(m->n_params == st->n_params - pooler->N * pooler->K - pooler->N, "%s: %lld params", rel, (long long)m->n_params);
                CHECKF(strstr(wembed_model_warnings(m), "not used") == NULL, "%s: %s", rel, wembed_model_warnings(m));
                int bad = 0, checked = 0;
                for (uint32_t t = 0; t < m->n_tensors; t++) {
                    const we_weight *w = m->tensors[t];
                    const char *split = strstr(w->name, "mlp.gated_layers_");
                    if (!split) {
                        const we_weight *r = find_weight(st, w->name);
                        bad += !r || r->nbytes != w->nbytes || memcmp(r->data, w->data, w->nbytes) != 0;
                        checked++;
                        continue;
                    }
                    // gated_layers_w (the gate) and gated_layers_v (the up) of layer il
                    int il = atoi(w->name + strlen("encoder.layer."));
                    char fused[128];
                    snprintf(fused, sizeof fused, "encoder.layer.%d.mlp.%s.weight", il, models[mi].gate_first ? "gated_layers" : "up_gated_layer");
                    const we_weight *r = find_weight(st, fused);
                    bool gate = split[strlen("mlp.gated_layers_")] == 'w';
                    int64_t row0 = gate == models[mi].gate_first ? 0 : w->N;
                    if (!r || r->N != 2 * w->N) { bad++; continue; }
                    for (int64_t i = 0; i < w->N; i++)
                        for (int64_t k = 0; k < w->K; k++) bad += we_weight_get(w, i, k) != we_weight_get(r, row0 + i, k);
                    checked++;
                }
                CHECKF(bad == 0 && checked == (int)m->n_tensors, "%s: %d of %d tensors differ from the safetensors", rel, bad, checked);
            }
            wembed_model_free(m);
            free(b);
        }
        wembed_model_free(st);
    }
}

// modernbert-f16.gguf (gen/modernbert_fixture.py): fixtures/modernbert_own as llama.cpp
// converts a ModernBertModel ("modern-bert": 2-D weights F16, norms F32, no layer 0 attn_norm,
// the sliding window and the two rope bases as metadata). Same hparams as config.json, every
// weight the f16 rounding of the safetensors value, the same embeddings as the safetensors
// loaded in f16.
static void test_modernbert_gguf(void) {
    char msg[512];
    size_t n;
    uint8_t *b = read_data("gguf/modernbert-f16.gguf", &n);
    wembed_model *st = load_st_fixture("modernbert_own", WEMBED_DTYPE_F32), *st16 = load_st_fixture("modernbert_own", WEMBED_DTYPE_F16);
    wembed_model *m = b ? load_gguf(b, n, WEMBED_DTYPE_F32, 1000, msg) : NULL;
    if (CHECKF(m && st && st16, "modernbert-f16.gguf: %s", msg)) {
        wembed_model_info info, sinfo;
        wembed_model_get_info(m, &info);
        wembed_model_get_info(st, &sinfo);
        CHECK(strcmp(info.architecture, "modernbert") == 0 && strcmp(info.model_type, "modern-bert") == 0);
        CHECK(info.n_embd == 32 && info.n_layer == 5 && info.n_head == 2 && info.n_ff == 32 && info.n_vocab == 100 && info.n_ctx == 8192);
        CHECKF(strcmp(info.hparams, sinfo.hparams) == 0, "%s vs %s", info.hparams, sinfo.hparams);
        CHECK(info.pooling == WEMBED_POOLING_MEAN && m->pooling_from_files);
        CHECK(m->n_params == st->n_params && m->n_tensors == 32 && find_weight(m, "layers.0.attn_norm.weight") == NULL);
        int bad = 0, checked = 0;
        for (uint32_t t = 0; t < m->n_tensors; t++) {
            const we_weight *w = m->tensors[t], *r = find_weight(st, w->name);
            if (!r) { bad++; continue; }
            bool half = r->n_dims == 2;
            for (int64_t i = 0; i < r->N; i++)
                for (int64_t k = 0; k < r->K; k++) {
                    float want = we_weight_get(r, i, k);
                    if (half) want = we_f16_to_f32(we_f32_to_f16(want));
                    bad += we_weight_get(w, i, k) != want;
                    checked++;
                }
        }
        CHECKF(bad == 0 && checked == (int)st->n_params, "modernbert-f16.gguf: %d of %d values off", bad, checked);
        // A padded batch (rows below, at and past the +-4 window), pooled and per token.
        enum { B = 3, T = 21, E = 32 };
        int32_t ids[B][T], mask[B][T];
        for (int r = 0; r < B; r++)
            for (int t = 0; t < T; t++) {
                ids[r][t] = t == 0 ? 1 : 3 + (r * 31 + t * 13) % 97;
                mask[r][t] = t < (r == 0 ? 4 : r == 1 ? 9 : T);
            }
        static const wembed_pooling pools[] = {WEMBED_POOLING_NONE, WEMBED_POOLING_MEAN, WEMBED_POOLING_CLS};
        for (size_t pi = 0; pi < WE_ARRAY_LEN(pools); pi++) {
            wembed_embed_params p = wembed_embed_default_params();
            p.pooling = pools[pi];
            size_t cnt = pools[pi] == WEMBED_POOLING_NONE ? (size_t)B * T * E : (size_t)B * E;
            float *o1 = calloc(cnt, sizeof(float)), *o2 = calloc(cnt, sizeof(float)), *o3 = calloc(cnt, sizeof(float));
            CHECK(wembed_embed_ids(m, &ids[0][0], NULL, &mask[0][0], B, T, &p, o1, cnt * sizeof(float)) == WEMBED_STATUS_OK);
            CHECK(wembed_embed_ids(st16, &ids[0][0], NULL, &mask[0][0], B, T, &p, o2, cnt * sizeof(float)) == WEMBED_STATUS_OK);
            CHECK(wembed_embed_ids(st, &ids[0][0], NULL, &mask[0][0], B, T, &p, o3, cnt * sizeof(float)) == WEMBED_STATUS_OK);
            double d16 = we_max_abs_diff(o1, o2, cnt), d32 = we_max_abs_diff(o1, o3, cnt);
            CHECKF(d16 <= 1e-6 && d32 < 2e-2 && d32 > 0, "pooling %d: GGUF vs safetensors f16 %g, f32 %g", (int)pools[pi], d16, d32);
            free(o1);
            free(o2);
            free(o3);
        }
    }
    wembed_model_free(m);
    wembed_model_free(st);
    wembed_model_free(st16);
    free(b);
}

// -----------------------------------------------------------------------------------------
// Malformed files: a small GGUF builder, then one defect per case.

typedef struct gb { uint8_t *p; size_t n, cap; } gb;

static void gb_put(gb *b, const void *d, size_t n) {
    if (b->n + n > b->cap) { b->cap = (b->n + n) * 2 + 64; b->p = realloc(b->p, b->cap); }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void gb_u32(gb *b, uint32_t v) { gb_put(b, &v, 4); }
static void gb_u64(gb *b, uint64_t v) { gb_put(b, &v, 8); }
static void gb_str(gb *b, const char *s) { gb_u64(b, strlen(s)); gb_put(b, s, strlen(s)); }

typedef struct gcase {
    const char *what;
    uint32_t version;
    const char *magic;
    int defect;
    wembed_status want;
    const char *msg;
} gcase;

enum { D_NONE, D_DUP_KEY, D_DUP_TENSOR, D_BAD_TYPE, D_MISALIGNED, D_OUT_OF_RANGE, D_OVERLAP, D_TRUNC_DATA, D_TRUNC_HEADER,
       D_HUGE_ARRAY, D_NESTED, D_DIMS, D_ALIGNMENT, D_KEY_LEN, D_VALUE_TYPE, D_BLOCK, D_TOO_MANY, D_ARCH, D_SHAPE };

// A bert-architecture GGUF with two tensors (token_embd 32 x 4 F32, token_types Q8_0 32 x 2).
static void build(gb *b, const gcase *c) {
    memset(b, 0, sizeof *b);
    gb_put(b, c->magic, 4);
    gb_u32(b, c->version);
    gb_u64(b, c->defect == D_TOO_MANY ? 1u << 20 : 2);   // tensors
    gb_u64(b, c->defect == D_DUP_KEY || c->defect == D_HUGE_ARRAY || c->defect == D_NESTED || c->defect == D_ALIGNMENT ? 3 : 2);
    gb_str(b, "general.architecture");
    gb_u32(b, WE_GGUF_STRING);
    gb_str(b, c->defect == D_ARCH ? "llama" : "bert");
    if (c->defect == D_KEY_LEN) { gb_u64(b, 1ull << 40); return; }
    gb_str(b, "bert.block_count");
    gb_u32(b, c->defect == D_VALUE_TYPE ? 13 : WE_GGUF_U32);
    gb_u32(b, 1);
    if (c->defect == D_DUP_KEY) { gb_str(b, "bert.block_count"); gb_u32(b, WE_GGUF_U32); gb_u32(b, 2); }
    if (c->defect == D_HUGE_ARRAY) { gb_str(b, "x"); gb_u32(b, WE_GGUF_ARRAY); gb_u32(b, WE_GGUF_U32); gb_u64(b, 1ull << 60); }
    if (c->defect == D_NESTED) { gb_str(b, "x"); gb_u32(b, WE_GGUF_ARRAY); gb_u32(b, WE_GGUF_ARRAY); gb_u64(b, 1); }
    if (c->defect == D_ALIGNMENT) { gb_str(b, "general.alignment"); gb_u32(b, WE_GGUF_U32); gb_u32(b, 24); }
    // tensor infos
    gb_str(b, "token_embd.weight");
    gb_u32(b, c->defect == D_DIMS ? 5 : 2);
    gb_u64(b, 32); gb_u64(b, c->defect == D_SHAPE ? 5 : 4);
    if (c->defect == D_DIMS) { gb_u64(b, 1); gb_u64(b, 1); gb_u64(b, 1); }
    gb_u32(b, c->defect == D_BAD_TYPE ? 16 : 0);
    gb_u64(b, 0);
    gb_str(b, c->defect == D_DUP_TENSOR ? "token_embd.weight" : "token_types.weight");
    gb_u32(b, 2);
    gb_u64(b, c->defect == D_BLOCK ? 20 : 32); gb_u64(b, 2);
    gb_u32(b, 8);   // Q8_0: 2 blocks of 34 bytes
    gb_u64(b, c->defect == D_MISALIGNED ? 520 : c->defect == D_OUT_OF_RANGE ? 4096 : c->defect == D_OVERLAP ? 256 : 512);
    if (c->defect == D_TRUNC_HEADER) { b->n -= 5; return; }
    while (b->n % 32) gb_put(b, "", 1);
    uint8_t zero[600] = {0};
    gb_put(b, zero, c->defect == D_TRUNC_DATA ? 560 : 512 + 68);
}

static void test_broken_gguf(void) {
    static const gcase cases[] = {
        {"valid (architecture checks only)", 3, "GGUF", D_NONE, WEMBED_STATUS_BAD_FORMAT, "GGUF: metadata key bert.embedding_length is missing"},
        {"bad magic", 3, "GGUG", D_NONE, WEMBED_STATUS_BAD_FORMAT, "GGUF: bad magic"},
        {"version 1", 1, "GGUF", D_NONE, WEMBED_STATUS_UNSUPPORTED, "GGUF: version 1 is not supported"},
        {"version 4", 4, "GGUF", D_NONE, WEMBED_STATUS_UNSUPPORTED, "GGUF: unknown version 4"},
        {"big-endian", 0x03000000u, "GGUF", D_NONE, WEMBED_STATUS_UNSUPPORTED, "big-endian"},
        {"duplicate key", 3, "GGUF", D_DUP_KEY, WEMBED_STATUS_BAD_FORMAT, "GGUF: duplicate metadata key \"bert.block_count\""},
        {"duplicate tensor", 3, "GGUF", D_DUP_TENSOR, WEMBED_STATUS_BAD_FORMAT, "GGUF: duplicate tensor name \"token_embd.weight\""},
        {"unknown type", 3, "GGUF", D_BAD_TYPE, WEMBED_STATUS_UNSUPPORTED, "has type IQ2_XXS (16), which wembed does not read"},
        {"misaligned", 3, "GGUF", D_MISALIGNED, WEMBED_STATUS_BAD_FORMAT, "offset 520 is not a multiple of the alignment 32"},
        {"out of range", 3, "GGUF", D_OUT_OF_RANGE, WEMBED_STATUS_BAD_FORMAT, "is out of range (the data section has"},
        {"overlap", 3, "GGUF", D_OVERLAP, WEMBED_STATUS_BAD_FORMAT, "overlap"},
        {"truncated data", 3, "GGUF", D_TRUNC_DATA, WEMBED_STATUS_BAD_FORMAT, "GGUF: the file is truncated: tensor \"token_types.weight\" needs 68 bytes"},
        {"truncated header", 3, "GGUF", D_TRUNC_HEADER, WEMBED_STATUS_BAD_FORMAT, "GGUF: the file is truncated inside its header"},
        {"huge array", 3, "GGUF", D_HUGE_ARRAY, WEMBED_STATUS_BAD_FORMAT, "cannot fit in the rest of the file"},
        {"nested array", 3, "GGUF", D_NESTED, WEMBED_STATUS_UNSUPPORTED, "nested arrays"},
        {"5 dims", 3, "GGUF", D_DIMS, WEMBED_STATUS_BAD_FORMAT, "has 5 dimensions"},
        {"alignment 24", 3, "GGUF", D_ALIGNMENT, WEMBED_STATUS_BAD_FORMAT, "general.alignment must be a power of two"},
        {"key length 2^40", 3, "GGUF", D_KEY_LEN, WEMBED_STATUS_BAD_FORMAT, "runs past the end of the file"},
        {"value type 13", 3, "GGUF", D_VALUE_TYPE, WEMBED_STATUS_BAD_FORMAT, "unknown value type 13"},
        {"partial block", 3, "GGUF", D_BLOCK, WEMBED_STATUS_BAD_FORMAT, "20 is not a multiple of the Q8_0 block size 32"},
        {"2^20 tensors", 3, "GGUF", D_TOO_MANY, WEMBED_STATUS_LIMIT, "1048576 tensors (at most 65536)"},
        {"llama", 3, "GGUF", D_ARCH, WEMBED_STATUS_UNSUPPORTED, "unsupported GGUF architecture \"llama\"; supported: bert, nomic-bert, clip"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        gb b;
        build(&b, &cases[i]);
        for (int streamed = 0; streamed < 2; streamed++) {
            int64_t live0 = we_alloc_live();
            wembed_model_params p = wembed_model_default_params();
            wembed_loader *ld;
            wembed_loader_new(p, &ld);
            wembed_status rc = wembed_loader_begin_file(ld, "x.gguf", b.n);
            for (size_t off = 0; off < b.n && !rc; off += streamed ? 13 : b.n) rc = wembed_loader_write(ld, b.p + off, WE_MIN(streamed ? 13 : b.n, b.n - off));
            if (!rc) rc = wembed_loader_end_file(ld);
            wembed_model *m = NULL;
            if (!rc) rc = wembed_loader_finish(ld, &m);
            CHECKF(rc == cases[i].want && strstr(wembed_loader_last_error(ld), cases[i].msg),
                   "%s (streamed %d): %s: %s", cases[i].what, streamed, wembed_status_str(rc), wembed_loader_last_error(ld));
            wembed_model_free(m);
            wembed_loader_free(ld);
            CHECKF(we_alloc_live() == live0, "%s: leak", cases[i].what);
        }
        free(b.p);
    }
    // Mixing formats, and a GGUF after safetensors, are refused.
    size_t n;
    uint8_t *g = read_data("gguf/nomic-q8_0.gguf", &n);
    wembed_loader *ld;
    wembed_loader_new(wembed_model_default_params(), &ld);
    CHECK(wembed_loader_add_file(ld, "a.gguf", g, n) == WEMBED_STATUS_OK);
    CHECK(wembed_loader_add_file(ld, "b.gguf", g, n) == WEMBED_STATUS_UNSUPPORTED);
    CHECKF(strstr(wembed_loader_last_error(ld), "a GGUF file must hold the whole model"), "%s", wembed_loader_last_error(ld));
    wembed_loader_free(ld);
    wembed_loader_new(wembed_model_default_params(), &ld);
    CHECK(wembed_loader_add_file(ld, "a.gguf", g, n) == WEMBED_STATUS_OK);
    CHECK(wembed_loader_add_file(ld, "config.json", "{}", 2) == WEMBED_STATUS_OK);   // kept, not used
    CHECK(wembed_loader_add_file(ld, "model.safetensors", g, n) == WEMBED_STATUS_UNSUPPORTED);
    wembed_loader_free(ld);
    free(g);
}

// The fuzz target's seeds (tests/fuzz/gguf, made by gen/gguf_files.py) are valid models, so the
// -----------------------------------------------------------------------------------------
// Decoders: qwen3 and gemma-embedding (gen/gguf_files.py from fixtures/qwen3_own and
// fixtures/gemma_own, in llama.cpp's layouts)

// A fixture's safetensors model with its sentence-transformers files (Dense modules included).
static wembed_model *load_st_full(const char *dir, wembed_dtype dt) {
    static const char *names[] = {"config.json", "modules.json", "1_Pooling/config.json", "2_Dense/config.json",
                                  "3_Dense/config.json", "model.safetensors", "2_Dense/model.safetensors", "3_Dense/model.safetensors"};
    wembed_file files[WE_ARRAY_LEN(names)];
    uint8_t *bufs[WE_ARRAY_LEN(names)];
    size_t nf = 0;
    for (size_t i = 0; i < WE_ARRAY_LEN(names); i++) {
        char rel[160];
        size_t n;
        snprintf(rel, sizeof rel, "fixtures/%s/%s", dir, names[i]);
        uint8_t *b = we_test_read_file(we_test_data_path(rel), &n);
        if (!b) continue;
        bufs[nf] = b;
        files[nf++] = (wembed_file){names[i], b, n};
    }
    wembed_model_params p = wembed_model_default_params();
    p.dtype = dt;
    p.n_threads = 2;
    wembed_model *m = NULL;
    wembed_status rc = wembed_model_load(files, nf, p, &m);
    CHECKF(rc == WEMBED_STATUS_OK, "%s: %s", dir, m ? wembed_model_last_error(m) : "?");
    for (size_t i = 0; i < nf; i++) free(bufs[i]);
    if (rc) { wembed_model_free(m); return NULL; }
    return m;
}

// Embeds a fixture case's inputs with pooling p (normalize, dims) into a new buffer of *n floats.
static float *embed_case(wembed_model *m, const char *dir, const char *cs, int pooling, int normalize, int dims,
                         int32_t B, int32_t T, size_t *n) {
    char rel[160];
    size_t ni, nm;
    snprintf(rel, sizeof rel, "fixtures/%s/%s.input_ids.bin", dir, cs);
    int32_t *ids = (int32_t *)read_data(rel, &ni);
    snprintf(rel, sizeof rel, "fixtures/%s/%s.attention_mask.bin", dir, cs);
    int32_t *mask = (int32_t *)read_data(rel, &nm);
    wembed_embed_params ep = wembed_embed_default_params();
    ep.pooling = pooling;
    ep.normalize = normalize;
    ep.dims = dims;
    ep.max_tokens = T;
    int32_t D = ids && mask ? wembed_embed_dims(m, &ep) : 0;
    *n = (size_t)B * (size_t)D;
    float *out = calloc(*n + 1, sizeof(float));
    if (CHECKF(D > 0 && ni == (size_t)B * T * 4, "%s/%s: inputs", dir, cs))
        CHECKF(wembed_embed_ids(m, ids, NULL, mask, B, T, &ep, out, *n * sizeof(float)) == WEMBED_STATUS_OK, "%s/%s: %s", dir, cs,
               wembed_model_last_error(m));
    free(ids);
    free(mask);
    return out;
}

// out (n floats, rows of D) against the fixture's expected tensor: max |diff| and min row cosine.
static void check_expected(const float *out, size_t n, int D, const char *dir, const char *cs, const char *tname, const char *what) {
    char rel[160];
    size_t nb;
    snprintf(rel, sizeof rel, "fixtures/%s/%s.%s.bin", dir, cs, tname);
    float *ref = (float *)read_data(rel, &nb);
    if (!ref) return;
    double md = we_max_abs_diff(out, ref, n), mc = 1;
    for (size_t r = 0; r + (size_t)D <= n; r += (size_t)D) mc = fmin(mc, we_cosine(out + r, ref + r, (size_t)D));
    CHECKF(nb == n * 4 && md <= 1e-4 && mc >= 0.99999, "%s: %s %s: max |diff| %.3g, min cosine %.7f", what, cs, tname, md, mc);
    free(ref);
}

static void test_decoder_gguf(void) {
    char msg[512];
    size_t n;
    // qwen3, 2-D weights F16: loaded in f16, every weight and output as the f16 safetensors load's.
    uint8_t *b = read_data("gguf/qwen3-f16.gguf", &n);
    wembed_model *m = b ? load_gguf(b, n, WEMBED_DTYPE_F16, 4096, msg) : NULL;
    wembed_model *st = load_st_fixture("qwen3_own", WEMBED_DTYPE_F16);
    if (CHECKF(m && st, "qwen3-f16.gguf: %s", msg)) {
        wembed_model_info info;
        wembed_model_get_info(m, &info);
        CHECK(strcmp(info.architecture, "qwen3") == 0 && strcmp(info.model_type, "qwen3") == 0 && strcmp(info.format, "gguf") == 0);
        CHECK(info.n_embd == 40 && info.n_layer == 2 && info.n_head == 4 && info.n_ff == 72 && info.n_vocab == 300 && info.n_ctx == 32768);
        CHECK(info.pooling == WEMBED_POOLING_LAST && m->pooling_from_files && info.n_out == 40);
        CHECKF(strcmp(info.hparams, "{\"n_kv_head\":1,\"head_dim\":16,\"eps\":1e-06,\"act\":\"silu\",\"rope_theta\":1000000,\"causal\":true}") == 0,
               "%s", info.hparams);
        CHECKF(m->n_tensors == st->n_tensors && m->n_params == st->n_params && wembed_model_warnings(m)[0] == 0, "%u tensors, %s",
               m->n_tensors, wembed_model_warnings(m));
        int same = 0;
        for (uint32_t t = 0; t < m->n_tensors; t++) {
            const we_weight *w = m->tensors[t], *r = find_weight(st, w->name);
            same += r && w->type == r->type && w->nbytes == r->nbytes && memcmp(w->data, r->data, w->nbytes) == 0;
        }
        CHECKF(same == 24, "qwen3-f16.gguf: %d of 24 tensors identical to the f16 safetensors load", same);
        size_t n1, n2;
        float *a = embed_case(m, "qwen3_own", "left_padded", WEMBED_POOLING_DEFAULT, WEMBED_NORMALIZE_DEFAULT, 0, 4, 33, &n1);
        float *c = embed_case(st, "qwen3_own", "left_padded", WEMBED_POOLING_DEFAULT, WEMBED_NORMALIZE_DEFAULT, 0, 4, 33, &n2);
        CHECK(n1 == n2 && n1 == 160 && memcmp(a, c, n1 * 4) == 0);
        // f16 weights against the f32 reference: close, not within the f32 tolerance.
        double mc = 1;
        char rel[128];
        snprintf(rel, sizeof rel, "fixtures/qwen3_own/left_padded.sentence_embedding_normalized.bin");
        size_t nb;
        float *ref = (float *)read_data(rel, &nb);
        for (int r = 0; ref && r < 4; r++) mc = fmin(mc, we_cosine(a + r * 40, ref + r * 40, 40));
        CHECKF(mc > 0.9999, "qwen3-f16.gguf: min cosine %.7f to the f32 reference", mc);
        free(ref);
        free(a);
        free(c);
    }
    wembed_model_free(m);
    wembed_model_free(st);

    // A modules.json naming Dense modules beside a GGUF file that holds none: said, not applied.
    size_t nm;
    uint8_t *mods = read_data("fixtures/gemma_own/modules.json", &nm);
    wembed_loader *ld;
    wembed_loader_new(wembed_model_default_params(), &ld);
    m = NULL;
    wembed_status rc = wembed_loader_add_file(ld, "modules.json", mods, nm);
    if (!rc && b) rc = wembed_loader_add_file(ld, "model.gguf", b, n);
    if (!rc) rc = wembed_loader_finish(ld, &m);
    if (CHECKF(rc == WEMBED_STATUS_OK && m, "qwen3-f16.gguf + modules.json: %s", wembed_loader_last_error(ld))) {
        CHECKF(strstr(wembed_model_warnings(m), "holds none") && m->n_dense == 0 && m->arch.text.pooled == 40, "%s", wembed_model_warnings(m));
        CHECK(m->pooling == WEMBED_POOLING_LAST);   // the file's pooling_type: modules.json names no Pooling folder here
    }
    wembed_model_free(m);
    wembed_loader_free(ld);
    free(mods);
    free(b);

    // gemma-embedding, F32, norms stored as 1 + w, with dense_2 / dense_3: the fixture's
    // outputs (mean -> Dense -> Dense -> Normalize), and the pooling alone when asked.
    b = read_data("gguf/gemma-embedding-f32.gguf", &n);
    m = b ? load_gguf(b, n, WEMBED_DTYPE_F32, 1000, msg) : NULL;
    st = load_st_full("gemma_own", WEMBED_DTYPE_F32);
    if (CHECKF(m && st, "gemma-embedding-f32.gguf: %s", msg)) {
        wembed_model_info info;
        wembed_model_get_info(m, &info);
        CHECK(strcmp(info.architecture, "gemma3") == 0 && strcmp(info.model_type, "gemma-embedding") == 0);
        CHECK(info.n_embd == 40 && info.n_layer == 3 && info.n_head == 4 && info.n_ff == 64 && info.n_vocab == 300 && info.n_ctx == 2048);
        CHECK(info.pooling == WEMBED_POOLING_MEAN && info.n_out == 40 && info.normalize);
        CHECKF(strstr(info.hparams, "\"n_kv_head\":1,\"head_dim\":12,") && strstr(info.hparams, "\"rope_theta\":1000000,\"rope_local_base_freq\":10000,"
                      "\"query_pre_attn_scalar\":0,\"attn_scale\":0.288675129,\"sliding_window\":6,\"bidirectional\":true,\"layers\":\"ssf\","
                      "\"embed_scale\":6.3245554,\"embed_scale_dtype\":\"float32\",\"norm_offset\":0,"), "%s", info.hparams);
        CHECK(m->n_dense == 2 && m->dense[0].in == 40 && m->dense[0].out == 96 && m->dense[1].out == 40 && !m->dense[0].bias &&
              m->dense[1].act == WE_DENSE_IDENTITY && strcmp(m->dense[1].path, "dense_3") == 0);
        CHECKF(m->n_params == st->n_params && wembed_model_warnings(m)[0] == 0, "%lld params, %s", (long long)m->n_params, wembed_model_warnings(m));
        static const struct { const char *cs; int B, T; } cases[] = { {"batch_window", 4, 30}, {"len50", 1, 50} };
        for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
            size_t n1, n2;
            float *e = embed_case(m, "gemma_own", cases[i].cs, WEMBED_POOLING_DEFAULT, WEMBED_NORMALIZE_DEFAULT, 0, cases[i].B, cases[i].T, &n1);
            check_expected(e, n1, 40, "gemma_own", cases[i].cs, "sentence_embedding_normalized", "gemma-embedding-f32.gguf");
            float *s2 = embed_case(st, "gemma_own", cases[i].cs, WEMBED_POOLING_DEFAULT, WEMBED_NORMALIZE_DEFAULT, 0, cases[i].B, cases[i].T, &n2);
            CHECKF(n1 == n2 && we_max_abs_diff(e, s2, n1) <= 1e-6, "gemma GGUF vs safetensors: %.3g", we_max_abs_diff(e, s2, n1));
            free(e);
            free(s2);
            e = embed_case(m, "gemma_own", cases[i].cs, WEMBED_POOLING_DEFAULT, 0, 0, cases[i].B, cases[i].T, &n1);
            check_expected(e, n1, 40, "gemma_own", cases[i].cs, "sentence_embedding", "gemma-embedding-f32.gguf --no-normalize");
            free(e);
            e = embed_case(m, "gemma_own", cases[i].cs, WEMBED_POOLING_MEAN, 0, 0, cases[i].B, cases[i].T, &n1);
            check_expected(e, n1, 40, "gemma_own", cases[i].cs, "mean_pooled", "gemma-embedding-f32.gguf --pooling mean");
            free(e);
            e = embed_case(m, "gemma_own", cases[i].cs, WEMBED_POOLING_DEFAULT, WEMBED_NORMALIZE_DEFAULT, 16, cases[i].B, cases[i].T, &n1);
            check_expected(e, n1, 16, "gemma_own", cases[i].cs, "matryoshka_16", "gemma-embedding-f32.gguf --dims 16");
            free(e);
        }
    }
    wembed_model_free(m);
    wembed_model_free(st);
    free(b);
}

// fuzzer starts from inputs that reach the data path.
static void test_fuzz_seeds(void) {
    static const char *seeds[] = {"tiny-bert-f32.gguf", "tiny-bert-mixed.gguf", "tiny-nomic-q8_0.gguf", "tiny-clip-f16.gguf"};
    for (size_t i = 0; i < WE_ARRAY_LEN(seeds); i++) {
        char rel[128], msg[512];
        snprintf(rel, sizeof rel, "../fuzz/gguf/%s", seeds[i]);
        size_t n;
        uint8_t *b = read_data(rel, &n);
        if (!b) continue;
        wembed_model *m = load_gguf(b, n, WEMBED_DTYPE_Q8, 1000, msg);
        CHECKF(m != NULL, "%s: %s", seeds[i], msg);
        wembed_model_info info;
        if (m && i == 3 && CHECK(wembed_model_get_info(m, &info) == WEMBED_STATUS_OK))
            CHECKF(strstr(info.hparams, "\"text\":true,\"vision\":true,") && strstr(info.hparams, "\"vision_positions\":5,"), "%s", info.hparams);
        wembed_model_free(m);
        free(b);
    }
}

int main(void) {
    test_vocab_file();
    test_blocks();
    test_bert_gguf();
    test_nomic_clip_gguf();
    test_jina_gguf();
    test_modernbert_gguf();
    test_decoder_gguf();
    test_broken_gguf();
    test_fuzz_seeds();
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-gguf");
}
