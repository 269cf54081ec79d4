// test-model-load.c - the model loader (src/model.c) on the reference fixtures: every model
// in tests/data/fixtures loads in f32, f16 and q8, whole or streamed in chunks of any size,
// row-major or packed, and every weight holds exactly the file's values (f32), their f16
// rounding (f16) or a per-row int8 quantization within half a step (q8); shapes and hparams
// match config.json; pooling comes from the sentence-transformers files; CLIP towers load
// alone; sharded checkpoints and prefixed names work; progress and abort; every allocation
// failure is clean.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/f16.h"
#include "formats/json.h"
#include "formats/safetensors.h"
#include "model.h"

// -----------------------------------------------------------------------------------------
// Fixture files

typedef struct fixture {
    const char *dir;
    wembed_file files[12];
    uint8_t *bufs[12];
    int n;
} fixture;

static void fixture_load(fixture *fx, const char *dir) {
    static const char *names[] = {"config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
                                  "preprocessor_config.json", "2_Dense/config.json", "3_Dense/config.json", "model.safetensors",
                                  "2_Dense/model.safetensors", "3_Dense/model.safetensors"};
    memset(fx, 0, sizeof *fx);
    fx->dir = dir;
    for (size_t i = 0; i < WE_ARRAY_LEN(names); i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "fixtures/%s/%s", dir, names[i]);
        size_t n;
        uint8_t *b = we_test_read_file(we_test_data_path(rel), &n);
        if (!b) continue;
        fx->bufs[fx->n] = b;
        fx->files[fx->n] = (wembed_file){names[i], b, n};
        fx->n++;
    }
    CHECKF(fx->n >= 2, "fixture %s has its files", dir);
}

static void fixture_free(fixture *fx) {
    for (int i = 0; i < fx->n; i++) free(fx->bufs[i]);
}

static const wembed_file *fx_file(const fixture *fx, const char *name) {
    for (int i = 0; i < fx->n; i++)
        if (strcmp(fx->files[i].name, name) == 0) return &fx->files[i];
    return NULL;
}

// -----------------------------------------------------------------------------------------
// Reference reading of a safetensors file, independent of the loader's streaming path: the
// header through the (separately tested) validator, the values straight from the bytes.

typedef struct ref_st {
    we_arena a;
    we_st_header h;
    const uint8_t *data;    // the data section
} ref_st;

static bool ref_open(ref_st *r, const uint8_t *file, size_t n) {
    we_arena_init(&r->a, 0);
    uint64_t hl;
    we_err err;
    if (we_st_read_len(file, n, &hl, &err)) return false;
    if (we_st_parse_header(&r->a, (const char *)file + 8, hl, n, &r->h, &err)) return false;
    r->data = file + r->h.data_start;
    return true;
}

static float ref_value(const ref_st *r, const we_st_tensor *t, uint64_t i) {
    const uint8_t *p = r->data + t->begin;
    uint16_t h;
    float f;
    switch (t->dtype) {
    case WE_DTYPE_F32: memcpy(&f, p + 4 * i, 4); return f;
    case WE_DTYPE_F16: memcpy(&h, p + 2 * i, 2); return we_f16_to_f32(h);
    case WE_DTYPE_BF16: memcpy(&h, p + 2 * i, 2); return we_bf16_to_f32(h);
    default: return NAN;
    }
}

static const char *strip_prefix(const char *name) {
    static const char *prefixes[] = {"bert.", "roberta.", "model."};
    for (size_t i = 0; i < WE_ARRAY_LEN(prefixes); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return name + strlen(prefixes[i]);
    return name;
}

static const we_weight *find_weight(const wembed_model *m, const char *name) {
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i]->name, name) == 0) return m->tensors[i];
    return NULL;
}

// Every float tensor of the file that the model holds (under its name with prefix: "2_Dense/"
// for a Dense module's file) has exactly the right values for the model's dtype; returns the
// number of parameters compared.
static int64_t check_values(const wembed_model *m, const uint8_t *st, size_t n, const char *prefix, const char *what) {
    ref_st r;
    if (!CHECKF(ref_open(&r, st, n), "%s: reference parse", what)) return 0;
    int64_t compared = 0;
    int bad = 0;
    for (uint32_t ti = 0; ti < r.h.n_tensors && bad < 5; ti++) {
        const we_st_tensor *t = &r.h.tensors[ti];
        char name[300];
        snprintf(name, sizeof name, "%s%s", prefix, strip_prefix(t->name));
        const we_weight *w = find_weight(m, name);
        if (!w) continue;
        CHECKF((uint64_t)(w->N * w->K) == t->n_elems, "%s: %s element count", what, t->name);
        for (int64_t row = 0; row < w->N && bad < 5; row++) {
            double amax = 0;
            for (int64_t k = 0; k < w->K; k++) amax = fmax(amax, fabs(ref_value(&r, t, (uint64_t)(row * w->K + k))));
            for (int64_t k = 0; k < w->K; k++) {
                float want = ref_value(&r, t, (uint64_t)(row * w->K + k));
                float got = we_weight_get(w, row, k);
                bool ok;
                if (w->type == WE_WTYPE_F32) ok = got == want || (isnan(got) && isnan(want));
                else if (w->type == WE_WTYPE_F16) ok = got == we_f16_to_f32(we_f32_to_f16(want));
                else if (w->type == WE_WTYPE_Q4) {
                    // half a step of the block's scale (its largest magnitude / 8), or the clamp
                    // of +8 to 7 (a whole step) for a value opposite to that largest one
                    int64_t k0 = k / 32 * 32;
                    double bmax = 0;
                    for (int64_t j = k0; j < k0 + 32 && j < w->K; j++) bmax = fmax(bmax, fabs(ref_value(&r, t, (uint64_t)(row * w->K + j))));
                    double step = bmax / 8.0, err = fabs((double)got - want);
                    ok = err <= step * 0.5 * (1 + 1e-6) + 1e-30 || (err <= step * (1 + 1e-6) && fabs(want) > bmax * 0.9);
                } else ok = fabs((double)got - want) <= amax / 127.0 * 0.5 * (1 + 3e-5) + 1e-30;   // half a q8 step (+ the float scale's rounding times 127)
                if (!ok) {
                    CHECKF(false, "%s: %s[%lld][%lld] = %.9g, want %.9g (type %d)", what, t->name, (long long)row,
                           (long long)k, got, want, (int)w->type);
                    bad++;
                    break;
                }
            }
        }
        compared += (int64_t)t->n_elems;
    }
    we_arena_free(&r.a);
    return compared;
}

// -----------------------------------------------------------------------------------------

typedef struct expect {
    const char *dir, *arch;
    int n_embd, n_layer, n_head, n_ff, n_vocab, n_ctx, n_out;
    int64_t n_params;          // float parameters in the file (the loader skips int buffers only)
    wembed_pooling pooling;
    bool normalize;
    int max_seq_length;
} expect;

static const expect g_expect[] = {
    //  dir              arch          E   L  H  F    V    ctx  out  params  pooling                 norm  msl
    {"bert",           "bert",        64, 2, 4, 128, 512, 512, 64, 136896, WEMBED_POOLING_MEAN, true, 256},
    {"bert_cls",       "bert",        64, 2, 4, 128, 512, 512, 64, 136896, WEMBED_POOLING_CLS, true, 512},
    {"bert_fp16",      "bert",        64, 2, 4, 128, 512, 512, 64, 136896, WEMBED_POOLING_MEAN, true, 0},
    {"bert_bf16",      "bert",        64, 2, 4, 128, 512, 512, 64, 136896, WEMBED_POOLING_MEAN, true, 0},
    {"nomic_bert",     "nomic_bert",  64, 2, 4, 256, 512, 8192, 64, 164608, WEMBED_POOLING_MEAN, true, 0},
    {"nomic_bert_ntk", "nomic_bert",  64, 2, 4, 256, 512, 8192, 64, 164608, WEMBED_POOLING_MEAN, true, 0},
    {"clip",           "clip",        64, 2, 4, 256, 512, 77, 32, 387137, WEMBED_POOLING_EOS, true, 0},
    {"gte_en",         "gte",         64, 3, 4, 128, 500, 64, 64, 156736, WEMBED_POOLING_CLS, false, 8192},
    {"gte_own",        "gte",         48, 2, 4, 80, 400, 64, 48, 61680, WEMBED_POOLING_CLS, true, 8192},
    {"mpnet",          "mpnet",       64, 3, 4, 192, 527, 256, 64, 179840, WEMBED_POOLING_MEAN, true, 256},
    {"mpnet_own",      "mpnet",       32, 2, 4, 64, 200, 320, 32, 35040, WEMBED_POOLING_MEAN, true, 320},
    {"mpnet_own_cls",  "mpnet",       32, 2, 4, 64, 200, 64, 32, 26880, WEMBED_POOLING_CLS, false, 64},
    {"jina_bert_v2",   "jina_bert_v2", 96, 3, 12, 160, 400, 8192, 96, 299520, WEMBED_POOLING_MEAN, false, 8192},
    {"jina_own",       "jina_bert_v2", 24, 2, 6, 32, 128, 32, 24, 13416, WEMBED_POOLING_MEAN, false, 8192},
    {"jina_own_code",  "jina_bert_v2", 20, 2, 5, 24, 128, 32, 20, 9740, WEMBED_POOLING_MEAN, false, 8192},
    {"jina_own_orig",  "jina_bert_v2", 24, 2, 3, 40, 128, 32, 24, 12728, WEMBED_POOLING_MEAN, false, 8192},
    {"modernbert",     "modernbert",  64, 4, 4, 96, 512, 8192, 64, 172608, WEMBED_POOLING_CLS, true, 8192},
    {"modernbert_mean", "modernbert", 96, 4, 6, 128, 320, 8192, 96, 326496, WEMBED_POOLING_MEAN, true, 8192},
    {"modernbert_own", "modernbert",  32, 5, 2, 32, 100, 8192, 32, 39392, WEMBED_POOLING_MEAN, true, 8192},
    {"qwen3_embed",    "qwen3",       64, 3, 4, 160, 512, 32768, 64, 180816, WEMBED_POOLING_LAST, true, 0},
    {"qwen3_own",      "qwen3",       40, 2, 4, 72, 300, 32768, 40, 42344, WEMBED_POOLING_LAST, true, 0},
    // the Dense modules' weights count (in the n_out column: the last Dense module's width)
    {"embeddinggemma", "gemma3",      48, 4, 4, 72, 400, 2048, 48, 116912, WEMBED_POOLING_MEAN, true, 2048},
    {"gemma_own",      "gemma3",      40, 3, 4, 64, 300, 2048, 40, 57712, WEMBED_POOLING_MEAN, true, 2048},
    {"gemma_causal_bf16", "gemma3",   40, 3, 4, 64, 300, 2048, 40, 57448, WEMBED_POOLING_LAST, true, 0},
};

static bool g_quiet;   // no messages while sweeping allocation failures

static wembed_model *load_fx(const fixture *fx, wembed_dtype dt, we_layout layout, size_t chunk, wembed_status *rc_out) {
    wembed_model_params p = wembed_model_default_params();
    p.dtype = dt;
    wembed_loader *ld;
    wembed_status rc = wembed_loader_new(p, &ld);
    if (rc) { *rc_out = rc; return NULL; }
    we_loader_set_layout(ld, layout);
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (int i = 0; i < fx->n && !rc; i++) {
            const wembed_file *f = &fx->files[i];
            bool weights = strstr(f->name, ".safetensors") != NULL;
            if (weights != (pass == 1)) continue;
            if (!weights || chunk == 0) { rc = wembed_loader_add_file(ld, f->name, f->data, f->size); continue; }
            rc = wembed_loader_begin_file(ld, f->name, f->size);
            for (size_t off = 0; off < f->size && !rc; off += chunk)
                rc = wembed_loader_write(ld, (const uint8_t *)f->data + off, WE_MIN(chunk, f->size - off));
            if (!rc) rc = wembed_loader_end_file(ld);
        }
    wembed_model *m = NULL;
    if (!rc) rc = wembed_loader_finish(ld, &m);
    if (rc && !g_quiet) fprintf(stderr, "load %s: %s\n", fx->dir, wembed_loader_last_error(ld));
    wembed_loader_free(ld);
    *rc_out = rc;
    return m;
}

static void test_fixtures(void) {
    static const wembed_dtype dtypes[] = {WEMBED_DTYPE_F32, WEMBED_DTYPE_F16, WEMBED_DTYPE_Q8, WEMBED_DTYPE_Q4};
    static const size_t chunks[] = {0, 1, 7, 4093, 65536};
    for (size_t e = 0; e < WE_ARRAY_LEN(g_expect); e++) {
        const expect *x = &g_expect[e];
        fixture fx;
        fixture_load(&fx, x->dir);
        const wembed_file *st = fx_file(&fx, "model.safetensors");
        for (size_t d = 0; d < WE_ARRAY_LEN(dtypes); d++) {
            for (int lay = 0; lay < 2; lay++) {
                for (size_t c = 0; c < WE_ARRAY_LEN(chunks); c++) {
                    if (c == 1 && (d != 2 || lay != 1)) continue;   // byte-by-byte once per model: slow
                    int64_t live0 = we_alloc_live();
                    wembed_status rc;
                    wembed_model *m = load_fx(&fx, dtypes[d], lay ? WE_LAYOUT_PACKED : WE_LAYOUT_ROWS, chunks[c], &rc);
                    char what[128];
                    snprintf(what, sizeof what, "%s dtype %d %s chunk %zu", x->dir, (int)dtypes[d], lay ? "packed" : "rows", chunks[c]);
                    if (!CHECKF(rc == WEMBED_STATUS_OK && m, "%s: %s", what, wembed_status_str(rc))) continue;
                    wembed_model_info info;
                    CHECK(wembed_model_get_info(m, &info) == WEMBED_STATUS_OK);
                    CHECKF(strcmp(info.architecture, x->arch) == 0, "%s: architecture %s", what, info.architecture);
                    CHECKF(info.n_embd == x->n_embd && info.n_layer == x->n_layer && info.n_head == x->n_head &&
                           info.n_ff == x->n_ff && info.n_vocab == x->n_vocab && info.n_ctx == x->n_ctx && info.n_out == x->n_out,
                           "%s: dims %d %d %d %d %d %d %d", what, info.n_embd, info.n_layer, info.n_head, info.n_ff,
                           info.n_vocab, info.n_ctx, info.n_out);
                    CHECKF(info.n_params == x->n_params, "%s: %lld params, want %lld", what, (long long)info.n_params, (long long)x->n_params);
                    CHECKF(info.pooling == x->pooling && info.normalize == x->normalize && info.max_seq_length == x->max_seq_length,
                           "%s: pooling %d normalize %d max_seq_length %d", what, (int)info.pooling, info.normalize, info.max_seq_length);
                    CHECK(info.dtype == dtypes[d] && strcmp(info.format, "safetensors") == 0);
                    int64_t compared = check_values(m, st->data, st->size, "", what);
                    static const char *const dense[] = {"2_Dense", "3_Dense"};
                    for (size_t k = 0; k < 2; k++) {
                        char fname[64], prefix[64];
                        snprintf(fname, sizeof fname, "%s/model.safetensors", dense[k]);
                        snprintf(prefix, sizeof prefix, "%s/", dense[k]);
                        const wembed_file *df = fx_file(&fx, fname);
                        if (df) compared += check_values(m, df->data, df->size, prefix, what);
                    }
                    CHECKF(compared == x->n_params, "%s: compared %lld of %lld values", what, (long long)compared, (long long)x->n_params);
                    // Weight memory: f32 4 bytes a parameter; f16/q8 shrink the matmul weights and token embedding.
                    if (dtypes[d] == WEMBED_DTYPE_F32 && lay == 0)
                        CHECKF(info.weight_bytes == (uint64_t)x->n_params * 4, "%s: %llu weight bytes", what, (unsigned long long)info.weight_bytes);
                    // (tiny fixtures: the f32 position tables and vectors are a large share)
                    if (dtypes[d] == WEMBED_DTYPE_F16 && lay == 0)
                        CHECKF(info.weight_bytes < (uint64_t)x->n_params * 4 * 8 / 10, "%s: %llu weight bytes", what, (unsigned long long)info.weight_bytes);
                    if ((dtypes[d] == WEMBED_DTYPE_Q8 || dtypes[d] == WEMBED_DTYPE_Q4) && lay == 0)
                        CHECKF(info.weight_bytes < (uint64_t)x->n_params * 4 * 7 / 10, "%s: %llu weight bytes", what, (unsigned long long)info.weight_bytes);
                    // Old checkpoints carry an int64 position_ids buffer: skipped, without a warning.
                    CHECKF(strstr(wembed_model_warnings(m), "not used") == NULL, "%s: warnings: %s", what, wembed_model_warnings(m));
                    wembed_model_free(m);
                    CHECKF(we_alloc_live() == live0, "%s: leak", what);
                }
            }
        }
        fixture_free(&fx);
    }
}

// A loaded weight by its HF name, or NULL.
static const we_weight *model_weight(const wembed_model *m, const char *name) {
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i]->name, name) == 0) return m->tensors[i];
    return NULL;
}

// The hparams the forward passes read, straight from config.json.
static void test_hparams(void) {
    fixture fx;
    wembed_status rc;
    fixture_load(&fx, "nomic_bert_ntk");
    wembed_model *m = load_fx(&fx, WEMBED_DTYPE_F32, WE_LAYOUT_PACKED, 0, &rc);
    if (CHECK(m)) {
        wembed_model_info info;
        wembed_model_get_info(m, &info);
        CHECKF(strstr(info.hparams, "\"eps\":1e-12,\"rope_base\":1000,\"rope_dim\":16,\"rope_scaling\":2,\"max_trained_positions\":128,"
                                    "\"gate_act\":\"silu\",\"qkv_bias\":false,\"fc1_bias\":false,\"fc2_bias\":false") != NULL, "%s", info.hparams);
        const we_weight *qkv1 = model_weight(m, "encoder.layers.1.attn.Wqkv.weight");
        CHECK(qkv1 && qkv1->N == 192 && qkv1->K == 64);
        CHECK(!model_weight(m, "encoder.layers.0.attn.Wqkv.bias") && model_weight(m, "emb_ln.bias"));
        CHECK(model_weight(m, "encoder.layers.0.mlp.fc11.weight")->layout == WE_LAYOUT_PACKED &&
              model_weight(m, "embeddings.word_embeddings.weight")->layout == WE_LAYOUT_ROWS);
    }
    wembed_model_free(m);
    fixture_free(&fx);

    fixture_load(&fx, "nomic_bert");
    m = load_fx(&fx, WEMBED_DTYPE_F32, WE_LAYOUT_PACKED, 0, &rc);
    wembed_model_info info;
    if (CHECK(m) && CHECK(wembed_model_get_info(m, &info) == WEMBED_STATUS_OK))
        CHECKF(strstr(info.hparams, "\"rope_scaling\":0,\"max_trained_positions\":2048,") != NULL, "%s", info.hparams);
    wembed_model_free(m);
    fixture_free(&fx);

    // gte: the RoPE rule and the flags as read (snowflake-style string flags are true).
    static const struct { const char *dir, *hp; } gte[] = {
        {"gte_en", "{\"n_types\":0,\"eps\":1e-12,\"act\":\"gelu\",\"rope_theta\":500000,\"rope_scaling\":{\"type\":\"ntk\",\"factor\":2},"
                   "\"unpad_inputs\":false,\"use_memory_efficient_attention\":false}"},
        {"gte_own", "{\"n_types\":1,\"eps\":1e-12,\"act\":\"gelu\",\"rope_theta\":160000,\"rope_scaling\":null,"
                    "\"unpad_inputs\":true,\"use_memory_efficient_attention\":true}"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(gte); i++) {
        fixture_load(&fx, gte[i].dir);
        m = load_fx(&fx, WEMBED_DTYPE_F32, WE_LAYOUT_PACKED, 0, &rc);
        if (CHECK(m) && CHECK(wembed_model_get_info(m, &info) == WEMBED_STATUS_OK))
            CHECKF(strcmp(info.hparams, gte[i].hp) == 0, "%s: %s", gte[i].dir, info.hparams);
        wembed_model_free(m);
        fixture_free(&fx);
    }

    // qwen3 / gemma3: heads, window rule, layer kinds, scales as read.
    static const struct { const char *dir, *hp; } dec[] = {
        {"qwen3_embed", "{\"n_kv_head\":2,\"head_dim\":24,\"eps\":1e-06,\"act\":\"silu\",\"rope_theta\":1000000,\"causal\":true}"},
        {"embeddinggemma", "{\"n_kv_head\":2,\"head_dim\":16,\"eps\":1e-06,\"act\":\"gelu_tanh\",\"rope_theta\":1000000,"
                           "\"rope_local_base_freq\":10000,\"query_pre_attn_scalar\":24,\"attn_scale\":0.204124153,\"sliding_window\":8,"
                           "\"bidirectional\":true,\"layers\":\"sfsf\",\"embed_scale\":6.92820311,\"embed_scale_dtype\":\"float32\","
                           "\"norm_offset\":1,\"final_logit_softcapping\":0}"},
        {"gemma_causal_bf16", "{\"n_kv_head\":2,\"head_dim\":12,\"eps\":1e-06,\"act\":\"gelu_tanh\",\"rope_theta\":1000000,"
                              "\"rope_local_base_freq\":10000,\"query_pre_attn_scalar\":16,\"attn_scale\":0.25,\"sliding_window\":5,"
                              "\"bidirectional\":false,\"layers\":\"sfs\",\"embed_scale\":6.3125,\"embed_scale_dtype\":\"bfloat16\","
                              "\"norm_offset\":1,\"final_logit_softcapping\":30}"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(dec); i++) {
        fixture_load(&fx, dec[i].dir);
        m = load_fx(&fx, WEMBED_DTYPE_F32, WE_LAYOUT_PACKED, 0, &rc);
        if (CHECK(m) && CHECK(wembed_model_get_info(m, &info) == WEMBED_STATUS_OK))
            CHECKF(strcmp(info.hparams, dec[i].hp) == 0, "%s: %s", dec[i].dir, info.hparams);
        wembed_model_free(m);
        fixture_free(&fx);
    }

    fixture_load(&fx, "bert");
    m = load_fx(&fx, WEMBED_DTYPE_Q8, WE_LAYOUT_PACKED, 0, &rc);
    if (CHECK(m)) {
        wembed_model_get_info(m, &info);
        CHECKF(strstr(info.hparams, "{\"n_pos\":512,\"n_types\":2,\"eps\":1e-12,\"act\":\"gelu\",\"pad_token_id\":0,\"positions_from_pad\":false}"),
               "%s", info.hparams);
        const we_weight *pooler = model_weight(m, "pooler.dense.weight"), *tok = model_weight(m, "embeddings.word_embeddings.weight");
        CHECK(pooler && pooler->type == WE_WTYPE_Q8 && pooler->scale);
        CHECK(tok && tok->type == WE_WTYPE_Q8 && tok->layout == WE_LAYOUT_ROWS);
        CHECK(model_weight(m, "embeddings.position_embeddings.weight")->type == WE_WTYPE_F32 &&
              model_weight(m, "encoder.layer.0.attention.self.query.bias")->type == WE_WTYPE_F32);
        const we_weight *down = model_weight(m, "encoder.layer.1.output.dense.weight"), *up = model_weight(m, "encoder.layer.1.intermediate.dense.weight");
        CHECK(down && down->N == 64 && down->K == 128 && up && up->N == 128);
        // Small files are kept for the later stages.
        size_t n;
        CHECK(we_model_file_data(m, "modules.json", &n) && n > 10);
        CHECK(we_model_gguf_vocab(m) == NULL);
    }
    wembed_model_free(m);
    fixture_free(&fx);

    fixture_load(&fx, "clip");
    m = load_fx(&fx, WEMBED_DTYPE_F16, WE_LAYOUT_PACKED, 0, &rc);
    if (CHECK(m)) {
        wembed_model_get_info(m, &info);
        CHECKF(strstr(info.hparams, "\"text\":true,\"vision\":true,") && strstr(info.hparams, "\"text_act\":\"gelu_quick\",\"bos_token_id\":510,\"eos_token_id\":511,") &&
               strstr(info.hparams, "\"n_channels\":3,\"vision_positions\":17,"), "%s", info.hparams);
        const we_weight *pe = model_weight(m, "vision_model.embeddings.patch_embedding.weight");
        CHECK(pe && pe->N == 96 && pe->K == 192 && pe->n_dims == 4 && pe->type == WE_WTYPE_F16);
        CHECK(model_weight(m, "vision_model.embeddings.class_embedding")->type == WE_WTYPE_F32);
        CHECKF(fabsf(m->arch.logit_scale - 2.6592f) < 1e-6f, "logit_scale %g", m->arch.logit_scale);
        CHECK(info.has_text && info.has_vision && info.vision_n_embd == 96 && info.image_size == 32 && info.patch_size == 8);
        CHECK(we_model_file_data(m, "preprocessor_config.json", NULL) != NULL);
    }
    wembed_model_free(m);
    fixture_free(&fx);

    // mpnet: config.json's pad_token_id and bucket count are reported, not used (padding_idx 1,
    // 32 buckets); the 40-row bias table loads whole, as f32 whatever the dtype.
    fixture_load(&fx, "mpnet_own_cls");
    m = load_fx(&fx, WEMBED_DTYPE_Q8, WE_LAYOUT_PACKED, 0, &rc);
    if (CHECK(m)) {
        wembed_model_get_info(m, &info);
        CHECKF(strstr(info.hparams, "\"relative_attention_num_buckets\":40,\"buckets_used\":32,\"max_distance\":128,"
                                    "\"padding_idx\":1,\"pad_token_id\":0") != NULL, "%s", info.hparams);
        const we_weight *rb = model_weight(m, "encoder.relative_attention_bias.weight");
        CHECK(rb && rb->N == 40 && rb->K == 4 && rb->type == WE_WTYPE_F32);
        CHECK(info.n_ctx == 64 && m->arch.text.pos_rule == WE_POS_FROM_PAD && m->arch.text.pad_id == 1);
    }
    wembed_model_free(m);
    fixture_free(&fx);
}


// -----------------------------------------------------------------------------------------
// Building safetensors files in memory from a fixture's tensors (renamed, filtered, split).

typedef struct st_builder {
    char *hdr;              // JSON members
    size_t hdr_len, hdr_cap;
    uint8_t *data;
    size_t data_len, data_cap;
} st_builder;

static void sb_append(char **buf, size_t *len, size_t *cap, const void *p, size_t n) {
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = 0;
}

static void sb_add(st_builder *b, const char *name, const char *dtype, int nd, const int64_t *shape, const void *bytes, size_t n) {
    char h[512];
    int k = snprintf(h, sizeof h, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", b->hdr_len ? "," : "", name, dtype);
    for (int i = 0; i < nd; i++) k += snprintf(h + k, sizeof h - (size_t)k, "%s%lld", i ? "," : "", (long long)shape[i]);
    k += snprintf(h + k, sizeof h - (size_t)k, "],\"data_offsets\":[%zu,%zu]}", b->data_len, b->data_len + n);
    sb_append(&b->hdr, &b->hdr_len, &b->hdr_cap, h, (size_t)k);
    sb_append((char **)&b->data, &b->data_len, &b->data_cap, bytes, n);
}

// The finished file (malloc'd) in *out / *n; frees the builder.
static void sb_finish(st_builder *b, uint8_t **out, size_t *n) {
    size_t hl = b->hdr_len + 2;
    size_t pad = (8 - hl % 8) % 8;   // as the safetensors library pads: with spaces
    hl += pad;
    *n = 8 + hl + b->data_len;
    uint8_t *f = malloc(*n);
    for (int i = 0; i < 8; i++) f[i] = (uint8_t)(((uint64_t)hl >> (8 * i)) & 0xff);
    f[8] = '{';
    if (b->hdr_len) memcpy(f + 9, b->hdr, b->hdr_len);
    f[9 + b->hdr_len] = '}';
    memset(f + 10 + b->hdr_len, ' ', pad);
    if (b->data_len) memcpy(f + 8 + hl, b->data, b->data_len);
    free(b->hdr);
    free(b->data);
    memset(b, 0, sizeof *b);
    *out = f;
}

static const char *dtype_name(we_dtype t) { return we_dtype_info(t)->name; }

// A copy of the fixture file with each tensor passed through keep(name, i) -> new name or NULL.
typedef const char *(*rename_fn)(const char *name, void *user);

static void st_rewrite(const uint8_t *file, size_t n, rename_fn fn, void *user, uint8_t **out, size_t *out_n) {
    ref_st r;
    ref_open(&r, file, n);
    st_builder b = {0};
    for (uint32_t i = 0; i < r.h.n_tensors; i++) {
        const we_st_tensor *t = &r.h.tensors[i];
        const char *nm = fn(t->name, user);
        if (!nm) continue;
        sb_add(&b, nm, dtype_name(t->dtype), t->n_dims, t->shape, r.data + t->begin, (size_t)(t->end - t->begin));
    }
    sb_finish(&b, out, out_n);
    we_arena_free(&r.a);
}

static const char *keep_prefix(const char *name, void *user) {
    const char *const *pfx = user;
    for (; *pfx; pfx++)
        if (strncmp(name, *pfx, strlen(*pfx)) == 0) return name;
    return NULL;
}

static const char *add_bert_prefix(const char *name, void *user) {
    static char buf[300];
    (void)user;
    snprintf(buf, sizeof buf, "bert.%s", name);
    return buf;
}

// Loads the given files; returns the status, *m (NULL on failure), the message in msg.
static wembed_status load_files(const wembed_file *files, size_t n, wembed_dtype dt, wembed_model **m, char *msg, size_t msg_n) {
    wembed_model_params p = wembed_model_default_params();
    p.dtype = dt;
    wembed_status rc = wembed_model_load(files, n, p, m);
    snprintf(msg, msg_n, "%s", *m ? wembed_model_last_error(*m) : "");
    if (rc) {
        wembed_model_free(*m);
        *m = NULL;
    }
    return rc;
}

static void test_clip_towers(void) {
    fixture fx;
    fixture_load(&fx, "clip");
    const wembed_file *st = fx_file(&fx, "model.safetensors"), *cfg = fx_file(&fx, "config.json");
    static const char *text_only[] = {"text_model.", "text_projection", "logit_scale", NULL};
    static const char *vision_only[] = {"vision_model.", "visual_projection", NULL};
    static const char *vision_noproj[] = {"vision_model.", NULL};
    const char *const *sets[] = {text_only, vision_only, vision_noproj};
    for (int s = 0; s < 3; s++) {
        uint8_t *buf;
        size_t n;
        st_rewrite(st->data, st->size, keep_prefix, (void *)sets[s], &buf, &n);
        wembed_file files[] = {*cfg, {"model.safetensors", buf, n}};
        wembed_model *m;
        char msg[512];
        wembed_status rc = load_files(files, 2, WEMBED_DTYPE_Q8, &m, msg, sizeof msg);
        if (CHECKF(rc == WEMBED_STATUS_OK, "tower set %d: %s", s, msg)) {
            wembed_model_info info;
            wembed_model_get_info(m, &info);
            CHECKF(info.has_text == (s == 0) && info.has_vision == (s != 0), "tower set %d: %d %d", s, info.has_text, info.has_vision);
            CHECK(info.n_out == (s == 2 ? 96 : 32));
            CHECK(info.n_embd == (s == 0 ? 64 : 96));
            if (s == 0) CHECK(check_values(m, buf, n, "", "text tower") == 139841);
            if (s == 1) CHECK(check_values(m, buf, n, "", "vision tower") == 247296);
            if (s == 2) CHECK(model_weight(m, "visual_projection.weight") == NULL && fabsf(m->arch.logit_scale - 2.6592f) < 1e-6f);
        }
        wembed_model_free(m);
        free(buf);
    }
    // A vision tower with one tensor missing is refused, naming it.
    {
        uint8_t *buf;
        size_t n;
        st_rewrite(st->data, st->size, keep_prefix, (void *)vision_only, &buf, &n);
        ref_st r;
        ref_open(&r, buf, n);
        st_builder b = {0};
        for (uint32_t i = 0; i < r.h.n_tensors; i++) {
            const we_st_tensor *t = &r.h.tensors[i];
            if (strcmp(t->name, "vision_model.encoder.layers.1.mlp.fc2.bias") == 0) continue;
            sb_add(&b, t->name, dtype_name(t->dtype), t->n_dims, t->shape, r.data + t->begin, (size_t)(t->end - t->begin));
        }
        uint8_t *buf2;
        size_t n2;
        sb_finish(&b, &buf2, &n2);
        we_arena_free(&r.a);
        wembed_file files[] = {*cfg, {"model.safetensors", buf2, n2}};
        wembed_model *m;
        char msg[512];
        CHECK(load_files(files, 2, WEMBED_DTYPE_F32, &m, msg, sizeof msg) == WEMBED_STATUS_MISSING_TENSOR);
        CHECKF(strstr(msg, "missing tensor vision_model.encoder.layers.1.mlp.fc2.bias for clip") != NULL, "%s", msg);
        free(buf);
        free(buf2);
    }
    // A clip_text_model config (CLIPTextModelWithProjection) with the text tower alone.
    {
        uint8_t *buf;
        size_t n;
        st_rewrite(st->data, st->size, keep_prefix, (void *)text_only, &buf, &n);
        const char *tcfg = "{\"model_type\": \"clip_text_model\", \"hidden_size\": 64, \"intermediate_size\": 256,"
                           " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 512,"
                           " \"projection_dim\": 32, \"eos_token_id\": 511, \"bos_token_id\": 510}";
        wembed_file files[] = {{"config.json", tcfg, strlen(tcfg)}, {"model.safetensors", buf, n}};
        wembed_model *m;
        char msg[512];
        wembed_status rc = load_files(files, 2, WEMBED_DTYPE_F32, &m, msg, sizeof msg);
        if (CHECKF(rc == WEMBED_STATUS_OK, "clip_text_model: %s", msg)) {
            wembed_model_info info;
            wembed_model_get_info(m, &info);
            CHECK(info.has_text && !info.has_vision && strstr(info.hparams, "\"eos_token_id\":511,"));
            CHECK(check_values(m, buf, n, "", "clip_text_model") == 139841);
        }
        wembed_model_free(m);
        // ... and the whole two-tower file with it: the vision tensors are not used (warned).
        files[1] = *st;
        rc = load_files(files, 2, WEMBED_DTYPE_F32, &m, msg, sizeof msg);
        if (CHECKF(rc == WEMBED_STATUS_OK, "clip_text_model + both towers: %s", msg)) {
            wembed_model_info info;
            wembed_model_get_info(m, &info);
            CHECK(!info.has_vision);
            CHECKF(strstr(wembed_model_warnings(m), "tensors in the weights are not used by clip (first: vision_model."),
                   "warnings: %s", wembed_model_warnings(m));
        }
        wembed_model_free(m);
        free(buf);
    }
    fixture_free(&fx);
}

typedef struct prog { float last; int calls; bool monotonic; float abort_at; } prog;

static bool on_progress(float p, void *user) {
    prog *pr = user;
    if (p < pr->last || p > 1.0f) pr->monotonic = false;
    pr->last = p;
    pr->calls++;
    return !(pr->abort_at > 0 && p >= pr->abort_at);
}

static void test_prefix_and_shards(void) {
    fixture fx;
    fixture_load(&fx, "bert");
    const wembed_file *st = fx_file(&fx, "model.safetensors"), *cfg = fx_file(&fx, "config.json");
    char msg[512];
    wembed_model *m;

    // Names saved from BertForMaskedLM: "bert." prefix, plus heads the model does not use.
    {
        uint8_t *buf;
        size_t n;
        st_rewrite(st->data, st->size, add_bert_prefix, NULL, &buf, &n);
        ref_st r;
        ref_open(&r, buf, n);
        st_builder b = {0};
        for (uint32_t i = 0; i < r.h.n_tensors; i++) {
            const we_st_tensor *t = &r.h.tensors[i];
            sb_add(&b, t->name, dtype_name(t->dtype), t->n_dims, t->shape, r.data + t->begin, (size_t)(t->end - t->begin));
        }
        float head[512] = {0};
        int64_t hs[1] = {512};
        sb_add(&b, "cls.predictions.bias", "F32", 1, hs, head, sizeof head);
        uint8_t *buf2;
        size_t n2;
        sb_finish(&b, &buf2, &n2);
        we_arena_free(&r.a);
        wembed_file files[] = {*cfg, {"model.safetensors", buf2, n2}};
        CHECKF(load_files(files, 2, WEMBED_DTYPE_F32, &m, msg, sizeof msg) == WEMBED_STATUS_OK, "prefixed: %s", msg);
        if (m) {
            CHECK(check_values(m, buf2, n2, "", "prefixed") == 136896);
            CHECKF(strstr(wembed_model_warnings(m), "1 tensor in the weights is not used by bert (first: cls.predictions.bias)"),
                   "%s", wembed_model_warnings(m));
        }
        wembed_model_free(m);
        // The same tensor under two names is refused.
        ref_open(&r, buf, n);
        b = (st_builder){0};
        for (uint32_t i = 0; i < r.h.n_tensors; i++) {
            const we_st_tensor *t = &r.h.tensors[i];
            sb_add(&b, t->name, dtype_name(t->dtype), t->n_dims, t->shape, r.data + t->begin, (size_t)(t->end - t->begin));
            if (strcmp(t->name, "bert.pooler.dense.bias") == 0)
                sb_add(&b, "pooler.dense.bias", dtype_name(t->dtype), t->n_dims, t->shape, r.data + t->begin, (size_t)(t->end - t->begin));
        }
        free(buf2);
        sb_finish(&b, &buf2, &n2);
        we_arena_free(&r.a);
        files[1] = (wembed_file){"model.safetensors", buf2, n2};
        CHECK(load_files(files, 2, WEMBED_DTYPE_F32, &m, msg, sizeof msg) == WEMBED_STATUS_BAD_FORMAT);
        CHECKF(strstr(msg, "tensor pooler.dense.bias appears twice"), "%s", msg);
        free(buf);
        free(buf2);
    }

    // Sharded: two files and an index; the index's shards must all come.
    {
        ref_st r;
        ref_open(&r, st->data, st->size);
        st_builder b1 = {0}, b2 = {0};
        char idx[16384];
        size_t k = (size_t)snprintf(idx, sizeof idx, "{\"metadata\": {\"total_size\": %llu}, \"weight_map\": {",
                                    (unsigned long long)r.h.data_len);
        for (uint32_t i = 0; i < r.h.n_tensors; i++) {
            const we_st_tensor *t = &r.h.tensors[i];
            bool second = strstr(t->name, "layer.1.") || strstr(t->name, "pooler");
            sb_add(second ? &b2 : &b1, t->name, dtype_name(t->dtype), t->n_dims, t->shape, r.data + t->begin, (size_t)(t->end - t->begin));
            k += (size_t)snprintf(idx + k, sizeof idx - k, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "",
                                  t->name, second ? 2 : 1);
        }
        snprintf(idx + k, sizeof idx - k, "}}");
        uint8_t *s1, *s2;
        size_t n1, n2;
        sb_finish(&b1, &s1, &n1);
        sb_finish(&b2, &s2, &n2);
        wembed_file files[] = {*cfg, {"model.safetensors.index.json", idx, strlen(idx)},
                               {"model-00002-of-00002.safetensors", s2, n2}, {"model-00001-of-00002.safetensors", s1, n1}};
        CHECKF(load_files(files, 4, WEMBED_DTYPE_Q8, &m, msg, sizeof msg) == WEMBED_STATUS_OK, "shards: %s", msg);
        if (m) CHECK(check_values(m, s1, n1, "", "shard 1") + check_values(m, s2, n2, "", "shard 2") == 136896);
        wembed_model_free(m);
        // Progress over shards: the index says two are coming, so the first does not read as done.
        {
            prog pr = {0, 0, true, 0};
            wembed_model_params pp = wembed_model_default_params();
            pp.progress = on_progress;
            pp.progress_user = &pr;
            wembed_loader *ld;
            wembed_loader_new(pp, &ld);
            for (int i = 0; i < 3; i++) wembed_loader_add_file(ld, files[i].name, files[i].data, files[i].size);
            float after_first = pr.last;
            wembed_loader_add_file(ld, files[3].name, files[3].data, files[3].size);
            wembed_model *mm = NULL;
            CHECK(wembed_loader_finish(ld, &mm) == WEMBED_STATUS_OK);
            CHECKF(pr.monotonic && after_first > 0.2f && after_first < 0.8f && pr.last == 1.0f, "shard progress %g then %g",
                   after_first, pr.last);
            wembed_model_free(mm);
            wembed_loader_free(ld);
        }
        CHECK(load_files(files, 3, WEMBED_DTYPE_Q8, &m, msg, sizeof msg) == WEMBED_STATUS_MISSING_FILE);
        CHECKF(strstr(msg, "model-00001-of-00002.safetensors (named by model.safetensors.index.json"), "%s", msg);
        // Without the index, a missing shard still shows as missing tensors.
        wembed_file files2[] = {*cfg, {"model-00002-of-00002.safetensors", s2, n2}};
        CHECK(load_files(files2, 2, WEMBED_DTYPE_Q8, &m, msg, sizeof msg) == WEMBED_STATUS_MISSING_TENSOR);
        CHECKF(strstr(msg, "missing tensor embeddings.word_embeddings.weight (and "), "%s", msg);
        free(s1);
        free(s2);
        we_arena_free(&r.a);
    }

    // Order and API misuse: weights before config.json, a file given twice, no weights.
    {
        wembed_model_params p = wembed_model_default_params();
        wembed_loader *ld;
        CHECK(wembed_loader_new(p, &ld) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_add_file(ld, "model.safetensors", st->data, st->size) == WEMBED_STATUS_MISSING_FILE);
        CHECKF(strstr(wembed_loader_last_error(ld), "config.json is needed before the weights (model.safetensors)"),
               "%s", wembed_loader_last_error(ld));
        // sticky
        CHECK(wembed_loader_add_file(ld, "config.json", cfg->data, cfg->size) == WEMBED_STATUS_MISSING_FILE);
        wembed_loader_free(ld);

        CHECK(wembed_loader_new(p, &ld) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_add_file(ld, "config.json", cfg->data, cfg->size) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_add_file(ld, "config.json", cfg->data, cfg->size) == WEMBED_STATUS_INVALID_ARGUMENT);
        wembed_loader_free(ld);

        CHECK(wembed_loader_new(p, &ld) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_add_file(ld, "config.json", cfg->data, cfg->size) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_begin_file(ld, "model.safetensors", st->size) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_write(ld, st->data, 100) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_end_file(ld) == WEMBED_STATUS_BAD_FORMAT);
        CHECKF(strstr(wembed_loader_last_error(ld), "model.safetensors ended after 100 of its 555816 bytes"), "%s", wembed_loader_last_error(ld));
        wembed_loader_free(ld);

        CHECK(wembed_loader_new(p, &ld) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_add_file(ld, "config.json", cfg->data, cfg->size) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_begin_file(ld, "model.safetensors", 10) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_write(ld, st->data, 11) == WEMBED_STATUS_BAD_FORMAT);
        wembed_loader_free(ld);

        CHECK(wembed_loader_new(p, &ld) == WEMBED_STATUS_OK);
        CHECK(wembed_loader_add_file(ld, "config.json", cfg->data, cfg->size) == WEMBED_STATUS_OK);
        wembed_model *mm = (wembed_model *)1;
        CHECK(wembed_loader_finish(ld, &mm) == WEMBED_STATUS_MISSING_FILE && mm == NULL);
        CHECKF(strstr(wembed_loader_last_error(ld), "no weights were given"), "%s", wembed_loader_last_error(ld));
        wembed_loader_free(ld);

        // The failed-handle of wembed_model_load holds the message and refuses everything else.
        wembed_file only_cfg[] = {*cfg};
        mm = NULL;
        CHECK(wembed_model_load(only_cfg, 1, p, &mm) == WEMBED_STATUS_MISSING_FILE);
        if (CHECK(mm != NULL)) {
            CHECK(strstr(wembed_model_last_error(mm), "no weights were given") != NULL);
            wembed_model_info info;
            CHECK(wembed_model_get_info(mm, &info) == WEMBED_STATUS_INVALID_ARGUMENT);
        }
        wembed_model_free(mm);
        p.dtype = (wembed_dtype)7;
        CHECK(wembed_loader_new(p, &ld) == WEMBED_STATUS_INVALID_ARGUMENT && ld == NULL);
    }
    fixture_free(&fx);
}

static void test_progress(void) {
    fixture fx;
    fixture_load(&fx, "nomic_bert");
    prog pr = {0, 0, true, 0};
    wembed_model_params p = wembed_model_default_params();
    p.progress = on_progress;
    p.progress_user = &pr;
    wembed_loader *ld;
    wembed_loader_new(p, &ld);
    const wembed_file *st = fx_file(&fx, "model.safetensors");
    wembed_loader_add_file(ld, "config.json", fx_file(&fx, "config.json")->data, fx_file(&fx, "config.json")->size);
    wembed_loader_begin_file(ld, st->name, st->size);
    for (size_t off = 0; off < st->size; off += 1000) wembed_loader_write(ld, (const uint8_t *)st->data + off, WE_MIN((size_t)1000, st->size - off));
    wembed_loader_end_file(ld);
    wembed_model *m = NULL;
    CHECK(wembed_loader_finish(ld, &m) == WEMBED_STATUS_OK);
    CHECKF(pr.monotonic && pr.last == 1.0f && pr.calls > 100 && pr.calls <= 1001, "progress: %d calls, last %g", pr.calls, pr.last);
    wembed_model_free(m);
    wembed_loader_free(ld);

    int64_t live0 = we_alloc_live();
    pr = (prog){0, 0, true, 0.5f};
    wembed_status rc = wembed_model_load(fx.files, (size_t)fx.n, p, &m);
    // one chunk: progress jumps to 1.0, the callback says stop, the handle holds the message
    CHECKF(rc == WEMBED_STATUS_ABORTED && pr.calls == 1, "one chunk: %s", wembed_status_str(rc));
    CHECK(m && strstr(wembed_model_last_error(m), "aborted") != NULL);
    wembed_model_free(m);
    wembed_loader_new(p, &ld);
    pr = (prog){0, 0, true, 0.5f};
    wembed_loader_add_file(ld, "config.json", fx_file(&fx, "config.json")->data, fx_file(&fx, "config.json")->size);
    wembed_loader_begin_file(ld, st->name, st->size);
    rc = WEMBED_STATUS_OK;
    for (size_t off = 0; off < st->size && !rc; off += 4096) rc = wembed_loader_write(ld, (const uint8_t *)st->data + off, WE_MIN((size_t)4096, st->size - off));
    CHECKF(rc == WEMBED_STATUS_ABORTED && pr.last >= 0.5f && pr.last < 0.52f, "abort: %s at %g", wembed_status_str(rc), pr.last);
    CHECK(strstr(wembed_loader_last_error(ld), "aborted by the progress callback") != NULL);
    CHECK(wembed_loader_end_file(ld) == WEMBED_STATUS_ABORTED);
    wembed_loader_free(ld);
    CHECK(we_alloc_live() == live0);
    fixture_free(&fx);
}

// Fail the Nth allocation of a whole load, for every N: a clean ALLOC_FAILED, nothing leaked,
// and the engine works afterwards.
static void test_alloc_failures(void) {
    g_quiet = true;
    static const char *dirs[] = {"bert", "clip", "gemma_own"};   // gemma_own: Dense modules
    for (size_t d = 0; d < WE_ARRAY_LEN(dirs); d++) {
        fixture fx;
        fixture_load(&fx, dirs[d]);
        for (int mode = 0; mode < 2; mode++) {
            int64_t live0 = we_alloc_live();
            int n_fail = 0;
            bool done = false;
            for (int nth = 0; nth < 5000 && !done; nth++) {
                wembed_status rc;
                wembed_model *m = NULL;
                we_alloc_fail_after(nth);
                if (mode == 0) {
                    wembed_model_params p = wembed_model_default_params();
                    p.dtype = WEMBED_DTYPE_Q8;
                    rc = wembed_model_load(fx.files, (size_t)fx.n, p, &m);
                } else {
                    m = load_fx(&fx, WEMBED_DTYPE_F16, WE_LAYOUT_PACKED, 3000, &rc);
                }
                we_alloc_fail_after(-1);
                if (rc == WEMBED_STATUS_OK) {
                    done = true;
                    wembed_model_info info;
                    CHECK(m && wembed_model_get_info(m, &info) == WEMBED_STATUS_OK && info.n_params > 0);
                } else {
                    n_fail++;
                    if (!CHECKF(rc == WEMBED_STATUS_ALLOC_FAILED, "%s mode %d nth %d: %s (%s)", dirs[d], mode, nth,
                                wembed_status_str(rc), m ? wembed_model_last_error(m) : "")) break;
                }
                wembed_model_free(m);
                if (!CHECKF(we_alloc_live() == live0, "%s mode %d nth %d: %lld allocations leaked", dirs[d], mode, nth,
                            (long long)(we_alloc_live() - live0))) break;
            }
            CHECKF(done && n_fail > 20, "%s mode %d: %d failing runs before success", dirs[d], mode, n_fail);
        }
        fixture_free(&fx);
    }
}

// -----------------------------------------------------------------------------------------
// The deliberately broken files of tests/data/broken (made by gen/broken_models.py): each
// refused with its own status and message, whole or streamed, nothing leaked, and a good
// model loads right after.

static wembed_status status_from_name(const char *s) {
    for (int rc = 0; rc <= WEMBED_STATUS_INTERNAL; rc++)
        if (strcmp(wembed_status_str((wembed_status)rc), s) == 0) return (wembed_status)rc;
    return WEMBED_STATUS_INTERNAL;
}

static wembed_status load_case(const char *name, const we_json *files, size_t chunk, char *msg, size_t msg_n, wembed_model **out) {
    wembed_model_params p = wembed_model_default_params();
    p.dtype = WEMBED_DTYPE_Q8;
    wembed_loader *ld;
    wembed_status rc = wembed_loader_new(p, &ld);
    for (uint32_t i = 0; i < files->len && !rc; i++) {
        const char *fname = files->u.items[i].u.str;
        char rel[256];
        snprintf(rel, sizeof rel, "broken/%s/%s", name, fname);
        size_t n = 0;
        uint8_t *b = we_test_read_file(we_test_data_path(rel), &n);
        if (!CHECKF(b != NULL, "read %s", rel)) { rc = WEMBED_STATUS_INTERNAL; break; }
        rc = wembed_loader_begin_file(ld, fname, n);
        for (size_t off = 0; off < n && !rc; off += chunk) rc = wembed_loader_write(ld, b + off, WE_MIN(chunk, n - off));
        if (!rc) rc = wembed_loader_end_file(ld);
        free(b);
    }
    *out = NULL;
    if (!rc) rc = wembed_loader_finish(ld, out);
    snprintf(msg, msg_n, "%s", rc ? wembed_loader_last_error(ld) : *out ? wembed_model_warnings(*out) : "");
    wembed_loader_free(ld);
    return rc;
}

static void test_broken_files(void) {
    size_t n;
    uint8_t *buf = we_test_read_file(we_test_data_path("broken/cases.json"), &n);
    if (!CHECK(buf != NULL)) return;
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *root;
    we_err err;
    CHECK(we_json_parse(&a, (const char *)buf, n, NULL, &root, &err) == WEMBED_STATUS_OK);
    const we_json *cases = we_json_get(root, "cases");
    CHECK(cases && cases->len >= 25);
    int64_t live0 = we_alloc_live();
    for (uint32_t i = 0; cases && i < cases->len; i++) {
        const we_json *c = &cases->u.items[i];
        const char *name = we_json_as_str(we_json_get(c, "name"), NULL);
        wembed_status want = status_from_name(we_json_as_str(we_json_get(c, "status"), NULL));
        const char *needle = we_json_as_str(we_json_get(c, "message"), NULL);
        static const size_t chunks[] = {1 << 30, 5, 4096};
        for (size_t k = 0; k < WE_ARRAY_LEN(chunks); k++) {
            char msg[600];
            wembed_model *m;
            wembed_status rc = load_case(name, we_json_get(c, "files"), chunks[k], msg, sizeof msg, &m);
            CHECKF(rc == want && strstr(msg, needle), "broken/%s (chunk %zu): %s \"%s\", want %s \"%s\"", name, chunks[k],
                   wembed_status_str(rc), msg, wembed_status_str(want), needle);
            wembed_model_free(m);
            CHECKF(we_alloc_live() == live0, "broken/%s: %lld allocations leaked", name, (long long)(we_alloc_live() - live0));
            // The engine is fine afterwards: the good model loads.
            rc = load_case("ok", we_json_get(&cases->u.items[0], "files"), 4096, msg, sizeof msg, &m);
            CHECKF(rc == WEMBED_STATUS_OK && m && m->n_params == 8 * 16 * 2 + 8 * 2 + 16 + 4 * (8 * 8 + 8) + 4 * 8 + 16 * 8 + 16 + 8 * 16 + 8,
                   "ok after broken/%s: %s", name, msg);
            wembed_model_free(m);
        }
    }
    we_arena_free(&a);
    free(buf);
}

// config.json variants of a fixture (one text replacement each) that the family refuses, or
// takes: the status and a part of the message when the weights begin (config.json is read
// then).
static void test_config_variants(void) {
    static const struct {
        const char *dir, *find, *replace;
        wembed_status want;
        const char *msg;
    } cases[] = {
        {"gte_en", "\"type\": \"ntk\"", "\"type\": \"dynamic\"", WEMBED_STATUS_UNSUPPORTED, "rope_scaling.type \"dynamic\" is not supported"},
        {"gte_en", "\"type\": \"ntk\"", "\"type\": \"ntk\", \"mixed_b\": 0.6", WEMBED_STATUS_UNSUPPORTED, "rope_scaling.mixed_b"},
        {"gte_en", "\"factor\": 2.0", "\"factor\": 0.5", WEMBED_STATUS_UNSUPPORTED, "rope_scaling.factor 0.5"},
        {"gte_en", "\"type\": \"ntk\"", "\"rope_type\": \"ntk\"", WEMBED_STATUS_BAD_FORMAT, "rope_scaling has no \"type\""},
        {"gte_en", "\"pack_qkv\": true", "\"pack_qkv\": false", WEMBED_STATUS_UNSUPPORTED, "pack_qkv false"},
        {"gte_en", "\"layer_norm_type\": \"layer_norm\"", "\"layer_norm_type\": \"rms_norm\"", WEMBED_STATUS_UNSUPPORTED, "layer_norm_type \"rms_norm\""},
        {"gte_en", "\"position_embedding_type\": \"rope\"", "\"position_embedding_type\": \"absolute\"", WEMBED_STATUS_UNSUPPORTED,
         "position_embedding_type \"absolute\""},
        {"gte_en", "\"unpad_inputs\": false", "\"logn_attention_scale\": true", WEMBED_STATUS_UNSUPPORTED, "logn_attention_scale"},
        // Python truthiness: the string "false" is true.
        {"gte_en", "\"unpad_inputs\": false", "\"logn_attention_scale\": \"false\"", WEMBED_STATUS_UNSUPPORTED, "logn_attention_scale"},
        {"gte_en", "\"unpad_inputs\": false", "\"unpad_inputs\": \"true\", \"logn_attention_clip1\": true", WEMBED_STATUS_OK, ""},
        {"gte_en", "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"mish\"", WEMBED_STATUS_UNSUPPORTED, "hidden_act \"mish\""},
        {"gte_own", "\"rope_scaling\": null", "\"rope_scaling\": \"ntk\"", WEMBED_STATUS_BAD_FORMAT, "\"rope_scaling\" must be an object or null"},
        // qwen3
        {"qwen3_embed", "\"use_sliding_window\": false", "\"use_sliding_window\": true", WEMBED_STATUS_UNSUPPORTED, "use_sliding_window true"},
        {"qwen3_embed", "\"max_position_embeddings\": 32768,", "\"layer_types\": [\"full_attention\", \"sliding_attention\", \"full_attention\"], "
         "\"max_position_embeddings\": 32768,", WEMBED_STATUS_UNSUPPORTED, "layer_types[1]"},
        {"qwen3_embed", "\"attention_bias\": false", "\"attention_bias\": true", WEMBED_STATUS_UNSUPPORTED, "attention_bias true"},
        {"qwen3_embed", "\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}", WEMBED_STATUS_UNSUPPORTED,
         "qwen3 rope_scaling type \"yarn\""},
        {"qwen3_embed", "\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"default\"}", WEMBED_STATUS_OK, ""},
        {"qwen3_embed", "\"rope_scaling\": null", "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1e6}", WEMBED_STATUS_UNSUPPORTED,
         "rope_parameters"},
        {"qwen3_embed", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", WEMBED_STATUS_BAD_FORMAT, "not a multiple of 3 key/value heads"},
        {"qwen3_embed", "\"hidden_act\": \"silu\"", "\"hidden_act\": \"relu2\"", WEMBED_STATUS_UNSUPPORTED, "hidden_act \"relu2\""},
        // gemma3
        {"embeddinggemma", "\"attn_logit_softcapping\": null", "\"attn_logit_softcapping\": 50.0", WEMBED_STATUS_UNSUPPORTED, "attn_logit_softcapping"},
        {"embeddinggemma", "\"final_logit_softcapping\": null", "\"final_logit_softcapping\": 30.0", WEMBED_STATUS_OK, ""},
        {"embeddinggemma", "\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 8.0}", WEMBED_STATUS_UNSUPPORTED,
         "gemma3 rope_scaling type \"linear\""},
        {"embeddinggemma", "\"attention_bias\": false", "\"attention_bias\": true", WEMBED_STATUS_UNSUPPORTED, "attention_bias true"},
        {"embeddinggemma", "\"sliding_window\": 8", "\"sliding_window\": 1", WEMBED_STATUS_UNSUPPORTED, "sliding_window 1"},
        {"embeddinggemma", "\"sliding_attention\",", "\"chunked_attention\",", WEMBED_STATUS_UNSUPPORTED, "layer_types[0] \"chunked_attention\""},
        {"embeddinggemma", "\"use_bidirectional_attention\": true", "\"use_bidirectional_attention\": false", WEMBED_STATUS_OK, ""},
        {"embeddinggemma", "\"hidden_activation\": \"gelu_pytorch_tanh\"", "\"hidden_activation\": \"relu\"", WEMBED_STATUS_UNSUPPORTED,
         "hidden_activation \"relu\""},
        {"embeddinggemma", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", WEMBED_STATUS_BAD_FORMAT, "not a multiple"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "fixtures/%s/config.json", cases[i].dir);
        size_t n;
        char *text = (char *)we_test_read_file(we_test_data_path(rel), &n);
        if (!CHECKF(text != NULL, "read %s", rel)) continue;
        const char *at = strstr(text, cases[i].find);
        if (!CHECKF(at != NULL, "%s: no %s", rel, cases[i].find)) { free(text); continue; }
        size_t nf = strlen(cases[i].find), nr = strlen(cases[i].replace), pre = (size_t)(at - text);
        char *cfg = malloc(n - nf + nr);
        memcpy(cfg, text, pre);
        memcpy(cfg + pre, cases[i].replace, nr);
        memcpy(cfg + pre + nr, at + nf, n - pre - nf);
        wembed_loader *ld;
        CHECK(wembed_loader_new(wembed_model_default_params(), &ld) == WEMBED_STATUS_OK);
        wembed_status rc = wembed_loader_add_file(ld, "config.json", cfg, n - nf + nr);
        if (!rc) rc = wembed_loader_begin_file(ld, "model.safetensors", 1000);
        const char *msg = rc ? wembed_loader_last_error(ld) : "";
        CHECKF(rc == cases[i].want && strstr(msg, cases[i].msg), "%s with %s: %s \"%s\", want %s \"%s\"", cases[i].dir, cases[i].replace,
               wembed_status_str(rc), msg, wembed_status_str(cases[i].want), cases[i].msg);
        wembed_loader_free(ld);
        free(cfg);
        free(text);
    }
}

// -----------------------------------------------------------------------------------------
// jina_bert_v2: configs of model_type "bert" it claims, and the variants it refuses by name.

// fixture dir's config.json with `find` replaced by `repl` (each may be NULL: as is), loaded
// with its model.safetensors; msg gets the error or the warnings.
static wembed_status load_edited(const char *dir, const char *find, const char *repl, char *msg, size_t msg_n, wembed_model **out) {
    fixture fx;
    fixture_load(&fx, dir);
    const wembed_file *cfg = fx_file(&fx, "config.json"), *st = fx_file(&fx, "model.safetensors");
    size_t n = cfg->size + (repl ? strlen(repl) : 0) + 1;
    char *text = malloc(n);
    memcpy(text, cfg->data, cfg->size);
    text[cfg->size] = 0;
    char *at = find ? strstr(text, find) : NULL;
    CHECKF(!find || at, "%s: \"%s\" in config.json", dir, find);
    if (at) {
        size_t fl = strlen(find), rl = strlen(repl);
        memmove(at + rl, at + fl, strlen(at + fl) + 1);
        memcpy(at, repl, rl);
    }
    wembed_loader *ld;
    wembed_model_params p = wembed_model_default_params();
    wembed_status rc = wembed_loader_new(p, &ld);
    if (!rc) rc = wembed_loader_add_file(ld, "config.json", text, strlen(text));
    if (!rc) rc = wembed_loader_add_file(ld, "model.safetensors", st->data, st->size);
    *out = NULL;
    if (!rc) rc = wembed_loader_finish(ld, out);
    snprintf(msg, msg_n, "%s", rc ? wembed_loader_last_error(ld) : wembed_model_warnings(*out));
    wembed_loader_free(ld);
    free(text);
    fixture_free(&fx);
    return rc;
}

static void test_jina_variants(void) {
    static const struct {
        const char *dir, *find, *repl;
        wembed_status want;
        const char *msg;
    } cases[] = {
        {"jina_own", "\"feed_forward_type\": \"geglu\"", "\"feed_forward_type\": \"reglu\"", WEMBED_STATUS_UNSUPPORTED, "feed_forward_type \"reglu\""},
        {"jina_own", "\"feed_forward_type\": \"geglu\"", "\"feed_forward_type\": \"swiglu\"", WEMBED_STATUS_UNSUPPORTED, "feed_forward_type \"swiglu\""},
        {"jina_own", "\"position_embedding_type\": \"alibi\"", "\"position_embedding_type\": \"relative_key\"", WEMBED_STATUS_UNSUPPORTED,
         "position_embedding_type \"relative_key\""},
        {"jina_own", "\"pad_token_id\": 0", "\"pad_token_id\": 0, \"alibi_scaling\": 2", WEMBED_STATUS_UNSUPPORTED, "alibi_scaling"},
        {"jina_own", "\"pad_token_id\": 0", "\"pad_token_id\": 0, \"is_decoder\": true", WEMBED_STATUS_UNSUPPORTED, "is_decoder = true"},
        {"jina_own_code", "\"feed_forward_type\": \"geglu\"", "\"feed_forward_type\": \"original\"", WEMBED_STATUS_UNSUPPORTED,
         "qk-post-norm with feed_forward_type \"original\""},
        // Settings that do not change the math load.
        {"jina_own", "\"emb_pooler\": \"mean\"", "\"emb_pooler\": null, \"attn_implementation\": \"torch\"", WEMBED_STATUS_OK, ""},
        {"jina_own_orig", "\"pad_token_id\": 0", "\"pad_token_id\": 0, \"alibi_scaling\": 1, \"attn_implementation\": null", WEMBED_STATUS_OK, ""},
        // Without ALiBi and without a gated MLP a JinaBERT config is a plain BERT: not claimed.
        {"jina_own_orig", "\"position_embedding_type\": \"alibi\"", "\"position_embedding_type\": \"absolute\"",
         WEMBED_STATUS_MISSING_TENSOR, "missing tensor embeddings.position_embeddings.weight for bert (bert)"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        char msg[512];
        wembed_model *m;
        wembed_status rc = load_edited(cases[i].dir, cases[i].find, cases[i].repl, msg, sizeof msg, &m);
        CHECKF(rc == cases[i].want && strstr(msg, cases[i].msg), "%s with %s: %s \"%s\", want %s \"%s\"", cases[i].dir, cases[i].repl,
               wembed_status_str(rc), msg, wembed_status_str(cases[i].want), cases[i].msg);
        if (m) {
            wembed_model_info info;
            wembed_model_get_info(m, &info);
            CHECKF(strcmp(info.architecture, "jina_bert_v2") == 0 && strcmp(info.model_type, "bert") == 0, "%s", info.architecture);
        }
        wembed_model_free(m);
    }
    // What info() says of each layout.
    static const struct { const char *dir, *hp; } described[] = {
        {"jina_bert_v2", "\"n_types\":2,\"eps\":1e-12,\"layout\":\"jina-bert-implementation\",\"feed_forward\":\"geglu\",\"act\":\"gelu\","},
        {"jina_own_code", "\"layout\":\"qk-post-norm\",\"feed_forward\":\"geglu\",\"act\":\"gelu\",\"split_gate\":false,\"positions\":\"alibi\""},
        {"jina_own_orig", "\"layout\":\"jina-bert-implementation\",\"feed_forward\":\"original\","},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(described); i++) {
        char msg[512];
        wembed_model *m;
        wembed_model_info info;
        if (CHECKF(load_edited(described[i].dir, NULL, NULL, msg, sizeof msg, &m) == WEMBED_STATUS_OK, "%s: %s", described[i].dir, msg) &&
            CHECK(wembed_model_get_info(m, &info) == WEMBED_STATUS_OK))
            CHECKF(strstr(info.hparams, described[i].hp) != NULL, "%s: %s", described[i].dir, info.hparams);
        wembed_model_free(m);
    }
}

// -----------------------------------------------------------------------------------------
// sentence-transformers Dense modules: their files, what is refused, and the widths.

// The fixture's files with one file replaced (data NULL: left out); returns the count.
static size_t dense_files(const fixture *fx, wembed_file *out, const char *name, const char *data) {
    size_t n = 0;
    bool found = false;
    for (int i = 0; i < fx->n; i++) {
        if (name && strcmp(fx->files[i].name, name) == 0) {
            found = true;
            if (data) out[n++] = (wembed_file){name, data, strlen(data)};
            continue;
        }
        out[n++] = fx->files[i];
    }
    if (name && !found && data) out[n++] = (wembed_file){name, data, strlen(data)};
    return n;
}

static void test_dense_modules(void) {
    fixture fx;
    fixture_load(&fx, "embeddinggemma");
    wembed_file files[16];
    static const struct {
        const char *file, *data;
        wembed_status want;
        const char *msg;
    } cases[] = {
        {"2_Dense/config.json", NULL, WEMBED_STATUS_MISSING_FILE, "2_Dense/config.json (the Dense module 2_Dense of modules.json) was not given"},
        {"3_Dense/model.safetensors", NULL, WEMBED_STATUS_MISSING_FILE, "3_Dense/model.safetensors (the weights of the Dense module 3_Dense"},
        {"2_Dense/config.json", "{\"in_features\": 48, \"out_features\": 192, \"bias\": false, \"activation_function\": "
         "\"torch.nn.modules.activation.ReLU\"}", WEMBED_STATUS_UNSUPPORTED, "activation_function \"torch.nn.modules.activation.ReLU\""},
        {"2_Dense/config.json", "{\"in_features\": 48, \"out_features\": 192, \"bias\": false}", WEMBED_STATUS_BAD_FORMAT,
         "no \"activation_function\""},
        {"2_Dense/config.json", "{\"in_features\": 48, \"out_features\": 190, \"bias\": false, \"activation_function\": "
         "\"torch.nn.modules.linear.Identity\"}", WEMBED_STATUS_SHAPE_MISMATCH, "has shape [192, 48]"},
        // bias: Dense.__init__'s default is true, and the file has none
        {"2_Dense/config.json", "{\"in_features\": 48, \"out_features\": 192, \"activation_function\": "
         "\"torch.nn.modules.linear.Identity\"}", WEMBED_STATUS_MISSING_FILE, "lacks linear.bias"},
        {"modules.json", "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}, "
         "{\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}, "
         "{\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}, "
         "{\"idx\": 3, \"name\": \"3\", \"path\": \"3_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}, "
         "{\"idx\": 4, \"name\": \"4\", \"path\": \"3_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]",
         WEMBED_STATUS_UNSUPPORTED, "a Dense module (3_Dense) after Normalize"},
        // 3_Dense not listed: its weights file has no module
        {"modules.json", "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}, "
         "{\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]",
         WEMBED_STATUS_UNSUPPORTED, "3_Dense/model.safetensors: not the weights of a Dense module of modules.json"},
        // the chain: 3_Dense first takes 192 features, the pooling gives 48
        {"modules.json", "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}, "
         "{\"idx\": 1, \"name\": \"1\", \"path\": \"3_Dense\", \"type\": \"sentence_transformers.models.Dense\"}, "
         "{\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]",
         WEMBED_STATUS_SHAPE_MISMATCH, "Dense module 3_Dense takes 192 features, but the pooling gives 48"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        size_t nf = dense_files(&fx, files, cases[i].file, cases[i].data);
        wembed_model *m = NULL;
        int64_t live0 = we_alloc_live();
        wembed_status rc = wembed_model_load(files, nf, wembed_model_default_params(), &m);
        const char *msg = m ? wembed_model_last_error(m) : "";
        CHECKF(rc == cases[i].want && strstr(msg, cases[i].msg), "Dense case %zu: %s \"%s\", want %s \"%s\"", i, wembed_status_str(rc), msg,
               wembed_status_str(cases[i].want), cases[i].msg);
        wembed_model_free(m);
        CHECKF(we_alloc_live() == live0, "Dense case %zu: leak", i);
    }

    // 2_Dense alone (48 -> 192): the model's vectors are 192 wide; a pooling named by the call
    // is the pooling alone, 48 wide.
    size_t nf = dense_files(&fx, files, "modules.json",
                            "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}, "
                            "{\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}, "
                            "{\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]");
    size_t k = 0;
    for (size_t i = 0; i < nf; i++)
        if (strcmp(files[i].name, "3_Dense/model.safetensors") != 0 && strcmp(files[i].name, "3_Dense/config.json") != 0) files[k++] = files[i];
    wembed_model *m = NULL;
    wembed_status rc = wembed_model_load(files, k, wembed_model_default_params(), &m);
    wembed_model_info info;
    if (CHECKF(rc == WEMBED_STATUS_OK, "2_Dense alone: %s", m ? wembed_model_last_error(m) : "") &&
        CHECK(wembed_model_get_info(m, &info) == WEMBED_STATUS_OK)) {
        CHECK(info.n_out == 192 && info.n_embd == 48 && !info.normalize && info.pooling == WEMBED_POOLING_MEAN);
        CHECKF(info.n_params == 116912 - 192 * 48, "%lld params", (long long)info.n_params);
        wembed_embed_params ep = wembed_embed_default_params();
        CHECK(wembed_embed_dims(m, &ep) == 192);
        ep.dims = 64;
        CHECK(wembed_embed_dims(m, &ep) == 64);
        ep.dims = 0;
        ep.pooling = WEMBED_POOLING_MEAN;
        CHECK(wembed_embed_dims(m, &ep) == 48);
        ep.dims = 64;
        CHECK(wembed_embed_dims(m, &ep) == 0);   // past the pooled width
        ep.pooling = WEMBED_POOLING_NONE;
        ep.dims = 0;
        CHECK(wembed_embed_dims(m, &ep) == 48);
        // One row: the default is Dense(mean), the named pooling the mean alone.
        const int32_t ids[5] = {2, 17, 99, 5, 1};
        float a[192], b2[48];
        ep = wembed_embed_default_params();
        CHECK(wembed_embed_ids(m, ids, NULL, NULL, 1, 5, &ep, a, sizeof a) == WEMBED_STATUS_OK);
        ep.pooling = WEMBED_POOLING_MEAN;
        CHECK(wembed_embed_ids(m, ids, NULL, NULL, 1, 5, &ep, b2, sizeof b2) == WEMBED_STATUS_OK);
        const we_weight *w = &m->dense[0].w;
        double worst = 0;
        for (int o = 0; o < 192; o++) {
            double y = 0;
            for (int e = 0; e < 48; e++) y += (double)we_weight_get(w, o, e) * b2[e];
            worst = fmax(worst, fabs(y - a[o]));
        }
        CHECKF(worst < 1e-5, "Dense(mean) vs mean: %.3g", worst);
    }
    wembed_model_free(m);
    fixture_free(&fx);
}

int main(void) {
    test_fixtures();
    test_jina_variants();
    test_dense_modules();
    test_config_variants();
    test_hparams();
    test_clip_towers();
    test_prefix_and_shards();
    test_progress();
    test_alloc_failures();
    test_broken_files();
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-model-load");
}
