// test-families.c - every model family against its reference fixtures (tests/data/fixtures,
// the folders whose manifests give each tensor a role: input, expected, optional; README.md
// there). For each case the inputs go through wembed_embed_ids with the settings an expected
// tensor names, and the result must match:
//
//   last_hidden_state                 pooling none, raw; max |diff| <= 1e-4 where the mask is 1
//   <p>_pooled[_normalized]           pooling p (mean, cls, last), normalized or not
//   sentence_embedding[_normalized]   the model's own pooling and output modules
//   text_embeds[_normalized]          likewise (two-tower text side)
//   matryoshka_<d>                    the model's pooling, dims d, normalized
//   logits                            wembed_classify_ids (classification head), raw;
//                                     max |diff| <= 1e-4
//   scores_sigmoid                    sigmoid of those logits, likewise
//
// A case with "text_pairs" (and "truncated") instead of input_ids goes through
// wembed_classify_pairs with the folder's tokenizer.json: logits as above, truncated flags equal.
//
// An image case (input image_uint8, H x W x 3) goes through the image calls:
//
//   resized_uint8, cropped_uint8      the preprocessing's uint8 stages (preprocessor_config.json
//                                     over the tower's size, as embed_image.c reads it); exact
//   pixel_values                      wembed_image_preprocess; max |diff| <= 1e-6 (the resized
//                                     uint8 image must be Pillow's, byte for byte)
//   last_hidden_state                 wembed_embed_images, pooling none, raw
//   image_embeds[_normalized]         the model's image embedding, normalized or not
//   logits_per_image                  logit_scale * cos(image, text) + logit_bias against the
//                                     normalized text_embeds of the case "logits_text_case" names
//
// and intermediates the engine does not report (trunk_hidden_state, map_output) are optional.
//
// Embedding-like tensors also need a row cosine >= 0.99999. A case's "options" (inference
// options) are applied as wembed_embed_params (max_tokens: the longest input kept); an
// expected tensor the runner cannot produce fails the test (optional ones are skipped, and
// said so with -v). A manifest's "gguf" list (wembed's own fixtures) names GGUF files of the
// same weights in the folder: every case runs on each of them too, loaded alone.
//
// Every row runs whole (max_tokens = the padded length), as the references ran it.
//
// Quantized weights (the full run only): one fixture of each family runs again with q8 and
// q4 weights (int8 activations), and the lowest row cosine of its embedding-like tensors to
// the f32 reference is printed and bounded: q8 >= 0.99, q4 >= 0.5. These tiny random models
// are far harder to quantize than trained ones (a 4-bit block is a whole row of a 32-wide
// model, and their weights have no structure), so the bounds only catch a broken path; the
// kernels are checked bit for bit in test-kernels / test-q4, the stored weights value by value
// in test-model-load, and bench/ gives the cosines at real sizes. Hidden states and logits
// are not compared.
//
//   test-families [fixture ...]       all fixtures of the list below, or the ones named
//   test-families -x fixture ...      all but the ones named (the arm64 run under qemu leaves
//                                     out the 8192-token cases, which take minutes emulated)
//
// Mutation tests (scripts/mutations.py) run this program on one fixture with one subtle point
// of a family's code changed, and require it to fail.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "arch/forward.h"
#include "formats/json.h"
#include "image/preprocess.h"
#include "wembed.h"

// One fixture per family, run again with quantized weights.
static const char *const g_quantized[] = {
    "gte_own", "mpnet_own", "jina_own", "modernbert_own", "qwen3_embed", "embeddinggemma", "nomic_long",
    "bert_tempscale", NULL,
};

// The role-tagged fixtures; a new family adds its folders here.
static const char *const g_fixtures[] = {
    "gte_en",
    "gte_own",
    "gte_own_ml",
    "mpnet",
    "mpnet_own",
    "mpnet_own_cls",
    "jina_bert_v2", "jina_own", "jina_own_code", "jina_own_orig",
    "modernbert", "modernbert_mean", "modernbert_own",
    "qwen3_embed",
    "qwen3_own",
    "embeddinggemma",
    "gemma_own",
    "gemma_causal_bf16",
    "nomic_selfextend", "nomic_tempscale", "nomic_long", "gte_long", "bert_tempscale", "jina_tempscale",
    "modernbert_long", "qwen3_long", "gemma_long",
    "rerank_bert", "rerank_xlmr", "rerank_modernbert", "rerank_modernbert_cls",
    "deberta_own", "deberta_own_sep",
    "siglip", "siglip_own",
    "nomic_vision", "nomic_vision_own",
    NULL,
};

static bool g_verbose;

typedef struct fixture {
    const char *dir;
    const char *label;            // in messages: the folder, or folder[gguf file]
    we_arena arena;
    const we_json *manifest;
    wembed_dtype dtype;           // the weights' dtype this run
    double min_cos;               // quantized runs: the lowest row cosine seen
} fixture;

static double min_cos_for(wembed_dtype dtype) {
    return dtype == WEMBED_DTYPE_Q4 ? 0.5 : dtype == WEMBED_DTYPE_Q8 ? 0.99 : 0.99999;
}

static void *fx_read(const fixture *f, const char *name, size_t *n) {
    char rel[300];
    snprintf(rel, sizeof rel, "fixtures/%s/%s", f->dir, name);
    return we_test_read_file(we_test_data_path(rel), n);
}

// A tensor of a case: its data (malloc'd) and element count, or NULL.
static void *fx_tensor(const fixture *f, const we_json *cs, const char *name, int64_t shape[4], int *n_dims, size_t *n_el) {
    const we_json *t = we_json_get(we_json_get(cs, "tensors"), name);
    if (!t) return NULL;
    const we_json *sh = we_json_get(t, "shape");
    *n_dims = (int)(sh ? sh->len : 0);
    *n_el = 1;
    for (int i = 0; i < *n_dims && i < 4; i++) {
        we_json_as_int(we_json_at(sh, (uint32_t)i), &shape[i]);
        *n_el *= (size_t)shape[i];
    }
    size_t n;
    return fx_read(f, we_json_as_str(we_json_get(t, "file"), NULL), &n);
}

// A GGUF file of the fixture's folder (the manifest's "gguf" list), alone.
static wembed_model *fx_load_gguf(const fixture *f, const char *name) {
    size_t n;
    void *d = fx_read(f, name, &n);
    if (!CHECKF(d != NULL, "%s: no %s", f->dir, name)) return NULL;
    wembed_file file = { name, d, n };
    wembed_model_params mp = wembed_model_default_params();
    mp.n_threads = 2;
    wembed_model *m = NULL;
    wembed_status rc = wembed_model_load(&file, 1, mp, &m);
    CHECKF(rc == WEMBED_STATUS_OK, "%s/%s: load: %s", f->dir, name, m ? wembed_model_last_error(m) : "?");
    free(d);
    if (rc) {
        wembed_model_free(m);
        return NULL;
    }
    return m;
}

static wembed_model *fx_load(const fixture *f, wembed_dtype dtype) {
    static const char *names[] = {
        "config.json", "model.safetensors", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
        "config_sentence_transformers.json", "2_Dense/config.json", "2_Dense/model.safetensors", "3_Dense/config.json",
        "3_Dense/model.safetensors", "preprocessor_config.json", "tokenizer.json",
    };
    wembed_file files[WE_ARRAY_LEN(names)];
    size_t nf = 0;
    for (size_t i = 0; i < WE_ARRAY_LEN(names); i++) {
        size_t n;
        void *d = fx_read(f, names[i], &n);
        if (d) files[nf++] = (wembed_file){ names[i], d, n };
    }
    wembed_model_params mp = wembed_model_default_params();
    mp.dtype = dtype;
    mp.n_threads = 2;
    wembed_model *m = NULL;
    wembed_status rc = wembed_model_load(files, nf, mp, &m);
    CHECKF(rc == WEMBED_STATUS_OK, "%s: load: %s", f->dir, m ? wembed_model_last_error(m) : "?");
    for (size_t i = 0; i < nf; i++) free((void *)files[i].data);
    if (rc) {
        wembed_model_free(m);
        return NULL;
    }
    return m;
}

// The embedding settings an expected tensor's name asks for; false: not an embedding output.
static bool settings_for(const char *name, wembed_embed_params *p, const wembed_model_info *info) {
    char base[64];
    snprintf(base, sizeof base, "%s", name);
    size_t n = strlen(base);
    bool normalized = n > 11 && strcmp(base + n - 11, "_normalized") == 0;
    if (normalized) base[n - 11] = 0;
    p->normalize = normalized;
    if (strcmp(base, "last_hidden_state") == 0) {
        p->pooling = WEMBED_POOLING_NONE;
        p->normalize = 0;
        return true;
    }
    if (strncmp(base, "matryoshka_", 11) == 0) {
        p->dims = atoi(base + 11);
        p->normalize = 1;
        return p->dims > 0;
    }
    if (strcmp(base, "sentence_embedding") == 0 || strcmp(base, "text_embeds") == 0) return true;
    static const struct { const char *name; wembed_pooling p; } pools[] = {
        {"mean_pooled", WEMBED_POOLING_MEAN}, {"cls_pooled", WEMBED_POOLING_CLS}, {"last_pooled", WEMBED_POOLING_LAST},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(pools); i++)
        if (strcmp(base, pools[i].name) == 0) {
            p->pooling = pools[i].p;
            return true;
        }
    (void)info;
    return false;
}

// A case's inference options (README.md, "Inference options") into p; false (with a failed
// check) for an option, or a value, this runner does not know:
//   max_tokens: n                             max_tokens
//   self_extend: {group: G, window: W}        self_extend_group, self_extend_window
//   attention_temperature: tau                attention_temperature
//   truncate: "extend"                        truncate EXTEND (the model's extension method)
//   rope: {type: linear|ntk|dynamic, factor}  rope_scaling LINEAR / NTK / DYNAMIC_NTK, rope_factor;
//                                             dynamic as the definition says: the padded batch
//                                             length (ntk_length PADDED)
static bool apply_options(const fixture *f, const we_json *cs, wembed_embed_params *p) {
    const we_json *o = we_json_get(cs, "options");
    if (!o || o->type != WE_JSON_OBJECT) return true;
    for (uint32_t i = 0; i < o->len; i++) {
        const char *key = o->u.members[i].key;
        const we_json *val = &o->u.members[i].value;
        int64_t v, g, w;
        double x;
        if (strcmp(key, "max_tokens") == 0 && we_json_as_int(val, &v) && v > 0 && v < INT32_MAX) {
            p->max_tokens = (int32_t)v;
            continue;
        }
        if (strcmp(key, "self_extend") == 0 && we_json_as_int(we_json_get(val, "group"), &g) &&
            we_json_as_int(we_json_get(val, "window"), &w) && g >= 0 && g < INT32_MAX && w >= 0 && w < INT32_MAX) {
            p->self_extend_group = (int32_t)g;
            p->self_extend_window = (int32_t)w;
            continue;
        }
        if (strcmp(key, "truncate") == 0 && we_json_str_eq(val, "extend")) {
            p->truncate = WEMBED_TRUNCATE_EXTEND;
            continue;
        }
        if (strcmp(key, "attention_temperature") == 0 && we_json_as_double(val, &x)) {
            p->attention_temperature = (float)x;
            continue;
        }
        if (strcmp(key, "rope") == 0 && we_json_as_double(we_json_get(val, "factor"), &x)) {
            static const struct { const char *name; wembed_rope_scaling mode; } types[] = {
                {"linear", WEMBED_ROPE_LINEAR}, {"ntk", WEMBED_ROPE_NTK}, {"dynamic", WEMBED_ROPE_DYNAMIC_NTK},
            };
            const we_json *type = we_json_get(val, "type");
            size_t t = 0;
            while (t < WE_ARRAY_LEN(types) && !we_json_str_eq(type, types[t].name)) t++;
            if (t < WE_ARRAY_LEN(types)) {
                p->rope_scaling = types[t].mode;
                p->rope_factor = (float)x;
                if (types[t].mode == WEMBED_ROPE_DYNAMIC_NTK) p->ntk_length = WEMBED_NTK_LENGTH_PADDED;
                continue;
            }
        }
        CHECKF(false, "%s/%s: inference option \"%s\" (or its value) is not known to this runner", f->label,
               we_json_as_str(we_json_get(cs, "name"), NULL), key);
        return false;
    }
    return true;
}

// Compares n floats with ref: max |diff| <= tol and, for D-wide rows of embeddings (D > 0), each
// row's cosine >= 0.99999.
static void compare(const fixture *f, const char *cname, const char *tname, const float *out, const float *ref, size_t n,
                    size_t D, double tol) {
    double md = we_max_abs_diff(out, ref, n), mc = 1;
    for (size_t r = 0; D && r < n / D; r++) mc = fmin(mc, we_cosine(out + r * D, ref + r * D, D));
    CHECKF(md <= tol && mc >= 0.99999, "%s/%s %s: max |diff| %.3g (limit %.0e), min cosine %.7f", f->label, cname, tname, md, tol, mc);
    if (g_verbose && D) printf("%s/%s %s: max |diff| %.3g, min cosine %.8f\n", f->label, cname, tname, md, mc);
    else if (g_verbose) printf("%s/%s %s: max |diff| %.3g\n", f->label, cname, tname, md);
}

// The normalized text vectors of the case named name (its input_ids) into *out (malloc'd): rows.
static int32_t text_vectors(const fixture *f, wembed_model *m, const char *name, float **out) {
    if (!name) name = "";
    const we_json *cases = we_json_get(f->manifest, "cases");
    for (uint32_t i = 0; cases && i < cases->len; i++) {
        const we_json *cs = we_json_at(cases, i);
        if (!we_json_str_eq(we_json_get(cs, "name"), name)) continue;
        int64_t shape[4] = { 0 };
        int nd;
        size_t n_el;
        int32_t *ids = fx_tensor(f, cs, "input_ids", shape, &nd, &n_el);
        if (!ids) return 0;
        int64_t mshape[4];
        int32_t *mask = fx_tensor(f, cs, "attention_mask", mshape, &nd, &n_el);
        wembed_embed_params p = wembed_embed_default_params();
        p.normalize = 1;
        size_t vb = wembed_embed_vector_bytes(m, &p);
        *out = malloc(vb * (size_t)shape[0] + 1);
        wembed_status rc = wembed_embed_ids(m, ids, NULL, mask, (int32_t)shape[0], (int32_t)shape[1], &p, *out, vb * (size_t)shape[0]);
        free(ids);
        free(mask);
        CHECKF(rc == WEMBED_STATUS_OK, "%s: text case %s: %s", f->label, name, wembed_model_last_error(m));
        return rc ? 0 : (int32_t)shape[0];
    }
    CHECKF(false, "%s: no text case %s", f->label, name);
    return 0;
}

// The fixture's preprocessing as the engine reads it: preprocessor_config.json over CLIP's
// defaults sized to the tower (embed_image.c's image_config).
static bool fx_image_config(const fixture *f, wembed_model *m, we_image_config *c) {
    int32_t S = wembed_image_size(m);
    we_image_config_default(c);
    c->shortest_edge = c->height = c->width = c->crop_height = c->crop_width = S;
    size_t n;
    char *text = fx_read(f, "preprocessor_config.json", &n);
    if (!text) return true;
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *root;
    we_err err;
    bool ok = we_json_parse(&a, text, n, NULL, &root, &err) == WEMBED_STATUS_OK &&
              we_image_config_from_json(c, root, &err) == WEMBED_STATUS_OK;
    we_arena_free(&a);
    free(text);
    return CHECKF(ok, "%s: preprocessor_config.json", f->label);
}

static void run_image_case(const fixture *f, wembed_model *m, const we_json *cs) {
    const char *cname = we_json_as_str(we_json_get(cs, "name"), NULL);
    int64_t shape[4] = { 0 };
    int nd;
    size_t n_el;
    uint8_t *rgb = fx_tensor(f, cs, "image_uint8", shape, &nd, &n_el);
    if (!rgb) return;
    const int h = (int)shape[0], w = (int)shape[1];
    wembed_image img = { rgb, w, h, (size_t)w * 3, 3 };
    we_image_config ic;
    if (!fx_image_config(f, m, &ic)) {
        free(rgb);
        return;
    }
    const we_json *ts = we_json_get(cs, "tensors");
    for (uint32_t i = 0; i < ts->len; i++) {
        const char *tname = ts->u.members[i].key;
        const char *role = we_json_as_str(we_json_get(&ts->u.members[i].value, "role"), NULL);
        if (!role || strcmp(role, "input") == 0) continue;
        size_t ref_n;
        float *ref = fx_tensor(f, cs, tname, shape, &nd, &ref_n);
        float *out = calloc(ref_n + 1, sizeof(float));
        wembed_embed_params p = wembed_embed_default_params();
        wembed_status rc = WEMBED_STATUS_OK;
        bool done = true;
        if (strcmp(tname, "resized_uint8") == 0 || strcmp(tname, "cropped_uint8") == 0) {
            bool crop = tname[0] == 'c';
            int ow, oh;
            if (crop) we_image_output_size(&ic, w, h, &ow, &oh);
            else we_image_resized_size(&ic, w, h, &ow, &oh);
            uint8_t *px = calloc((size_t)ow * oh * 3 + 1, 1);
            we_err err;
            rc = crop ? we_image_resize_crop(px, rgb, w, h, (size_t)w * 3, 3, &ic, &err)
                      : we_resample_rgb(px, ow, oh, rgb, w, h, (size_t)w * 3, ic.resample, &err);
            if (CHECKF(rc == WEMBED_STATUS_OK && (size_t)ow * oh * 3 == ref_n, "%s/%s %s: %dx%d", f->label, cname, tname, ow, oh)) {
                size_t bad = 0;
                for (size_t k = 0; k < ref_n; k++) bad += px[k] != ((uint8_t *)(void *)ref)[k];
                CHECKF(bad == 0, "%s/%s %s: %zu of %zu bytes differ", f->label, cname, tname, bad, ref_n);
                if (g_verbose) printf("%s/%s %s: %zu bytes, %zu differ\n", f->label, cname, tname, ref_n, bad);
            }
            rc = WEMBED_STATUS_OK;   // (a failure is reported above, not as the model's error)
            free(px);
        } else if (strcmp(tname, "pixel_values") == 0) {
            if ((rc = wembed_image_preprocess(m, &img, out, sizeof(float) * ref_n)) == WEMBED_STATUS_OK)
                compare(f, cname, tname, out, ref, ref_n, 0, 1e-6);
        } else if (strcmp(tname, "last_hidden_state") == 0 || strncmp(tname, "image_embeds", 12) == 0) {
            bool tokens = tname[0] == 'l';
            p.pooling = tokens ? WEMBED_POOLING_NONE : WEMBED_POOLING_DEFAULT;
            p.normalize = strstr(tname, "_normalized") != NULL;
            if ((rc = wembed_embed_images(m, &img, 1, &p, out, sizeof(float) * ref_n)) == WEMBED_STATUS_OK)
                compare(f, cname, tname, out, ref, ref_n, tokens ? 0 : ref_n, 1e-4);
        } else if (strcmp(tname, "logits_per_image") == 0) {
            p.normalize = 1;
            size_t D = wembed_image_vector_bytes(m, &p) / sizeof(float);
            float *t = NULL, *v = malloc(sizeof(float) * D + 1);
            int32_t n_text = text_vectors(f, m, we_json_as_str(we_json_get(cs, "logits_text_case"), NULL), &t);
            if (n_text > 0 && (size_t)n_text == ref_n && (rc = wembed_embed_images(m, &img, 1, &p, v, sizeof(float) * D)) == WEMBED_STATUS_OK) {
                for (int32_t k = 0; k < n_text; k++) {
                    double dot = 0;
                    for (size_t e = 0; e < D; e++) dot += (double)v[e] * t[(size_t)k * D + e];
                    out[k] = (float)(wembed_model_logit_scale(m) * dot + wembed_model_logit_bias(m));
                }
                compare(f, cname, tname, out, ref, ref_n, 0, 1e-4);
            } else {
                CHECKF(false, "%s/%s %s: %d text vectors for %zu logits", f->label, cname, tname, n_text, ref_n);
            }
            free(t);
            free(v);
        } else {
            done = false;
        }
        CHECKF(rc == WEMBED_STATUS_OK, "%s/%s %s: %s", f->label, cname, tname, wembed_model_last_error(m));
        if (!done) {
            CHECKF(strcmp(role, "expected") != 0, "%s/%s: the runner cannot produce expected tensor %s", f->label, cname, tname);
            if (g_verbose) printf("skip %s/%s %s (optional)\n", f->label, cname, tname);
        }
        free(out);
        free(ref);
    }
    free(rgb);
}

// A case of text pairs (query, passage) through wembed_classify_pairs: the tokenizer's pair
// template and only_second truncation at the model's limit; logits as above, and the
// truncated flags must be the manifest's.
static void run_pairs_case(fixture *f, wembed_model *m, const we_json *cs) {
    const char *cname = we_json_as_str(we_json_get(cs, "name"), NULL);
    const we_json *pairs = we_json_get(cs, "text_pairs"), *want = we_json_get(cs, "truncated");
    int32_t n = (int32_t)pairs->len;
    const char **a = calloc((size_t)n + 1, sizeof(char *)), **b = calloc((size_t)n + 1, sizeof(char *));
    uint8_t *cut = calloc((size_t)n + 1, 1);
    for (int32_t i = 0; i < n; i++) {
        a[i] = we_json_as_str(we_json_at(we_json_at(pairs, (uint32_t)i), 0), NULL);
        b[i] = we_json_as_str(we_json_at(we_json_at(pairs, (uint32_t)i), 1), NULL);
    }
    int64_t shape[4];
    int nd;
    size_t ref_n;
    float *ref = fx_tensor(f, cs, "logits", shape, &nd, &ref_n);
    float *out = calloc(ref_n + 1, sizeof(float));
    CHECKF(ref && ref_n == (size_t)n * (size_t)wembed_model_n_labels(m), "%s/%s: %zu logits for %d pairs", f->label, cname, ref_n, n);
    wembed_status rc = wembed_classify_pairs(m, a, NULL, b, NULL, n, out, ref_n, cut);
    if (CHECKF(rc == WEMBED_STATUS_OK, "%s/%s: %s", f->label, cname, wembed_model_last_error(m))) {
        double md = we_max_abs_diff(out, ref, ref_n);
        CHECKF(md <= 1e-4, "%s/%s logits: max |diff| %.3g > 1e-4", f->label, cname, md);
        if (g_verbose) printf("%s/%s logits: max |diff| %.3g\n", f->label, cname, md);
        for (int32_t i = 0; i < n; i++)
            CHECKF(cut[i] == (we_json_at(want, (uint32_t)i)->type == WE_JSON_TRUE), "%s/%s: pair %d truncated %d", f->label, cname, i, cut[i]);
    }
    free(out);
    free(ref);
    free(cut);
    free(a);
    free(b);
}

static void run_case(fixture *f, wembed_model *m, const we_json *cs) {
    const char *cname = we_json_as_str(we_json_get(cs, "name"), NULL);
    if (we_json_get(cs, "text_pairs")) {
        run_pairs_case(f, m, cs);
        return;
    }
    int64_t shape[4] = { 0 };
    int nd;
    size_t n_el;
    int32_t *ids = fx_tensor(f, cs, "input_ids", shape, &nd, &n_el);
    if (!ids) {
        run_image_case(f, m, cs);
        return;
    }
    int32_t B = (int32_t)shape[0], T = (int32_t)shape[1];
    int32_t *mask = fx_tensor(f, cs, "attention_mask", shape, &nd, &n_el);
    int32_t *types = fx_tensor(f, cs, "token_type_ids", shape, &nd, &n_el);
    wembed_model_info info;
    wembed_model_get_info(m, &info);

    const we_json *ts = we_json_get(cs, "tensors");
    for (uint32_t i = 0; i < ts->len; i++) {
        const char *tname = ts->u.members[i].key;
        const char *role = we_json_as_str(we_json_get(&ts->u.members[i].value, "role"), NULL);
        if (!role || strcmp(role, "input") == 0) continue;
        bool expected = strcmp(role, "expected") == 0;
        bool sig = strcmp(tname, "scores_sigmoid") == 0;
        bool quantized = f->dtype != WEMBED_DTYPE_F32 && f->dtype != WEMBED_DTYPE_F16;
        if (quantized && (strcmp(tname, "logits") == 0 || sig || strcmp(tname, "last_hidden_state") == 0)) continue;
        if (strcmp(tname, "logits") == 0 || sig) {
            // The classification head: B rows of n_labels raw logits (sigmoid on request).
            size_t ref_n;
            float *ref = fx_tensor(f, cs, tname, shape, &nd, &ref_n);
            float *out = calloc(ref_n + 1, sizeof(float));
            CHECKF(ref_n == (size_t)B * (size_t)wembed_model_n_labels(m), "%s/%s %s: %zu values for %d rows of %d labels",
                   f->label, cname, tname, ref_n, B, wembed_model_n_labels(m));
            wembed_status rc = wembed_classify_ids(m, ids, types, mask, B, T, out, ref_n);
            if (CHECKF(rc == WEMBED_STATUS_OK, "%s/%s %s: %s", f->label, cname, tname, wembed_model_last_error(m))) {
                if (sig)
                    for (size_t k = 0; k < ref_n; k++) out[k] = (float)(1.0 / (1.0 + exp(-(double)out[k])));
                double md = we_max_abs_diff(out, ref, ref_n);
                CHECKF(md <= 1e-4, "%s/%s %s: max |diff| %.3g > 1e-4", f->label, cname, tname, md);
                if (g_verbose) printf("%s/%s %s: max |diff| %.3g\n", f->label, cname, tname, md);
            }
            free(out);
            free(ref);
            continue;
        }
        wembed_embed_params p = wembed_embed_default_params();
        // The references run every row whole: no truncation at the model's n_ctx or
        // max_seq_length (a model that cannot extend refuses rows past its n_ctx).
        p.max_tokens = T;
        if (!settings_for(tname, &p, &info)) {
            CHECKF(!expected, "%s/%s: the runner cannot produce expected tensor %s", f->label, cname, tname);
            if (g_verbose) printf("skip %s/%s %s (optional)\n", f->label, cname, tname);
            continue;
        }
        if (!apply_options(f, cs, &p)) break;
        size_t ref_n;
        float *ref = fx_tensor(f, cs, tname, shape, &nd, &ref_n);
        size_t out_n = p.pooling == WEMBED_POOLING_NONE ? (size_t)B * T * (size_t)info.n_embd : ref_n;
        float *out = calloc(out_n + 1, sizeof(float));
        wembed_status rc = wembed_embed_ids(m, ids, types, mask, B, T, &p, out, sizeof(float) * out_n);
        if (CHECKF(rc == WEMBED_STATUS_OK, "%s/%s %s: %s", f->label, cname, tname, wembed_model_last_error(m))) {
            if (p.pooling == WEMBED_POOLING_NONE) {
                // out holds the tokens of each row back to back (mask 1 only); ref is (B, T, E).
                int E = (int)shape[2];
                double md = 0;
                size_t k = 0;
                for (int32_t b = 0; b < B; b++)
                    for (int32_t t = 0; t < T; t++) {
                        if (mask && !mask[(size_t)b * T + t]) continue;
                        double d = we_max_abs_diff(out + k * E, ref + ((size_t)b * T + t) * E, (size_t)E);
                        md = d > md || d != d ? d : md;
                        k++;
                    }
                CHECKF(md <= 1e-4, "%s/%s %s: max |diff| %.3g > 1e-4", f->label, cname, tname, md);
                if (g_verbose) printf("%s/%s %s: max |diff| %.3g\n", f->label, cname, tname, md);
            } else {
                int D = (int)(ref_n / (size_t)B);
                double md = we_max_abs_diff(out, ref, ref_n), mc = 1;
                for (int32_t b = 0; b < B; b++) mc = fmin(mc, we_cosine(out + (size_t)b * D, ref + (size_t)b * D, (size_t)D));
                f->min_cos = fmin(f->min_cos, mc);
                if (quantized) {
                    CHECKF(mc >= min_cos_for(f->dtype), "%s/%s %s [dtype %d]: min cosine %.7f", f->label, cname, tname,
                           (int)f->dtype, mc);
                } else CHECKF(md <= 1e-4 && mc >= 0.99999, "%s/%s %s: max |diff| %.3g, min cosine %.7f", f->label, cname, tname, md, mc);
                if (g_verbose) printf("%s/%s %s: max |diff| %.3g, min cosine %.8f\n", f->label, cname, tname, md, mc);
            }
        }
        free(out);
        free(ref);
    }
    free(ids);
    free(mask);
    free(types);
}

static void run_fixture(const char *dir, bool quantized) {
    fixture f = { dir, dir, {0}, NULL, WEMBED_DTYPE_F32, 1.0 };
    we_arena_init(&f.arena, 0);
    size_t n;
    char *text = fx_read(&f, "manifest.json", &n);
    we_err err;
    if (!CHECKF(text && we_json_parse(&f.arena, text, n, NULL, &f.manifest, &err) == WEMBED_STATUS_OK, "%s: no manifest", dir)) {
        free(text);
        we_arena_free(&f.arena);
        return;
    }
    wembed_model *m = fx_load(&f, WEMBED_DTYPE_F32);
    const we_json *cases = we_json_get(f.manifest, "cases");
    for (uint32_t i = 0; m && cases && i < cases->len; i++) run_case(&f, m, we_json_at(cases, i));
    wembed_model_free(m);
    static const wembed_dtype quant[] = { WEMBED_DTYPE_Q8, WEMBED_DTYPE_Q4 };
    for (size_t q = 0; quantized && q < WE_ARRAY_LEN(quant); q++) {
        fixture fq = f;
        char label[300];
        snprintf(label, sizeof label, "%s[%s]", dir, quant[q] == WEMBED_DTYPE_Q8 ? "q8" : "q4");
        fq.label = label;
        fq.dtype = quant[q];
        fq.min_cos = 1.0;
        m = fx_load(&f, quant[q]);
        for (uint32_t i = 0; m && cases && i < cases->len; i++) run_case(&fq, m, we_json_at(cases, i));
        wembed_model_free(m);
        printf("%-24s lowest row cosine to the f32 reference %.6f\n", label, fq.min_cos);
    }
    // The same weights as GGUF files (own fixtures list them under "gguf"): every case again.
    const we_json *ggufs = we_json_get(f.manifest, "gguf");
    for (uint32_t g = 0; ggufs && g < ggufs->len; g++) {
        const char *name = we_json_as_str(we_json_at(ggufs, g), NULL);
        if (!CHECKF(name != NULL, "%s: \"gguf\" must list file names", dir)) continue;
        char label[300];
        snprintf(label, sizeof label, "%s[%s]", dir, name);
        fixture fg = f;
        m = fx_load_gguf(&f, name);
        fg.label = label;
        for (uint32_t i = 0; m && cases && i < cases->len; i++) run_case(&fg, m, we_json_at(cases, i));
        wembed_model_free(m);
    }
    free(text);
    we_arena_free(&f.arena);
}

int main(int argc, char **argv) {
    int named = 0;
    bool except = argc > 1 && strcmp(argv[1], "-x") == 0;
    for (int i = except ? 2 : 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) g_verbose = true;
        else if (!except) named++, run_fixture(argv[i], false);
    }
    for (size_t i = 0; !named && g_fixtures[i]; i++) {
        bool skip = false, quantized = false;
        for (int k = 2; except && k < argc; k++) skip = skip || strcmp(argv[k], g_fixtures[i]) == 0;
        for (size_t k = 0; g_quantized[k]; k++) quantized = quantized || strcmp(g_quantized[k], g_fixtures[i]) == 0;
        if (!skip) run_fixture(g_fixtures[i], quantized);
    }
    // The decoders' MLP in runs of 7 rows (256 in use: the fixtures are shorter): several runs
    // and a ragged last one, against the same references.
    static const char *const decoders[] = { "qwen3_embed", "qwen3_own", "qwen3_long", "embeddinggemma", "gemma_own", "gemma_long" };
    we_decoder_mlp_rows = 7;
    for (size_t i = 0; i < WE_ARRAY_LEN(decoders); i++) {
        bool run = !named;   // all of them, or those named, less those excluded
        for (int k = except ? 2 : 1; k < argc; k++)
            if (strcmp(argv[k], decoders[i]) == 0) run = !except;
        if (!run) continue;
        if (g_verbose) printf("MLP in runs of 7 rows: %s\n", decoders[i]);
        run_fixture(decoders[i], false);
    }
    we_decoder_mlp_rows = 256;
    return we_test_finish("test-families");
}
