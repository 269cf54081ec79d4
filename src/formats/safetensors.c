// safetensors.c - header validation for .safetensors files (see safetensors.h).
#include "safetensors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wembed_status we_st_read_len(const uint8_t prefix[8], uint64_t file_size, uint64_t *header_len, we_err *err) {
    if (file_size < 8)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                         "safetensors: the file has %" PRIu64 " bytes, too short for the 8-byte header length", file_size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | prefix[i];
    *header_len = n;
    if (n > WE_ST_MAX_HEADER)
        return we_errorf(err, WEMBED_STATUS_LIMIT,
                         "safetensors: header length %" PRIu64 " is over the limit of %" PRIu64 " bytes (a corrupt or non-safetensors file?)",
                         n, WE_ST_MAX_HEADER);
    if (n > file_size - 8)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                         "safetensors: header length %" PRIu64 " runs past the end of the file (%" PRIu64 " bytes after the length)",
                         n, file_size - 8);
    if (n < 2)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: header length %" PRIu64 " is too short for a JSON object", n);
    return WEMBED_STATUS_OK;
}

static const struct { const char *name; we_dtype t; } g_st_dtypes[] = {
    {"F32", WE_DTYPE_F32}, {"F16", WE_DTYPE_F16}, {"BF16", WE_DTYPE_BF16}, {"F64", WE_DTYPE_F64},
    {"F8_E4M3", WE_DTYPE_F8_E4M3}, {"F8_E5M2", WE_DTYPE_F8_E5M2}, {"BOOL", WE_DTYPE_BOOL},
    {"U8", WE_DTYPE_U8}, {"I8", WE_DTYPE_I8}, {"U16", WE_DTYPE_U16}, {"I16", WE_DTYPE_I16},
    {"U32", WE_DTYPE_U32}, {"I32", WE_DTYPE_I32}, {"U64", WE_DTYPE_U64}, {"I64", WE_DTYPE_I64},
};

static int cmp_offsets(const void *a, const void *b) {
    const we_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

// Shape "[64, 128]" for messages.
static void shape_str(const we_st_tensor *t, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->n_dims && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, i ? ", " : "", t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static wembed_status parse_tensor(const we_json_member *m, we_st_tensor *t, we_err *err) {
    const char *name = m->key;
    t->name = m->key;
    t->name_len = m->key_len;
    if (!we_json_is(&m->value, WE_JSON_OBJECT))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": the header entry is not an object", name);
    const we_json *dtype = we_json_get(&m->value, "dtype");
    const we_json *shape = we_json_get(&m->value, "shape");
    const we_json *offs = we_json_get(&m->value, "data_offsets");
    if (!we_json_is(dtype, WE_JSON_STRING))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": missing or non-string \"dtype\"", name);
    if (!we_json_is(shape, WE_JSON_ARRAY))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": missing or non-array \"shape\"", name);
    if (!we_json_is(offs, WE_JSON_ARRAY) || offs->len != 2)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": \"data_offsets\" must be [begin, end]", name);

    bool found = false;
    for (size_t i = 0; i < WE_ARRAY_LEN(g_st_dtypes); i++)
        if (we_json_str_eq(dtype, g_st_dtypes[i].name)) { t->dtype = g_st_dtypes[i].t; found = true; break; }
    if (!found)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "safetensors: tensor \"%s\": unknown dtype \"%.32s\"", name, dtype->u.str);

    if (shape->len > WE_ST_MAX_DIMS)
        return we_errorf(err, WEMBED_STATUS_LIMIT, "safetensors: tensor \"%s\": %u dimensions (at most %d)", name, shape->len, WE_ST_MAX_DIMS);
    t->n_dims = (int32_t)shape->len;
    uint64_t n = 1;
    bool overflow = false;
    for (uint32_t i = 0; i < shape->len; i++) {
        int64_t d;
        if (!we_json_as_int(&shape->u.items[i], &d) || d < 0)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": shape entry %u is not a non-negative integer", name, i);
        t->shape[i] = d;
        if (d != 0 && n > UINT64_MAX / (uint64_t)d) overflow = true;
        else n *= (uint64_t)d;
    }
    uint64_t nbytes = 0;
    if (overflow || !we_dtype_nbytes(t->dtype, n, &nbytes))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": the shape's size overflows", name);
    t->n_elems = n;

    int64_t b, e;
    if (!we_json_as_int(&offs->u.items[0], &b) || !we_json_as_int(&offs->u.items[1], &e) || b < 0 || e < 0)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": data_offsets are not non-negative integers", name);
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    if (t->end < t->begin)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 ") end before they begin",
                         name, t->begin, t->end);
    if (t->end - t->begin != nbytes) {
        char s[128];
        shape_str(t, s, sizeof s);
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                         "safetensors: tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 ") hold %" PRIu64 " bytes, but %s %s needs %" PRIu64,
                         name, t->begin, t->end, t->end - t->begin, we_dtype_info(t->dtype)->name, s, nbytes);
    }
    return WEMBED_STATUS_OK;
}

wembed_status we_st_parse_header(we_arena *a, const char *json, uint64_t header_len, uint64_t file_size,
                                 we_st_header *out, we_err *err) {
    memset(out, 0, sizeof *out);
    if (header_len > WE_ST_MAX_HEADER || file_size < 8 || header_len > file_size - 8)
        return we_errorf(err, WEMBED_STATUS_INTERNAL, "safetensors: header length not checked");
    out->header_len = header_len;
    out->data_start = 8 + header_len;
    out->data_len = file_size - out->data_start;
    if (header_len == 0 || json[0] != '{')
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: the header does not start with '{' (not a safetensors file?)");

    we_json_limits lim = we_json_default_limits();
    lim.max_bytes = (size_t)header_len;
    lim.max_depth = 8;
    const we_json *root;
    wembed_status rc = we_json_parse(a, json, (size_t)header_len, &lim, &root, err);
    if (rc) {
        we_err_prefix(err, "safetensors header");
        return rc;
    }
    if (!we_json_is(root, WE_JSON_OBJECT))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: the header is not a JSON object");

    uint32_t n = 0;
    for (uint32_t i = 0; i < root->len; i++)
        if (strcmp(root->u.members[i].key, "__metadata__") != 0) n++;
    we_st_tensor *ts = n ? we_arena_calloc(a, n, sizeof *ts, _Alignof(we_st_tensor)) : NULL;
    if (n && !ts) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "safetensors: out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < root->len; i++) {
        const we_json_member *m = &root->u.members[i];
        if (strcmp(m->key, "__metadata__") == 0) {
            if (!we_json_is(&m->value, WE_JSON_OBJECT))
                return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: \"__metadata__\" is not an object");
            for (uint32_t j = 0; j < m->value.len; j++)
                if (!we_json_is(&m->value.u.members[j].value, WE_JSON_STRING))
                    return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: \"__metadata__\" value \"%s\" is not a string",
                                     m->value.u.members[j].key);
            out->metadata = &m->value;
            continue;
        }
        if (m->key_len != strlen(m->key))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "safetensors: a tensor name contains a NUL character");
        rc = parse_tensor(m, &ts[k++], err);
        if (rc) return rc;
    }

    // The tensors must tile the data section: sorted by offset, each begins where the
    // previous ended, the first at 0, the last at the end.
    if (n) qsort(ts, n, sizeof *ts, cmp_offsets);
    // Overlaps first; then anything past the end: a truncated file if the tensors are
    // contiguous, else offsets out of range; then holes; then bytes after the last tensor.
    uint64_t pos = 0;
    bool contiguous = true;
    for (uint32_t i = 0; i < n; i++) {
        const we_st_tensor *t = &ts[i];
        if (t->begin < pos)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                             "safetensors: tensors \"%s\" [%" PRIu64 ", %" PRIu64 ") and \"%s\" [%" PRIu64 ", %" PRIu64 ") overlap",
                             ts[i - 1].name, ts[i - 1].begin, ts[i - 1].end, t->name, t->begin, t->end);
        if (t->begin > pos) contiguous = false;
        pos = t->end;
    }
    if (pos > out->data_len) {
        if (contiguous)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                             "safetensors: the file is truncated: its header describes %" PRIu64 " bytes of tensor data, but only %" PRIu64 " follow the header",
                             pos, out->data_len);
        for (uint32_t i = 0; i < n; i++)
            if (ts[i].end > out->data_len)
                return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                                 "safetensors: tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 ") are out of range (the data section has %" PRIu64 " bytes)",
                                 ts[i].name, ts[i].begin, ts[i].end, out->data_len);
    }
    pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (ts[i].begin > pos)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                             "safetensors: %" PRIu64 " bytes at offset %" PRIu64 " belong to no tensor (before \"%s\"): tensors must be contiguous",
                             ts[i].begin - pos, pos, ts[i].name);
        pos = ts[i].end;
    }
    if (pos < out->data_len)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT,
                         "safetensors: %" PRIu64 " bytes after the last tensor belong to no tensor", out->data_len - pos);
    out->n_tensors = n;
    out->tensors = ts;
    return WEMBED_STATUS_OK;
}

const we_st_tensor *we_st_find(const we_st_header *h, const char *name) {
    for (uint32_t i = 0; i < h->n_tensors; i++)
        if (strcmp(h->tensors[i].name, name) == 0) return &h->tensors[i];
    return NULL;
}
