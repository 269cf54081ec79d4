// common.c - the allocator hook, error messages and asserts declared in common.h.
#include "common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// -----------------------------------------------------------------------------------------
// Allocation with an injectable failure and byte accounting. Each block carries a header
// with its size, so the engine knows its live and peak bytes on every platform - the figure
// the memory tests and benchmarks read, the same in wasm and natively. Atomic counters,
// because separate handles may load on separate threads; relaxed order is enough for
// counting.
//
// Blocks of BIG bytes or more start on a 64-byte cache line. Emscripten's malloc aligns to 8
// bytes only, so activation buffers would land 8 bytes off a line, or not, from call to
// call; then a quarter of the kernels' 16-byte loads and stores straddle two lines, and the
// speed of the same call varies (bench/results/design-notes.md).

#define HDR 16       // header room of a small block (keeps malloc's alignment)
#define LINE 64
#define BIG 4096

typedef struct hdr { size_t n, off; } hdr;   // right before the block; off = block - raw

// Room to ask malloc for, around n bytes: a big block (or one that was big) gets a line more.
static size_t pad_for(size_t n, size_t old_off) { return n >= BIG || old_off > HDR ? HDR + LINE : HDR; }

// Where the block starts in raw (malloc'd with `pad` spare bytes): past the header, on a
// line if the padding has room for it.
static size_t block_offset(const unsigned char *raw, size_t pad) {
    uintptr_t u = (uintptr_t)(raw + HDR);
    if (pad > HDR) u = (u + LINE - 1) & ~(uintptr_t)(LINE - 1);
    return (size_t)(u - (uintptr_t)raw);
}

// The block of n bytes inside raw, with its header written.
static unsigned char *place(unsigned char *raw, size_t n, size_t pad) {
    hdr h = {n, block_offset(raw, pad)};
    memcpy(raw + h.off - sizeof h, &h, sizeof h);
    return raw + h.off;
}

static hdr header(const void *p) {
    hdr h;
    memcpy(&h, (const unsigned char *)p - sizeof h, sizeof h);
    return h;
}

static _Atomic int64_t g_fail_after = -1;   // allocations left before failing; < 0: never
static _Atomic int64_t g_live = 0;          // live allocations (tests assert 0 after free)
static _Atomic int64_t g_bytes = 0;         // live bytes
static _Atomic int64_t g_peak = 0;          // the most live bytes since the last reset

void we_alloc_fail_after(int64_t n) { atomic_store_explicit(&g_fail_after, n, memory_order_relaxed); }
int64_t we_alloc_live(void) { return atomic_load_explicit(&g_live, memory_order_relaxed); }
int64_t we_alloc_bytes(void) { return atomic_load_explicit(&g_bytes, memory_order_relaxed); }
int64_t we_alloc_peak_bytes(void) { return atomic_load_explicit(&g_peak, memory_order_relaxed); }
void we_alloc_reset_peak(void) { atomic_store_explicit(&g_peak, we_alloc_bytes(), memory_order_relaxed); }

static bool alloc_should_fail(void) {
    int64_t left = atomic_load_explicit(&g_fail_after, memory_order_relaxed);
    while (left > 0) {
        if (atomic_compare_exchange_weak_explicit(&g_fail_after, &left, left - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return false;
    }
    return left == 0;
}

static void count(int64_t blocks, int64_t bytes) {
    atomic_fetch_add_explicit(&g_live, blocks, memory_order_relaxed);
    int64_t now = atomic_fetch_add_explicit(&g_bytes, bytes, memory_order_relaxed) + bytes;
    int64_t peak = atomic_load_explicit(&g_peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(&g_peak, &peak, now, memory_order_relaxed,
                                                                 memory_order_relaxed)) {}
}

static void *track(void *raw, size_t n, size_t pad) {
    if (!raw) return NULL;
    count(1, (int64_t)n);
    return place(raw, n, pad);
}

void *we_malloc(size_t n) {
    size_t pad = pad_for(n, 0);
    if (alloc_should_fail() || n > SIZE_MAX - pad) return NULL;
    return track(malloc(n + pad), n, pad);
}

void *we_calloc(size_t count_, size_t size) {
    size_t n;
    if (alloc_should_fail() || !we_mul_size(count_, size, &n) || n > SIZE_MAX - pad_for(n, 0)) return NULL;
    size_t pad = pad_for(n, 0);
    return track(calloc(1, n + pad), n, pad);
}

void *we_realloc(void *p, size_t n) {
    if (!p) return we_malloc(n);
    hdr h = header(p);
    size_t pad = pad_for(n, h.off);
    if (alloc_should_fail() || n > SIZE_MAX - pad) return NULL;
    unsigned char *raw = realloc((unsigned char *)p - h.off, n + pad);
    if (!raw) return NULL;                       // p is still valid and still counted
    // The data is at raw + h.off; the block may now start elsewhere (its line moved with raw).
    size_t off = block_offset(raw, pad);
    if (off != h.off) memmove(raw + off, raw + h.off, WE_MIN(h.n, n));
    count(0, (int64_t)n - (int64_t)h.n);
    return place(raw, n, pad);
}

void we_free(void *p) {
    if (!p) return;
    hdr h = header(p);
    count(-1, -(int64_t)h.n);
    free((unsigned char *)p - h.off);
}

// -----------------------------------------------------------------------------------------
// Errors

wembed_status we_verrorf(we_err *err, wembed_status rc, const char *fmt, va_list ap) {
    if (err) vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return rc;
}

wembed_status we_errorf(we_err *err, wembed_status rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    we_verrorf(err, rc, fmt, ap);
    va_end(ap);
    return rc;
}

void we_err_prefix(we_err *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[WE_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t np = strlen(prefix), nm = strlen(err->msg);
    if (np + 2 >= sizeof err->msg) { memcpy(err->msg, prefix, sizeof err->msg - 1); err->msg[sizeof err->msg - 1] = 0; return; }
    if (nm > sizeof err->msg - 1 - np - 2) nm = sizeof err->msg - 1 - np - 2;   // keep the prefix whole
    memmove(err->msg + np + 2, err->msg, nm);
    memcpy(err->msg, prefix, np);
    memcpy(err->msg + np, ": ", 2);
    err->msg[np + 2 + nm] = 0;
}

const char *wembed_status_str(wembed_status rc) {
    switch (rc) {
    case WEMBED_STATUS_OK: return "ok";
    case WEMBED_STATUS_INVALID_ARGUMENT: return "invalid_argument";
    case WEMBED_STATUS_ALLOC_FAILED: return "alloc_failed";
    case WEMBED_STATUS_BAD_FORMAT: return "bad_format";
    case WEMBED_STATUS_UNSUPPORTED: return "unsupported";
    case WEMBED_STATUS_MISSING_FILE: return "missing_file";
    case WEMBED_STATUS_MISSING_TENSOR: return "missing_tensor";
    case WEMBED_STATUS_SHAPE_MISMATCH: return "shape_mismatch";
    case WEMBED_STATUS_TOO_LONG: return "too_long";
    case WEMBED_STATUS_ABORTED: return "aborted";
    case WEMBED_STATUS_LIMIT: return "limit";
    case WEMBED_STATUS_INTERNAL: return "internal";
    case WEMBED_STATUS_NON_FINITE: return "non_finite";
    }
    return "unknown";
}

// -----------------------------------------------------------------------------------------
// Asserts

static void default_assert_hook(const char *file, int line, const char *expr) {
    fprintf(stderr, "wembed: %s:%d: internal invariant failed: %s\n", file, line, expr);
    abort();
}

static we_assert_hook g_assert_hook = default_assert_hook;

void we_set_assert_hook(we_assert_hook hook) {
    g_assert_hook = hook ? hook : default_assert_hook;
}

void we_assert_fail(const char *file, int line, const char *expr) {
    g_assert_hook(file, line, expr);
    abort();   // a hook that returns must not let execution go on past a broken invariant
}
