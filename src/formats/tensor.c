// tensor.c - element types, GGML block dequantization and the streaming weight writer
// declared in tensor.h. Block layouts follow ggml-common.h (the GGUF on-disk format):
// little-endian, f16 scales, quants packed as documented at each decoder.
#include "tensor.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "../core/f16.h"
#include "../ops/ops.h"

static const we_dtype_traits g_traits[WE_DTYPE_COUNT] = {
    [WE_DTYPE_F32] = {"F32", 1, 4, true},
    [WE_DTYPE_F16] = {"F16", 1, 2, true},
    [WE_DTYPE_BF16] = {"BF16", 1, 2, true},
    [WE_DTYPE_F64] = {"F64", 1, 8, true},
    [WE_DTYPE_F8_E4M3] = {"F8_E4M3", 1, 1, true},
    [WE_DTYPE_F8_E5M2] = {"F8_E5M2", 1, 1, true},
    [WE_DTYPE_BOOL] = {"BOOL", 1, 1, false},
    [WE_DTYPE_U8] = {"U8", 1, 1, false},
    [WE_DTYPE_I8] = {"I8", 1, 1, false},
    [WE_DTYPE_U16] = {"U16", 1, 2, false},
    [WE_DTYPE_I16] = {"I16", 1, 2, false},
    [WE_DTYPE_U32] = {"U32", 1, 4, false},
    [WE_DTYPE_I32] = {"I32", 1, 4, false},
    [WE_DTYPE_U64] = {"U64", 1, 8, false},
    [WE_DTYPE_I64] = {"I64", 1, 8, false},
    [WE_DTYPE_Q4_0] = {"Q4_0", 32, 18, true},
    [WE_DTYPE_Q4_1] = {"Q4_1", 32, 20, true},
    [WE_DTYPE_Q5_0] = {"Q5_0", 32, 22, true},
    [WE_DTYPE_Q5_1] = {"Q5_1", 32, 24, true},
    [WE_DTYPE_Q8_0] = {"Q8_0", 32, 34, true},
    [WE_DTYPE_Q2_K] = {"Q2_K", 256, 84, true},
    [WE_DTYPE_Q3_K] = {"Q3_K", 256, 110, true},
    [WE_DTYPE_Q4_K] = {"Q4_K", 256, 144, true},
    [WE_DTYPE_Q5_K] = {"Q5_K", 256, 176, true},
    [WE_DTYPE_Q6_K] = {"Q6_K", 256, 210, true},
};

const we_dtype_traits *we_dtype_info(we_dtype t) {
    if ((unsigned)t >= WE_DTYPE_COUNT) return NULL;
    return &g_traits[t];
}

bool we_dtype_nbytes(we_dtype t, uint64_t n, uint64_t *out) {
    const we_dtype_traits *tr = we_dtype_info(t);
    if (!tr || n % tr->block_elems) return false;
    uint64_t blocks = n / tr->block_elems;
    if (blocks > UINT64_MAX / tr->block_bytes) return false;
    *out = blocks * tr->block_bytes;
    return true;
}

// -----------------------------------------------------------------------------------------
// Decoders

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static float h2f(const uint8_t *p) { return we_f16_to_f32(rd16(p)); }

// OCP FP8 E4M3 ("fn": no infinities; S.1111.111 is NaN).
static float f8_e4m3(uint8_t b) {
    uint32_t e = (b >> 3) & 15, m = b & 7;
    float v;
    if (e == 15 && m == 7) return NAN;
    if (e == 0) v = ldexpf((float)m / 8.0f, -6);
    else v = ldexpf(1.0f + (float)m / 8.0f, (int)e - 7);
    return (b & 0x80) ? -v : v;
}

// y (32) from a Q4_0 block: half d; uint8 qs[16]; low nibbles are elements 0-15, high 16-31.
static void deq_q4_0(const uint8_t *b, float *y) {
    float d = h2f(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((qs[j] & 0x0F) - 8) * d;
        y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
}

// Q4_1: half d, half m; uint8 qs[16]; x = q * d + m.
static void deq_q4_1(const uint8_t *b, float *y) {
    float d = h2f(b), m = h2f(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)(qs[j] & 0x0F) * d + m;
        y[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
}

// Q5_0: half d; uint32 qh (fifth bits, bit j for element j); uint8 qs[16]; x = (q - 16) * d.
static void deq_q5_0(const uint8_t *b, float *y) {
    float d = h2f(b);
    uint32_t qh = rd32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
        y[j] = (float)(((qs[j] & 0x0F) | h0) - 16) * d;
        y[j + 16] = (float)(((qs[j] >> 4) | h1) - 16) * d;
    }
}

// Q5_1: half d, half m; uint32 qh; uint8 qs[16]; x = q * d + m.
static void deq_q5_1(const uint8_t *b, float *y) {
    float d = h2f(b), m = h2f(b + 2);
    uint32_t qh = rd32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
        y[j] = (float)((qs[j] & 0x0F) | h0) * d + m;
        y[j + 16] = (float)((qs[j] >> 4) | h1) * d + m;
    }
}

// Q8_0: half d; int8 qs[32].
static void deq_q8_0(const uint8_t *b, float *y) {
    float d = h2f(b);
    for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
}

// K-quants: super-blocks of 256 in sub-blocks with 6-bit (Q4_K, Q5_K) or 4-bit (Q2_K)
// scales and mins. Q4_K/Q5_K pack 8 scales and 8 mins of 6 bits into 12 bytes.
static void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Q2_K: uint8 scales[16] (low nibble scale, high nibble min); uint8 qs[64]; half d, dmin.
static void deq_q2_k(const uint8_t *b, float *y) {
    const uint8_t *scales = b, *q = b + 16;
    float d = h2f(b + 80), dmin = h2f(b + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; j++) {
            uint8_t sc = scales[is++];
            float dl = d * (float)(sc & 0xF), ml = dmin * (float)(sc >> 4);
            for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l] >> shift) & 3) - ml;
            sc = scales[is++];
            dl = d * (float)(sc & 0xF);
            ml = dmin * (float)(sc >> 4);
            for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l + 16] >> shift) & 3) - ml;
            shift += 2;
        }
        q += 32;
    }
}

// Q3_K: uint8 hmask[32]; uint8 qs[64]; 16 6-bit scales in 12 bytes; half d.
static void deq_q3_k(const uint8_t *b, float *y) {
    const uint8_t *hm = b, *q = b + 32, *sb = b + 96;
    float d_all = h2f(b + 108);
    // Unpack the 16 scales: low 4 bits from bytes 0-7, high 2 bits from bytes 8-11.
    int8_t scales[16];
    for (int i = 0; i < 16; i++) {
        int lo = (i < 8) ? (sb[i] & 0x0F) : (sb[i - 8] >> 4);
        int hi = (sb[8 + (i % 4)] >> (2 * (i / 4))) & 3;
        scales[i] = (int8_t)((lo | (hi << 4)) - 32);
    }
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < 256; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; j++) {
            float dl = d_all * (float)scales[is++];
            for (int l = 0; l < 16; l++)
                *y++ = dl * (float)((int)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
            dl = d_all * (float)scales[is++];
            for (int l = 0; l < 16; l++)
                *y++ = dl * (float)((int)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
            shift += 2;
            m = (uint8_t)(m << 1);
        }
        q += 32;
    }
}

// Q4_K: half d, dmin; scales[12]; uint8 qs[128].
static void deq_q4_k(const uint8_t *b, float *y) {
    float d = h2f(b), dmin = h2f(b + 2);
    const uint8_t *scales = b + 4, *q = b + 16;
    int is = 0;
    for (int j = 0; j < 256; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        float d1 = d * (float)sc, m1 = dmin * (float)m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * (float)sc, m2 = dmin * (float)m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0xF) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

// Q5_K: half d, dmin; scales[12]; uint8 qh[32]; uint8 qs[128].
static void deq_q5_k(const uint8_t *b, float *y) {
    float d = h2f(b), dmin = h2f(b + 2);
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 256; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        float d1 = d * (float)sc, m1 = dmin * (float)m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * (float)sc, m2 = dmin * (float)m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = (uint8_t)(u1 << 2);
        u2 = (uint8_t)(u2 << 2);
    }
}

// Q6_K: uint8 ql[128] (low 4 bits); uint8 qh[64] (high 2 bits); int8 scales[16]; half d.
static void deq_q6_k(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = h2f(b + 208);
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * (float)sc[is] * (float)q1;
            y[l + 32] = d * (float)sc[is + 2] * (float)q2;
            y[l + 64] = d * (float)sc[is + 4] * (float)q3;
            y[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

void we_dtype_to_f32(we_dtype t, const uint8_t *s, float *out) {
    switch (t) {
    case WE_DTYPE_F32: { uint32_t u = rd32(s); memcpy(out, &u, 4); break; }
    case WE_DTYPE_F16: out[0] = we_f16_to_f32(rd16(s)); break;
    case WE_DTYPE_BF16: out[0] = we_bf16_to_f32(rd16(s)); break;
    case WE_DTYPE_F64: {
        uint64_t u = (uint64_t)rd32(s) | ((uint64_t)rd32(s + 4) << 32);
        double d;
        memcpy(&d, &u, 8);
        out[0] = (float)d;
        break;
    }
    case WE_DTYPE_F8_E4M3: out[0] = f8_e4m3(s[0]); break;
    case WE_DTYPE_F8_E5M2: out[0] = we_f16_to_f32((uint16_t)(s[0] << 8)); break;
    case WE_DTYPE_Q4_0: deq_q4_0(s, out); break;
    case WE_DTYPE_Q4_1: deq_q4_1(s, out); break;
    case WE_DTYPE_Q5_0: deq_q5_0(s, out); break;
    case WE_DTYPE_Q5_1: deq_q5_1(s, out); break;
    case WE_DTYPE_Q8_0: deq_q8_0(s, out); break;
    case WE_DTYPE_Q2_K: deq_q2_k(s, out); break;
    case WE_DTYPE_Q3_K: deq_q3_k(s, out); break;
    case WE_DTYPE_Q4_K: deq_q4_k(s, out); break;
    case WE_DTYPE_Q5_K: deq_q5_k(s, out); break;
    case WE_DTYPE_Q6_K: deq_q6_k(s, out); break;
    default: WE_ASSERT(!"not a float type");
    }
}

// -----------------------------------------------------------------------------------------
// Weights

bool we_weight_data_bytes(we_wtype type, we_layout layout, int64_t N, int64_t K, size_t *out) {
    if (N < 0 || K < 0 || N > INT32_MAX || K > INT32_MAX) return false;
    size_t n;
    if (!we_mul_size((size_t)N, (size_t)K, &n)) return false;
    switch (type) {
    case WE_WTYPE_F32:
        if (layout == WE_LAYOUT_PACKED) n = we_gemm_f32_packed_floats((int)N, (int)K);
        return we_mul_size(n, sizeof(float), out);
    case WE_WTYPE_F16:
        return we_mul_size(n, sizeof(uint16_t), out);
    case WE_WTYPE_Q8:
        *out = layout == WE_LAYOUT_PACKED ? we_gemm_q8_packed_bytes((int)N, (int)K) : n;
        return true;
    case WE_WTYPE_Q4:
        *out = we_gemm_q4_data_bytes((int)N, (int)K, layout == WE_LAYOUT_PACKED);
        return true;
    }
    return false;
}

size_t we_weight_scale_bytes(we_wtype type, we_layout layout, int64_t N, int64_t K) {
    if (type == WE_WTYPE_Q8) return (size_t)N * sizeof(float);
    if (type == WE_WTYPE_Q4) return we_gemm_q4_scale_floats((int)N, (int)K, layout == WE_LAYOUT_PACKED) * sizeof(float);
    return 0;
}

static size_t wdst_index(const we_weight *w, int64_t n, int64_t k) {
    if (w->layout == WE_LAYOUT_ROWS) return (size_t)n * (size_t)w->K + (size_t)k;
    if (w->type == WE_WTYPE_Q8) return we_gemm_q8_packed_index((int)n, (int)k, (int)w->N, (int)w->K);
    return we_gemm_f32_packed_index((int)n, (int)k, (int)w->N, (int)w->K);
}

float we_weight_get(const we_weight *w, int64_t n, int64_t k) {
    if (w->type == WE_WTYPE_Q4) {
        bool packed = w->layout == WE_LAYOUT_PACKED, high;
        uint8_t b = ((const uint8_t *)w->data)[we_gemm_q4_nibble((int)n, (int)k, (int)w->N, (int)w->K, packed, &high)];
        int q = (high ? b >> 4 : b & 15) - 8;
        return (float)q * w->scale[we_gemm_q4_scale_index((int)n, (int)k / WE_Q4_BLOCK, (int)w->N, (int)w->K, packed)];
    }
    size_t i = wdst_index(w, n, k);
    switch (w->type) {
    case WE_WTYPE_F32: return ((const float *)w->data)[i];
    case WE_WTYPE_F16: return we_f16_to_f32(((const uint16_t *)w->data)[i]);
    case WE_WTYPE_Q8: return (float)((const int8_t *)w->data)[i] * w->scale[n];
    case WE_WTYPE_Q4: break;   // above
    }
    return 0;
}

// -----------------------------------------------------------------------------------------
// Writer

wembed_status we_wwriter_init(we_wwriter *w, we_weight *dst, we_dtype src, uint64_t n_elems, we_err *err) {
    memset(w, 0, sizeof *w);
    w->dst = dst;
    w->src = src;
    w->n_elems = n_elems;
    const we_dtype_traits *tr = we_dtype_info(src);
    if (!tr || !we_dtype_nbytes(src, n_elems, &w->n_bytes))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%" PRIu64 " elements do not fill whole %s blocks",
                         n_elems, tr ? tr->name : "?");
    WE_ASSERT(tr->block_bytes <= sizeof w->carry);
    if (!dst) return WEMBED_STATUS_OK;
    if (!tr->is_weight)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "dtype %s cannot be a weight (F32, F16, BF16 or a GGML quantized type)",
                         tr->name);
    WE_ASSERT((uint64_t)dst->N * (uint64_t)dst->K == n_elems && dst->data);
    if (dst->type == WE_WTYPE_Q4) {
        size_t K = (size_t)dst->K, nb = (size_t)we_q4_blocks((int)dst->K);
        w->row = we_malloc(K * sizeof(float));
        w->qrow = we_malloc(nb * WE_Q4_BLOCK);
        w->qscale = we_malloc(nb * sizeof(float));
        if (!w->row || !w->qrow || !w->qscale) {
            we_wwriter_free(w);
            return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory (a row of %" PRId64 " floats)", dst->K);
        }
    }
    if (dst->type == WE_WTYPE_Q8) {
        size_t bytes;
        if (!we_mul_size((size_t)dst->K, sizeof(float), &bytes)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
        w->row = we_malloc(bytes);
        if (!w->row) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory (a row of %" PRId64 " floats)", dst->K);
        if (dst->layout == WE_LAYOUT_PACKED) {
            w->qrow = we_malloc((size_t)dst->K);
            if (!w->qrow) {
                we_wwriter_free(w);
                return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory (a row of %" PRId64 " bytes)", dst->K);
            }
        }
    }
    return WEMBED_STATUS_OK;
}

void we_wwriter_free(we_wwriter *w) {
    we_free(w->row);
    we_free(w->qrow);
    we_free(w->qscale);
    w->row = NULL;
    w->qrow = NULL;
    w->qscale = NULL;
}

// Stores x[0..n) as elements w->elem.. of the destination.
static void sink(we_wwriter *w, const float *x, size_t n) {
    we_weight *d = w->dst;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) w->n_nonfinite++;
    uint64_t e = w->elem;
    w->elem += n;
    if (d->type == WE_WTYPE_F32 && d->layout == WE_LAYOUT_ROWS) {
        memcpy((float *)d->data + e, x, n * sizeof(float));
        return;
    }
    if (d->type == WE_WTYPE_F16) {   // always row-major
        we_f32_to_f16_n((uint16_t *)d->data + e, x, n);
        return;
    }
    uint64_t K = (uint64_t)d->K;
    if (d->type == WE_WTYPE_F32) {   // packed: row by row, through the GEMM's own index function
        float *dst = d->data;
        int N_ = (int)d->N, K_ = (int)d->K;
        while (n > 0) {
            int r = (int)(e / K), k = (int)(e % K);
            size_t take = (size_t)WE_MIN((uint64_t)n, K - (uint64_t)k);
            for (size_t i = 0; i < take; i++) dst[we_gemm_f32_packed_index(r, k + (int)i, N_, K_)] = x[i];
            x += take;
            n -= take;
            e += take;
        }
        return;
    }
    // q8, q4: gather a row, quantize it when complete
    while (n > 0) {
        uint64_t r = e / K, k = e % K;
        size_t take = (size_t)WE_MIN((uint64_t)n, K - k);
        memcpy(w->row + k, x, take * sizeof(float));
        x += take;
        n -= take;
        e += take;
        if (k + take == K && d->type == WE_WTYPE_Q4) {
            we_quantize_row_q4(w->qrow, w->qscale, w->row, (int)K);
            we_gemm_q4_store_row(d->data, d->scale, (int)r, w->qrow, w->qscale, (int)d->N, (int)K,
                                 d->layout == WE_LAYOUT_PACKED);
        } else if (k + take == K) {
            int8_t *q = d->layout == WE_LAYOUT_ROWS ? (int8_t *)d->data + r * K : w->qrow;
            we_quantize_rows_q8(q, &d->scale[r], w->row, 1, (int)K);
            if (d->layout == WE_LAYOUT_PACKED) {
                we_gemm_q8_pack_row(d->data, (int)r, q, (int)d->N, (int)K);
            }
        }
    }
}

// Decodes nb whole blocks at p into the destination, a batch at a time.
static void decode_blocks(we_wwriter *w, const uint8_t *p, size_t nb) {
    const we_dtype_traits *tr = &g_traits[w->src];
    float buf[512];   // a multiple of every block size (1, 32, 256)
    size_t per = sizeof buf / sizeof buf[0] / tr->block_elems;
    while (nb > 0) {
        size_t take = WE_MIN(nb, per);
        if (w->src == WE_DTYPE_F32) {
            memcpy(buf, p, take * 4);   // little-endian hosts only (wasm, x86, arm)
        } else if (w->src == WE_DTYPE_F16) {
            uint16_t h[512];
            memcpy(h, p, take * 2);
            we_f16_to_f32_n(buf, h, take);
        } else if (w->src == WE_DTYPE_BF16) {
            uint16_t h[512];
            memcpy(h, p, take * 2);
            we_bf16_to_f32_n(buf, h, take);
        } else {
            for (size_t i = 0; i < take; i++) we_dtype_to_f32(w->src, p + i * tr->block_bytes, buf + i * tr->block_elems);
        }
        sink(w, buf, take * tr->block_elems);
        p += take * tr->block_bytes;
        nb -= take;
    }
}

size_t we_wwriter_write(we_wwriter *w, const uint8_t *p, size_t n) {
    uint64_t left = w->n_bytes - w->done_bytes;
    if ((uint64_t)n > left) n = (size_t)left;
    w->done_bytes += n;
    if (!w->dst || n == 0) return n;
    size_t used = 0;
    uint32_t bb = g_traits[w->src].block_bytes;
    if (w->n_carry) {   // complete the block split at the end of the previous chunk
        size_t take = WE_MIN((size_t)(bb - w->n_carry), n);
        memcpy(w->carry + w->n_carry, p, take);
        w->n_carry += (uint32_t)take;
        used += take;
        if (w->n_carry < bb) return n;
        decode_blocks(w, w->carry, 1);
        w->n_carry = 0;
    }
    size_t nb = (n - used) / bb;
    decode_blocks(w, p + used, nb);
    used += nb * bb;
    if (used < n) {
        memcpy(w->carry, p + used, n - used);
        w->n_carry = (uint32_t)(n - used);
    }
    return n;
}
