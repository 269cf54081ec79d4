// bench-gemm.c - GEMM GFLOP/s on the shapes of a BERT layer, f32, int8 and 4-bit, 1 and 2
// threads, next to the hardware peak. Natively, or in wasm under Node:
//     build/bench-gemm [--seconds S] [--rounds R] [--T 128,512] [--threads 1,2] [--f32] [--q8] [--q4] [--cpu] [--json]
//     node --no-experimental-fetch build-wasm-mt/bench-gemm.js ...
//
// The machine is shared and noisy, so every configuration is measured in each of R rounds,
// interleaved (round > shape > dtype > threads), and the table gives medians over rounds
// of each call's median time, with the best round in parentheses (what the code does when
// it gets the CPU); the speed-up is the median of per-round ratios (ratio of the bests).
//
// --f32, --q8, --q4: only those dtypes (default: all three).
//
// --cpu adds a table for 1 thread (f32 and int8) timed by process CPU time instead of the wall clock: on a
// time-sliced machine a call of several milliseconds is almost always preempted, so wall
// medians measure the share of the CPU the process got; CPU time measures the kernel. Not
// for 2 threads: the process CPU clock (and Node's process.cpuUsage) accounts a thread
// running on another CPU only at scheduler ticks, which gave spurious 2x readings.
//
// "% peak" is against PEAK_F32 / PEAK_Q8 below, the one-core peaks of the machines this was
// written on (bench/results/notes.md); a peak is the machine's, not the code's: build/bench-peak
// measures it for the instructions the kernels use on the machine at hand.
#define _POSIX_C_SOURCE 200809L   // clock_gettime under -std=c11

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#endif

#include "core/pool.h"
#include "ops/ops.h"

#define PEAK_F32 38.0
#define PEAK_Q8 38.0
#define MAX_ROUNDS 15

static const int KN[][2] = {{384, 384}, {384, 1536}, {1536, 384}, {768, 768}, {768, 3072}, {3072, 768}};

static int parse_list(const char *s, int *out, int max) {
    int n = 0;
    while (*s && n < max) {
        out[n++] = atoi(s);
        const char *c = strchr(s, ',');
        if (!c) break;
        s = c + 1;
    }
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    double t[MAX_ROUNDS];
    memcpy(t, v, (size_t)n * sizeof(double));
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

// -----------------------------------------------------------------------------------------
// Process CPU time (--cpu). Emscripten's clocks are all performance.now(), so ask Node.

#if defined(__EMSCRIPTEN__)
EM_JS(double, cpu_seconds, (void), {
    if (typeof process === 'undefined' || !process.cpuUsage) return performance.now() / 1e3;
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
});
#else
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#endif

// GFLOP/s (GOP/s) of the fastest call by CPU time, after a warm-up; 0 on allocation failure.
static double cpu_gflops(wembed_pool *pool, bool q8, int T, int K, int N, double seconds) {
    size_t tk = (size_t)T * K, nk = (size_t)N * K;
    float *x = malloc(tk * sizeof(float)), *W = malloc(nk * sizeof(float));
    float *b = malloc((size_t)N * sizeof(float)), *ws = malloc((size_t)N * sizeof(float));
    float *y = malloc((size_t)T * N * sizeof(float));
    float *Wp = q8 ? NULL : calloc(we_gemm_f32_packed_floats(N, K), sizeof(float));
    int8_t *Wq = q8 ? malloc(nk) : NULL, *Wqp = q8 ? calloc(we_gemm_q8_packed_bytes(N, K), 1) : NULL;
    void *scratch = q8 ? malloc(we_gemm_q8_scratch_bytes(T, K)) : NULL;
    double g = 0.0;
    if (x && W && b && ws && y && (q8 ? (Wq && Wqp && scratch) : Wp != NULL)) {
        uint32_t r = 12345;
        for (size_t i = 0; i < tk; i++) { r = r * 1664525u + 1013904223u; x[i] = (float)(r >> 8) / 8388608.0f - 1.0f; }
        for (size_t i = 0; i < nk; i++) { r = r * 1664525u + 1013904223u; W[i] = ((float)(r >> 8) / 8388608.0f - 1.0f) / sqrtf((float)K); }
        for (int i = 0; i < N; i++) b[i] = 0.01f * (float)(i % 7);
        if (q8) { we_quantize_rows_q8(Wq, ws, W, N, K); we_gemm_q8_pack(Wqp, Wq, N, K); }
        else we_gemm_f32_pack(Wp, W, N, K);
        double best = 1e30, total = 0.0;
        for (int i = 0; i < 1000000 && (i < 8 || total < seconds); i++) {
            double t0 = cpu_seconds();
            if (q8) we_gemm_q8(pool, y, N, x, K, Wqp, ws, b, T, K, N, WE_ACT_NONE, scratch);
            else we_gemm_f32(pool, y, N, x, K, Wp, b, T, K, N, WE_ACT_NONE);
            double d = cpu_seconds() - t0;
            if (i >= 3) {                       // the first calls warm up (V8 tiers up between calls)
                total += d;
                if (d > 0 && d < best) best = d;
            }
        }
        g = 2.0 * (double)T * K * N / best * 1e-9;
    }
    free(x); free(W); free(b); free(ws); free(y); free(Wp); free(Wq); free(Wqp); free(scratch);
    return g;
}

static double best(const double *v, int n) {
    double b = v[0];
    for (int i = 1; i < n; i++) b = v[i] > b ? v[i] : b;
    return b;
}

enum { NKN = (int)(sizeof KN / sizeof KN[0]), NS = 2 * NKN };
enum { ND = 3 };                                 // dtypes, as we_bench_dtype: f32, q8, q4
static const char *const DTYPE[ND] = {"f32", "q8", "q4"};
typedef double series[NS][ND][4][MAX_ROUNDS];    // [shape][dtype][threads][round]

static void print_table(const char *title, series g, int q, int nshapes, const int *Ts,
                        const int *ths, int nth, int rounds, const char *last) {
    double peak = q ? PEAK_Q8 : PEAK_F32;
    const char *unit = q ? "GOP/s" : "GFLOP/s";
    static const char *const what[ND] = {"f32", "int8", "4-bit"};
    printf("\n%s GEMM, %s (%% of %.0f per thread), %s\n\n", what[q], unit, peak, title);
    printf("| T | K | N |");
    for (int j = 0; j < nth; j++) printf(" %d thr %s median (best) | %% peak |", ths[j], unit);
    if (nth > 1) printf(" %s |", last);
    printf("\n|---|---|---|");
    for (int j = 0; j < nth; j++) printf("---|---|");
    if (nth > 1) printf("---|");
    printf("\n");
    for (int s = 0; s < nshapes; s++) {
        printf("| %d | %d | %d |", Ts[s / NKN], KN[s % NKN][0], KN[s % NKN][1]);
        for (int j = 0; j < nth; j++) {
            double m = median(g[s][q][j], rounds), b = best(g[s][q][j], rounds);
            printf(" %.1f (%.1f) | %.0f%% |", m, b, 100.0 * m / (peak * ths[j]));
        }
        if (nth > 1) {
            double ratio[MAX_ROUNDS];
            for (int r = 0; r < rounds; r++) ratio[r] = g[s][q][nth - 1][r] / g[s][q][0][r];
            printf(" %.2fx (%.2fx) |", median(ratio, rounds),
                   best(g[s][q][nth - 1], rounds) / best(g[s][q][0], rounds));
        }
        printf("\n");
    }
}

int main(int argc, char **argv) {
    double seconds = 0.25;
    int rounds = 3, Ts[4] = {128, 512}, nT = 2, ths[4] = {1, 2}, nth = 2;
    bool want[ND] = {true, true, true}, picked = false, do_cpu = false, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--T") && i + 1 < argc) nT = parse_list(argv[++i], Ts, 2);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) nth = parse_list(argv[++i], ths, 4);
        else if (!strcmp(argv[i], "--f32") || !strcmp(argv[i], "--q8") || !strcmp(argv[i], "--q4")) {
            if (!picked) memset(want, 0, sizeof want);   // the first one given drops the others
            picked = true;
            for (int q = 0; q < ND; q++) want[q] = want[q] || !strcmp(argv[i] + 2, DTYPE[q]);
        }
        else if (!strcmp(argv[i], "--cpu")) do_cpu = true;
        else if (!strcmp(argv[i], "--json")) json = true;   // JSON Lines for bench/gemm.mjs
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--rounds R] [--T 128,512] [--threads 1,2] [--f32] [--q8] [--q4] [--cpu] [--json]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;

    wembed_pool *pools[4] = {0};
    for (int j = 0; j < nth; j++) {
        if (wembed_pool_new(ths[j], &pools[j]) != WEMBED_STATUS_OK) {
            fprintf(stderr, "cannot create a pool of %d threads\n", ths[j]);
            return 1;
        }
    }
    if (!json) {
        printf("bench-gemm: kernels %s; %d round(s) of >= %.2f s per configuration, interleaved\n",
               we_ops_impl(), rounds, seconds);
        for (int j = 0; j < nth; j++) printf("  pool %d: %d thread(s)\n", j, wembed_pool_n_threads(pools[j]));
    }

    static series g, c;
    double worst_nmse[ND] = {0};
    int nshapes = nT * NKN;
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < nshapes; s++) {
            int T = Ts[s / NKN], K = KN[s % NKN][0], N = KN[s % NKN][1];
            for (int q = 0; q < ND; q++) {
                if (!want[q]) continue;
                for (int j = 0; j < nth; j++) {
                    we_gemm_bench_result res;
                    wembed_status rc = we_bench_gemm(pools[j], (we_bench_dtype)q, T, K, N, seconds, &res);
                    if (rc != WEMBED_STATUS_OK) {
                        fprintf(stderr, "we_bench_gemm failed: %s\n", wembed_status_str(rc));
                        return 1;
                    }
                    g[s][q][j][r] = res.gflops;
                    if (res.nmse > worst_nmse[q]) worst_nmse[q] = res.nmse;
                    if (do_cpu && ths[j] == 1 && q < 2) c[s][q][0][r] = cpu_gflops(pools[j], q == 1, T, K, N, seconds);
                }
            }
            fprintf(stderr, "\rround %d/%d shape %d/%d ", r + 1, rounds, s + 1, nshapes);
        }
    }
    fprintf(stderr, "\r%40s\r", "");

    if (json) {
        for (int q = 0; q < ND; q++) {
            if (!want[q]) continue;
            for (int s = 0; s < nshapes; s++)
                for (int j = 0; j < nth; j++)
                    printf("{\"dtype\":\"%s\",\"T\":%d,\"K\":%d,\"N\":%d,\"threads\":%d,\"gflops\":%.3f,\"best\":%.3f,\"cpuGflops\":%.3f}\n",
                           DTYPE[q], Ts[s / NKN], KN[s % NKN][0], KN[s % NKN][1], ths[j],
                           median(g[s][q][j], rounds), best(g[s][q][j], rounds),
                           do_cpu && ths[j] == 1 && q < 2 ? median(c[s][q][0], rounds) : 0.0);
        }
        for (int j = 0; j < nth; j++) wembed_pool_free(pools[j]);
        return 0;
    }
    for (int q = 0; q < ND; q++) {
        if (!want[q]) continue;
        char last[64];
        snprintf(last, sizeof last, "%d/%d thr median (best)", ths[nth - 1], ths[0]);
        print_table("wall clock, median call of each round; medians over rounds", g, q, nshapes,
                    Ts, ths, nth, rounds, last);
        printf("\nlargest NMSE against the scalar reference (first 16 rows): %.3g\n", worst_nmse[q]);
        if (do_cpu && q < 2) {
            static const int one[1] = {1};
            print_table("1 thread, process CPU time, fastest call of each round", c, q, nshapes,
                        Ts, one, 1, rounds, "");
        }
    }
    for (int j = 0; j < nth; j++) wembed_pool_free(pools[j]);
    return 0;
}
