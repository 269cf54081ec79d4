// bench.c - we_bench_gemm: times the f32, int8 or 4-bit GEMM on random data, for bench/bench-gemm.c
// natively and for `wembed bench gemm` through the wasm export seam.
//
// Not a general benchmark harness: one shape, one kernel, no activation. Timing uses
// clock_gettime(CLOCK_MONOTONIC) (performance.now() under Emscripten).
#define _POSIX_C_SOURCE 200809L   // clock_gettime under -std=c11

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fill(uint64_t *s, float *p, size_t n, float a) {       // uniform [-a, a)
    for (size_t i = 0; i < n; i++) {
        *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
        p[i] = a * (2.0f * (float)((*s >> 40) * (1.0 / 16777216.0)) - 1.0f);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bench_bufs {
    float *x, *W, *b, *Wp, *ws, *y, *y_ref;
    int8_t *Wq, *Wqp;                 // q8: W (N, K) and packed; q4: one row's q (K rounded up)
    uint8_t *W4, *W4p;                // q4: W in the rows layout (the _ref's) and packed
    float *ws4;                       // q4: the packed layout's scales (ws: the rows layout's)
    void *scratch;
    double *times;
} bench_bufs;

static void bufs_free(bench_bufs *B) {
    we_free(B->x); we_free(B->W); we_free(B->b); we_free(B->Wp); we_free(B->ws);
    we_free(B->y); we_free(B->y_ref); we_free(B->Wq); we_free(B->Wqp); we_free(B->W4);
    we_free(B->W4p); we_free(B->ws4); we_free(B->scratch); we_free(B->times);
}

// The 4-bit kernel's packed layout in SIMD builds; scalar builds run the rows layout (ops.h).
#define Q4_PACKED (WE_GEMM_NR > 1)

#define MAX_TIMED 4096      // per-call times kept for the median
#define REF_ROWS 16         // rows checked against the scalar reference (it is slow)

static void run(wembed_pool *pool, we_bench_dtype dtype, const bench_bufs *B, int T, int K, int N) {
    switch (dtype) {
    case WE_BENCH_F32: we_gemm_f32(pool, B->y, N, B->x, K, B->Wp, B->b, T, K, N, WE_ACT_NONE); return;
    case WE_BENCH_Q8: we_gemm_q8(pool, B->y, N, B->x, K, B->Wqp, B->ws, B->b, T, K, N, WE_ACT_NONE, B->scratch); return;
    case WE_BENCH_Q4: we_gemm_q4(pool, B->y, N, B->x, K, B->W4p, B->ws4, B->b, T, K, N, WE_ACT_NONE, B->scratch); return;
    }
}

wembed_status we_bench_gemm(wembed_pool *pool, we_bench_dtype dtype, int T, int K, int N,
                            double min_seconds, we_gemm_bench_result *out) {
    if (!out) return WEMBED_STATUS_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (T < 1 || K < 1 || N < 1 || T > 65536 || K > 65536 || N > 65536 ||
        !(min_seconds >= 0.0 && min_seconds <= 3600.0) ||
        (dtype != WE_BENCH_F32 && dtype != WE_BENCH_Q8 && dtype != WE_BENCH_Q4))
        return WEMBED_STATUS_INVALID_ARGUMENT;
    const bool q8 = dtype == WE_BENCH_Q8, q4 = dtype == WE_BENCH_Q4;
    size_t tk = (size_t)T * K, nk = (size_t)N * K, tn = (size_t)T * N;
    if (tk > ((size_t)1 << 28) || nk > ((size_t)1 << 28) || tn > ((size_t)1 << 28))
        return WEMBED_STATUS_INVALID_ARGUMENT;                     // 1 GiB per buffer at most

    bench_bufs B = {0};
    int tr = T < REF_ROWS ? T : REF_ROWS;
    B.x = we_malloc(tk * sizeof(float));
    B.W = we_malloc(nk * sizeof(float));
    B.b = we_malloc((size_t)N * sizeof(float));
    B.y = we_malloc(tn * sizeof(float));
    B.y_ref = we_malloc((size_t)tr * N * sizeof(float));
    B.times = we_malloc(MAX_TIMED * sizeof(double));
    if (q8) {
        B.Wq = we_malloc(nk);
        B.ws = we_malloc((size_t)N * sizeof(float));
        B.Wqp = we_calloc(we_gemm_q8_packed_bytes(N, K), 1);
        B.scratch = we_malloc(we_gemm_q8_scratch_bytes(T, K));
    } else if (q4) {
        B.Wq = we_malloc((size_t)we_q4_blocks(K) * WE_Q4_BLOCK);
        B.ws = we_malloc((size_t)we_gemm_q4_scale_floats(N, K, false) * sizeof(float));
        B.W4 = we_calloc(we_gemm_q4_data_bytes(N, K, false), 1);
        B.ws4 = we_calloc(we_gemm_q4_scale_floats(N, K, Q4_PACKED), sizeof(float));
        B.W4p = we_calloc(we_gemm_q4_data_bytes(N, K, Q4_PACKED), 1);
        B.scratch = we_malloc(we_gemm_q4_scratch_bytes(T, K));
    } else {
        B.Wp = we_calloc(we_gemm_f32_packed_floats(N, K), sizeof(float));
    }
    if (!B.x || !B.W || !B.b || !B.y || !B.y_ref || !B.times ||
        (q8 && (!B.Wq || !B.ws || !B.Wqp || !B.scratch)) ||
        (q4 && (!B.Wq || !B.ws || !B.W4 || !B.ws4 || !B.W4p || !B.scratch)) || (dtype == WE_BENCH_F32 && !B.Wp)) {
        bufs_free(&B);
        return WEMBED_STATUS_ALLOC_FAILED;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    fill(&seed, B.x, tk, 1.0f);
    fill(&seed, B.W, nk, 1.0f / sqrtf((float)K));
    fill(&seed, B.b, (size_t)N, 0.1f);
    if (q8) {
        we_quantize_rows_q8(B.Wq, B.ws, B.W, N, K);
        we_gemm_q8_pack(B.Wqp, B.Wq, N, K);
    } else if (q4) {
        for (int n = 0; n < N; n++) {      // each row into both layouts; ws: its block scales
            float *d = B.ws + (size_t)n * (size_t)we_q4_blocks(K);
            we_quantize_row_q4(B.Wq, d, B.W + (size_t)n * K, K);
            we_gemm_q4_store_row(B.W4, B.ws, n, B.Wq, d, N, K, false);
            we_gemm_q4_store_row(B.W4p, B.ws4, n, B.Wq, d, N, K, Q4_PACKED);
        }
    } else {
        we_gemm_f32_pack(B.Wp, B.W, N, K);
    }

    // Warm-up: V8 tiers a wasm function up only between calls (no on-stack replacement),
    // so the kernel must have been called a few times before the timed calls.
    double t0 = now_s();
    for (int i = 0; i < 4 || (now_s() - t0 < 0.05 && i < 1000); i++) run(pool, dtype, &B, T, K, N);

    int64_t iters = 0;
    double total = 0.0;
    while (iters < 3 || total < min_seconds) {
        double a = now_s();
        run(pool, dtype, &B, T, K, N);
        double d = now_s() - a;
        if (iters < MAX_TIMED) B.times[iters] = d;
        total += d;
        iters++;
    }
    int64_t kept = iters < MAX_TIMED ? iters : MAX_TIMED;
    qsort(B.times, (size_t)kept, sizeof(double), cmp_double);
    double median = B.times[kept / 2];
    double flop = 2.0 * (double)T * K * N;
    out->iters = iters;
    out->seconds = total;
    out->gflops = median > 0 ? flop / median * 1e-9 : 0.0;
    out->gflops_mean = total > 0 ? flop * (double)iters / total * 1e-9 : 0.0;

    // The first rows against the scalar reference (same semantics: NMSE 0 expected).
    if (q8) we_gemm_q8_ref(pool, B.y_ref, N, B.x, K, B.Wq, B.ws, B.b, tr, K, N, WE_ACT_NONE, B.scratch);
    else if (q4) we_gemm_q4_ref(pool, B.y_ref, N, B.x, K, B.W4, B.ws, B.b, tr, K, N, WE_ACT_NONE, B.scratch);
    else we_gemm_f32_ref(pool, B.y_ref, N, B.x, K, B.W, B.b, tr, K, N, WE_ACT_NONE);
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < (size_t)tr * N; i++) {
        double d = (double)B.y[i] - B.y_ref[i];
        num += d * d;
        den += (double)B.y_ref[i] * B.y_ref[i];
    }
    out->nmse = den > 0 ? num / den : num;
    bufs_free(&B);
    return WEMBED_STATUS_OK;
}
