// model.c - the model container (struct wembed_model, model.h) and its queries:
// wembed_model_free, wembed_model_get_info, wembed_config_parts, the small files and warnings
// it keeps.
//
// Not: loading (loader.c), the sentence-transformers modules (st_modules.c), inference.
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "formats/json.h"

void we_model_warn(wembed_model *m, const char *fmt, ...) {
    char line[WE_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = m->warnings ? strlen(m->warnings) : 0, k = strlen(line);
    char *w = we_realloc(m->warnings, old + k + 2);
    if (!w) return;
    if (old) w[old++] = '\n';
    memcpy(w + old, line, k + 1);
    m->warnings = w;
}
// -----------------------------------------------------------------------------------------
// The model

wembed_model *we_model_new(wembed_model_params params) {
    wembed_model *m = we_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->params = params;
    we_arena_init(&m->arena, 0);
    we_arena_init(&m->weights, (size_t)1 << 20);
    m->normalize = true;
    return m;
}

// Frees everything the model holds but the struct and its error.
void we_model_clear(wembed_model *m) {
    for (uint32_t i = 0; i < m->n_files; i++) {
        we_free((void *)m->files[i].name);
        we_free((void *)m->files[i].data);
    }
    we_free(m->files);
    m->files = NULL;
    m->n_files = 0;
    we_free(m->tensors);
    m->tensors = NULL;
    we_free(m->warnings);
    m->warnings = NULL;
    we_arena_free(&m->arena);
    we_arena_free(&m->weights);
    memset(&m->arch, 0, sizeof m->arch);
}

void wembed_model_free(wembed_model *m) {
    if (!m) return;
    if (m->owns_pool) wembed_pool_free(m->pool);
    wembed_tokenizer_free(m->tokenizer);
    we_model_clear(m);
    we_free(m);
}

const uint8_t *we_model_file_data(const wembed_model *m, const char *name, size_t *n) {
    for (uint32_t i = 0; i < m->n_files; i++)
        if (strcmp(m->files[i].name, name) == 0) {
            if (n) *n = m->files[i].size;
            return m->files[i].data;
        }
    return NULL;
}

const we_gguf_vocab *we_model_gguf_vocab(const wembed_model *m) { return m->has_vocab ? &m->vocab : NULL; }
wembed_status we_model_json(wembed_model *m, const char *name, const we_json **out, we_err *err) {
    size_t n;
    const uint8_t *d = we_model_file_data(m, name, &n);
    *out = NULL;
    if (!d) return WEMBED_STATUS_OK;
    wembed_status rc = we_json_parse(&m->arena, (const char *)d, n, NULL, out, err);
    if (rc) we_err_prefix(err, "%s", name);
    return rc;
}

int wembed_config_parts(const char *config_json, size_t n) {
    if (!config_json) return 0;
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *root;
    we_err err;
    int parts = 0;
    if (we_json_parse(&a, config_json, n, NULL, &root, &err) == WEMBED_STATUS_OK && we_json_is(root, WE_JSON_OBJECT)) {
        const we_family *fam = we_family_for_config(root);
        if (fam) parts = fam->parts ? (int)fam->parts(root) : WEMBED_PART_TEXT;
    }
    we_arena_free(&a);
    return parts;
}

const char *wembed_model_last_error(const wembed_model *m) { return m ? m->err.msg : "no model"; }

const char *wembed_model_warnings(const wembed_model *m) { return m && m->warnings ? m->warnings : ""; }

wembed_status wembed_model_get_info(const wembed_model *m, wembed_model_info *out) {
    if (!m || !out || m->failed) return WEMBED_STATUS_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    const we_arch_model *a = &m->arch;
    out->architecture = a->family->name;
    out->model_type = a->model_type;
    out->format = m->format;
    out->dtype = m->params.dtype;
    const we_text_spec *t = &a->text;
    const we_vision_spec *v = &a->vision;
    out->has_text = t->hidden > 0;
    out->has_vision = v->hidden > 0;
    if (out->has_vision) {
        out->vision_n_embd = v->hidden; out->vision_n_layer = v->n_layer; out->vision_n_head = v->n_head;
        out->image_size = v->image_size; out->patch_size = v->patch_size;
        out->image_tokens = v->n_tokens;
    }
    if (out->has_text) {
        out->n_embd = t->hidden; out->n_layer = t->n_layer; out->n_head = t->n_head; out->n_ff = t->n_ff;
        out->n_vocab = t->n_vocab; out->n_ctx = t->n_ctx; out->n_out = t->pooled;
    } else {
        out->n_embd = v->hidden; out->n_layer = v->n_layer; out->n_head = v->n_head; out->n_ff = v->n_ff;
        out->n_out = v->pooled;
    }
    out->n_params = m->n_params;
    out->weight_bytes = m->weight_bytes;
    out->pooling = m->pooling;
    out->normalize = m->normalize;
    out->max_seq_length = m->max_seq_length;
    out->hparams = m->hparams;
    static const char *const ext_names[] = { "", "self-extend", "native", "chunk" };
    out->n_trained = out->has_text ? we_text_trained(t) : 0;
    out->extension = out->has_text ? ext_names[we_text_extension(t)] : "";
    out->n_labels = t->head.n_labels;
    out->sigmoid = t->head.sigmoid;
    return WEMBED_STATUS_OK;
}
