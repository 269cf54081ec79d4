// gguf.c - the GGUF header reader (see gguf.h).
#include "gguf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

bool we_gguf_is_gguf(const uint8_t *p, size_t n) { return n >= 4 && memcmp(p, "GGUF", 4) == 0; }

// -----------------------------------------------------------------------------------------
// Cursor over the buffered prefix. A read past the buffer is "need more" while the file has
// more bytes, and "truncated" when it does not.

typedef struct cursor {
    const uint8_t *p;
    size_t n, pos;
    uint64_t file_size;
    bool short_read;              // ran past the buffer (need more, or truncated)
    we_arena *a;
    we_err *err;
} cursor;

static bool need(cursor *c, uint64_t k) {
    if (c->short_read) return false;
    if (k > (uint64_t)(c->n - c->pos)) { c->short_read = true; return false; }
    return true;
}

static bool rd_u32(cursor *c, uint32_t *v) {
    if (!need(c, 4)) return false;
    const uint8_t *p = c->p + c->pos;
    *v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    c->pos += 4;
    return true;
}

static bool rd_u64(cursor *c, uint64_t *v) {
    uint32_t lo, hi;
    if (!rd_u32(c, &lo) || !rd_u32(c, &hi)) return false;
    *v = (uint64_t)lo | ((uint64_t)hi << 32);
    return true;
}

// Bytes of the file left after the cursor: a count of items each at least `unit` bytes long
// cannot exceed this, whatever the file claims.
static uint64_t file_left(const cursor *c) { return c->file_size - (uint64_t)c->pos; }

static wembed_status rd_str(cursor *c, we_gguf_str *s, const char *what) {
    uint64_t len;
    if (!rd_u64(c, &len)) return WEMBED_STATUS_OK;
    if (len > file_left(c))
        return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s of %" PRIu64 " bytes at offset %zu runs past the end of the file",
                         what, len, c->pos - 8);
    if (!need(c, len)) return WEMBED_STATUS_OK;
    char *d = we_arena_strndup(c->a, (const char *)c->p + c->pos, (size_t)len);
    if (!d) return we_errorf(c->err, WEMBED_STATUS_ALLOC_FAILED, "GGUF: out of memory");
    s->s = d;
    s->n = len;
    c->pos += (size_t)len;
    return WEMBED_STATUS_OK;
}

static const uint8_t g_scalar_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static const char *type_str(uint32_t t) {
    static const char *names[13] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    return t < 13 ? names[t] : "?";
}

// Reads one scalar of type t into kv->v.
static void rd_scalar(cursor *c, uint32_t t, we_gguf_kv *kv) {
    const uint8_t *p = c->p + c->pos;
    uint64_t u = 0;
    for (int i = g_scalar_size[t] - 1; i >= 0; i--) u = (u << 8) | p[i];
    c->pos += g_scalar_size[t];
    switch (t) {
    case WE_GGUF_U8: case WE_GGUF_U16: case WE_GGUF_U32: case WE_GGUF_U64: kv->v.u = u; break;
    case WE_GGUF_BOOL: kv->v.u = u != 0; break;
    case WE_GGUF_I8: kv->v.i = (int8_t)u; break;
    case WE_GGUF_I16: kv->v.i = (int16_t)u; break;
    case WE_GGUF_I32: kv->v.i = (int32_t)u; break;
    case WE_GGUF_I64: kv->v.i = (int64_t)u; break;
    case WE_GGUF_F32: { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); kv->v.f = f; break; }
    case WE_GGUF_F64: { double f; memcpy(&f, &u, 8); kv->v.f = f; break; }
    default: break;
    }
}

static wembed_status rd_value(cursor *c, we_gguf_kv *kv) {
    uint32_t t = kv->type;
    if (t == WE_GGUF_STRING) return rd_str(c, &kv->v.str, "a string value");
    if (t != WE_GGUF_ARRAY) {
        if (need(c, g_scalar_size[t])) rd_scalar(c, t, kv);
        return WEMBED_STATUS_OK;
    }
    uint32_t at;
    uint64_t n;
    if (!rd_u32(c, &at) || !rd_u64(c, &n)) return WEMBED_STATUS_OK;
    if (at > WE_GGUF_F64)
        return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: key \"%s\": unknown array element type %u", kv->key, at);
    if (at == WE_GGUF_ARRAY)
        return we_errorf(c->err, WEMBED_STATUS_UNSUPPORTED, "GGUF: key \"%s\": nested arrays are not supported", kv->key);
    kv->arr_type = (we_gguf_type)at;
    kv->n = n;
    uint64_t unit = at == WE_GGUF_STRING ? 8 : g_scalar_size[at];
    if (n > file_left(c) / unit)
        return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: key \"%s\": an array of %" PRIu64 " %s cannot fit in the rest of the file",
                         kv->key, n, type_str(at));
    if (n == 0) { kv->v.arr = NULL; return WEMBED_STATUS_OK; }
    if (at == WE_GGUF_STRING) {
        // Each string takes at least its 8-byte length: if the buffered prefix cannot hold
        // them all, ask for more before allocating for a count nothing has confirmed yet.
        if (n > (uint64_t)(c->n - c->pos) / 8) { c->short_read = true; return WEMBED_STATUS_OK; }
        we_gguf_str *ss = we_arena_alloc(c->a, (size_t)n * sizeof *ss, _Alignof(we_gguf_str));
        if (!ss) return we_errorf(c->err, WEMBED_STATUS_ALLOC_FAILED, "GGUF: out of memory (an array of %" PRIu64 " strings)", n);
        for (uint64_t i = 0; i < n; i++) {
            wembed_status rc = rd_str(c, &ss[i], "a string in an array");
            if (rc || c->short_read) return rc;
        }
        kv->v.arr = ss;
        return WEMBED_STATUS_OK;
    }
    if (!need(c, n * unit)) return WEMBED_STATUS_OK;
    size_t align = unit < 8 ? unit : 8;
    uint8_t *d = we_arena_alloc(c->a, (size_t)(n * unit), align);
    if (!d) return we_errorf(c->err, WEMBED_STATUS_ALLOC_FAILED, "GGUF: out of memory (an array of %" PRIu64 " %s)", n, type_str(at));
    memcpy(d, c->p + c->pos, (size_t)(n * unit));   // little-endian hosts: native layout
    if (at == WE_GGUF_BOOL)
        for (uint64_t i = 0; i < n; i++) d[i] = d[i] != 0;
    c->pos += (size_t)(n * unit);
    kv->v.arr = d;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------

static bool ggml_type_to_dtype(uint32_t t, we_dtype *out) {
    static const struct { uint32_t code; we_dtype t; } map[] = {
        {0, WE_DTYPE_F32}, {1, WE_DTYPE_F16}, {2, WE_DTYPE_Q4_0}, {3, WE_DTYPE_Q4_1},
        {6, WE_DTYPE_Q5_0}, {7, WE_DTYPE_Q5_1}, {8, WE_DTYPE_Q8_0}, {10, WE_DTYPE_Q2_K},
        {11, WE_DTYPE_Q3_K}, {12, WE_DTYPE_Q4_K}, {13, WE_DTYPE_Q5_K}, {14, WE_DTYPE_Q6_K},
        {24, WE_DTYPE_I8}, {25, WE_DTYPE_I16}, {26, WE_DTYPE_I32}, {27, WE_DTYPE_I64},
        {28, WE_DTYPE_F64}, {30, WE_DTYPE_BF16},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(map); i++)
        if (map[i].code == t) { *out = map[i].t; return true; }
    return false;
}

const char *we_gguf_type_name(uint32_t t) {
    static const char *names[] = {
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
        "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
        "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16",
        "Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)", "TQ1_0", "TQ2_0",
    };
    return t < WE_ARRAY_LEN(names) ? names[t] : "unknown";
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_tensor_offset(const void *a, const void *b) {
    const we_gguf_tensor *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

// Refuses repeated names among n strings (sorted copy of the pointers, compared pairwise).
static wembed_status check_unique(cursor *c, const char **names, uint64_t n, const char *what) {
    if (n < 2) return WEMBED_STATUS_OK;
    const char **s = we_malloc((size_t)n * sizeof *s);
    if (!s) return we_errorf(c->err, WEMBED_STATUS_ALLOC_FAILED, "GGUF: out of memory");
    memcpy(s, names, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_str_ptr);
    wembed_status rc = WEMBED_STATUS_OK;
    for (uint64_t i = 1; i < n; i++)
        if (strcmp(s[i - 1], s[i]) == 0) {
            rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: duplicate %s \"%s\"", what, s[i]);
            break;
        }
    we_free(s);
    return rc;
}

static wembed_status parse(cursor *c, we_gguf *g) {
    if (c->n >= 4 && memcmp(c->p, "GGUF", 4) != 0)
        return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: bad magic (the file does not start with \"GGUF\")");
    if (!need(c, 24)) return WEMBED_STATUS_OK;
    if (memcmp(c->p, "GGUF", 4) != 0)
        return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: bad magic (the file does not start with \"GGUF\")");
    c->pos = 4;
    rd_u32(c, &g->version);
    if (g->version == 0x02000000u || g->version == 0x03000000u)
        return we_errorf(c->err, WEMBED_STATUS_UNSUPPORTED, "GGUF: big-endian files are not supported");
    if (g->version == 1)
        return we_errorf(c->err, WEMBED_STATUS_UNSUPPORTED, "GGUF: version 1 is not supported (convert the file again: v2 and v3 are)");
    if (g->version != 2 && g->version != 3)
        return we_errorf(c->err, WEMBED_STATUS_UNSUPPORTED, "GGUF: unknown version %u (v2 and v3 are supported)", g->version);
    rd_u64(c, &g->n_tensors);
    rd_u64(c, &g->n_kv);
    if (g->n_kv > WE_GGUF_MAX_KV)
        return we_errorf(c->err, WEMBED_STATUS_LIMIT, "GGUF: %" PRIu64 " metadata keys (at most %d)", g->n_kv, WE_GGUF_MAX_KV);
    if (g->n_tensors > WE_GGUF_MAX_TENSORS)
        return we_errorf(c->err, WEMBED_STATUS_LIMIT, "GGUF: %" PRIu64 " tensors (at most %d)", g->n_tensors, WE_GGUF_MAX_TENSORS);

    // Metadata
    g->kv = g->n_kv ? we_arena_calloc(c->a, (size_t)g->n_kv, sizeof *g->kv, _Alignof(we_gguf_kv)) : NULL;
    if (g->n_kv && !g->kv) return we_errorf(c->err, WEMBED_STATUS_ALLOC_FAILED, "GGUF: out of memory");
    const char **names = NULL;
    uint64_t n_names = WE_MAX(g->n_kv, g->n_tensors);
    if (n_names) {
        names = we_malloc((size_t)n_names * sizeof *names);
        if (!names) return we_errorf(c->err, WEMBED_STATUS_ALLOC_FAILED, "GGUF: out of memory");
    }
    wembed_status rc = WEMBED_STATUS_OK;
    g->alignment = 32;
    for (uint64_t i = 0; i < g->n_kv && !rc && !c->short_read; i++) {
        we_gguf_kv *kv = &g->kv[i];
        we_gguf_str key = {0};
        rc = rd_str(c, &key, "a metadata key");
        if (rc || c->short_read) break;
        kv->key = key.s;
        if (strlen(key.s) != key.n) { rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: a metadata key contains a NUL byte"); break; }
        names[i] = kv->key;
        uint32_t t;
        if (!rd_u32(c, &t)) break;
        if (t > WE_GGUF_F64) { rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: key \"%s\": unknown value type %u", kv->key, t); break; }
        kv->type = (we_gguf_type)t;
        rc = rd_value(c, kv);
        if (rc || c->short_read) break;
        if (strcmp(kv->key, "general.alignment") == 0) {
            bool is_uint = t == WE_GGUF_U8 || t == WE_GGUF_U16 || t == WE_GGUF_U32 || t == WE_GGUF_U64;
            bool is_int = t == WE_GGUF_I8 || t == WE_GGUF_I16 || t == WE_GGUF_I32 || t == WE_GGUF_I64;
            int64_t al = is_uint ? (int64_t)WE_MIN(kv->v.u, (uint64_t)INT64_MAX) : is_int ? kv->v.i : -1;
            if (al <= 0 || al > (1 << 20) || (al & (al - 1)))
                rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: general.alignment must be a power of two integer up to 1 MiB");
            else g->alignment = (uint32_t)al;
        }
    }
    if (!rc && !c->short_read) rc = check_unique(c, names, g->n_kv, "metadata key");

    // Tensor infos
    if (!rc && !c->short_read && g->n_tensors) {
        g->tensors = we_arena_calloc(c->a, (size_t)g->n_tensors, sizeof *g->tensors, _Alignof(we_gguf_tensor));
        if (!g->tensors) rc = we_errorf(c->err, WEMBED_STATUS_ALLOC_FAILED, "GGUF: out of memory");
    }
    for (uint64_t i = 0; i < g->n_tensors && !rc && !c->short_read; i++) {
        we_gguf_tensor *t = &g->tensors[i];
        we_gguf_str name = {0};
        rc = rd_str(c, &name, "a tensor name");
        if (rc || c->short_read) break;
        t->name = name.s;
        names[i] = t->name;
        if (strlen(name.s) != name.n) { rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: a tensor name contains a NUL byte"); break; }
        uint32_t nd;
        if (!rd_u32(c, &nd)) break;
        if (nd < 1 || nd > 4) { rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tensor \"%s\" has %u dimensions (1 to 4)", t->name, nd); break; }
        t->n_dims = (int32_t)nd;
        uint64_t n = 1;
        bool overflow = false;
        for (int d = 0; d < 4; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint64_t v;
            if (!rd_u64(c, &v)) break;
            if (v > (uint64_t)INT64_MAX) overflow = true;
            else if (v != 0 && n > UINT64_MAX / v) overflow = true;
            else n *= v;
            t->ne[d] = (int64_t)WE_MIN(v, (uint64_t)INT64_MAX);
        }
        uint32_t type;
        if (!rd_u32(c, &type) || !rd_u64(c, &t->offset)) break;
        t->ggml_type = type;
        if (overflow) { rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tensor \"%s\": the shape's size overflows", t->name); break; }
        t->n_elems = n;
        if (!ggml_type_to_dtype(type, &t->dtype)) {
            rc = we_errorf(c->err, WEMBED_STATUS_UNSUPPORTED, "GGUF: tensor \"%s\" has type %s (%u), which wembed does not read",
                           t->name, we_gguf_type_name(type), type);
            break;
        }
        const we_dtype_traits *tr = we_dtype_info(t->dtype);
        if (t->ne[0] % tr->block_elems != 0) {
            rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tensor \"%s\": %" PRId64 " is not a multiple of the %s block size %u",
                           t->name, t->ne[0], tr->name, tr->block_elems);
            break;
        }
        if (!we_dtype_nbytes(t->dtype, n, &t->nbytes)) { rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tensor \"%s\": size overflows", t->name); break; }
        if (t->offset % g->alignment != 0) {
            rc = we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tensor \"%s\": offset %" PRIu64 " is not a multiple of the alignment %u",
                           t->name, t->offset, g->alignment);
            break;
        }
    }
    if (!rc && !c->short_read) rc = check_unique(c, names, g->n_tensors, "tensor name");
    we_free(names);
    if (rc || c->short_read) return rc;

    // Data section
    uint64_t start = ((uint64_t)c->pos + g->alignment - 1) / g->alignment * g->alignment;
    if (start > c->file_size) start = c->file_size;
    g->data_start = start;
    uint64_t data_len = c->file_size - start;
    if (g->n_tensors) qsort(g->tensors, (size_t)g->n_tensors, sizeof *g->tensors, cmp_tensor_offset);
    uint64_t pos = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const we_gguf_tensor *t = &g->tensors[i];
        if (t->offset < pos)
            return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tensors \"%s\" and \"%s\" overlap", g->tensors[i - 1].name, t->name);
        if (t->offset > data_len || t->nbytes > data_len - t->offset) {
            if (t->offset <= data_len)
                return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT,
                                 "GGUF: the file is truncated: tensor \"%s\" needs %" PRIu64 " bytes at data offset %" PRIu64 ", but the data section has %" PRIu64,
                                 t->name, t->nbytes, t->offset, data_len);
            return we_errorf(c->err, WEMBED_STATUS_BAD_FORMAT,
                             "GGUF: tensor \"%s\": data [%" PRIu64 ", +%" PRIu64 ") is out of range (the data section has %" PRIu64 " bytes)",
                             t->name, t->offset, t->nbytes, data_len);
        }
        pos = t->offset + t->nbytes;
    }
    return WEMBED_STATUS_OK;
}

wembed_status we_gguf_parse(we_arena *a, const uint8_t *buf, size_t n, uint64_t file_size,
                            we_gguf *out, bool *need_more, we_err *err) {
    memset(out, 0, sizeof *out);
    *need_more = false;
    if ((uint64_t)n > file_size) n = (size_t)file_size;
    cursor c = {buf, n, 0, file_size, false, a, err};
    out->file_size = file_size;
    wembed_status rc = parse(&c, out);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (c.short_read) {
        memset(out, 0, sizeof *out);
        if ((uint64_t)n < file_size) {
            if (file_size > WE_GGUF_MAX_HEADER && n >= WE_GGUF_MAX_HEADER)
                return we_errorf(err, WEMBED_STATUS_LIMIT, "GGUF: the header is over %" PRIu64 " bytes", WE_GGUF_MAX_HEADER);
            *need_more = true;
            return WEMBED_STATUS_OK;
        }
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: the file is truncated inside its header (%" PRIu64 " bytes)", file_size);
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Lookups

const we_gguf_kv *we_gguf_find(const we_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

bool we_gguf_get_int(const we_gguf *g, const char *key, int64_t *out) {
    const we_gguf_kv *kv = we_gguf_find(g, key);
    if (!kv) return false;
    switch (kv->type) {
    case WE_GGUF_U8: case WE_GGUF_U16: case WE_GGUF_U32: case WE_GGUF_U64:
        if (kv->v.u > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)kv->v.u;
        return true;
    case WE_GGUF_I8: case WE_GGUF_I16: case WE_GGUF_I32: case WE_GGUF_I64:
        *out = kv->v.i;
        return true;
    default:
        return false;
    }
}

bool we_gguf_get_float(const we_gguf *g, const char *key, double *out) {
    const we_gguf_kv *kv = we_gguf_find(g, key);
    if (!kv || (kv->type != WE_GGUF_F32 && kv->type != WE_GGUF_F64)) return false;
    *out = kv->v.f;
    return true;
}

bool we_gguf_get_bool(const we_gguf *g, const char *key, bool *out) {
    const we_gguf_kv *kv = we_gguf_find(g, key);
    if (!kv || kv->type != WE_GGUF_BOOL) return false;
    *out = kv->v.u != 0;
    return true;
}

const char *we_gguf_get_str(const we_gguf *g, const char *key) {
    const we_gguf_kv *kv = we_gguf_find(g, key);
    return kv && kv->type == WE_GGUF_STRING ? kv->v.str.s : NULL;
}

const we_gguf_tensor *we_gguf_find_tensor(const we_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

// -----------------------------------------------------------------------------------------
// Tokenizer

static wembed_status vocab_array(const we_gguf *g, const char *key, we_gguf_type want, uint64_t n_want,
                                 const we_gguf_kv **out, we_err *err) {
    *out = NULL;
    const we_gguf_kv *kv = we_gguf_find(g, key);
    if (!kv) return WEMBED_STATUS_OK;
    if (kv->type != WE_GGUF_ARRAY || kv->arr_type != want)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s must be an array of %s", key, type_str(want));
    if (n_want != UINT64_MAX && kv->n != n_want)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s has %" PRIu64 " entries for %" PRIu64 " tokens", key, kv->n, n_want);
    *out = kv;
    return WEMBED_STATUS_OK;
}

wembed_status we_gguf_read_vocab(const we_gguf *g, we_gguf_vocab *v, we_err *err) {
    memset(v, 0, sizeof *v);
    v->bos_id = v->eos_id = v->unk_id = v->sep_id = v->pad_id = v->cls_id = v->mask_id = -1;
    v->add_bos = v->add_eos = -1;
    const we_gguf_kv *kv;
    wembed_status rc = vocab_array(g, "tokenizer.ggml.tokens", WE_GGUF_STRING, UINT64_MAX, &kv, err);
    if (rc) return rc;
    if (!kv) return WEMBED_STATUS_OK;
    if (kv->n > INT32_MAX) return we_errorf(err, WEMBED_STATUS_LIMIT, "GGUF: %" PRIu64 " tokens", kv->n);
    v->n_tokens = (uint32_t)kv->n;
    v->tokens = kv->v.arr;
    v->model = we_gguf_get_str(g, "tokenizer.ggml.model");
    if (!v->model && we_gguf_find(g, "tokenizer.ggml.model"))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tokenizer.ggml.model must be a string");
    v->pre = we_gguf_get_str(g, "tokenizer.ggml.pre");
    if ((rc = vocab_array(g, "tokenizer.ggml.scores", WE_GGUF_F32, kv->n, &kv, err))) return rc;
    v->scores = kv ? kv->v.arr : NULL;
    if ((rc = vocab_array(g, "tokenizer.ggml.token_type", WE_GGUF_I32, v->n_tokens, &kv, err))) return rc;
    v->token_types = kv ? kv->v.arr : NULL;
    if ((rc = vocab_array(g, "tokenizer.ggml.merges", WE_GGUF_STRING, UINT64_MAX, &kv, err))) return rc;
    if (kv) {
        if (kv->n > INT32_MAX) return we_errorf(err, WEMBED_STATUS_LIMIT, "GGUF: %" PRIu64 " merges", kv->n);
        v->n_merges = (uint32_t)kv->n;
        v->merges = kv->v.arr;
    }
    const we_gguf_kv *cm = we_gguf_find(g, "tokenizer.ggml.precompiled_charsmap");
    if (cm) {
        if (cm->type != WE_GGUF_ARRAY || (cm->arr_type != WE_GGUF_U8 && cm->arr_type != WE_GGUF_I8))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: tokenizer.ggml.precompiled_charsmap must be an array of bytes");
        v->charsmap = cm->v.arr;
        v->n_charsmap = cm->n;
    }
    static const struct { const char *key; size_t off; } ids[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(we_gguf_vocab, bos_id)},
        {"tokenizer.ggml.eos_token_id", offsetof(we_gguf_vocab, eos_id)},
        {"tokenizer.ggml.unknown_token_id", offsetof(we_gguf_vocab, unk_id)},
        {"tokenizer.ggml.seperator_token_id", offsetof(we_gguf_vocab, sep_id)},   // (sic) llama.cpp's spelling
        {"tokenizer.ggml.separator_token_id", offsetof(we_gguf_vocab, sep_id)},
        {"tokenizer.ggml.padding_token_id", offsetof(we_gguf_vocab, pad_id)},
        {"tokenizer.ggml.cls_token_id", offsetof(we_gguf_vocab, cls_id)},
        {"tokenizer.ggml.mask_token_id", offsetof(we_gguf_vocab, mask_id)},
    };
    for (size_t i = 0; i < WE_ARRAY_LEN(ids); i++) {
        if (!we_gguf_find(g, ids[i].key)) continue;
        int64_t id;
        if (!we_gguf_get_int(g, ids[i].key, &id))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s must be an integer", ids[i].key);
        if (id < 0 || id >= (int64_t)v->n_tokens)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s = %" PRId64 " is not a token id (vocabulary of %u)",
                             ids[i].key, id, v->n_tokens);
        *(int32_t *)((char *)v + ids[i].off) = (int32_t)id;
    }
    bool b;
    if (we_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b)) v->add_bos = b;
    if (we_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b)) v->add_eos = b;
    return WEMBED_STATUS_OK;
}
