// st_modules.c - the sentence-transformers files of a model folder, as
// sentence-transformers' SentenceTransformer applies them after the Transformer module:
// modules.json (which modules follow, and whether Normalize is one), the Pooling module's
// config.json (pooling_mode_* flags) and sentence_bert_config.json (max_seq_length). Without
// them the family's defaults hold (we_text_spec.pooling, normalized).
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
            else if (!we_ends_with(type, ".Transformer") && !we_ends_with(type, ".Pooling"))
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
