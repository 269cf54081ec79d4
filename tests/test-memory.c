// test-memory.c - activation memory grows linearly with the sequence length (attention is
// tiled with an online softmax: no T x T matrix), measured by the engine's own byte counter.
#include "harness.h"

#include <stdlib.h>

#include "core/common.h"
#include "wembed.h"

int main(void) {
    size_t nc, ns;
    void *cfg = we_test_read_file(we_test_data_path("fixtures/nomic_bert/config.json"), &nc);
    void *st = we_test_read_file(we_test_data_path("fixtures/nomic_bert/model.safetensors"), &ns);
    wembed_file files[2] = { { "config.json", cfg, nc }, { "model.safetensors", st, ns } };
    wembed_model_params mp = wembed_model_default_params();
    mp.n_threads = 2;
    wembed_model *m = NULL;
    CHECK(wembed_model_load(files, 2, mp, &m) == WEMBED_STATUS_OK);
    free(cfg);
    free(st);
    if (!m) return we_test_finish("test-memory");

    static const int lens[] = { 256, 1024, 4096 };
    double per_token[3];
    int32_t *ids = malloc(sizeof(int32_t) * 4096);
    we_rng rng = { 42 };
    for (int i = 0; i < 4096; i++) ids[i] = 1 + (int32_t)(we_rng_next(&rng) % 500);
    wembed_embed_params p = wembed_embed_default_params();
    float v[64];
    // warm up: the pool and tokenizer-free paths allocate their own once
    CHECK(wembed_embed_ids(m, ids, NULL, NULL, 1, 16, &p, v, sizeof v) == WEMBED_STATUS_OK);
    for (int k = 0; k < 3; k++) {
        int64_t base = we_alloc_bytes();
        we_alloc_reset_peak();
        CHECK(wembed_embed_ids(m, ids, NULL, NULL, 1, lens[k], &p, v, sizeof v) == WEMBED_STATUS_OK);
        int64_t peak = we_alloc_peak_bytes() - base;
        per_token[k] = (double)peak / lens[k];
        printf("T=%5d: peak activation memory %8.2f MB, %.0f bytes per token\n", lens[k], peak / 1e6, per_token[k]);
    }
    // Linear: bytes per token stay flat (within 25%: fixed costs shrink as T grows). A T x T
    // score matrix per head would make T=4096 cost 4 heads x 64 MB on its own.
    CHECKF(per_token[2] <= per_token[1] * 1.25 && per_token[1] <= per_token[0] * 1.25,
           "bytes per token grow with T: %.0f, %.0f, %.0f", per_token[0], per_token[1], per_token[2]);
    wembed_model_free(m);
    free(ids);
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-memory");
}
