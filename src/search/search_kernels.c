// search_kernels.c - the scoring kernels of the flat index: float dot products, int8 dot
// products and Hamming distances of one query against up to four rows at a time.
//
// Four rows per call so the query is loaded once for four rows and four independent
// accumulators hide the add latency (a single chain of f32x4 adds is latency bound at about
// the speed memory delivers the rows). The SIMD versions use WebAssembly SIMD128 (natively
// the same source through SIMDe, src/ops/simd.h); the `_ref` versions define the results and
// match them bit for bit: the float reference keeps four lane sums and reduces them in the
// vector code's order, the integer ones are exact anyway.
//
// What they are not: argument checkers (search.c validated everything) or allocators.
#include "search.h"

#include <string.h>

#if defined(WEMBED_SIMD)
#include "../ops/simd.h"
#endif

// -----------------------------------------------------------------------------------------
// Scalar references

void we_search_dot_f32_ref(const float *q, const float *r, size_t ld, int nr, int d, float *out) {
    for (int j = 0; j < nr; j++) {
        const float *x = r + (size_t)j * ld;
        float lane[4] = {0, 0, 0, 0};
        for (int i = 0; i < d; i++) lane[i & 3] = lane[i & 3] + q[i] * x[i];
        out[j] = (lane[0] + lane[2]) + (lane[1] + lane[3]);   // we_v_hsum's order
    }
}

void we_search_dot_i8_ref(const int8_t *q, const int8_t *r, size_t ld, int nr, int d, int32_t *out) {
    for (int j = 0; j < nr; j++) {
        const int8_t *x = r + (size_t)j * ld;
        int32_t s = 0;
        for (int i = 0; i < d; i++) s += (int32_t)q[i] * (int32_t)x[i];
        out[j] = s;
    }
}

static int popcount8(unsigned v) {
    int c = 0;
    for (; v; v &= v - 1) c++;
    return c;
}

void we_search_hamming_ref(const uint8_t *q, const uint8_t *r, size_t ld, int nr, int nbytes, int32_t *out) {
    for (int j = 0; j < nr; j++) {
        const uint8_t *x = r + (size_t)j * ld;
        int32_t s = 0;
        for (int i = 0; i < nbytes; i++) s += popcount8((unsigned)(q[i] ^ x[i]));
        out[j] = s;
    }
}

float we_search_signed_sum_ref(const float *q, const uint8_t *bits, int d) {
    float lane[4] = {0, 0, 0, 0};
    for (int i = 0; i < d; i++) {
        const float x = q[i];
        lane[i & 3] = lane[i & 3] + ((bits[i >> 3] & (0x80u >> (i & 7))) ? x : -x);
    }
    return (lane[0] + lane[2]) + (lane[1] + lane[3]);   // we_v_hsum's order
}

#if !defined(WEMBED_SIMD)

const char *we_search_impl(void) { return "scalar"; }

#else

const char *we_search_impl(void) { return WE_SIMD_IMPL; }

// -----------------------------------------------------------------------------------------
// SIMD128. Rows past nr alias the last real row (valid memory); their sums are dropped.

#define ROWS4(T, r, ld, nr)                                   \
    const T *r0 = (r);                                        \
    const T *r1 = (nr) > 1 ? r0 + (ld) : r0;                  \
    const T *r2 = (nr) > 2 ? r0 + 2 * (ld) : r1;              \
    const T *r3 = (nr) > 3 ? r0 + 3 * (ld) : r2

WE_NOINLINE void we_search_dot_f32(const float *q, const float *r, size_t ld, int nr, int d, float *out) {
    ROWS4(float, r, ld, nr);
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 4 <= d; i += 4) {
        const v128_t x = wasm_v128_load(q + i);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x, wasm_v128_load(r0 + i)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x, wasm_v128_load(r1 + i)));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x, wasm_v128_load(r2 + i)));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x, wasm_v128_load(r3 + i)));
    }
    if (i < d) {   // the tail through the same lanes, zero-padded (adds +0 to the idle lanes)
        const int t = d - i;
        const v128_t x = we_v_load_partial(q + i, t);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x, we_v_load_partial(r0 + i, t)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x, we_v_load_partial(r1 + i, t)));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x, we_v_load_partial(r2 + i, t)));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x, we_v_load_partial(r3 + i, t)));
    }
    float s[4] = { we_v_hsum(a0), we_v_hsum(a1), we_v_hsum(a2), we_v_hsum(a3) };
    memcpy(out, s, (size_t)nr * sizeof(float));
}

static inline int32_t hsum_i32(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

// Codes widened to int16 and multiplied pairwise into int32 lanes (i32x4.dot_i16x8, one
// pmaddwd natively): exact, |code| <= 128 and dims <= 65536 keep every sum inside int32.
WE_NOINLINE void we_search_dot_i8(const int8_t *q, const int8_t *r, size_t ld, int nr, int d, int32_t *out) {
    ROWS4(int8_t, r, ld, nr);
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
#define DOT16(acc, row)                                                                    \
    do {                                                                                   \
        const v128_t x = wasm_v128_load(row + i);                                          \
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(x), ql)); \
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(x), qh)); \
    } while (0)
    for (; i + 16 <= d; i += 16) {
        const v128_t qv = wasm_v128_load(q + i);
        const v128_t ql = wasm_i16x8_extend_low_i8x16(qv);
        const v128_t qh = wasm_i16x8_extend_high_i8x16(qv);
        DOT16(a0, r0);
        DOT16(a1, r1);
        DOT16(a2, r2);
        DOT16(a3, r3);
    }
#undef DOT16
    int32_t s[4] = { hsum_i32(a0), hsum_i32(a1), hsum_i32(a2), hsum_i32(a3) };
    for (; i < d; i++) {
        s[0] += (int32_t)q[i] * r0[i];
        s[1] += (int32_t)q[i] * r1[i];
        s[2] += (int32_t)q[i] * r2[i];
        s[3] += (int32_t)q[i] * r3[i];
    }
    memcpy(out, s, (size_t)nr * sizeof(int32_t));
}

// Byte popcounts of q ^ row add up in u8 lanes (at most 8 per chunk, so 31 chunks fit in a
// byte); then the four rows' byte sums are reduced together: widened pairwise to u16, and two
// rounds of even/odd lane shuffles put each row's partial sums side by side, so one last
// pairwise widening leaves the four totals in the four int32 lanes.
static inline v128_t reduce4_u8(v128_t b0, v128_t b1, v128_t b2, v128_t b3) {
    const v128_t w0 = wasm_u16x8_extadd_pairwise_u8x16(b0), w1 = wasm_u16x8_extadd_pairwise_u8x16(b1);
    const v128_t w2 = wasm_u16x8_extadd_pairwise_u8x16(b2), w3 = wasm_u16x8_extadd_pairwise_u8x16(b3);
    // lanes 0-3: row 0 (or 2), lanes 4-7: row 1 (or 3); each lane the sum of two u16 lanes
    const v128_t s01 = wasm_i16x8_add(wasm_i16x8_shuffle(w0, w1, 0, 2, 4, 6, 8, 10, 12, 14),
                                      wasm_i16x8_shuffle(w0, w1, 1, 3, 5, 7, 9, 11, 13, 15));
    const v128_t s23 = wasm_i16x8_add(wasm_i16x8_shuffle(w2, w3, 0, 2, 4, 6, 8, 10, 12, 14),
                                      wasm_i16x8_shuffle(w2, w3, 1, 3, 5, 7, 9, 11, 13, 15));
    // lanes 2r, 2r + 1: row r
    const v128_t s = wasm_i16x8_add(wasm_i16x8_shuffle(s01, s23, 0, 2, 4, 6, 8, 10, 12, 14),
                                    wasm_i16x8_shuffle(s01, s23, 1, 3, 5, 7, 9, 11, 13, 15));
    return wasm_i32x4_extadd_pairwise_i16x8(s);   // at most 31 * 16 * 8 = 3968 per row: no overflow
}

WE_NOINLINE void we_search_hamming(const uint8_t *q, const uint8_t *r, size_t ld, int nr, int nbytes, int32_t *out) {
    ROWS4(uint8_t, r, ld, nr);
    v128_t t = wasm_i32x4_splat(0);
    int i = 0;
    while (i + 16 <= nbytes) {
        v128_t b0 = wasm_i32x4_splat(0), b1 = b0, b2 = b0, b3 = b0;
        for (int c = 0; c < 31 && i + 16 <= nbytes; c++, i += 16) {
            const v128_t x = wasm_v128_load(q + i);
            b0 = wasm_i8x16_add(b0, wasm_i8x16_popcnt(wasm_v128_xor(x, wasm_v128_load(r0 + i))));
            b1 = wasm_i8x16_add(b1, wasm_i8x16_popcnt(wasm_v128_xor(x, wasm_v128_load(r1 + i))));
            b2 = wasm_i8x16_add(b2, wasm_i8x16_popcnt(wasm_v128_xor(x, wasm_v128_load(r2 + i))));
            b3 = wasm_i8x16_add(b3, wasm_i8x16_popcnt(wasm_v128_xor(x, wasm_v128_load(r3 + i))));
        }
        t = wasm_i32x4_add(t, reduce4_u8(b0, b1, b2, b3));
    }
    int32_t s[4];
    wasm_v128_store(s, t);
    for (; i < nbytes; i++) {
        s[0] += popcount8((unsigned)(q[i] ^ r0[i]));
        s[1] += popcount8((unsigned)(q[i] ^ r1[i]));
        s[2] += popcount8((unsigned)(q[i] ^ r2[i]));
        s[3] += popcount8((unsigned)(q[i] ^ r3[i]));
    }
    memcpy(out, s, (size_t)nr * sizeof(int32_t));
}

// Four dims per step: the byte's high nibble (dims 8k .. 8k+3) or low nibble (8k+4 .. 8k+7)
// becomes a lane mask that picks q or -q. Lane j sums dims j mod 4 in order, as the reference;
// the zero-padded tail adds -0 to idle lanes, which changes no value.
WE_NOINLINE float we_search_signed_sum(const float *q, const uint8_t *bits, int d) {
    const v128_t hi = wasm_i32x4_make(0x80, 0x40, 0x20, 0x10);
    const v128_t lo = wasm_i32x4_make(0x08, 0x04, 0x02, 0x01);
    const v128_t zero = wasm_i32x4_splat(0);
    v128_t acc = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 8 <= d; i += 8) {
        const v128_t b = wasm_i32x4_splat(bits[i >> 3]);
        const v128_t x0 = wasm_v128_load(q + i), x1 = wasm_v128_load(q + i + 4);
        acc = wasm_f32x4_add(acc, wasm_v128_bitselect(x0, wasm_f32x4_neg(x0), wasm_i32x4_ne(wasm_v128_and(b, hi), zero)));
        acc = wasm_f32x4_add(acc, wasm_v128_bitselect(x1, wasm_f32x4_neg(x1), wasm_i32x4_ne(wasm_v128_and(b, lo), zero)));
    }
    for (; i < d; i += 4) {   // the tail: up to two nibbles of the last byte
        const v128_t x = i + 4 <= d ? wasm_v128_load(q + i) : we_v_load_partial(q + i, d - i);
        const v128_t b = wasm_i32x4_splat(bits[i >> 3]);
        const v128_t on = wasm_i32x4_ne(wasm_v128_and(b, (i & 4) ? lo : hi), zero);
        acc = wasm_f32x4_add(acc, wasm_v128_bitselect(x, wasm_f32x4_neg(x), on));
    }
    return we_v_hsum(acc);
}

#endif // WEMBED_SIMD
