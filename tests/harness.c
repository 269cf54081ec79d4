// harness.c - see harness.h.
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int we_test_failures = 0;
int we_test_checks = 0;

bool we_test_check(bool ok, const char *file, int line, const char *expr) {
    we_test_checks++;
    if (!ok) {
        we_test_failures++;
        fprintf(stderr, "NOT OK %s:%d: %s\n", file, line, expr);
    }
    return ok;
}

bool we_test_checkf(bool ok, const char *file, int line, const char *fmt, ...) {
    we_test_checks++;
    if (!ok) {
        we_test_failures++;
        fprintf(stderr, "NOT OK %s:%d: ", file, line);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    return ok;
}

bool we_test_check_eq_int(long long a, long long b, const char *file, int line,
                          const char *ea, const char *eb) {
    return we_test_checkf(a == b, file, line, "%s == %s (%lld vs %lld)", ea, eb, a, b);
}

int we_test_finish(const char *suite) {
    printf("%s: %d checks, %d failed\n", suite, we_test_checks, we_test_failures);
    return we_test_failures ? 1 : 0;
}

const char *we_test_data_path(const char *rel) {
    static char buf[4096];
#ifdef WEMBED_TEST_DATA
    snprintf(buf, sizeof buf, "%s/%s", WEMBED_TEST_DATA, rel);
#else
    snprintf(buf, sizeof buf, "tests/data/%s", rel);
#endif
    return buf;
}

uint8_t *we_test_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    uint8_t *buf = malloc((size_t)size + 1);
    if (!buf) { fclose(f); return NULL; }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) { free(buf); fclose(f); return NULL; }
    fclose(f);
    buf[size] = 0;   // convenient for text files; not counted in *n
    *n = (size_t)size;
    return buf;
}

uint8_t *we_test_read_data(const char *rel, size_t *n) {
    uint8_t *data = we_test_read_file(we_test_data_path(rel), n);
#ifdef WEMBED_TEST_UNPACKED
    if (!data) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", WEMBED_TEST_UNPACKED, rel);
        data = we_test_read_file(path, n);
    }
#endif
    return data;
}

double we_nmse(const float *out, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)out[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

double we_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d) m = d != d ? INFINITY : d;
    }
    return m;
}

double we_cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

float we_rng_normal(we_rng *r) {
    // Box-Muller; u1 in (0, 1] so the log is finite
    double u1 = ((we_rng_next(r) >> 11) + 1) * (1.0 / 9007199254740992.0);
    double u2 = (we_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void we_rng_fill(we_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = we_rng_uniform(r, lo, hi);
}
