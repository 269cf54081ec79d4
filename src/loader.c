// loader.c - the streaming loader (wembed_loader_*, wembed_model_load; see wembed.h).
//
// How a load goes:
//   1. Small files (config.json, modules.json, ...) are kept whole; tokenizer.json is parsed
//      into the model's tokenizer as it arrives (take_tokenizer), its bytes not kept.
//   2. When the first weights file begins, the architecture is fixed: from config.json for
//      safetensors, from the metadata for GGUF. The family's table (src/arch/<family>.c) gives
//      one slot per tensor the model needs, with its expected shape.
//   3. A weights file streams through: its header is buffered and validated, each of its
//      tensors is matched to a slot (names with or without a "bert."-style prefix; GGUF names
//      through the table's second column) and checked (dtype, shape), the file's weights get
//      one block of memory in their final types and layouts, and then every data byte goes
//      straight from the chunk into that block through a we_wwriter (formats/tensor.h).
//   4. finish checks that every needed tensor arrived (per tower of a two-tower family), that
//      the shards named by model.safetensors.index.json all came, reads the
//      sentence-transformers modules (st_modules.c), and hands the model over.
// A sentence-transformers Dense module's weights are a weights file of their own,
// "<path>/model.safetensors" (path: the module's folder in modules.json, whose config.json
// must have come before): its tensors (linear.weight, linear.bias) go to that module's slots.
// A GGUF file carries them as dense_2 / dense_3 (llama.cpp's names).
// Any failure is sticky: the loader keeps its message and returns the same status from then on.
//
// Not: the model container and its queries (model.c), inference, tokenization.
#include "model.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json.h"
#include "formats/safetensors.h"
#include "formats/tensor.h"
#include "ops/ops.h"

#define WE_SMALL_FILE_MAX ((uint64_t)256 << 20)
#define WE_GGUF_FIRST_TRY ((size_t)256 << 10)

// One tensor the model needs (an entry of the family's table, at one layer).
typedef struct we_slot {
    const we_wentry *e;
    int32_t layer;
    const char *hf;               // resolved HF name
    const char *gguf;             // resolved GGUF name, or NULL
    int32_t n_dims;
    int64_t shape[4];             // expected, torch order
    we_weight *w;
    const char *from;             // the file it came from; NULL: not (yet) seen
} we_slot;

// One tensor of the weights file being streamed.
typedef struct ftensor {
    const char *name;
    we_dtype dtype;
    uint64_t n_elems;
    uint64_t begin, end;          // within the data section
    we_slot *slot;                // destination, or NULL: skipped
} ftensor;

typedef enum fkind { F_SMALL, F_SAFETENSORS, F_GGUF } fkind;

typedef struct fstate {
    bool open;
    fkind kind;
    char *name;
    uint64_t size, pos;
    uint8_t *buf;                 // small file: all of it; safetensors: the header; GGUF: a prefix
    size_t len, cap;
    uint8_t len8[8];
    uint64_t header_len;
    bool header_done;
    size_t gguf_try;              // prefix length at which to try the GGUF header next
    we_arena tmp;                 // per-file: the parsed header
    ftensor *ts;                  // (n_ts) sorted by begin
    uint32_t n_ts, ti;
    uint64_t data_start;
    we_wwriter wr;
    bool wr_open;
    we_st_dense *module;          // a Dense module's weights file: its module; NULL: the model's
} fstate;

struct wembed_loader {
    we_err err;
    wembed_status failed;
    wembed_model *model;
    we_layout linear_layout;
    bool arch_ready;
    const char *arch_source;      // "config.json" or "the GGUF metadata"
    we_slot *slots;
    uint32_t n_slots;
    we_slot *mslots;              // (n_mslots) the Dense modules' weights, once their configs are read
    uint32_t n_mslots;
    fstate f;
    char **done_files;            // (n_done) weights files fully streamed
    uint32_t n_done;
    bool saw_gguf, saw_st;
    uint32_t n_skipped;           // float tensors in the files that the model does not use
    const char *first_skipped;
    uint64_t prog_begun, prog_done;  // bytes of weights files begun / streamed
    uint32_t n_begun;                // weights files begun
    uint32_t n_shards;               // shards named by model.safetensors.index.json (0: none)
    float prog_last;
};

// -----------------------------------------------------------------------------------------
// Small helpers

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = we_malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

static wembed_status fail(wembed_loader *ld, wembed_status rc, const char *fmt, ...) WE_PRINTF(3, 4);
static wembed_status fail(wembed_loader *ld, wembed_status rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    we_verrorf(&ld->err, rc, fmt, ap);
    va_end(ap);
    ld->failed = rc;
    return rc;
}

// Records a failure whose message is already in ld->err.
static wembed_status failed_with(wembed_loader *ld, wembed_status rc) {
    ld->failed = rc;
    return rc;
}


static void shape_str(char *buf, size_t n, int32_t nd, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < nd && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}


static wembed_status keep_file(wembed_loader *ld, const char *name, uint8_t *data_owned, size_t n) {
    wembed_model *m = ld->model;
    if (we_model_file_data(m, name, NULL)) {
        we_free(data_owned);
        return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "the file %s was given twice", name);
    }
    we_model_file *files = we_realloc(m->files, (m->n_files + 1) * sizeof *files);
    char *nm = dup_str(name);
    if (!files || !nm) {
        if (files) m->files = files;
        we_free(nm);
        we_free(data_owned);
        return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory keeping %s", name);
    }
    m->files = files;
    m->files[m->n_files++] = (we_model_file){nm, data_owned, n};
    return WEMBED_STATUS_OK;
}

// tokenizer.json is parsed as soon as it arrives, and its bytes dropped: a malformed one fails
// the load with its reason (not every text embed later), and the parse's working memory is
// free again before the weights need theirs (the JS loader gives the small files first). The
// file is read once: a real one is 11-33 MB the model would otherwise hold for its lifetime.
static wembed_status take_tokenizer(wembed_loader *ld, uint8_t *data_owned, size_t n) {
    wembed_model *m = ld->model;
    if (m->tokenizer) {
        we_free(data_owned);
        return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "the file tokenizer.json was given twice");
    }
    wembed_tokenizer *tok = NULL;
    wembed_status rc = wembed_tokenizer_load(data_owned, n, &tok);
    we_free(data_owned);
    if (rc) {
        fail(ld, rc, "tokenizer.json: %s", tok ? wembed_tokenizer_last_error(tok) : "out of memory");
        wembed_tokenizer_free(tok);
        return rc;
    }
    m->tokenizer = tok;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Architecture and slots

static wembed_status build_slots(wembed_loader *ld) {
    wembed_model *m = ld->model;
    we_arch_model *ma = &m->arch;
    const we_family *fam = ma->family;
    wembed_status rc = fam->alloc(ma, &m->arena, &ld->err);
    if (rc) return failed_with(ld, rc);
    uint32_t n = 0;
    for (uint32_t i = 0; i < fam->n_entries; i++) {
        const we_wentry *e = &fam->entries[i];
        if (fam->enabled && !fam->enabled(ma, e->cond)) continue;
        n += e->per_layer ? (uint32_t)fam->n_layer(ma, e->group) : 1;
    }
    ld->slots = we_arena_calloc(&m->arena, n, sizeof *ld->slots, _Alignof(we_slot));
    if (n && !ld->slots) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < fam->n_entries; i++) {
        const we_wentry *e = &fam->entries[i];
        if (fam->enabled && !fam->enabled(ma, e->cond)) continue;
        int32_t nl = e->per_layer ? fam->n_layer(ma, e->group) : 1;
        for (int32_t il = 0; il < nl; il++) {
            we_slot *s = &ld->slots[k++];
            char name[256];
            s->e = e;
            s->layer = il;
            snprintf(name, sizeof name, e->hf, il);
            s->hf = we_arena_strndup(&m->arena, name, strlen(name));
            if (e->gguf) {
                snprintf(name, sizeof name, e->gguf, il);
                s->gguf = we_arena_strndup(&m->arena, name, strlen(name));
            }
            if (!s->hf || (e->gguf && !s->gguf)) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
            s->n_dims = e->n_dims;
            for (int d = 0; d < e->n_dims; d++) {
                s->shape[d] = fam->dim(ma, e->dims[d], e->group);
                WE_ASSERT(s->shape[d] >= 0);
            }
            s->w = fam->slot(ma, e, il);
            s->w->name = s->hf;
        }
    }
    ld->n_slots = n;
    ld->arch_ready = true;
    return WEMBED_STATUS_OK;
}

// The weights of the Dense modules (m->dense), once known: linear.weight (out, in) and, with
// a bias, linear.bias (out) of each, named "<path>/linear.weight" (and, from a GGUF,
// "<path>.weight": dense_2.weight).
static const we_wentry g_dense_weight = {"linear.weight", NULL, 0, false, WE_W_LINEAR, 0, 0, 2, {0, 0}, 0};
static const we_wentry g_dense_bias = {"linear.bias", NULL, 0, false, WE_W_VEC, 0, 0, 1, {0}, 0};

static wembed_status build_module_slots(wembed_loader *ld, bool gguf) {
    wembed_model *m = ld->model;
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n_dense; i++) n += m->dense[i].bias ? 2 : 1;
    ld->mslots = n ? we_arena_calloc(&m->arena, n, sizeof *ld->mslots, _Alignof(we_slot)) : NULL;
    if (n && !ld->mslots) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->n_dense; i++) {
        we_st_dense *d = &m->dense[i];
        for (int part = 0; part < (d->bias ? 2 : 1); part++) {
            we_slot *s = &ld->mslots[k++];
            char name[300];
            s->e = part ? &g_dense_bias : &g_dense_weight;
            snprintf(name, sizeof name, "%s/%s", d->path, s->e->hf);
            s->hf = we_arena_strndup(&m->arena, name, strlen(name));
            if (gguf) {
                snprintf(name, sizeof name, "%s.%s", d->path, part ? "bias" : "weight");
                s->gguf = we_arena_strndup(&m->arena, name, strlen(name));
            }
            if (!s->hf || (gguf && !s->gguf)) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
            s->n_dims = part ? 1 : 2;
            s->shape[0] = d->out;
            s->shape[1] = d->in;
            s->w = part ? &d->b : &d->w;
            s->w->name = s->hf;
        }
    }
    ld->n_mslots = n;
    return WEMBED_STATUS_OK;
}

// The Dense modules of modules.json and their slots (safetensors models), once.
static wembed_status read_modules(wembed_loader *ld) {
    wembed_model *m = ld->model;
    if (m->dense_read) return WEMBED_STATUS_OK;
    wembed_status rc = we_st_read_dense(m, &ld->err);
    if (rc) return failed_with(ld, rc);
    return build_module_slots(ld, false);
}

// A GGUF's Dense modules: llama.cpp's converter (--sentence-transformers-dense-modules) writes
// 2_Dense and 3_Dense as dense_2.weight and dense_3.weight, torch (out, in), without their
// biases (a dense_N.bias, as other converters write, is taken) and with the Identity
// activation that llama.cpp applies.
static wembed_status gguf_modules(wembed_loader *ld, const we_gguf *g) {
    wembed_model *m = ld->model;
    static const char *const names[] = {"dense_2", "dense_3"};
    uint32_t n = 0;
    for (size_t i = 0; i < WE_ARRAY_LEN(names); i++) {
        char tn[32];
        snprintf(tn, sizeof tn, "%s.weight", names[i]);
        n += we_gguf_find_tensor(g, tn) != NULL;
    }
    m->dense = n ? we_arena_calloc(&m->arena, n, sizeof *m->dense, _Alignof(we_st_dense)) : NULL;
    if (n && !m->dense) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    for (size_t i = 0; i < WE_ARRAY_LEN(names); i++) {
        char tn[32];
        snprintf(tn, sizeof tn, "%s.weight", names[i]);
        const we_gguf_tensor *t = we_gguf_find_tensor(g, tn);
        if (!t) continue;
        if (t->n_dims != 2 || t->ne[0] < 1 || t->ne[1] < 1 || t->ne[0] > (1 << 20) || t->ne[1] > (1 << 20))
            return fail(ld, WEMBED_STATUS_BAD_FORMAT, "GGUF: %s must be a 2-D weight", tn);
        we_st_dense *d = &m->dense[m->n_dense++];
        d->path = names[i];
        d->in = (int32_t)t->ne[0];
        d->out = (int32_t)t->ne[1];
        snprintf(tn, sizeof tn, "%s.bias", names[i]);
        d->bias = we_gguf_find_tensor(g, tn) != NULL;
        d->act = WE_DENSE_IDENTITY;
    }
    m->dense_read = true;
    // modules.json beside a GGUF: its Dense modules are the file's, or are not there at all.
    const we_json *mods;
    wembed_status rc = we_model_json(m, "modules.json", &mods, &ld->err);
    if (rc) return failed_with(ld, rc);
    for (uint32_t i = 0; !n && mods && we_json_is(mods, WE_JSON_ARRAY) && i < mods->len; i++) {
        const char *type = we_json_as_str(we_json_get(&mods->u.items[i], "type"), NULL);
        if (type && we_ends_with(type, ".Dense")) {
            we_model_warn(m, "modules.json lists Dense modules, but the GGUF file holds none (dense_2, dense_3): not applied");
            break;
        }
    }
    return build_module_slots(ld, true);
}

// The family's private structs, zeroed, in the model's arena.
static wembed_status start_arch(wembed_loader *ld, const we_family *fam, const char *model_type) {
    wembed_model *m = ld->model;
    m->arch.family = fam;
    snprintf(m->arch.model_type, sizeof m->arch.model_type, "%s", model_type);
    m->arch.hp = we_arena_calloc(&m->arena, 1, fam->hp_size, 16);
    m->arch.w = we_arena_calloc(&m->arena, 1, fam->w_size, 16);
    if (!m->arch.hp || !m->arch.w) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    return WEMBED_STATUS_OK;
}

static wembed_status setup_from_config(wembed_loader *ld, const char *weights_name) {
    wembed_model *m = ld->model;
    size_t n;
    const uint8_t *cfg = we_model_file_data(m, "config.json", &n);
    if (!cfg)
        return fail(ld, WEMBED_STATUS_MISSING_FILE, "config.json is needed before the weights (%s): give it first", weights_name);
    const we_json *root;
    wembed_status rc = we_json_parse(&m->arena, (const char *)cfg, n, NULL, &root, &ld->err);
    if (rc) {
        we_err_prefix(&ld->err, "config.json");
        return failed_with(ld, rc);
    }
    if (!we_json_is(root, WE_JSON_OBJECT)) return fail(ld, WEMBED_STATUS_BAD_FORMAT, "config.json: not a JSON object");
    const char *mt = we_json_as_str(we_json_get(root, "model_type"), NULL);
    if (!mt) return fail(ld, WEMBED_STATUS_BAD_FORMAT, "config.json: no \"model_type\" string");
    const we_family *fam = we_family_for_config(root);
    if (!fam)
        return fail(ld, WEMBED_STATUS_UNSUPPORTED, "unsupported architecture \"%.64s\"; supported: %s", mt, we_supported_model_types());
    if ((rc = start_arch(ld, fam, mt))) return rc;
    rc = fam->from_config(&m->arch, root, &ld->err);
    if (rc) return failed_with(ld, rc);
    ld->arch_source = "config.json";
    m->format = "safetensors";
    return build_slots(ld);
}

static wembed_status setup_from_gguf(wembed_loader *ld, const we_gguf *g) {
    wembed_model *m = ld->model;
    const char *arch = we_gguf_get_str(g, "general.architecture");
    if (!arch) return fail(ld, WEMBED_STATUS_BAD_FORMAT, "GGUF: no general.architecture string");
    const we_family *fam = we_family_for_gguf_arch(arch);
    if (!fam || !fam->from_gguf)
        return fail(ld, WEMBED_STATUS_UNSUPPORTED, "unsupported GGUF architecture \"%.64s\"; supported: %s", arch, we_supported_gguf_archs());
    wembed_status rc = start_arch(ld, fam, arch);
    if (rc) return rc;
    rc = fam->from_gguf(&m->arch, g, &ld->err);
    if (rc) return failed_with(ld, rc);
    ld->arch_source = "the GGUF metadata";
    m->format = "gguf";
    return build_slots(ld);
}

// The slot of a file's tensor name: exact, then without a known prefix, then with TF-era
// LayerNorm.gamma/beta spelled weight/bias (as transformers renames them on load).
static we_slot *find_slot(wembed_loader *ld, const char *name, bool gguf) {
    if (gguf) {
        for (uint32_t i = 0; i < ld->n_slots; i++)
            if (ld->slots[i].gguf && strcmp(ld->slots[i].gguf, name) == 0) return &ld->slots[i];
        for (uint32_t i = 0; i < ld->n_mslots; i++)
            if (ld->mslots[i].gguf && strcmp(ld->mslots[i].gguf, name) == 0) return &ld->mslots[i];
        return NULL;
    }
    if (ld->f.module) {
        // A Dense module's file: its own tensors only, as "<path>/linear.weight".
        size_t np = strlen(ld->f.module->path);
        for (uint32_t i = 0; i < ld->n_mslots; i++) {
            const char *hf = ld->mslots[i].hf;
            if (strncmp(hf, ld->f.module->path, np) == 0 && hf[np] == '/' && strcmp(hf + np + 1, name) == 0) return &ld->mslots[i];
        }
        return NULL;
    }
    char buf[512];
    const char *cands[8];
    int nc = 0;
    cands[nc++] = name;
    for (const char *const *p = ld->model->arch.family->prefixes; *p && nc < 6; p++)
        if (strncmp(name, *p, strlen(*p)) == 0) cands[nc++] = name + strlen(*p);
    for (int pass = 0; pass < 2; pass++) {
        for (int c = 0; c < nc; c++) {
            const char *q = cands[c];
            if (pass == 1) {
                size_t k = strlen(q);
                if (k + 8 > sizeof buf) continue;
                if (we_ends_with(q, "LayerNorm.gamma")) { memcpy(buf, q, k - 5); memcpy(buf + k - 5, "weight", 7); }
                else if (we_ends_with(q, "LayerNorm.beta")) { memcpy(buf, q, k - 4); memcpy(buf + k - 4, "bias", 5); }
                else continue;
                q = buf;
            }
            for (uint32_t i = 0; i < ld->n_slots; i++)
                if (strcmp(ld->slots[i].hf, q) == 0) return &ld->slots[i];
        }
    }
    return NULL;
}

// Squeezed shapes equal (llama.cpp's converters drop dimensions of size 1).
static bool same_squeezed(int32_t na, const int64_t *a, int32_t nb, const int64_t *b) {
    int64_t sa[8], sb[8];
    int ka = 0, kb = 0;
    for (int i = 0; i < na; i++) if (a[i] != 1) sa[ka++] = a[i];
    for (int i = 0; i < nb; i++) if (b[i] != 1) sb[kb++] = b[i];
    if (ka != kb) return false;
    for (int i = 0; i < ka; i++) if (sa[i] != sb[i]) return false;
    return true;
}

// -----------------------------------------------------------------------------------------
// Planning a weights file: match its tensors, check them, allocate their destinations.

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

// Elements from which an embedding table is stored in 4 bits under dtype q4 (64 MiB of f32).
#define Q4_TABLE_MIN ((uint64_t)16 << 20)

// The destination of slot s: type, layout, N, K and byte sizes (without the buffers).
static bool plan_weight(wembed_loader *ld, we_slot *s, size_t *data_bytes, size_t *scale_bytes) {
    we_weight *w = s->w;
    memset(w, 0, sizeof *w);
    w->name = s->hf;
    w->n_dims = s->n_dims;
    for (int d = 0; d < s->n_dims; d++) w->ne[d] = s->shape[d];
    w->K = s->n_dims ? s->shape[s->n_dims - 1] : 1;
    w->N = 1;
    for (int d = 0; d + 1 < s->n_dims; d++) w->N *= s->shape[d];
    if (s->e->kind == WE_W_LINEAR && s->n_dims > 2) {   // a conv kernel (out, in, h, w) as (out, in*h*w)
        w->N = s->shape[0];
        w->K = 1;
        for (int d = 1; d < s->n_dims; d++) w->K *= s->shape[d];
    }
    wembed_dtype dt = ld->model->params.dtype;
    w->type = WE_WTYPE_F32;
    w->layout = WE_LAYOUT_ROWS;
    if (s->e->kind != WE_W_VEC) {
        w->type = dt == WEMBED_DTYPE_F16 ? WE_WTYPE_F16 : dt == WEMBED_DTYPE_Q8 ? WE_WTYPE_Q8
                : dt == WEMBED_DTYPE_Q4 ? WE_WTYPE_Q4 : WE_WTYPE_F32;
        // q4 tables only where they are big (the 150k-260k vocabularies of Qwen, Gemma, XLM-R):
        // there the memory matters; a small table stays int8, more exact for nothing
        if (w->type == WE_WTYPE_Q4 && s->e->kind == WE_W_TABLE && (uint64_t)w->N * (uint64_t)w->K < Q4_TABLE_MIN)
            w->type = WE_WTYPE_Q8;
        if (s->e->kind == WE_W_LINEAR && w->type != WE_WTYPE_F16) w->layout = ld->linear_layout;
    }
    if (!we_weight_data_bytes(w->type, w->layout, w->N, w->K, data_bytes)) return false;
    *scale_bytes = we_weight_scale_bytes(w->type, w->layout, w->N, w->K);
    return true;
}

// Zeroes the padding a packed layout has (the GEMM reads it; its values never reach a result).
// 4-bit weights are zeroed whole: rows are stored nibble by nibble into bytes they share.
static void zero_padding(we_weight *w, size_t data_bytes) {
    if (w->type == WE_WTYPE_Q4) {
        memset(w->data, 0, data_bytes);
        memset(w->scale, 0, we_weight_scale_bytes(w->type, w->layout, w->N, w->K));
        return;
    }
    if (w->layout != WE_LAYOUT_PACKED) return;
    size_t start;
    if (w->type == WE_WTYPE_F32) {
        if (w->N % WE_GEMM_NR == 0) return;
        start = we_gemm_f32_packed_index((int)(w->N / WE_GEMM_NR * WE_GEMM_NR), 0, (int)w->N, (int)w->K) * sizeof(float);
    } else {
        start = we_gemm_q8_padding_start((int)w->N, (int)w->K);
    }
    if (start < data_bytes) memset((char *)w->data + start, 0, data_bytes - start);
}

static wembed_status plan_file(wembed_loader *ld, bool gguf) {
    fstate *f = &ld->f;
    wembed_model *m = ld->model;
    const char *fname = we_arena_strndup(&m->arena, f->name, strlen(f->name));
    if (!fname) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    size_t total = 0;
    for (uint32_t i = 0; i < f->n_ts; i++) {
        ftensor *t = &f->ts[i];
        we_slot *s = find_slot(ld, t->name, gguf);
        if (!s) {
            if (we_dtype_info(t->dtype)->is_weight) {
                if (!ld->n_skipped++) ld->first_skipped = we_arena_strndup(&m->arena, t->name, strlen(t->name));
            }
            continue;
        }
        if (s->from)
            return fail(ld, WEMBED_STATUS_BAD_FORMAT, "%s: tensor %s appears twice (as %s, and before in %s)", f->name, s->hf, t->name, s->from);
        if (!we_dtype_info(t->dtype)->is_weight)
            return fail(ld, WEMBED_STATUS_UNSUPPORTED, "%s: tensor %s has dtype %s; weights must be F32, F16, BF16 or a GGML float/quantized type",
                        f->name, t->name, we_dtype_info(t->dtype)->name);
        t->slot = s;
        s->from = fname;
        size_t db, sb;
        if (!plan_weight(ld, s, &db, &sb))
            return fail(ld, WEMBED_STATUS_LIMIT, "%s: tensor %s is too large", f->name, s->hf);
        if (total > SIZE_MAX - align64(db) - align64(sb) - 64)
            return fail(ld, WEMBED_STATUS_LIMIT, "%s: the weights are too large for this platform", f->name);
        total += align64(db) + align64(sb);
    }
    if (total == 0) return WEMBED_STATUS_OK;
    uint8_t *block = we_arena_alloc(&m->weights, total, 64);
    if (!block)
        return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory for %zu bytes of weights from %s", total, f->name);
    size_t off = 0;
    for (uint32_t i = 0; i < f->n_ts; i++) {
        we_slot *s = f->ts[i].slot;
        if (!s) continue;
        size_t db, sb;
        plan_weight(ld, s, &db, &sb);
        we_weight *w = s->w;
        w->data = block + off;
        off += align64(db);
        if (sb) {
            w->scale = (float *)(void *)(block + off);
            off += align64(sb);
        }
        w->nbytes = db + sb;
        zero_padding(w, db);
    }
    return WEMBED_STATUS_OK;
}

// Checks a matched tensor's shape against its slot (file shapes in torch order).
static wembed_status check_shape(wembed_loader *ld, const we_slot *s, const char *fname, const char *tname,
                                 int32_t nd, const int64_t *shape, bool squeezed) {
    bool ok = squeezed ? same_squeezed(nd, shape, s->n_dims, s->shape) : nd == s->n_dims;
    if (ok && !squeezed)
        for (int i = 0; i < nd; i++) ok &= shape[i] == s->shape[i];
    if (!ok && !squeezed && s->n_dims == 0) ok = same_squeezed(nd, shape, 0, s->shape);   // a scalar saved as [1]
    if (ok) return WEMBED_STATUS_OK;
    char a[160], b[160];
    shape_str(a, sizeof a, nd, shape);
    shape_str(b, sizeof b, s->n_dims, s->shape);
    return fail(ld, WEMBED_STATUS_SHAPE_MISMATCH, "%s: tensor %s has shape %s, but %s implies %s", fname, tname, a, ld->arch_source, b);
}

// -----------------------------------------------------------------------------------------
// Streaming the data section

static wembed_status end_tensor(wembed_loader *ld, ftensor *t) {
    we_wwriter *w = &ld->f.wr;
    if (t->slot && w->n_nonfinite)
        we_model_warn(ld->model, "tensor %s has %" PRIu64 " NaN or infinite values", t->slot->hf, w->n_nonfinite);
    we_wwriter_free(w);
    ld->f.wr_open = false;
    ld->f.ti++;
    return WEMBED_STATUS_OK;
}

// Routes n bytes at data-section offset d to the tensors they belong to.
static wembed_status route(wembed_loader *ld, uint64_t d, const uint8_t *p, size_t n) {
    fstate *f = &ld->f;
    while (f->ti < f->n_ts) {
        ftensor *t = &f->ts[f->ti];
        if (d < t->begin) {   // padding between GGUF tensors
            if (n == 0) break;
            size_t skip = (size_t)WE_MIN((uint64_t)n, t->begin - d);
            d += skip;
            p += skip;
            n -= skip;
            continue;
        }
        if (!f->wr_open) {
            wembed_status rc = we_wwriter_init(&f->wr, t->slot ? t->slot->w : NULL, t->dtype, t->n_elems, &ld->err);
            if (rc) {
                we_err_prefix(&ld->err, "%s: tensor %s", f->name, t->name);
                return failed_with(ld, rc);
            }
            f->wr_open = true;
        }
        if (d < t->end) {
            if (n == 0) break;
            size_t take = (size_t)WE_MIN((uint64_t)n, t->end - d);
            we_wwriter_write(&f->wr, p, take);
            d += take;
            p += take;
            n -= take;
        }
        if (!we_wwriter_done(&f->wr)) break;
        end_tensor(ld, t);
    }
    return WEMBED_STATUS_OK;
}

static wembed_status progress(wembed_loader *ld, size_t n) {
    wembed_model *m = ld->model;
    ld->prog_done += n;
    if (!m->params.progress || ld->prog_begun == 0) return WEMBED_STATUS_OK;
    // With an index, the shards not begun yet are expected to be as large as those begun.
    double total = (double)ld->prog_begun;
    if (ld->n_shards > ld->n_begun) total = total / ld->n_begun * ld->n_shards;
    float p = (float)((double)ld->prog_done / total);
    if (p > 1.0f) p = 1.0f;
    if (p < ld->prog_last + 0.001f && !(p >= 1.0f && ld->prog_last < 1.0f)) return WEMBED_STATUS_OK;
    if (p < ld->prog_last) p = ld->prog_last;
    ld->prog_last = p;
    if (!m->params.progress(p, m->params.progress_user))
        return fail(ld, WEMBED_STATUS_ABORTED, "loading aborted by the progress callback");
    return WEMBED_STATUS_OK;
}

static wembed_status grow_buf(wembed_loader *ld, size_t need) {
    fstate *f = &ld->f;
    if (need <= f->cap) return WEMBED_STATUS_OK;
    uint8_t *b = we_realloc(f->buf, need);
    if (!b) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory buffering %zu bytes of %s", need, f->name);
    f->buf = b;
    f->cap = need;
    return WEMBED_STATUS_OK;
}

static wembed_status st_header_done(wembed_loader *ld) {
    fstate *f = &ld->f;
    we_st_header h;
    wembed_status rc = we_st_parse_header(&f->tmp, (const char *)f->buf, f->header_len, f->size, &h, &ld->err);
    we_free(f->buf);
    f->buf = NULL;
    f->cap = f->len = 0;
    if (rc) {
        we_err_prefix(&ld->err, "%s", f->name);
        return failed_with(ld, rc);
    }
    f->data_start = h.data_start;
    f->ts = h.n_tensors ? we_arena_calloc(&f->tmp, h.n_tensors, sizeof *f->ts, _Alignof(ftensor)) : NULL;
    if (h.n_tensors && !f->ts) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    f->n_ts = h.n_tensors;
    for (uint32_t i = 0; i < h.n_tensors; i++) {
        const we_st_tensor *t = &h.tensors[i];
        f->ts[i] = (ftensor){t->name, t->dtype, t->n_elems, t->begin, t->end, NULL};
    }
    rc = plan_file(ld, false);
    if (rc) return rc;
    for (uint32_t i = 0; i < h.n_tensors; i++)
        if (f->ts[i].slot && (rc = check_shape(ld, f->ts[i].slot, f->name, f->ts[i].name, h.tensors[i].n_dims, h.tensors[i].shape, false)))
            return rc;
    f->header_done = true;
    return WEMBED_STATUS_OK;
}

static wembed_status write_safetensors(wembed_loader *ld, const uint8_t *p, size_t n) {
    fstate *f = &ld->f;
    wembed_status rc;
    while (n > 0) {
        if (f->pos < 8) {
            size_t take = (size_t)WE_MIN((uint64_t)n, 8 - f->pos);
            memcpy(f->len8 + f->pos, p, take);
            f->pos += take; p += take; n -= take;
            if (f->pos < 8) break;
            rc = we_st_read_len(f->len8, f->size, &f->header_len, &ld->err);
            if (rc) {
                we_err_prefix(&ld->err, "%s", f->name);
                return failed_with(ld, rc);
            }
            if ((rc = grow_buf(ld, (size_t)f->header_len))) return rc;
            continue;
        }
        if (!f->header_done) {
            size_t take = (size_t)WE_MIN((uint64_t)n, 8 + f->header_len - f->pos);
            memcpy(f->buf + f->len, p, take);
            f->len += take; f->pos += take; p += take; n -= take;
            if (f->len == f->header_len && (rc = st_header_done(ld))) return rc;
            continue;
        }
        if ((rc = route(ld, f->pos - f->data_start, p, n))) return rc;
        f->pos += n;
        n = 0;
    }
    return WEMBED_STATUS_OK;
}

static wembed_status gguf_header_done(wembed_loader *ld, const we_gguf *g) {
    fstate *f = &ld->f;
    wembed_model *m = ld->model;
    if (ld->arch_ready)
        return fail(ld, WEMBED_STATUS_UNSUPPORTED, "%s: a GGUF file must hold the whole model (weights were already given)", f->name);
    // Parse again into the model's arena: the metadata (vocabulary) lives as long as the model.
    we_gguf gm;
    bool more;
    wembed_status rc = we_gguf_parse(&m->arena, f->buf, f->len, f->size, &gm, &more, &ld->err);
    if (rc) return failed_with(ld, rc);
    WE_ASSERT(!more);
    if ((rc = setup_from_gguf(ld, &gm))) return rc;
    if ((rc = gguf_modules(ld, &gm))) return rc;
    rc = we_gguf_read_vocab(&gm, &m->vocab, &ld->err);
    if (rc) return failed_with(ld, rc);
    m->has_vocab = m->vocab.model != NULL;
    int64_t pt;
    char key[96];
    snprintf(key, sizeof key, "%s.pooling_type", m->arch.model_type);
    if (we_gguf_get_int(&gm, key, &pt)) {
        static const wembed_pooling map[] = {WEMBED_POOLING_NONE, WEMBED_POOLING_MEAN, WEMBED_POOLING_CLS, WEMBED_POOLING_LAST};
        if (pt >= 0 && pt < 4) { m->pooling = map[pt]; m->pooling_from_files = true; }
    }
    f->data_start = g->data_start;
    f->n_ts = (uint32_t)g->n_tensors;
    f->ts = f->n_ts ? we_arena_calloc(&f->tmp, f->n_ts, sizeof *f->ts, _Alignof(ftensor)) : NULL;
    if (f->n_ts && !f->ts) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    for (uint32_t i = 0; i < f->n_ts; i++) {
        const we_gguf_tensor *t = &g->tensors[i];
        f->ts[i] = (ftensor){t->name, t->dtype, t->n_elems, t->offset, t->offset + t->nbytes, NULL};
    }
    if ((rc = plan_file(ld, true))) return rc;
    for (uint32_t i = 0; i < f->n_ts; i++) {
        if (!f->ts[i].slot) continue;
        const we_gguf_tensor *t = &g->tensors[i];
        int64_t shape[4];
        for (int d = 0; d < t->n_dims; d++) shape[d] = t->ne[t->n_dims - 1 - d];
        if ((rc = check_shape(ld, f->ts[i].slot, f->name, t->name, t->n_dims, shape, true))) return rc;
    }
    f->header_done = true;
    return WEMBED_STATUS_OK;
}

static wembed_status write_gguf(wembed_loader *ld, const uint8_t *p, size_t n) {
    fstate *f = &ld->f;
    wembed_status rc;
    while (n > 0) {
        if (!f->header_done) {
            size_t take = WE_MIN(n, f->gguf_try - f->len);
            if ((rc = grow_buf(ld, f->gguf_try))) return rc;
            memcpy(f->buf + f->len, p, take);
            f->len += take; f->pos += take; p += take; n -= take;
            if (f->len < f->gguf_try && f->pos < f->size) break;
            we_gguf g;
            bool more;
            we_arena_free(&f->tmp);
            rc = we_gguf_parse(&f->tmp, f->buf, f->len, f->size, &g, &more, &ld->err);
            if (rc) {
                we_err_prefix(&ld->err, "%s", f->name);
                return failed_with(ld, rc);
            }
            if (more) {
                f->gguf_try = (size_t)WE_MIN((uint64_t)f->gguf_try * 2, f->size);
                continue;
            }
            if ((rc = gguf_header_done(ld, &g))) return rc;
            // Bytes of the prefix past the header are data (or padding before it).
            if (f->len > f->data_start) {
                size_t k = f->len - (size_t)f->data_start;
                if ((rc = route(ld, 0, f->buf + f->data_start, k))) return rc;
            }
            we_free(f->buf);
            f->buf = NULL;
            f->len = f->cap = 0;
            continue;
        }
        if (f->pos < f->data_start) {
            size_t skip = (size_t)WE_MIN((uint64_t)n, f->data_start - f->pos);
            f->pos += skip; p += skip; n -= skip;
            continue;
        }
        if ((rc = route(ld, f->pos - f->data_start, p, n))) return rc;
        f->pos += n;
        n = 0;
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Public loader API

wembed_model_params wembed_model_default_params(void) {
    wembed_model_params p;
    memset(&p, 0, sizeof p);
    p.dtype = WEMBED_DTYPE_F32;
    return p;
}

wembed_status wembed_loader_new(wembed_model_params params, wembed_loader **out) {
    if (!out) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if ((unsigned)params.dtype > WEMBED_DTYPE_Q4 || params.n_threads < 0) return WEMBED_STATUS_INVALID_ARGUMENT;
    wembed_loader *ld = we_calloc(1, sizeof *ld);
    if (!ld) return WEMBED_STATUS_ALLOC_FAILED;
    ld->model = we_model_new(params);
    if (!ld->model) {
        we_free(ld);
        return WEMBED_STATUS_ALLOC_FAILED;
    }
    ld->linear_layout = WE_LAYOUT_PACKED;
    we_arena_init(&ld->f.tmp, 0);
    *out = ld;
    return WEMBED_STATUS_OK;
}

void we_loader_set_layout(wembed_loader *ld, we_layout layout) { ld->linear_layout = layout; }

static void close_file(wembed_loader *ld) {
    fstate *f = &ld->f;
    if (f->wr_open) we_wwriter_free(&f->wr);
    we_free(f->buf);
    we_free(f->name);
    we_arena_free(&f->tmp);
    memset(f, 0, sizeof *f);
    we_arena_init(&f->tmp, 0);
}

void wembed_loader_free(wembed_loader *ld) {
    if (!ld) return;
    close_file(ld);
    for (uint32_t i = 0; i < ld->n_done; i++) we_free(ld->done_files[i]);
    we_free(ld->done_files);
    wembed_model_free(ld->model);
    we_free(ld);
}

const char *wembed_loader_last_error(const wembed_loader *ld) { return ld ? ld->err.msg : "no loader"; }

// Distinct shard names in model.safetensors.index.json, for progress (0 when absent or
// malformed: check_shards reports a bad index when the load finishes).
// The distinct shards model.safetensors.index.json names; with name, whether it is one of them.
static uint32_t count_shards_named(wembed_loader *ld, const char *name, bool *named) {
    size_t n;
    const uint8_t *d = we_model_file_data(ld->model, "model.safetensors.index.json", &n);
    if (named) *named = false;
    if (!d) return 0;
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *idx;
    we_err err;
    uint32_t count = 0;
    if (we_json_parse(&a, (const char *)d, n, NULL, &idx, &err) == WEMBED_STATUS_OK) {
        const we_json *map = we_json_get(idx, "weight_map");
        for (uint32_t i = 0; map && i < map->len; i++) {
            const char *s = we_json_as_str(&map->u.members[i].value, NULL);
            bool seen = false;
            for (uint32_t j = 0; s && j < i && !seen; j++) seen = we_json_str_eq(&map->u.members[j].value, s);
            count += s && !seen;
            if (named && s && name && strcmp(s, name) == 0) *named = true;
        }
    }
    we_arena_free(&a);
    return count;
}

static uint32_t count_shards(wembed_loader *ld) { return count_shards_named(ld, NULL, NULL); }

wembed_status wembed_loader_begin_file(wembed_loader *ld, const char *name, uint64_t total_size) {
    if (!ld) return WEMBED_STATUS_INVALID_ARGUMENT;
    if (ld->failed) return ld->failed;
    if (!ld->model) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "the loader has already finished");
    if (!name || !name[0]) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "a file needs a name");
    if (ld->f.open) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "%s begins while %s is still open", name, ld->f.name);
    fstate *f = &ld->f;
    f->kind = we_ends_with(name, ".safetensors") ? F_SAFETENSORS : we_ends_with(name, ".gguf") ? F_GGUF : F_SMALL;
    if (f->kind == F_SMALL && total_size > WE_SMALL_FILE_MAX)
        return fail(ld, WEMBED_STATUS_LIMIT, "%s: %" PRIu64 " bytes is over the limit of %" PRIu64 " for a non-weights file",
                    name, total_size, WE_SMALL_FILE_MAX);
    if (f->kind != F_SMALL && total_size == 0) return fail(ld, WEMBED_STATUS_BAD_FORMAT, "%s is empty", name);
    if (f->kind == F_SAFETENSORS && total_size < 8)
        return fail(ld, WEMBED_STATUS_BAD_FORMAT, "%s: safetensors: the file has %" PRIu64 " bytes, too short for the 8-byte header length",
                    name, total_size);
    if ((uint64_t)(size_t)total_size != total_size)
        return fail(ld, WEMBED_STATUS_LIMIT, "%s: %" PRIu64 " bytes is too large for this platform", name, total_size);
    f->name = dup_str(name);
    if (!f->name) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    f->open = true;
    f->size = total_size;
    if (f->kind == F_SMALL) {
        wembed_status rc = grow_buf(ld, (size_t)total_size + 1);
        if (rc) return rc;
        return WEMBED_STATUS_OK;
    }
    if (f->kind == F_SAFETENSORS) {
        if (ld->saw_gguf) return fail(ld, WEMBED_STATUS_UNSUPPORTED, "%s: safetensors weights cannot be mixed with a GGUF file", name);
        if (!ld->arch_ready) {
            wembed_status rc = setup_from_config(ld, name);
            if (rc) return rc;
        }
        ld->saw_st = true;
        // "<path>/model.safetensors": the weights of the Dense module at path, unless
        // model.safetensors.index.json names it as one of the model's shards.
        const char *slash = strrchr(name, '/');
        bool shard = false;
        if (slash) count_shards_named(ld, name, &shard);
        if (slash && !shard) {
            wembed_status rc = read_modules(ld);
            if (rc) return rc;
            size_t np = (size_t)(slash - name);
            for (uint32_t i = 0; i < ld->model->n_dense && !f->module; i++)
                if (strlen(ld->model->dense[i].path) == np && strncmp(ld->model->dense[i].path, name, np) == 0) f->module = &ld->model->dense[i];
            if (!f->module || strcmp(slash + 1, "model.safetensors") != 0)
                return fail(ld, WEMBED_STATUS_UNSUPPORTED, "%s: not the weights of a Dense module of modules.json "
                            "(wembed reads <Dense path>/model.safetensors for those, and no other module weights)", name);
            for (uint32_t i = 0; i < ld->n_done; i++)
                if (strcmp(ld->done_files[i], name) == 0) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "the file %s was given twice", name);
        }
    } else {
        if (ld->saw_st || ld->saw_gguf)
            return fail(ld, WEMBED_STATUS_UNSUPPORTED, "%s: a GGUF file must hold the whole model (weights were already given)", name);
        ld->saw_gguf = true;
        f->gguf_try = (size_t)WE_MIN((uint64_t)WE_GGUF_FIRST_TRY, total_size);
    }
    ld->prog_begun += total_size;
    ld->n_begun++;
    if (f->kind == F_SAFETENSORS && ld->n_begun == 1) ld->n_shards = count_shards(ld);
    return WEMBED_STATUS_OK;
}

wembed_status wembed_loader_write(wembed_loader *ld, const void *chunk, size_t n) {
    if (!ld) return WEMBED_STATUS_INVALID_ARGUMENT;
    if (ld->failed) return ld->failed;
    fstate *f = &ld->f;
    if (!f->open) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "wembed_loader_write without wembed_loader_begin_file");
    if (n && !chunk) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "a NULL chunk of %zu bytes", n);
    if ((uint64_t)n > f->size - f->pos)
        return fail(ld, WEMBED_STATUS_BAD_FORMAT, "%s: more bytes than the %" PRIu64 " announced", f->name, f->size);
    const uint8_t *p = chunk;
    wembed_status rc = WEMBED_STATUS_OK;
    switch (f->kind) {
    case F_SMALL:
        memcpy(f->buf + f->pos, p, n);
        f->pos += n;
        f->len = (size_t)f->pos;
        return WEMBED_STATUS_OK;
    case F_SAFETENSORS: rc = write_safetensors(ld, p, n); break;
    case F_GGUF: rc = write_gguf(ld, p, n); break;
    }
    if (rc) return rc;
    return progress(ld, n);
}

static bool is_done_file(const wembed_loader *ld, const char *name) {
    for (uint32_t i = 0; i < ld->n_done; i++)
        if (strcmp(ld->done_files[i], name) == 0) return true;
    return false;
}

wembed_status wembed_loader_end_file(wembed_loader *ld) {
    if (!ld) return WEMBED_STATUS_INVALID_ARGUMENT;
    if (ld->failed) return ld->failed;
    fstate *f = &ld->f;
    if (!f->open) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "wembed_loader_end_file without wembed_loader_begin_file");
    if (f->pos != f->size)
        return fail(ld, WEMBED_STATUS_BAD_FORMAT, "%s ended after %" PRIu64 " of its %" PRIu64 " bytes (a truncated download?)",
                    f->name, f->pos, f->size);
    wembed_status rc;
    if (f->kind == F_SMALL) {
        uint8_t *data = f->buf;
        data[f->size] = 0;
        f->buf = NULL;
        rc = strcmp(f->name, "tokenizer.json") == 0 ? take_tokenizer(ld, data, (size_t)f->size)
                                                     : keep_file(ld, f->name, data, (size_t)f->size);
        close_file(ld);
        return rc;
    }
    if (f->kind == F_SAFETENSORS && !f->header_done)   // cannot happen: the length was checked against the size
        return fail(ld, WEMBED_STATUS_BAD_FORMAT, "%s: the file ended inside its header", f->name);
    if (f->kind == F_GGUF && !f->header_done)
        return fail(ld, WEMBED_STATUS_BAD_FORMAT, "%s: the file ended inside its header", f->name);
    if ((rc = route(ld, f->size - f->data_start, NULL, 0))) return rc;   // trailing empty tensors
    if (f->ti != f->n_ts)
        return fail(ld, WEMBED_STATUS_INTERNAL, "%s: %u of %u tensors streamed", f->name, f->ti, f->n_ts);
    char **done = we_realloc(ld->done_files, (ld->n_done + 1) * sizeof *done);
    if (!done) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    ld->done_files = done;
    ld->done_files[ld->n_done++] = f->name;
    f->name = NULL;
    close_file(ld);
    return WEMBED_STATUS_OK;
}

wembed_status wembed_loader_add_file(wembed_loader *ld, const char *name, const void *data, size_t size) {
    if (!ld) return WEMBED_STATUS_INVALID_ARGUMENT;
    if (ld->failed) return ld->failed;
    if (size && !data) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "%s: NULL data of %zu bytes", name ? name : "?", size);
    wembed_status rc = wembed_loader_begin_file(ld, name, size);
    if (!rc) rc = wembed_loader_write(ld, data, size);
    if (!rc) rc = wembed_loader_end_file(ld);
    return rc;
}

// -----------------------------------------------------------------------------------------
// Finishing: completeness, sentence-transformers files, statistics

static wembed_status parse_small_json(wembed_loader *ld, const char *name, const we_json **out) {
    size_t n;
    const uint8_t *d = we_model_file_data(ld->model, name, &n);
    *out = NULL;
    if (!d) return WEMBED_STATUS_OK;
    wembed_status rc = we_json_parse(&ld->model->arena, (const char *)d, n, NULL, out, &ld->err);
    if (rc) {
        we_err_prefix(&ld->err, "%s", name);
        return failed_with(ld, rc);
    }
    return WEMBED_STATUS_OK;
}

static wembed_status check_shards(wembed_loader *ld) {
    const we_json *idx;
    wembed_status rc = parse_small_json(ld, "model.safetensors.index.json", &idx);
    if (rc || !idx) return rc;
    const we_json *map = we_json_get(idx, "weight_map");
    if (!we_json_is(map, WE_JSON_OBJECT))
        return fail(ld, WEMBED_STATUS_BAD_FORMAT, "model.safetensors.index.json: no \"weight_map\" object");
    for (uint32_t i = 0; i < map->len; i++) {
        const char *shard = we_json_as_str(&map->u.members[i].value, NULL);
        if (!shard) return fail(ld, WEMBED_STATUS_BAD_FORMAT, "model.safetensors.index.json: weight_map values must be file names");
        if (!is_done_file(ld, shard))
            return fail(ld, WEMBED_STATUS_MISSING_FILE, "%s (named by model.safetensors.index.json for %s) was not given",
                        shard, map->u.members[i].key);
    }
    return WEMBED_STATUS_OK;
}


// m->hparams: "{" the family's description "}".
static wembed_status describe(wembed_loader *ld) {
    wembed_model *m = ld->model;
    const we_family *fam = m->arch.family;
    int n = fam->describe ? fam->describe(&m->arch, NULL, 0) : 0;
    char *s = we_arena_alloc(&m->arena, (size_t)WE_MAX(n, 0) + 3, 1);
    if (!s || n < 0) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    s[0] = '{';
    if (n) fam->describe(&m->arch, s + 1, (size_t)n + 1);
    s[n + 1] = '}';
    s[n + 2] = 0;
    m->hparams = s;
    return WEMBED_STATUS_OK;
}

wembed_status wembed_loader_finish(wembed_loader *ld, wembed_model **out_model) {
    if (!ld || !out_model) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out_model = NULL;
    if (ld->failed) return ld->failed;
    if (!ld->model) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "the loader has already finished");
    if (ld->f.open) return fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "%s is still open (wembed_loader_end_file)", ld->f.name);
    wembed_model *m = ld->model;
    if (!ld->arch_ready || ld->n_done == 0)
        return fail(ld, WEMBED_STATUS_MISSING_FILE, "no weights were given (model.safetensors, its shards, or a .gguf file)");
    wembed_status rc = check_shards(ld);
    if (rc) return rc;

    // Which groups (towers of a two-tower family) arrived, and is each complete?
    const we_family *fam = m->arch.family;
    bool present[4] = {true, fam->n_groups == 1, false, false};
    if (fam->n_groups > 1)
        for (uint32_t i = 0; i < ld->n_slots; i++)
            if (ld->slots[i].from) present[ld->slots[i].e->group] = true;
    // Safetensors models: the Dense modules of modules.json, each with its weights file.
    if (!m->dense_read && (rc = read_modules(ld))) return rc;
    for (uint32_t i = 0; i < ld->n_mslots; i++)
        if (!ld->mslots[i].from) {
            const char *hf = ld->mslots[i].hf;
            const char *slash = strrchr(hf, '/');
            if (m->format && strcmp(m->format, "gguf") == 0)   // cannot happen: the slots come from the file's tensors
                return fail(ld, WEMBED_STATUS_INTERNAL, "GGUF: Dense tensor %s missing", ld->mslots[i].gguf);
            return fail(ld, WEMBED_STATUS_MISSING_FILE, "%.*s/model.safetensors (the weights of the Dense module %.*s of "
                        "modules.json) was not given, or lacks %s", (int)(slash - hf), hf, (int)(slash - hf), hf, slash + 1);
        }
    uint32_t n_missing = 0;
    const char *first = NULL;
    for (uint32_t i = 0; i < ld->n_slots; i++) {
        const we_slot *s = &ld->slots[i];
        if (s->from || (s->e->flags & WE_WF_OPTIONAL) || !present[s->e->group]) continue;
        if (!n_missing++) first = s->hf;
    }
    if (n_missing)
        return fail(ld, WEMBED_STATUS_MISSING_TENSOR, "missing tensor %s%s%.0u%s for %s (%s)", first,
                    n_missing > 1 ? " (and " : "", n_missing > 1 ? n_missing - 1 : 0u, n_missing > 1 ? " more)" : "",
                    fam->name, m->arch.model_type);
    if ((rc = fam->finish(&m->arch, present, &ld->err))) return failed_with(ld, rc);
    if ((rc = describe(ld))) return rc;
    if ((rc = we_st_read_modules(m, &ld->err))) return failed_with(ld, rc);
    if ((rc = we_st_finish_dense(m, &ld->err))) return failed_with(ld, rc);
    uint32_t n = ld->n_mslots;
    for (uint32_t i = 0; i < ld->n_slots; i++) n += ld->slots[i].from != NULL;
    m->tensors = we_malloc((n ? n : 1) * sizeof *m->tensors);
    if (!m->tensors) return fail(ld, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    for (uint32_t i = 0; i < ld->n_slots + ld->n_mslots; i++) {
        const we_slot *s = i < ld->n_slots ? &ld->slots[i] : &ld->mslots[i - ld->n_slots];
        if (!s->from) continue;
        m->tensors[m->n_tensors++] = s->w;
        m->n_params += s->w->N * s->w->K;
        m->weight_bytes += s->w->nbytes;
    }
    if (ld->n_skipped)
        we_model_warn(m, "%u tensor%s in the weights %s not used by %s (first: %s)", ld->n_skipped, ld->n_skipped > 1 ? "s" : "",
                      ld->n_skipped > 1 ? "are" : "is", fam->name, ld->first_skipped ? ld->first_skipped : "?");
    if (m->params.progress && ld->prog_last < 1.0f) {
        ld->prog_last = 1.0f;
        if (!m->params.progress(1.0f, m->params.progress_user))
            return fail(ld, WEMBED_STATUS_ABORTED, "loading aborted by the progress callback");
    }
    we_err_clear(&m->err);
    *out_model = m;
    ld->model = NULL;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Whole-buffer loading and queries

wembed_status wembed_model_load(const wembed_file *files, size_t n_files, wembed_model_params params,
                                wembed_model **out_model) {
    if (!out_model) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out_model = NULL;
    wembed_loader *ld;
    wembed_status rc = wembed_loader_new(params, &ld);
    if (rc) return rc;
    if (!files && n_files) rc = fail(ld, WEMBED_STATUS_INVALID_ARGUMENT, "files is NULL");
    // Small files first: config.json must be known before safetensors weights stream in.
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (size_t i = 0; i < n_files && !rc; i++) {
            const char *name = files[i].name ? files[i].name : "";
            bool weights = we_ends_with(name, ".safetensors") || we_ends_with(name, ".gguf");
            if (weights == (pass == 1)) rc = wembed_loader_add_file(ld, files[i].name, files[i].data, files[i].size);
        }
    if (!rc) rc = wembed_loader_finish(ld, out_model);
    if (rc) {
        // sqlite3_open-style: hand back a handle holding only the message.
        wembed_model *m = ld->model;
        if (m) {
            we_model_clear(m);
            memcpy(m->err.msg, ld->err.msg, sizeof m->err.msg);
            m->failed = true;
            ld->model = NULL;
            *out_model = m;
        }
    }
    wembed_loader_free(ld);
    return rc;
}


