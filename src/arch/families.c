// families.c - the list of families (one line each), which family reads a config.json or a
// GGUF general.architecture, and the small helpers the families share.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../formats/gguf.h"
#include "arch.h"

// The families, one line each. Families with a claims hook are asked first, then by model_type
// in this order.
#define WE_FAMILIES(X) \
    X(bert)            \
    X(nomic_bert)      \
    X(clip)            \
    X(gte)             \
    X(mpnet)           \
    X(jina_bert_v2)    \
    X(modernbert)      \
    X(qwen3)           \
    X(gemma3)          \
    X(siglip)          \
    X(nomic_vision)    \
    X(deberta_v2)

#define DECLARE(name) extern const we_family we_family_##name;
#define ADDRESS(name) &we_family_##name,
WE_FAMILIES(DECLARE)
static const we_family *const g_families[] = { WE_FAMILIES(ADDRESS) };

const we_family *we_family_for_config(const we_json *cfg) {
    for (size_t i = 0; i < WE_ARRAY_LEN(g_families); i++)
        if (g_families[i]->claims && g_families[i]->claims(cfg)) return g_families[i];
    const char *mt = we_json_as_str(we_json_get(cfg, "model_type"), NULL);
    if (!mt) return NULL;
    for (size_t i = 0; i < WE_ARRAY_LEN(g_families); i++)
        for (const char *const *t = g_families[i]->model_types; t && *t; t++)
            if (strcmp(*t, mt) == 0) return g_families[i];
    return NULL;
}

const we_family *we_family_for_gguf_arch(const char *arch) {
    if (!arch) return NULL;
    for (size_t i = 0; i < WE_ARRAY_LEN(g_families); i++)
        for (const char *const *a = g_families[i]->gguf_archs; a && *a; a++)
            if (strcmp(*a, arch) == 0) return g_families[i];
    return NULL;
}

// "a, b, c" of every family's names (model_types or gguf_archs), built once.
static const char *join_names(char *buf, size_t cap, bool gguf) {
    if (buf[0]) return buf;
    size_t n = 0;
    for (size_t i = 0; i < WE_ARRAY_LEN(g_families); i++)
        for (const char *const *t = gguf ? g_families[i]->gguf_archs : g_families[i]->model_types; t && *t; t++) {
            int k = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", *t);
            if (k < 0 || (size_t)k >= cap - n) return buf;
            n += (size_t)k;
        }
    return buf;
}

const char *we_supported_model_types(void) {
    static char buf[1024];
    return join_names(buf, sizeof buf, false);
}

const char *we_supported_gguf_archs(void) {
    static char buf[512];
    return join_names(buf, sizeof buf, true);
}

we_weight *we_slot_simple(we_arch_model *ma, const we_wentry *e, int il) {
    char *base = e->per_layer ? *(char **)ma->w + (size_t)il * ma->family->layer_size : (char *)ma->w;
    return (we_weight *)(base + e->offset);
}

wembed_status we_alloc_layers(we_arch_model *ma, we_arena *a, int32_t n_layer, we_err *err) {
    void *layers = we_arena_calloc(a, (size_t)n_layer, ma->family->layer_size, 16);
    if (!layers) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    *(void **)ma->w = layers;
    return WEMBED_STATUS_OK;
}

int64_t we_text_hp_dim(const we_arch_model *ma, int sym, int group) {
    (void)group;
    const we_text_hp *hp = ma->hp;   // the first member of the family's struct
    switch (sym) {
    case WE_D_EMBD: return hp->n_embd;
    case WE_D_FF: return hp->n_ff;
    case WE_D_VOCAB: return hp->n_vocab;
    case WE_D_QKV: return 3 * (int64_t)hp->n_embd;
    }
    return -1;
}

int32_t we_text_hp_n_layer(const we_arch_model *ma, int group) {
    (void)group;
    return ((const we_text_hp *)ma->hp)->n_layer;
}

wembed_status we_text_hp_alloc(we_arch_model *ma, we_arena *a, we_err *err) {
    return we_alloc_layers(ma, a, ((const we_text_hp *)ma->hp)->n_layer, err);
}

void we_text_hp_spec(const we_text_hp *hp, we_text_spec *t) {
    t->hidden = t->pooled = hp->n_embd;
    t->n_layer = hp->n_layer; t->n_head = hp->n_head; t->n_ff = hp->n_ff; t->n_vocab = hp->n_vocab;
    t->n_ctx = hp->n_ctx;
}

wembed_status we_alloc_towers(we_arch_model *ma, we_arena *a, we_err *err) {
    for (int g = 1; g <= 2; g++) {
        int32_t n = ma->family->n_layer(ma, g);
        if (n <= 0) continue;
        void *layers = we_arena_calloc(a, (size_t)n, ma->family->layer_size, 16);
        if (!layers) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
        *(void **)((char *)ma->w + ma->family->tower_layers[g - 1]) = layers;
    }
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_towers(const we_json *cfg, const we_json **tc, const we_json **vc, we_err *err) {
    *tc = we_json_get(cfg, "text_config");
    *vc = we_json_get(cfg, "vision_config");
    if (*tc && (*tc)->type != WE_JSON_NULL && (*tc)->type != WE_JSON_OBJECT)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: text_config must be an object");
    if (*vc && (*vc)->type != WE_JSON_NULL && (*vc)->type != WE_JSON_OBJECT)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: vision_config must be an object");
    return WEMBED_STATUS_OK;
}

unsigned we_tower_parts(const we_json *cfg, const char *text_type, const char *vision_type) {
    const char *mt = we_json_as_str(we_json_get(cfg, "model_type"), NULL);
    if (mt && strcmp(mt, text_type) == 0) return WEMBED_PART_TEXT;
    if (mt && strcmp(mt, vision_type) == 0) return WEMBED_PART_VISION;
    return WEMBED_PART_TEXT | WEMBED_PART_VISION;
}

wembed_status we_towers_present(const we_arch_model *ma, const bool *group_present, bool *has_text, bool *has_vision, we_err *err) {
    *has_text = group_present[1];
    *has_vision = group_present[2];
    if (!*has_text && !*has_vision)
        return we_errorf(err, WEMBED_STATUS_MISSING_TENSOR,
                         "%s: the weights hold neither the text tower (text_model.*) nor the vision tower (vision_model.*)", ma->family->name);
    return WEMBED_STATUS_OK;
}

we_weight *we_slot_towers(we_arch_model *ma, const we_wentry *e, int il) {
    if (!e->per_layer) return (we_weight *)((char *)ma->w + e->offset);
    char *layers = *(char **)((char *)ma->w + ma->family->tower_layers[e->group == 1 ? 0 : 1]);
    return (we_weight *)(layers + (size_t)il * ma->family->layer_size + e->offset);
}

// -----------------------------------------------------------------------------------------
// Config helpers. A JSON null counts as absent (HF writes null for "use the default").

wembed_status we_cfg_int(const we_json *cfg, const char *key, int64_t def, int64_t lo, int64_t hi,
                         int32_t *out, we_err *err) {
    const we_json *v = we_json_get(cfg, key);
    int64_t x = def;
    if (v && v->type != WE_JSON_NULL && !we_json_as_int(v, &x))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" must be an integer", key);
    if (x < lo || x > hi)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                         key, x, lo, hi);
    *out = (int32_t)x;
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_float(const we_json *cfg, const char *key, double def, float *out, we_err *err) {
    const we_json *v = we_json_get(cfg, key);
    double x = def;
    if (v && v->type != WE_JSON_NULL && !we_json_as_double(v, &x))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" must be a number", key);
    if (!(x == x) || x > 3.4e38 || x < -3.4e38)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" is not a finite float", key);
    *out = (float)x;
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_pos_float(const we_json *cfg, const char *key, double def, float *out, we_err *err) {
    float x;
    wembed_status rc = we_cfg_float(cfg, key, def, &x, err);
    if (rc) return rc;
    if (!(x > 0.0f))   // also refuses a tiny value that rounds to 0 as a float
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" = %g must be a positive number", key, (double)x);
    *out = x;
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_bool(const we_json *cfg, const char *key, bool def, bool *out, we_err *err) {
    const we_json *v = we_json_get(cfg, key);
    *out = def;
    if (v && v->type != WE_JSON_NULL && !we_json_as_bool(v, out))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" must be true or false", key);
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_truthy(const we_json *cfg, const char *key, bool def, bool *out, we_err *err) {
    const we_json *v = we_json_get(cfg, key);
    double d;
    *out = def;
    if (!v || v->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (we_json_as_bool(v, out)) return WEMBED_STATUS_OK;
    if (we_json_as_str(v, NULL)) *out = v->len > 0;
    else if (we_json_as_double(v, &d)) *out = d != 0;
    else return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" must be a flag", key);
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_cls_head(const we_json *cfg, we_cls_cfg *out, we_err *err) {
    memset(out, 0, sizeof *out);
    size_t n = 0;
    const char *arch = we_json_as_str(we_json_at(we_json_get(cfg, "architectures"), 0), &n);
    static const char suffix[] = "ForSequenceClassification";
    if (!arch || n < sizeof suffix - 1 || strcmp(arch + n - (sizeof suffix - 1), suffix) != 0) return WEMBED_STATUS_OK;
    out->on = true;
    // PretrainedConfig: num_labels wins, else len(id2label), else 2.
    const we_json *id2label = we_json_get(cfg, "id2label");
    int64_t def = we_json_is(id2label, WE_JSON_OBJECT) && id2label->len > 0 ? id2label->len : 2;
    out->id2label = we_json_is(id2label, WE_JSON_OBJECT) ? id2label : NULL;
    wembed_status rc = we_cfg_int(cfg, "num_labels", def, 1, 1 << 16, &out->n_labels, err);
    if (rc) return rc;
    // sentence-transformers' CrossEncoder: its v2/v3 key, or v4's sentence_transformers.activation_fn.
    // Only an explicit Sigmoid counts: the score is the raw logit otherwise.
    const char *act = we_json_as_str(we_json_get(cfg, "sbert_ce_default_activation_function"), NULL);
    if (!act) act = we_json_as_str(we_json_get(we_json_get(cfg, "sentence_transformers"), "activation_fn"), NULL);
    out->sigmoid = act && strstr(act, "Sigmoid") != NULL;
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_act(const we_json *cfg, const char *key, const char *def, we_act *out, we_err *err) {
    const we_json *v = we_json_get(cfg, key);
    const char *s = def;
    if (v && v->type != WE_JSON_NULL) {
        s = we_json_as_str(v, NULL);
        if (!s) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" must be a string", key);
    }
    if (strcmp(s, "gelu") == 0) *out = WE_ACT_GELU;
    else if (strcmp(s, "quick_gelu") == 0) *out = WE_ACT_GELU_QUICK;
    else if (strcmp(s, "silu") == 0 || strcmp(s, "swish") == 0) *out = WE_ACT_SILU;
    else if (strcmp(s, "gelu_pytorch_tanh") == 0 || strcmp(s, "gelu_new") == 0) *out = WE_ACT_GELU_TANH;
    else
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: %s \"%.40s\" is not supported (gelu, quick_gelu, silu, gelu_pytorch_tanh)", key, s);
    return WEMBED_STATUS_OK;
}

wembed_status we_cfg_rope_scaling_none(const we_json *cfg, const char *family, we_err *err) {
    const we_json *rp = we_json_get(cfg, "rope_parameters");
    if (rp && rp->type != WE_JSON_NULL)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: %s with rope_parameters (a transformers v5 config) is not "
                         "supported: rope_theta and rope_scaling are read", family);
    const we_json *rs = we_json_get(cfg, "rope_scaling");
    if (!rs || rs->type == WE_JSON_NULL) return WEMBED_STATUS_OK;
    if (!we_json_is(rs, WE_JSON_OBJECT)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"rope_scaling\" must be an object or null");
    const we_json *type = we_json_get(rs, "rope_type");
    if (!type) type = we_json_get(rs, "type");
    const char *t = we_json_as_str(type, NULL);
    if (!t) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: rope_scaling has no \"rope_type\" string");
    if (strcmp(t, "default") != 0)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: %s rope_scaling type \"%.40s\" is not supported (default)", family, t);
    return WEMBED_STATUS_OK;
}

wembed_status we_gguf_cfg_int(const struct we_gguf *g, const char *key, int64_t def, int64_t lo, int64_t hi,
                              int32_t *out, we_err *err) {
    int64_t v = def;
    if (we_gguf_find(g, key)) {
        if (!we_gguf_get_int(g, key, &v)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s must be an integer", key);
    } else if (def < 0) {
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: metadata key %s is missing", key);
    }
    if (v < lo || v > hi)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", key, v, lo, hi);
    *out = (int32_t)v;
    return WEMBED_STATUS_OK;
}

wembed_status we_gguf_cfg_pos_float(const struct we_gguf *g, const char *key, double def, float *out, we_err *err) {
    double v = def;
    if (we_gguf_find(g, key) && !we_gguf_get_float(g, key, &v))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s must be a number", key);
    if (!(v > 0.0 && v <= 3.4e38 && (float)v > 0.0f))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s = %g must be a positive finite number", key, v);
    *out = (float)v;
    return WEMBED_STATUS_OK;
}

int64_t we_gguf_rows(const struct we_gguf *g, const char *name, int64_t def) {
    const we_gguf_tensor *t = we_gguf_find_tensor(g, name);
    return t ? t->ne[t->n_dims - 1] : def;
}
