// test-modernbert.c - what the modernbert family reads from config.json beyond its fixtures
// (test-families runs those): the variants it does not implement are refused at load with
// UNSUPPORTED naming the key; a transformers 5 config (rope_parameters, layer_types) gives the
// same model as the 4.48 keys; local_rope_theta null means the global theta; a missing
// attn_norm is named; and inputs run past max_position_embeddings when asked (RoPE has no
// table), are truncated to it by default. The ModernBertForSequenceClassification config keys
// (rerank_modernbert's weights): a classifier_pooling other than cls / mean, an activation
// we_cfg_act does not know and classifier_bias without head.dense.bias are refused, naming them;
// info() describes the head.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "wembed.h"

#define FX "fixtures/modernbert_own/"

static uint8_t *g_cfg, *g_st;
static size_t g_ncfg, g_nst;

// config.json of the own fixture with `find` (which must occur once) replaced, malloc'd.
static char *cfg_edit(const char *find, const char *repl) {
    char *base = malloc(g_ncfg + 1);
    memcpy(base, g_cfg, g_ncfg);
    base[g_ncfg] = 0;
    if (!find) return base;
    char *at = strstr(base, find);
    if (!CHECKF(at && !strstr(at + 1, find), "config.json holds `%s` once", find)) return base;
    size_t nf = strlen(find), nr = strlen(repl), n = strlen(base);
    char *out = malloc(n - nf + nr + 1);
    memcpy(out, base, (size_t)(at - base));
    memcpy(out + (at - base), repl, nr);
    memcpy(out + (at - base) + nr, at + nf, n - (size_t)(at - base) - nf + 1);
    free(base);
    return out;
}

// Loads the own fixture's weights with the given config; *msg gets the error.
static wembed_model *load_with(const char *cfg, const uint8_t *st, size_t nst, wembed_status *rc_out, char *msg, size_t cap) {
    wembed_file files[2] = {{"config.json", cfg, strlen(cfg)}, {"model.safetensors", st, nst}};
    wembed_model *m = NULL;
    wembed_model_params mp = wembed_model_default_params();
    mp.n_threads = 2;
    *rc_out = wembed_model_load(files, 2, mp, &m);
    snprintf(msg, cap, "%s", m ? wembed_model_last_error(m) : "?");
    if (*rc_out) {
        wembed_model_free(m);
        return NULL;
    }
    return m;
}

static void test_refused(void) {
    static const struct { const char *find, *repl, *key; } cases[] = {
        {"\"norm_bias\": false", "\"norm_bias\": true", "norm_bias"},
        {"\"attention_bias\": false", "\"attention_bias\": true", "attention_bias"},
        {"\"mlp_bias\": false", "\"mlp_bias\": true", "mlp_bias"},
        {"\"hidden_activation\": \"gelu\"", "\"hidden_activation\": \"relu\"", "hidden_activation"},
        {"\"local_attention\": 8", "\"local_attention\": 1", "local_attention"},
        {"\"local_attention\": 8", "\"local_attention\": 8, \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2.0}", "rope_scaling"},
        {"\"local_attention\": 8", "\"local_attention\": 8, \"head_dim\": 8", "head_dim"},
        {"\"local_attention\": 8", "\"local_attention\": 8, \"rope_parameters\": {\"sliding_attention\": {\"rope_type\": \"yarn\"}}",
         "rope_parameters.sliding_attention.rope_type"},
        {"\"local_attention\": 8", "\"local_attention\": 8, \"layer_types\": [\"full_attention\", \"full_attention\", "
         "\"full_attention\", \"sliding_attention\", \"full_attention\"]", "layer_types"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        char *cfg = cfg_edit(cases[i].find, cases[i].repl), msg[512];
        wembed_status rc;
        wembed_model *m = load_with(cfg, g_st, g_nst, &rc, msg, sizeof msg);
        CHECKF(rc == WEMBED_STATUS_UNSUPPORTED && strstr(msg, cases[i].key), "%s: %s: %s", cases[i].key, wembed_status_str(rc), msg);
        wembed_model_free(m);
        free(cfg);
    }
}

// Mean-pooled, normalized embeddings of a few rows of ids (B rows of T, right padded).
static void embed(wembed_model *m, const int32_t *ids, const int32_t *mask, int B, int T, float *out, int D) {
    wembed_embed_params p = wembed_embed_default_params();
    p.pooling = WEMBED_POOLING_MEAN;
    p.normalize = 1;
    wembed_status rc = wembed_embed_ids(m, ids, NULL, mask, B, T, &p, out, sizeof(float) * (size_t)B * D);
    CHECKF(rc == WEMBED_STATUS_OK, "embed: %s", wembed_model_last_error(m));
}

static void test_config_forms(void) {
    enum { B = 2, T = 30, D = 32 };
    int32_t ids[B][T], mask[B][T];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            ids[b][t] = t == 0 ? 1 : 3 + (b * 37 + t * 11) % 97;
            mask[b][t] = b == 0 || t < 17;
        }
    float ref[B * D], out[B * D];
    char msg[512];
    wembed_status rc;
    char *cfg = cfg_edit(NULL, NULL);
    wembed_model *m = load_with(cfg, g_st, g_nst, &rc, msg, sizeof msg);
    free(cfg);
    if (!CHECKF(m, "own fixture: %s", msg)) return;
    wembed_model_info info;
    wembed_model_get_info(m, &info);
    CHECKF(strcmp(info.architecture, "modernbert") == 0 && info.n_ctx == 8192 && info.n_ff == 32 &&
           strstr(info.hparams, "\"eps\":1e-05,\"act\":\"gelu\",\"local_attention\":8,\"global_attn_every_n_layers\":2,"
                                "\"global_rope_theta\":160000,\"local_rope_theta\":10000"), "%s", info.hparams);
    embed(m, &ids[0][0], &mask[0][0], B, T, ref, D);
    wembed_model_free(m);

    // transformers 5 saves the thetas in rope_parameters and the pattern as layer_types.
    char *c1 = cfg_edit("\"global_rope_theta\": 160000.0,", "\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\", "
                        "\"rope_theta\": 160000.0}, \"sliding_attention\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0}},");
    char *c2 = NULL;
    const char *lt = "\"layer_types\": [\"full_attention\", \"sliding_attention\", \"full_attention\", \"sliding_attention\", \"full_attention\"],";
    {
        char *s = strstr(c1, "\"local_rope_theta\": 10000.0,");
        if (CHECK(s)) {
            size_t n0 = (size_t)(s - c1), nf = strlen("\"local_rope_theta\": 10000.0,");
            c2 = malloc(strlen(c1) + strlen(lt) + 1);
            memcpy(c2, c1, n0);
            strcpy(c2 + n0, lt);
            strcat(c2, s + nf);
        }
    }
    m = c2 ? load_with(c2, g_st, g_nst, &rc, msg, sizeof msg) : NULL;
    if (CHECKF(m, "transformers 5 config: %s", msg)) {
        embed(m, &ids[0][0], &mask[0][0], B, T, out, D);
        CHECKF(we_max_abs_diff(out, ref, B * D) == 0, "transformers 5 config: max |diff| %g", we_max_abs_diff(out, ref, B * D));
    }
    wembed_model_free(m);
    free(c1);
    free(c2);

    // The local theta matters, and null means the global one.
    static const struct { const char *repl, *want; } thetas[] = {
        {"\"local_rope_theta\": 20000.0", "\"global_rope_theta\":160000,\"local_rope_theta\":20000"},
        {"\"local_rope_theta\": null", "\"global_rope_theta\":160000,\"local_rope_theta\":160000"},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(thetas); i++) {
        char *c = cfg_edit("\"local_rope_theta\": 10000.0", thetas[i].repl);
        m = load_with(c, g_st, g_nst, &rc, msg, sizeof msg);
        if (CHECKF(m, "%s: %s", thetas[i].repl, msg)) {
            wembed_model_get_info(m, &info);
            CHECKF(strstr(info.hparams, thetas[i].want), "%s", info.hparams);
            embed(m, &ids[0][0], &mask[0][0], B, T, out, D);
            double md = we_max_abs_diff(out, ref, B * D);
            CHECKF(md > 1e-4, "%s: max |diff| %g from theta 10000", thetas[i].repl, md);
        }
        wembed_model_free(m);
        free(c);
    }
}

// A checkpoint without layers.2.attn_norm.weight (renamed in the header, same length: the
// loader skips the unknown name) is refused, naming the tensor.
static void test_missing_attn_norm(void) {
    uint8_t *st = malloc(g_nst);
    memcpy(st, g_st, g_nst);
    const char *name = "\"layers.2.attn_norm.weight\"";
    uint8_t *at = NULL;
    for (size_t i = 0; i + strlen(name) <= g_nst && !at; i++)
        if (memcmp(st + i, name, strlen(name)) == 0) at = st + i;
    if (CHECK(at)) {
        at[strlen("\"layers.2.attn_nor")] = 'x';
        char *cfg = cfg_edit(NULL, NULL), msg[512];
        wembed_status rc;
        wembed_model *m = load_with(cfg, st, g_nst, &rc, msg, sizeof msg);
        CHECKF(rc == WEMBED_STATUS_MISSING_TENSOR && strstr(msg, "layers.2.attn_norm.weight"), "%s: %s", wembed_status_str(rc), msg);
        wembed_model_free(m);
        free(cfg);
    }
    free(st);
}

// Past max_position_embeddings: truncated to 8192 by default, run whole when asked.
static void test_long(void) {
    char *cfg = cfg_edit(NULL, NULL), msg[512];
    wembed_status rc;
    wembed_model *m = load_with(cfg, g_st, g_nst, &rc, msg, sizeof msg);
    free(cfg);
    if (!CHECKF(m, "%s", msg)) return;
    enum { N = 8300, D = 32 };
    int32_t *ids = malloc(sizeof(int32_t) * N);
    for (int t = 0; t < N; t++) ids[t] = t == 0 ? 1 : 3 + (t * 7) % 97;
    float a[D], b[D], c[D];
    wembed_embed_params p = wembed_embed_default_params();
    p.pooling = WEMBED_POOLING_MEAN;
    p.normalize = 1;
    CHECK(wembed_embed_ids(m, ids, NULL, NULL, 1, N, &p, a, sizeof a) == WEMBED_STATUS_OK);   // first 8192
    CHECK(wembed_embed_ids(m, ids, NULL, NULL, 1, 8192, &p, b, sizeof b) == WEMBED_STATUS_OK);
    CHECKF(we_max_abs_diff(a, b, D) == 0, "default truncation to 8192: max |diff| %g", we_max_abs_diff(a, b, D));
    p.truncate = WEMBED_TRUNCATE_ERROR;
    CHECK(wembed_embed_ids(m, ids, NULL, NULL, 1, N, &p, c, sizeof c) == WEMBED_STATUS_TOO_LONG);
    p.max_tokens = N;
    rc = wembed_embed_ids(m, ids, NULL, NULL, 1, N, &p, c, sizeof c);
    CHECKF(rc == WEMBED_STATUS_OK, "max_tokens %d: %s", N, wembed_model_last_error(m));
    double nrm = 0;
    for (int e = 0; e < D; e++) nrm += (double)c[e] * c[e];
    CHECKF(fabs(nrm - 1) < 1e-5 && we_max_abs_diff(a, c, D) > 0, "8300 tokens: norm %g, diff %g", nrm, we_max_abs_diff(a, c, D));
    free(ids);
    wembed_model_free(m);
}

// rerank_modernbert's config with `find` replaced; its weights. Refusals name the key.
static void test_head_config(void) {
    size_t ncfg, nst;
    uint8_t *cfg0 = we_test_read_file(we_test_data_path("fixtures/rerank_modernbert/config.json"), &ncfg);
    uint8_t *st = we_test_read_file(we_test_data_path("fixtures/rerank_modernbert/model.safetensors"), &nst);
    if (!CHECK(cfg0 && st)) return;
    uint8_t *own = g_cfg;
    size_t nown = g_ncfg;
    g_cfg = cfg0, g_ncfg = ncfg;   // cfg_edit reads g_cfg
    static const struct { const char *find, *repl, *key; wembed_status rc; } cases[] = {
        {"\"classifier_pooling\": \"mean\"", "\"classifier_pooling\": \"max\"", "classifier_pooling", WEMBED_STATUS_BAD_FORMAT},
        {"\"classifier_activation\": \"gelu\"", "\"classifier_activation\": \"relu\"", "classifier_activation", WEMBED_STATUS_UNSUPPORTED},
        {"\"classifier_bias\": false", "\"classifier_bias\": true", "head.dense.bias", WEMBED_STATUS_MISSING_TENSOR},
    };
    char msg[512];
    wembed_status rc;
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        char *cfg = cfg_edit(cases[i].find, cases[i].repl);
        wembed_model *m = load_with(cfg, st, nst, &rc, msg, sizeof msg);
        CHECKF(rc == cases[i].rc && strstr(msg, cases[i].key), "%s: %s: %s", cases[i].key, wembed_status_str(rc), msg);
        wembed_model_free(m);
        free(cfg);
    }
    char *cfg = cfg_edit(NULL, NULL);
    wembed_model *m = load_with(cfg, st, nst, &rc, msg, sizeof msg);
    if (CHECKF(m, "rerank_modernbert: %s", msg)) {
        wembed_model_info info;
        wembed_model_get_info(m, &info);
        CHECKF(wembed_model_n_labels(m) == 1 && strstr(info.hparams, "\"head\":\"modernbert_prediction_head\",\"classifier_pooling\":\"mean\","
                                                                       "\"classifier_activation\":\"gelu\",\"classifier_bias\":false"),
               "%s", info.hparams);
    }
    wembed_model_free(m);
    free(cfg);
    g_cfg = own, g_ncfg = nown;
    free(cfg0);
    free(st);
}

int main(void) {
    g_cfg = we_test_read_file(we_test_data_path(FX "config.json"), &g_ncfg);
    g_st = we_test_read_file(we_test_data_path(FX "model.safetensors"), &g_nst);
    if (CHECK(g_cfg && g_st)) {
        test_refused();
        test_config_forms();
        test_missing_attn_norm();
        test_long();
        test_head_config();
    }
    free(g_cfg);
    free(g_st);
    return we_test_finish("test-modernbert");
}
