// registry.c - which family reads which model_type (config.json) or general.architecture
// (GGUF), and the small helpers the families' config readers share.
#include <inttypes.h>
#include <string.h>

#include "../formats/gguf.h"
#include "arch.h"

static const struct {
    const char *model_type;
    const we_family *family;
} g_model_types[] = {
    {"bert", &we_family_bert},
    {"roberta", &we_family_bert},
    {"xlm-roberta", &we_family_bert},
    {"nomic_bert", &we_family_nomic_bert},
    {"clip", &we_family_clip},
    {"clip_text_model", &we_family_clip},
    {"clip_vision_model", &we_family_clip},
};

const we_family *we_family_for_model_type(const char *model_type) {
    if (!model_type) return NULL;
    for (size_t i = 0; i < WE_ARRAY_LEN(g_model_types); i++)
        if (strcmp(g_model_types[i].model_type, model_type) == 0) return g_model_types[i].family;
    return NULL;
}

const we_family *we_family_for_gguf_arch(const char *arch) {
    static const we_family *const families[] = {&we_family_bert, &we_family_nomic_bert, &we_family_clip};
    if (!arch) return NULL;
    for (size_t i = 0; i < WE_ARRAY_LEN(families); i++)
        for (const char *const *a = families[i]->gguf_archs; *a; a++)
            if (strcmp(*a, arch) == 0) return families[i];
    return NULL;
}

const char *we_supported_model_types(void) {
    return "bert, roberta, xlm-roberta, nomic_bert, clip (also clip_text_model, clip_vision_model)";
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

wembed_status we_cfg_bool(const we_json *cfg, const char *key, bool def, bool *out, we_err *err) {
    const we_json *v = we_json_get(cfg, key);
    *out = def;
    if (v && v->type != WE_JSON_NULL && !we_json_as_bool(v, out))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "config.json: \"%s\" must be true or false", key);
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
    else
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: %s \"%.40s\" is not supported (gelu, quick_gelu, silu)", key, s);
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

int64_t we_gguf_rows(const struct we_gguf *g, const char *name, int64_t def) {
    const we_gguf_tensor *t = we_gguf_find_tensor(g, name);
    return t ? t->ne[t->n_dims - 1] : def;
}
