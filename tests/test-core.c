// test-core.c - the pieces of src/core: arena, f16/bf16, UTF-8, allocator hook, thread pool.
#include "harness.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/f16.h"
#include "core/pool.h"
#include "core/utf8.h"

// -----------------------------------------------------------------------------------------

static void test_arena(void) {
    we_arena a;
    we_arena_init(&a, 256);
    for (size_t align = 1; align <= 64; align *= 2) {
        for (int i = 0; i < 20; i++) {
            unsigned char *p = we_arena_alloc(&a, (size_t)i * 7 + 1, align);
            CHECK(p != NULL);
            CHECKF(((uintptr_t)p & (align - 1)) == 0, "alignment %zu", align);
            memset(p, 0xab, (size_t)i * 7 + 1);   // ASan catches an overrun here
        }
    }
    void *big = we_arena_alloc(&a, 10000, 64);      // bigger than a block: a block of its own
    CHECK(big != NULL && ((uintptr_t)big & 63) == 0);
    char *s = we_arena_strndup(&a, "hello world", 5);
    CHECK(s && strcmp(s, "hello") == 0);
    int *z = we_arena_calloc(&a, 100, sizeof(int), 4);
    int zero = 1;
    for (int i = 0; i < 100; i++) zero &= z[i] == 0;
    CHECK(zero);
    CHECK(we_arena_calloc(&a, SIZE_MAX / 2, 4, 4) == NULL);   // overflow is refused
    CHECK(we_arena_alloc(&a, SIZE_MAX - 8, 8) == NULL);
    we_arena_free(&a);
    CHECK_EQ_INT(we_alloc_live(), 0);
}

// we_malloc / we_realloc: big blocks start on a 64-byte line (the kernels' 16-byte accesses
// then never straddle two), small ones keep malloc's alignment; realloc keeps the contents
// across both kinds, and the byte count follows.
static void test_alloc_align(void) {
    int64_t base = we_alloc_bytes();
    static const size_t sizes[] = {1, 24, 4095, 4096, 5000, 100000, 3000, 16, 70000, 8};
    unsigned char *p = NULL;
    size_t have = 0;
    bool ok = true;
    for (size_t i = 0; i < WE_ARRAY_LEN(sizes); i++) {
        size_t n = sizes[i];
        unsigned char *q = we_realloc(p, n);
        CHECK(q != NULL);
        for (size_t k = 0; k < WE_MIN(have, n); k++) ok &= q[k] == (unsigned char)(k * 31 + 7);
        for (size_t k = 0; k < n; k++) q[k] = (unsigned char)(k * 31 + 7);   // ASan: within the block
        CHECKF(((uintptr_t)q & 7) == 0, "size %zu: 8-byte aligned", n);
        if (n >= 4096) CHECKF(((uintptr_t)q & 63) == 0, "size %zu: on a cache line", n);
        CHECKF(we_alloc_bytes() - base == (int64_t)n, "size %zu: counted as %lld", n, (long long)(we_alloc_bytes() - base));
        p = q;
        have = n;
    }
    CHECKF(ok, "contents kept across reallocs");
    we_free(p);
    for (size_t n = 4096; n < 4096 + 200; n += 8) {
        float *f = we_malloc(n), *g = we_calloc(1, n);
        CHECK(f && g && ((uintptr_t)f & 63) == 0 && ((uintptr_t)g & 63) == 0);
        we_free(f);
        we_free(g);
    }
    CHECK_EQ_INT(we_alloc_bytes(), base);
}

// Allocation failure is reported, and nothing leaks, at whichever allocation it happens.
static void test_alloc_fail(void) {
    for (int nth = 0; nth < 8; nth++) {
        we_arena a;
        we_arena_init(&a, 64);
        we_alloc_fail_after(nth);
        int ok = 0;
        for (int i = 0; i < 8; i++) ok += we_arena_alloc(&a, 100, 8) != NULL;
        we_alloc_fail_after(-1);
        CHECKF(ok == (nth < 8 ? nth : 8), "fail after %d: %d allocations succeeded", nth, ok);
        we_arena_free(&a);
        CHECK_EQ_INT(we_alloc_live(), 0);
    }
}

// -----------------------------------------------------------------------------------------

static void test_f16(void) {
    // half -> float -> half is the identity on every non-NaN half
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = we_f16_to_f32((uint16_t)h);
        if (isnan(f)) { bad += !isnan(we_f16_to_f32(we_f32_to_f16(f))); continue; }
        bad += we_f32_to_f16(f) != h;
    }
    CHECKF(bad == 0, "f16 round trip: %d mismatches", bad);

    // float -> half rounds to nearest even: check midpoints and neighbours of every half
    bad = 0;
    for (uint32_t h = 0; h < 0x7bff; h++) {
        float lo = we_f16_to_f32((uint16_t)h), hi = we_f16_to_f32((uint16_t)(h + 1));
        float mid = (float)(((double)lo + hi) / 2);
        uint16_t want = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        bad += we_f32_to_f16(mid) != want;
        bad += we_f32_to_f16(nextafterf(mid, 0)) != h;
        bad += we_f32_to_f16(nextafterf(mid, INFINITY)) != h + 1;
        bad += we_f32_to_f16(-mid) != (want | 0x8000);
    }
    CHECKF(bad == 0, "f16 rounding: %d mismatches", bad);
    CHECK(we_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(we_f32_to_f16(65519.99f) == 0x7bff);
    CHECK(we_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(we_f32_to_f16(INFINITY) == 0x7c00);
    CHECK(we_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK((we_f32_to_f16(NAN) & 0x7fff) > 0x7c00);
    CHECK(we_f32_to_f16(1e-8f) == 0);
    CHECK(we_f32_to_f16(5.960464477539063e-08f) == 1);   // smallest subnormal
    CHECK(we_f16_to_f32(0x3c00) == 1.0f);
    CHECK(we_f16_to_f32(0xc000) == -2.0f);

    // bf16: exact for bf16 values, ties to even, NaN stays NaN
    bad = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        float f = we_bf16_to_f32((uint16_t)b);
        if (isnan(f)) { bad += !isnan(we_bf16_to_f32(we_f32_to_bf16(f))); continue; }
        bad += we_f32_to_bf16(f) != b;
    }
    CHECKF(bad == 0, "bf16 round trip: %d mismatches", bad);
    CHECK(we_f32_to_bf16(we_bits_f32(0x3f808000u)) == 0x3f80);   // tie, even stays
    CHECK(we_f32_to_bf16(we_bits_f32(0x3f818000u)) == 0x3f82);   // tie, odd rounds up
    CHECK(we_f32_to_bf16(we_bits_f32(0x3f808001u)) == 0x3f81);
    CHECK(isnan(we_bf16_to_f32(we_f32_to_bf16(we_bits_f32(0x7f800001u)))));

    uint16_t h4[4] = { 0x3c00, 0x4000, 0xbc00, 0x0000 };
    float f4[4];
    we_f16_to_f32_n(f4, h4, 4);
    CHECK(f4[0] == 1 && f4[1] == 2 && f4[2] == -1 && f4[3] == 0);
}

// -----------------------------------------------------------------------------------------

// Decodes bytes into code points, as TextDecoder would.
static size_t decode_all(const char *s, size_t n, uint32_t *out) {
    size_t i = 0, k = 0;
    while (i < n) out[k++] = we_utf8_next((const uint8_t *)s, n, &i);
    return k;
}

static void test_utf8(void) {
    uint32_t cp[16];
    // valid: ASCII, 2-, 3- and 4-byte forms
    size_t k = decode_all("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, cp);
    CHECK(k == 4 && cp[0] == 'a' && cp[1] == 0xe9 && cp[2] == 0x20ac && cp[3] == 0x1f600);
    // Expected replacements below are what `new TextDecoder().decode(...)` gives in Node 20.
    k = decode_all("\x80", 1, cp);                       // lone continuation
    CHECK(k == 1 && cp[0] == 0xfffd);
    k = decode_all("\xc3", 1, cp);                       // truncated 2-byte
    CHECK(k == 1 && cp[0] == 0xfffd);
    k = decode_all("\xe2\x82", 2, cp);                   // truncated 3-byte: ONE U+FFFD
    CHECK(k == 1 && cp[0] == 0xfffd);
    k = decode_all("\xe2\x82" "a", 3, cp);               // maximal subpart, then 'a'
    CHECK(k == 2 && cp[0] == 0xfffd && cp[1] == 'a');
    k = decode_all("\xc0\xaf", 2, cp);                   // overlong: two U+FFFD
    CHECK(k == 2 && cp[0] == 0xfffd && cp[1] == 0xfffd);
    k = decode_all("\xed\xa0\x80", 3, cp);               // surrogate: three U+FFFD
    CHECK(k == 3 && cp[0] == 0xfffd && cp[1] == 0xfffd && cp[2] == 0xfffd);
    k = decode_all("\xf4\x90\x80\x80", 4, cp);           // above U+10FFFF: four U+FFFD
    CHECK(k == 4);
    k = decode_all("\xf0\x9f\x98", 3, cp);               // truncated 4-byte: ONE U+FFFD
    CHECK(k == 1 && cp[0] == 0xfffd);
    k = decode_all("\xff\xfe", 2, cp);
    CHECK(k == 2 && cp[0] == 0xfffd && cp[1] == 0xfffd);

    CHECK(we_utf8_valid((const uint8_t *)"h\xc3\xa9llo \xef\xbf\xbd", 10));
    CHECK(!we_utf8_valid((const uint8_t *)"h\xc3", 2));
    CHECK(!we_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));

    const char *bad = "a\xe2\x82" "b\xff";
    size_t n = we_utf8_sanitized_len((const uint8_t *)bad, 5);
    CHECK(n == 1 + 3 + 1 + 3);
    uint8_t out[16];
    CHECK(we_utf8_sanitize(out, (const uint8_t *)bad, 5) == n);
    CHECK(memcmp(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd", n) == 0);

    uint8_t enc[4];
    CHECK(we_utf8_encode(0x1f600, enc) == 4 && memcmp(enc, "\xf0\x9f\x98\x80", 4) == 0);
    CHECK(we_utf8_encode(0xd800, enc) == 3 && memcmp(enc, "\xef\xbf\xbd", 3) == 0);
    CHECK(we_utf8_len(0x7f) == 1 && we_utf8_len(0x80) == 2 && we_utf8_len(0x10000) == 4);
    CHECK(we_utf16_units(0xffff) == 1 && we_utf16_units(0x10000) == 2);
}

// -----------------------------------------------------------------------------------------

typedef struct pool_ctx {
    _Atomic int calls;
    int seen[8];
    int64_t sum[8];
} pool_ctx;

static void pool_task(void *p, int ith, int nth) {
    pool_ctx *c = p;
    atomic_fetch_add(&c->calls, 1);
    c->seen[ith] = nth;
    int64_t b, e, s = 0;
    we_split(1000, 3, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) s += i;
    c->sum[ith] = s;
}

static void test_pool(void) {
    for (int n = 1; n <= 4; n++) {
        wembed_pool *pool = NULL;
        CHECK(wembed_pool_new(n, &pool) == WEMBED_STATUS_OK);
        int nth = wembed_pool_n_threads(pool);
#if defined(WEMBED_THREADS)
        CHECKF(nth == n, "pool of %d has %d threads", n, nth);
#else
        CHECK(nth == 1);
#endif
        for (int rep = 0; rep < 200; rep++) {   // many rounds: catches lost wake-ups
            pool_ctx c;
            memset(&c, 0, sizeof c);
            we_pool_run(pool, pool_task, &c);
            int64_t total = 0;
            for (int i = 0; i < nth; i++) total += c.sum[i];
            if (!CHECKF(atomic_load(&c.calls) == nth && total == 999 * 1000 / 2,
                        "pool %d round %d: %d calls, sum %lld", n, rep, atomic_load(&c.calls),
                        (long long)total))
                break;
        }
        wembed_pool_free(pool);
    }
    wembed_pool_free(NULL);
    wembed_pool *p = NULL;
    CHECK(wembed_pool_new(-1, &p) == WEMBED_STATUS_INVALID_ARGUMENT && p == NULL);
    CHECK(wembed_default_threads() >= 1);

    // splits cover [0, n) exactly, in multiples of the step
    for (int nth = 1; nth <= 7; nth++) {
        int64_t prev = 0;
        for (int i = 0; i < nth; i++) {
            int64_t b, e;
            we_split(100, 8, i, nth, &b, &e);
            CHECK(b == prev && (b % 8 == 0) && e >= b);
            prev = e;
        }
        CHECK(prev == 100);
    }
}

static void test_status(void) {
    CHECK(strcmp(wembed_status_str(WEMBED_STATUS_OK), "ok") == 0);
    CHECK(strcmp(wembed_status_str(WEMBED_STATUS_ALLOC_FAILED), "alloc_failed") == 0);
    CHECK(strcmp(wembed_status_str((wembed_status)999), "unknown") == 0);
    we_err err;
    we_err_clear(&err);
    CHECK(we_errorf(&err, WEMBED_STATUS_BAD_FORMAT, "tensor %s", "x") == WEMBED_STATUS_BAD_FORMAT);
    we_err_prefix(&err, "model.safetensors");
    CHECK(strcmp(err.msg, "model.safetensors: tensor x") == 0);
    CHECK(strlen(wembed_version()) >= 5);
}

int main(void) {
    test_status();
    test_arena();
    test_alloc_align();
    test_alloc_fail();
    test_f16();
    test_utf8();
    test_pool();
    return we_test_finish("test-core");
}
