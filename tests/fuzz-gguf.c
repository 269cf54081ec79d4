// fuzz-gguf.c - libFuzzer target for GGUF files: the header reader and the tokenizer
// metadata on any prefix of the input (as the streaming loader sees it), then a whole
// streaming load of the input as a model (chunk size and dtype from the input's length).
// Any input must load or be refused with a status and a message; nothing may leak.
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "formats/gguf.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    we_arena a;
    we_arena_init(&a, 0);
    we_err err;
    err.msg[0] = 0;
    we_gguf g;
    bool more;
    // A prefix first (the loader's first try), then the whole input.
    size_t k = size / 2;
    wembed_status rc = we_gguf_parse(&a, data, k, size, &g, &more, &err);
    if (rc == WEMBED_STATUS_OK && !more && g.n_tensors > 0 && !g.tensors) __builtin_trap();
    we_arena_free(&a);
    rc = we_gguf_parse(&a, data, size, size, &g, &more, &err);
    if (more) __builtin_trap();
    if (rc == WEMBED_STATUS_OK) {
        we_gguf_vocab v;
        if (we_gguf_read_vocab(&g, &v, &err) == WEMBED_STATUS_OK && v.model) {
            volatile size_t h = 0;
            for (uint32_t i = 0; i < v.n_tokens; i++) h += v.tokens[i].n + (uint8_t)v.tokens[i].s[v.tokens[i].n];
            for (uint32_t i = 0; i < v.n_merges; i++) h += v.merges[i].n;
            if (v.scores) for (uint32_t i = 0; i < v.n_tokens; i++) h += (size_t)v.scores[i];
            if (v.token_types) for (uint32_t i = 0; i < v.n_tokens; i++) h += (size_t)v.token_types[i];
            (void)h;
        }
        uint64_t pos = 0;
        for (uint64_t i = 0; i < g.n_tensors; i++) {
            if (g.tensors[i].offset < pos || g.data_start + g.tensors[i].offset + g.tensors[i].nbytes > size) __builtin_trap();
            pos = g.tensors[i].offset + g.tensors[i].nbytes;
        }
    } else if (!err.msg[0]) {
        __builtin_trap();
    }
    we_arena_free(&a);

    wembed_model_params p = wembed_model_default_params();
    p.dtype = (wembed_dtype)(size % 3);
    size_t chunk = 1 + (size / 3) % 4099;
    wembed_loader *ld;
    if (wembed_loader_new(p, &ld)) return 0;
    rc = wembed_loader_begin_file(ld, "model.gguf", size);
    for (size_t off = 0; off < size && !rc; off += chunk) rc = wembed_loader_write(ld, data + off, size - off < chunk ? size - off : chunk);
    if (!rc) rc = wembed_loader_end_file(ld);
    wembed_model *m = NULL;
    if (!rc) rc = wembed_loader_finish(ld, &m);
    if (rc && !wembed_loader_last_error(ld)[0]) __builtin_trap();
    wembed_model_free(m);
    wembed_loader_free(ld);
    if (we_alloc_live() != 0) __builtin_trap();
    return 0;
}
