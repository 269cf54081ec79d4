// common.h - what every engine file needs: the allocator hook, error messages, asserts.
//
// Internal header. Public names start with `wembed_` (src/wembed.h); names shared between
// engine files start with `we_`; JS-only wasm helpers start with `wembed__` (wasm/).
//
// Two error tiers (../STYLE): anything caused by input returns a wembed_status and writes a
// message into a per-handle `we_err`; WE_ASSERT guards internal invariants only.
#ifndef WE_COMMON_H
#define WE_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../wembed.h"

// -----------------------------------------------------------------------------------------
// Allocation. Every engine allocation goes through these, so that a test can fail the Nth
// allocation (we_alloc_fail_after) and check for a clean WEMBED_STATUS_ALLOC_FAILED.
// Sizes are checked for overflow by the callers through we_mul_size.

void *we_malloc(size_t n);
void *we_calloc(size_t count, size_t size);
void *we_realloc(void *p, size_t n);
void  we_free(void *p);                       // NULL is a no-op

// Fail every allocation after `n` more succeed (n < 0: never fail). For tests only.
void we_alloc_fail_after(int64_t n);
// Number of live allocations made through we_malloc & co. (leak checks in tests).
int64_t we_alloc_live(void);
// Bytes they hold now, and the most they held since the last we_alloc_reset_peak() (memory
// tests and benchmarks: the engine's own figure, the same in wasm and natively).
int64_t we_alloc_bytes(void);
int64_t we_alloc_peak_bytes(void);
void we_alloc_reset_peak(void);

// a * b into *out; false on overflow.
static inline bool we_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

// -----------------------------------------------------------------------------------------
// Errors. A handle owns one we_err; functions that can fail on input take a `we_err *` and
// return a wembed_status, with the message written by we_errorf.

#define WE_ERR_MAX 512

typedef struct we_err {
    char msg[WE_ERR_MAX];
} we_err;

#if defined(__GNUC__)
#define WE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WE_PRINTF(a, b)
#endif

// Writes the message (if err is not NULL) and returns rc, so callers can `return we_errorf(...)`.
wembed_status we_errorf(we_err *err, wembed_status rc, const char *fmt, ...) WE_PRINTF(3, 4);
wembed_status we_verrorf(we_err *err, wembed_status rc, const char *fmt, va_list ap);
// Prepends "context: " to the message already in err (for errors passed up a level).
void we_err_prefix(we_err *err, const char *fmt, ...) WE_PRINTF(2, 3);
static inline void we_err_clear(we_err *err) { if (err) err->msg[0] = 0; }

// -----------------------------------------------------------------------------------------
// Asserts, for internal invariants only (never for input). The failure goes through a hook
// that tests and embedders may replace; the default prints file:line and aborts.

typedef void (*we_assert_hook)(const char *file, int line, const char *expr);
void we_set_assert_hook(we_assert_hook hook);
void we_assert_fail(const char *file, int line, const char *expr);

#define WE_ASSERT(x) do { if (!(x)) we_assert_fail(__FILE__, __LINE__, #x); } while (0)

// SQLite's ALWAYS/NEVER: conditions believed always true / never true, still handled.
#if defined(WEMBED_TESTING)
#define ALWAYS(x) ((x) ? 1 : (we_assert_fail(__FILE__, __LINE__, #x), 0))
#define NEVER(x)  ((x) ? (we_assert_fail(__FILE__, __LINE__, #x), 1) : 0)
#else
#define ALWAYS(x) (x)
#define NEVER(x)  (x)
#endif

#define WE_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WE_MAX(a, b) ((a) > (b) ? (a) : (b))
#define WE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define WE_NOINLINE __attribute__((noinline))
#define WE_LIKELY(x) __builtin_expect(!!(x), 1)
#define WE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define WE_NOINLINE
#define WE_LIKELY(x) (x)
#define WE_UNLIKELY(x) (x)
#endif

// Whether the string s ends with suffix.
static inline bool we_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

#endif // WE_COMMON_H
