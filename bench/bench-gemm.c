// bench-gemm.c - GEMM GFLOP/s on the shapes of a BERT layer, f32 and int8, 1 and 2 threads,
// next to the hardware peak. Natively, or in wasm under Node:
//     build/bench-gemm [--seconds S] [--rounds R] [--T 128,512] [--threads 1,2] [--f32|--q8]
//     node --no-experimental-fetch build-wasm-mt/bench-gemm.js ...
//
// The machine is shared and noisy, so every configuration is measured in each of R rounds,
// interleaved (round > shape > dtype > threads), and the table gives medians over rounds
// of each call's median time; the 2-thread speed-up is the median of per-round ratios.
//
// Peaks (../shared/TOOLCHAIN.md, Zen 1 at ~2.4 GHz): f32 16 flop/cycle = 38 GFLOP/s per
// core with SIMD128 (2 x 128-bit mul + 2 x 128-bit add pipes); int8 through
// i32x4.dot_i16x8 bound near 38 GOP/s per core.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv) {
    double seconds = 0.25;
    int rounds = 3, Ts[4] = {128, 512}, nT = 2, ths[4] = {1, 2}, nth = 2;
    bool do_f32 = true, do_q8 = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--T") && i + 1 < argc) nT = parse_list(argv[++i], Ts, 4);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) nth = parse_list(argv[++i], ths, 4);
        else if (!strcmp(argv[i], "--f32")) do_q8 = false;
        else if (!strcmp(argv[i], "--q8")) do_f32 = false;
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--rounds R] [--T 128,512] [--threads 1,2] [--f32|--q8]\n", argv[0]);
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
    printf("bench-gemm: kernels %s; %d round(s) of >= %.2f s per configuration; medians\n",
           we_ops_impl(), rounds, seconds);
    for (int j = 0; j < nth; j++) printf("  pool %d: %d thread(s)\n", j, wembed_pool_n_threads(pools[j]));

    enum { NS = 2 * (int)(sizeof KN / sizeof KN[0]) };
    // g[shape][dtype][threads][round]
    static double g[NS][2][4][MAX_ROUNDS];
    double worst_nmse[2] = {0, 0};
    int nshapes = nT * (int)(sizeof KN / sizeof KN[0]);
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < nshapes; s++) {
            int T = Ts[s / 6], K = KN[s % 6][0], N = KN[s % 6][1];
            for (int q = 0; q < 2; q++) {
                if ((q == 0 && !do_f32) || (q == 1 && !do_q8)) continue;
                for (int j = 0; j < nth; j++) {
                    we_gemm_bench_result res;
                    wembed_status rc = we_bench_gemm(pools[j], q == 1, T, K, N, seconds, &res);
                    if (rc != WEMBED_STATUS_OK) {
                        fprintf(stderr, "we_bench_gemm failed: %s\n", wembed_status_str(rc));
                        return 1;
                    }
                    g[s][q][j][r] = res.gflops;
                    if (res.nmse > worst_nmse[q]) worst_nmse[q] = res.nmse;
                }
            }
            fprintf(stderr, "\rround %d/%d shape %d/%d ", r + 1, rounds, s + 1, nshapes);
        }
    }
    fprintf(stderr, "\r%40s\r", "");

    for (int q = 0; q < 2; q++) {
        if ((q == 0 && !do_f32) || (q == 1 && !do_q8)) continue;
        double peak = q ? PEAK_Q8 : PEAK_F32;
        const char *unit = q ? "GOP/s" : "GFLOP/s";
        printf("\n%s GEMM, %s (%% of %.0f per thread)\n\n", q ? "int8" : "f32", unit, peak);
        printf("| T | K | N |");
        for (int j = 0; j < nth; j++) printf(" %d thr %s | %% peak |", ths[j], unit);
        if (nth > 1) printf(" %d/%d thr |", ths[nth - 1], ths[0]);
        printf("\n|---|---|---|");
        for (int j = 0; j < nth; j++) printf("---|---|");
        if (nth > 1) printf("---|");
        printf("\n");
        for (int s = 0; s < nshapes; s++) {
            printf("| %d | %d | %d |", Ts[s / 6], KN[s % 6][0], KN[s % 6][1]);
            for (int j = 0; j < nth; j++) {
                double m = median(g[s][q][j], rounds);
                printf(" %.1f | %.0f%% |", m, 100.0 * m / (peak * ths[j]));
            }
            if (nth > 1) {
                double ratio[MAX_ROUNDS];
                for (int r = 0; r < rounds; r++) ratio[r] = g[s][q][nth - 1][r] / g[s][q][0][r];
                printf(" %.2fx |", median(ratio, rounds));
            }
            printf("\n");
        }
        printf("\nlargest NMSE against the scalar reference (first 16 rows): %.3g\n", worst_nmse[q]);
    }
    for (int j = 0; j < nth; j++) wembed_pool_free(pools[j]);
    return 0;
}
