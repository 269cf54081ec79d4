// bench-load.c - peak memory and time of a streaming model load through the public C API:
// the files are read in fixed-size chunks (as fetch() hands them to the JS side) and written
// into wembed_loader_write, so the engine never sees a whole weights file.
//
//   bench-load <model folder> [f32|f16|q8] [chunk bytes]      (default q8, 1 MiB)
//
// Prints the resident set before loading, its peak during the load (VmHWM), the weights'
// final memory and the file size, so the overhead of loading is peak - before - weights.
// Linux only for the RSS numbers (/proc/self/status); elsewhere they print as 0.
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wembed.h"

static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long v = 0;
    size_t k = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, k) == 0) { v = strtol(line + k + 1, NULL, 10); break; }
    fclose(f);
    return v;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int stream_file(wembed_loader *ld, const char *dir, const char *name, size_t chunk, unsigned char *buf, long long *total) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return 1;   // optional file absent
    fseek(f, 0, SEEK_END);
    long long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    *total += size;
    wembed_status rc = wembed_loader_begin_file(ld, name, (uint64_t)size);
    size_t n;
    while (!rc && (n = fread(buf, 1, chunk, f)) > 0) rc = wembed_loader_write(ld, buf, n);
    if (!rc) rc = wembed_loader_end_file(ld);
    fclose(f);
    if (rc) {
        fprintf(stderr, "%s: %s\n", name, wembed_loader_last_error(ld));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench-load <model folder> [f32|f16|q8] [chunk bytes]\n");
        return 2;
    }
    const char *dir = argv[1];
    wembed_model_params p = wembed_model_default_params();
    p.dtype = WEMBED_DTYPE_Q8;
    if (argc > 2) p.dtype = !strcmp(argv[2], "f32") ? WEMBED_DTYPE_F32 : !strcmp(argv[2], "f16") ? WEMBED_DTYPE_F16 : WEMBED_DTYPE_Q8;
    size_t chunk = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : (size_t)1 << 20;
    unsigned char *buf = malloc(chunk);
    if (!buf) return 1;
    memset(buf, 0, chunk);   // count the chunk buffer in the baseline

    long rss0 = status_kb("VmRSS:");
    double t0 = now();
    wembed_loader *ld;
    if (wembed_loader_new(p, &ld)) return 1;
    long long total = 0;
    static const char *small[] = {"config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        if (stream_file(ld, dir, small[i], chunk, buf, &total) < 0) return 1;
    int rc = stream_file(ld, dir, "model.safetensors", chunk, buf, &total);
    if (rc) {
        if (rc > 0) fprintf(stderr, "no %s/model.safetensors\n", dir);
        return 1;
    }
    wembed_model *m = NULL;
    if (wembed_loader_finish(ld, &m)) {
        fprintf(stderr, "%s\n", wembed_loader_last_error(ld));
        return 1;
    }
    wembed_loader_free(ld);
    double t1 = now();
    long hwm = status_kb("VmHWM:"), rss1 = status_kb("VmRSS:");
    wembed_model_info info;
    wembed_model_get_info(m, &info);
    double mib = 1024.0 * 1024.0;
    printf("model %s (%s), %lld params, dtype %s, chunk %zu bytes\n", dir, info.architecture, (long long)info.n_params,
           argv[2] ? argv[2] : "q8", chunk);
    printf("files %.1f MiB, weights in memory %.1f MiB\n", total / mib, info.weight_bytes / mib);
    printf("RSS before %.1f MiB, peak %.1f MiB, after %.1f MiB; peak - before = %.1f MiB = weights + %.1f MiB\n",
           rss0 / 1024.0, hwm / 1024.0, rss1 / 1024.0, (hwm - rss0) / 1024.0, (hwm - rss0) / 1024.0 - info.weight_bytes / mib);
    printf("load time %.2f s (%.0f MiB/s)\n", t1 - t0, total / mib / (t1 - t0));
    wembed_model_free(m);
    free(buf);
    return 0;
}
