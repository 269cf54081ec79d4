// st_modules.c - the sentence-transformers files of a model folder, as
// sentence-transformers' SentenceTransformer applies them after the Transformer module:
// modules.json (which modules follow, and whether Normalize is one), the Pooling module's
// config.json (pooling_mode_* flags), the Dense modules' config.json (their weights stream
// through the loader like any weights file) and sentence_bert_config.json (max_seq_length).
// Without them the family's defaults hold (we_text_spec.pooling, normalized, no Dense).
//
// Dense (sentence_transformers/models/Dense.py): config.json holds in_features,
// out_features, bias (the constructor's default: true) and activation_function, the full
// name of a torch module that Dense.load imports and instantiates (no default there: a
// config without it fails to load). forward: act(linear(x)). wembed implements Identity and
// Tanh and refuses the others.
#include <stdio.h>
#include <string.h>

#include "formats/json.h"
#include "model.h"

wembed_status we_st_read_modules(wembed_model *m, we_err *err) {
    if (!m->pooling_from_files) m->pooling = m->arch.text.hidden ? m->arch.text.pooling : WEMBED_POOLING_CLS;
    const we_json *mods, *pool, *st;
    wembed_status rc = we_model_json(m, "modules.json", &mods, err);
    if (rc) return rc;
    char pool_path[300] = "1_Pooling/config.json";
    if (mods) {
        if (!we_json_is(mods, WE_JSON_ARRAY)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "modules.json: not a JSON array");
        m->normalize = false;
        for (uint32_t i = 0; i < mods->len; i++) {
            const we_json *mod = &mods->u.items[i];
            const char *type = we_json_as_str(we_json_get(mod, "type"), NULL);
            const char *path = we_json_as_str(we_json_get(mod, "path"), NULL);
            if (!type) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "modules.json: module %u has no \"type\"", i);
            if (we_ends_with(type, ".Normalize")) m->normalize = true;
            else if (we_ends_with(type, ".Pooling") && path && strlen(path) < 200)
                snprintf(pool_path, sizeof pool_path, "%s%sconfig.json", path, path[0] ? "/" : "");
            else if (!we_ends_with(type, ".Transformer") && !we_ends_with(type, ".Pooling") && !we_ends_with(type, ".Dense"))
                we_model_warn(m, "modules.json: module %s (%s) is not applied by wembed", path ? path : "?", type);
        }
    }
    rc = we_model_json(m, pool_path, &pool, err);
    if (rc) return rc;
    if (pool) {
        static const struct { const char *key; wembed_pooling p; } modes[] = {
            {"pooling_mode_cls_token", WEMBED_POOLING_CLS},
            {"pooling_mode_mean_tokens", WEMBED_POOLING_MEAN},
            {"pooling_mode_max_tokens", WEMBED_POOLING_MAX},
            {"pooling_mode_mean_sqrt_len_tokens", WEMBED_POOLING_MEAN_SQRT_LEN},
            {"pooling_mode_weightedmean_tokens", WEMBED_POOLING_WEIGHTED_MEAN},
            {"pooling_mode_lasttoken", WEMBED_POOLING_LAST},
        };
        int n_on = 0;
        for (size_t i = 0; i < WE_ARRAY_LEN(modes); i++) {
            bool on = false;
            const we_json *v = we_json_get(pool, modes[i].key);
            if (v && !we_json_as_bool(v, &on))
                return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: \"%s\" must be true or false", pool_path, modes[i].key);
            if (on && n_on++ == 0) m->pooling = modes[i].p;
        }
        if (n_on > 1)
            we_model_warn(m, "%s: %d pooling modes are on (sentence-transformers concatenates them); wembed uses the first", pool_path, n_on);
        if (n_on) m->pooling_from_files = true;
    }
    rc = we_model_json(m, "sentence_bert_config.json", &st, err);
    if (rc) return rc;
    int64_t msl;
    if (st && we_json_as_int(we_json_get(st, "max_seq_length"), &msl) && msl > 0 && msl < INT32_MAX) m->max_seq_length = (int32_t)msl;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Dense modules

static wembed_status read_dense_config(wembed_model *m, we_st_dense *d, const char *cfg_name, we_err *err) {
    const we_json *cfg;
    wembed_status rc = we_model_json(m, cfg_name, &cfg, err);
    if (rc) return rc;
    if (!cfg)
        return we_errorf(err, WEMBED_STATUS_MISSING_FILE, "%s (the Dense module %s of modules.json) was not given", cfg_name, d->path);
    if (!we_json_is(cfg, WE_JSON_OBJECT)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: not a JSON object", cfg_name);
    static const char *const dims[] = {"in_features", "out_features"};
    for (int i = 0; i < 2; i++) {
        int64_t v;
        if (!we_json_as_int(we_json_get(cfg, dims[i]), &v) || v < 1 || v > (1 << 20))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: \"%s\" must be an integer in [1, %d]", cfg_name, dims[i], 1 << 20);
        *(i ? &d->out : &d->in) = (int32_t)v;
    }
    const we_json *bias = we_json_get(cfg, "bias");
    d->bias = true;   // Dense.__init__'s default
    if (bias && bias->type != WE_JSON_NULL && !we_json_as_bool(bias, &d->bias))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: \"bias\" must be true or false", cfg_name);
    const char *act = we_json_as_str(we_json_get(cfg, "activation_function"), NULL);
    if (!act) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: no \"activation_function\" string", cfg_name);
    if (strcmp(act, "torch.nn.modules.linear.Identity") == 0) d->act = WE_DENSE_IDENTITY;
    else if (strcmp(act, "torch.nn.modules.activation.Tanh") == 0) d->act = WE_DENSE_TANH;
    else
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "%s: activation_function \"%.60s\" is not supported "
                         "(torch.nn.modules.linear.Identity, torch.nn.modules.activation.Tanh)", cfg_name, act);
    return WEMBED_STATUS_OK;
}

wembed_status we_st_read_dense(wembed_model *m, we_err *err) {
    if (m->dense_read) return WEMBED_STATUS_OK;
    const we_json *mods;
    wembed_status rc = we_model_json(m, "modules.json", &mods, err);
    if (rc) return rc;
    uint32_t n = 0;
    if (mods) {
        if (!we_json_is(mods, WE_JSON_ARRAY)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "modules.json: not a JSON array");
        for (uint32_t i = 0; i < mods->len; i++) {
            const char *type = we_json_as_str(we_json_get(&mods->u.items[i], "type"), NULL);
            if (type && we_ends_with(type, ".Dense")) n++;
        }
    }
    we_st_dense *ds = n ? we_arena_calloc(&m->arena, n, sizeof *ds, _Alignof(we_st_dense)) : NULL;
    if (n && !ds) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    uint32_t k = 0;
    bool normalized = false;
    for (uint32_t i = 0; mods && i < mods->len; i++) {
        const we_json *mod = &mods->u.items[i];
        const char *type = we_json_as_str(we_json_get(mod, "type"), NULL);
        if (!type) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "modules.json: module %u has no \"type\"", i);
        if (we_ends_with(type, ".Normalize")) normalized = true;
        if (!we_ends_with(type, ".Dense")) continue;
        size_t plen;
        const char *path = we_json_as_str(we_json_get(mod, "path"), &plen);
        if (!path || plen == 0 || plen > 200 || memchr(path, 0, plen))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "modules.json: Dense module %u needs a \"path\" (its folder)", i);
        if (normalized)
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "modules.json: a Dense module (%s) after Normalize is not supported", path);
        we_st_dense *d = &ds[k++];
        d->path = we_arena_strndup(&m->arena, path, plen);
        if (!d->path) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
        char cfg_name[256];
        snprintf(cfg_name, sizeof cfg_name, "%s/config.json", path);
        if ((rc = read_dense_config(m, d, cfg_name, err))) return rc;
    }
    m->dense = ds;
    m->n_dense = n;
    m->dense_read = true;
    return WEMBED_STATUS_OK;
}

wembed_status we_st_finish_dense(wembed_model *m, we_err *err) {
    we_text_spec *t = &m->arch.text;
    if (m->n_dense == 0) return WEMBED_STATUS_OK;
    if (t->hidden <= 0) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "Dense module %s: the model has no text encoder", m->dense[0].path);
    int32_t width = t->pooled;
    for (uint32_t i = 0; i < m->n_dense; i++) {
        const we_st_dense *d = &m->dense[i];
        if (d->in != width)
            return we_errorf(err, WEMBED_STATUS_SHAPE_MISMATCH, "Dense module %s takes %d features, but %s gives %d", d->path, d->in,
                             i ? m->dense[i - 1].path : "the pooling", width);
        width = d->out;
    }
    t->pooled = width;
    return WEMBED_STATUS_OK;
}
