// fuzz-safetensors.c - libFuzzer target for safetensors files: the header validator on any
// input, then a whole streaming load of the input as model.safetensors next to a tiny BERT
// config.json (the one of tests/data/broken/ok, so the seeds reach the data path). Chunk size
// and dtype come from the input's length, so every split point and destination gets tried.
// Any input must load or be refused with a status and a message; nothing may leak.
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "formats/safetensors.h"
#include "model.h"

static const char g_config[] =
    "{\"model_type\": \"bert\", \"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
    " \"intermediate_size\": 16, \"hidden_act\": \"gelu\", \"layer_norm_eps\": 1e-12, \"max_position_embeddings\": 16,"
    " \"type_vocab_size\": 2, \"vocab_size\": 16, \"pad_token_id\": 0}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    we_arena a;
    we_arena_init(&a, 0);
    we_err err;
    uint64_t hl;
    if (we_st_read_len(data, size, &hl, &err) == WEMBED_STATUS_OK) {
        we_st_header h;
        if (we_st_parse_header(&a, (const char *)data + 8, hl, size, &h, &err) == WEMBED_STATUS_OK) {
            // the tiling holds: every tensor inside the data section, in order
            uint64_t pos = 0;
            for (uint32_t i = 0; i < h.n_tensors; i++) {
                if (h.tensors[i].begin != pos || h.tensors[i].end > h.data_len) __builtin_trap();
                pos = h.tensors[i].end;
            }
            if (pos != h.data_len) __builtin_trap();
        } else if (!err.msg[0]) {
            __builtin_trap();
        }
    }
    we_arena_free(&a);

    wembed_model_params p = wembed_model_default_params();
    p.dtype = (wembed_dtype)(size % 3);
    size_t chunk = 1 + (size / 3) % 97;
    wembed_loader *ld;
    if (wembed_loader_new(p, &ld)) return 0;
    wembed_status rc = wembed_loader_add_file(ld, "config.json", g_config, sizeof g_config - 1);
    if (!rc) rc = wembed_loader_begin_file(ld, "model.safetensors", size);
    for (size_t off = 0; off < size && !rc; off += chunk) rc = wembed_loader_write(ld, data + off, size - off < chunk ? size - off : chunk);
    if (!rc) rc = wembed_loader_end_file(ld);
    wembed_model *m = NULL;
    if (!rc) rc = wembed_loader_finish(ld, &m);
    if (rc && !wembed_loader_last_error(ld)[0]) __builtin_trap();
    if (!rc) {
        wembed_model_info info;
        if (wembed_model_get_info(m, &info) || info.n_params != 8 * 16 * 2 + 8 * 2 + 16 + 4 * 72 + 32 + 16 * 8 + 16 + 8 * 16 + 8)
            __builtin_trap();
    }
    wembed_model_free(m);
    wembed_loader_free(ld);
    if (we_alloc_live() != 0) __builtin_trap();
    return 0;
}
