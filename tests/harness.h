// harness.h - the few helpers every C test shares: checks that count failures, file reading,
// and the error measures tests compare with (NMSE as in llama.cpp's test-backend-ops,
// max abs diff and cosine as in the fixtures' README).
#ifndef WE_TEST_HARNESS_H
#define WE_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int we_test_failures;
extern int we_test_checks;

#define CHECK(cond) we_test_check((cond), __FILE__, __LINE__, #cond)
#define CHECKF(cond, ...) we_test_checkf((cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ_INT(a, b) we_test_check_eq_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)

bool we_test_check(bool ok, const char *file, int line, const char *expr);
bool we_test_checkf(bool ok, const char *file, int line, const char *fmt, ...);
bool we_test_check_eq_int(long long a, long long b, const char *file, int line,
                          const char *ea, const char *eb);

// Prints a summary and returns the process exit code (0 when nothing failed).
int we_test_finish(const char *suite);

// Path under tests/data (WEMBED_TEST_DATA), in a static buffer.
const char *we_test_data_path(const char *rel);
// Reads a whole file (malloc'd; *n gets its size), or NULL.
uint8_t *we_test_read_file(const char *path, size_t *n);
// Reads tests/data/<rel>, or, for data the repository stores compressed as <rel>.gz or .xz, the
// copy the build unpacked into <build>/data/<rel> (CMakeLists.txt). NULL if neither exists.
uint8_t *we_test_read_data(const char *rel, size_t *n);

// Error measures.
double we_nmse(const float *out, const float *ref, size_t n);      // sum (o-r)^2 / sum r^2
double we_max_abs_diff(const float *a, const float *b, size_t n);
double we_cosine(const float *a, const float *b, size_t n);

// Deterministic pseudo-random numbers (xorshift), so every run sees the same inputs.
typedef struct we_rng { uint64_t s; } we_rng;
static inline uint64_t we_rng_next(we_rng *r) {
    r->s ^= r->s << 13; r->s ^= r->s >> 7; r->s ^= r->s << 17; return r->s;
}
static inline float we_rng_uniform(we_rng *r, float lo, float hi) {   // [lo, hi)
    return lo + (hi - lo) * (float)((we_rng_next(r) >> 40) * (1.0 / 16777216.0));
}
float we_rng_normal(we_rng *r);
void we_rng_fill(we_rng *r, float *x, size_t n, float lo, float hi);

#endif // WE_TEST_HARNESS_H
