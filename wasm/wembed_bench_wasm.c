// wembed_bench_wasm.c - the benchmark's exports, linked only into the bench build of the modules
// (dist/bench/, wasm/emscripten.cmake's wembed_bench_modules), never into the shipped ones: the
// GEMM benchmark of `wembed bench gemm` and bench/gemm.mjs (js/bench.js calls it).
#include "ops/ops.h"
#include "wembed.h"

#ifndef WEMBED_WASM_EXPORT   // the Node addon's build defines it (native/region_alloc.h)
#define WEMBED_WASM_EXPORT __attribute__((used, visibility("default")))
#endif

// Times the f32 (dtype 0), int8 (1) or 4-bit (2) GEMM (ops.h we_bench_dtype) on random data of shape T x K x N on the pool's threads
// for at least min_seconds. out[0..4) = GFLOP/s, seconds, timed calls, NMSE against the scalar
// reference.
WEMBED_WASM_EXPORT int wembed__bench_gemm(wembed_pool *pool, int dtype, int T, int K, int N, double min_seconds, double *out) {
    we_gemm_bench_result r;
    wembed_status rc = we_bench_gemm(pool, (we_bench_dtype)dtype, T, K, N, min_seconds, &r);
    if (rc == WEMBED_STATUS_OK) {
        out[0] = r.gflops;
        out[1] = r.seconds;
        out[2] = (double)r.iters;
        out[3] = r.nmse;
    }
    return rc;
}
