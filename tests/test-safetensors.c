// test-safetensors.c - the safetensors header validator (src/formats/safetensors.c) and the
// streaming weight writer (src/formats/tensor.c): accepted headers come out exactly, each
// defect gets its own status and message, and the writer produces the same weights whatever
// the chunking, for every source type and every destination type and layout.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/f16.h"
#include "formats/safetensors.h"
#include "formats/tensor.h"
#include "ops/ops.h"

// A file from a header text and a data size (data bytes zero).
static uint8_t *file_of(const char *header, size_t data_len, size_t *n) {
    size_t hl = strlen(header);
    *n = 8 + hl + data_len;
    uint8_t *f = calloc(1, *n);
    for (int i = 0; i < 8; i++) f[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(f + 8, header, hl);
    return f;
}

static wembed_status parse(const char *header, size_t data_len, we_arena *a, we_st_header *h, we_err *err) {
    size_t n;
    uint8_t *f = file_of(header, data_len, &n);
    uint64_t hl;
    wembed_status rc = we_st_read_len(f, n, &hl, err);
    if (!rc) rc = we_st_parse_header(a, (const char *)f + 8, hl, n, h, err);
    free(f);
    return rc;
}

static void expect_err(const char *header, size_t data_len, wembed_status want, const char *needle) {
    we_arena a;
    we_arena_init(&a, 0);
    we_st_header h;
    we_err err;
    err.msg[0] = 0;
    wembed_status rc = parse(header, data_len, &a, &h, &err);
    CHECKF(rc == want && strstr(err.msg, needle), "%s: %s \"%s\", want %s \"%s\"", header, wembed_status_str(rc), err.msg,
           wembed_status_str(want), needle);
    we_arena_free(&a);
}

static void test_headers(void) {
    we_arena a;
    we_arena_init(&a, 0);
    we_st_header h;
    we_err err;
    // Tensors in any JSON order come out sorted by offset; metadata; trailing spaces; every dtype.
    const char *hdr = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[16,28]},"
                      "\"__metadata__\":{\"format\":\"pt\",\"x\":\"\\u00e9\"},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                      "\"empty\":{\"dtype\":\"F16\",\"shape\":[0,5],\"data_offsets\":[28,28]},"
                      "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[28,36]},"
                      "\"ids\":{\"dtype\":\"I64\",\"shape\":[1,2],\"data_offsets\":[36,52]},"
                      "\"q\":{\"dtype\":\"F8_E4M3\",\"shape\":[3],\"data_offsets\":[52,55]},"
                      "\"m\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[55,56]}}     ";
    CHECKF(parse(hdr, 56, &a, &h, &err) == WEMBED_STATUS_OK, "%s", err.msg);
    CHECK(h.n_tensors == 7 && h.header_len == strlen(hdr) && h.data_start == 8 + strlen(hdr) && h.data_len == 56);
    CHECK(strcmp(h.tensors[0].name, "a") == 0 && strcmp(h.tensors[1].name, "b") == 0 && h.tensors[1].dtype == WE_DTYPE_BF16);
    CHECK(h.tensors[1].n_dims == 2 && h.tensors[1].shape[1] == 3 && h.tensors[1].n_elems == 6);
    const we_st_tensor *t = we_st_find(&h, "empty");
    CHECK(t && t->n_elems == 0 && t->begin == 28 && t->end == 28);
    t = we_st_find(&h, "s");
    CHECK(t && t->n_dims == 0 && t->n_elems == 1 && t->dtype == WE_DTYPE_F64);
    CHECK(we_st_find(&h, "ids")->dtype == WE_DTYPE_I64 && we_st_find(&h, "q")->dtype == WE_DTYPE_F8_E4M3 && we_st_find(&h, "nope") == NULL);
    CHECK(we_json_str_eq(we_json_get(h.metadata, "x"), "\xC3\xA9"));
    CHECK(parse("{}", 0, &a, &h, &err) == WEMBED_STATUS_OK && h.n_tensors == 0 && h.metadata == NULL);
    we_arena_free(&a);

    // Lengths
    uint8_t b8[8] = {0};
    uint64_t hl;
    CHECK(we_st_read_len(b8, 7, &hl, &err) == WEMBED_STATUS_BAD_FORMAT && strstr(err.msg, "7 bytes, too short"));
    b8[0] = 10;
    CHECK(we_st_read_len(b8, 17, &hl, &err) == WEMBED_STATUS_BAD_FORMAT && strstr(err.msg, "header length 10 runs past the end of the file (9 bytes"));
    CHECK(we_st_read_len(b8, 18, &hl, &err) == WEMBED_STATUS_OK && hl == 10);
    b8[0] = 0; b8[3] = 0x80;   // 2 GiB
    CHECK(we_st_read_len(b8, 1000, &hl, &err) == WEMBED_STATUS_LIMIT && strstr(err.msg, "2147483648 is over the limit of 100000000"));
    memset(b8, 0xff, 8);
    CHECK(we_st_read_len(b8, 1000, &hl, &err) == WEMBED_STATUS_LIMIT && hl == UINT64_MAX);
    memset(b8, 0, 8);
    b8[0] = 1;
    CHECK(we_st_read_len(b8, 9, &hl, &err) == WEMBED_STATUS_BAD_FORMAT && strstr(err.msg, "too short for a JSON object"));

    // Defects
    expect_err("[1,2]", 0, WEMBED_STATUS_BAD_FORMAT, "does not start with '{'");
    expect_err("{\"a\":1}", 0, WEMBED_STATUS_BAD_FORMAT, "tensor \"a\": the header entry is not an object");
    expect_err("{\"a\":{}", 0, WEMBED_STATUS_BAD_FORMAT, "safetensors header: JSON 1:8: unexpected end of input");
    expect_err("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "missing or non-string \"dtype\"");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "missing or non-array \"shape\"");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, WEMBED_STATUS_BAD_FORMAT, "must be [begin, end]");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, WEMBED_STATUS_BAD_FORMAT, "not non-negative integers");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, WEMBED_STATUS_BAD_FORMAT, "end before they begin");
    expect_err("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_UNSUPPORTED, "unknown dtype \"Q4\"");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "shape entry 0 is not a non-negative integer");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,-1],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "shape entry 1");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_LIMIT, "9 dimensions (at most 8)");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "overflows");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "overflows");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "hold 4 bytes, but F32 [2] needs 8");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
               WEMBED_STATUS_BAD_FORMAT, "tensors \"a\" [0, 8) and \"b\" [4, 12) overlap");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20,
               WEMBED_STATUS_BAD_FORMAT, "4 bytes at offset 8 belong to no tensor (before \"b\")");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 12,
               WEMBED_STATUS_BAD_FORMAT, "the file is truncated: its header describes 16 bytes of tensor data, but only 12 follow");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[800,808]}}", 16,
               WEMBED_STATUS_BAD_FORMAT, "tensor \"b\": data_offsets [800, 808) are out of range (the data section has 16 bytes)");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, WEMBED_STATUS_BAD_FORMAT, "4 bytes after the last tensor");
    expect_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16,
               WEMBED_STATUS_BAD_FORMAT, "duplicate key \"a\"");
    expect_err("{\"__metadata__\":[1]}", 0, WEMBED_STATUS_BAD_FORMAT, "\"__metadata__\" is not an object");
    expect_err("{\"__metadata__\":{\"k\":null}}", 0, WEMBED_STATUS_BAD_FORMAT, "\"__metadata__\" value \"k\" is not a string");
    expect_err("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, WEMBED_STATUS_BAD_FORMAT, "NUL character");
    CHECK_EQ_INT(we_alloc_live(), 0);
}

// -----------------------------------------------------------------------------------------
// The writer

static void encode(we_dtype t, const float *x, size_t n, uint8_t *out) {
    for (size_t i = 0; i < n; i++) {
        switch (t) {
        case WE_DTYPE_F32: memcpy(out + 4 * i, &x[i], 4); break;
        case WE_DTYPE_F16: { uint16_t h = we_f32_to_f16(x[i]); memcpy(out + 2 * i, &h, 2); break; }
        case WE_DTYPE_BF16: { uint16_t h = we_f32_to_bf16(x[i]); memcpy(out + 2 * i, &h, 2); break; }
        case WE_DTYPE_F64: { double d = x[i]; memcpy(out + 8 * i, &d, 8); break; }
        default: break;
        }
    }
}

static float rounded(we_dtype t, float v) {
    if (t == WE_DTYPE_F16) return we_f16_to_f32(we_f32_to_f16(v));
    if (t == WE_DTYPE_BF16) return we_bf16_to_f32(we_f32_to_bf16(v));
    return v;
}

static void test_writer(void) {
    we_rng rng = {42};
    enum { N = 13, K = 37 };   // odd sizes: packed padding in both dimensions
    static float x[N * K];
    for (int i = 0; i < N * K; i++) x[i] = we_rng_normal(&rng);
    x[5] = NAN;
    x[77] = INFINITY;
    static const we_dtype srcs[] = {WE_DTYPE_F32, WE_DTYPE_F16, WE_DTYPE_BF16, WE_DTYPE_F64};
    static const size_t chunks[] = {1, 3, 5, 64, 100000};
    for (size_t si = 0; si < WE_ARRAY_LEN(srcs); si++) {
        uint8_t src[N * K * 8];
        encode(srcs[si], x, N * K, src);
        size_t nbytes = (size_t)N * K * we_dtype_info(srcs[si])->block_bytes;
        for (int ty = 0; ty < 3; ty++)
            for (int lay = 0; lay < 2; lay++) {
                if (ty == WE_WTYPE_F16 && lay == 1) continue;   // f16 is always row-major
                float *ref_rows = NULL;
                for (size_t ci = 0; ci < WE_ARRAY_LEN(chunks); ci++) {
                    we_weight w;
                    memset(&w, 0, sizeof w);
                    w.type = (we_wtype)ty;
                    w.layout = lay ? WE_LAYOUT_PACKED : WE_LAYOUT_ROWS;
                    w.N = N;
                    w.K = K;
                    size_t db;
                    CHECK(we_weight_data_bytes(w.type, w.layout, N, K, &db));
                    w.data = calloc(1, db);
                    float scale[N];
                    w.scale = ty == WE_WTYPE_Q8 ? scale : NULL;
                    we_wwriter wr;
                    we_err err;
                    CHECK(we_wwriter_init(&wr, &w, srcs[si], N * K, &err) == WEMBED_STATUS_OK);
                    for (size_t off = 0; off < nbytes; off += chunks[ci]) {
                        size_t used = we_wwriter_write(&wr, src + off, WE_MIN(chunks[ci], nbytes - off));
                        CHECK(used == WE_MIN(chunks[ci], nbytes - off));
                    }
                    CHECK(we_wwriter_done(&wr) && wr.elem == (uint64_t)N * K && wr.n_nonfinite == 2);
                    CHECK(we_wwriter_write(&wr, src, 10) == 0);   // nothing more is taken
                    we_wwriter_free(&wr);
                    // Row-major value of every element, compared across chunkings and layouts.
                    int bad = 0;
                    if (!ref_rows) ref_rows = malloc(sizeof(float) * N * K);
                    for (int n = 0; n < N; n++)
                        for (int k = 0; k < K; k++) {
                            float got = we_weight_get(&w, n, k), want = rounded(srcs[si], x[n * K + k]);
                            if (ty == WE_WTYPE_F16) want = we_f16_to_f32(we_f32_to_f16(want));
                            if (ty == WE_WTYPE_Q8) {
                                // rows 0 and 2 hold a NaN / an Inf: scale NaN, everything NaN
                                if (n == 0 || n == 2) { bad += !isnan(got); continue; }
                                float ref_q;
                                int8_t q[K];
                                float s;
                                float row[K];
                                for (int kk = 0; kk < K; kk++) row[kk] = rounded(srcs[si], x[n * K + kk]);
                                we_quantize_rows_q8(q, &s, row, 1, K);
                                ref_q = (float)q[k] * s;
                                bad += got != ref_q;
                                continue;
                            }
                            bad += !(got == want || (isnan(got) && isnan(want)));
                        }
                    CHECKF(bad == 0, "writer %s -> type %d layout %d chunk %zu: %d values wrong", we_dtype_info(srcs[si])->name, ty, lay,
                           chunks[ci], bad);
                    free(w.data);
                }
                free(ref_rows);
            }
    }
    // A skipping writer takes any type, a weight writer refuses integers and partial blocks.
    we_wwriter wr;
    we_err err;
    CHECK(we_wwriter_init(&wr, NULL, WE_DTYPE_I64, 10, &err) == WEMBED_STATUS_OK && wr.n_bytes == 80);
    CHECK(we_wwriter_write(&wr, (const uint8_t *)"0123456789", 10) == 10 && !we_wwriter_done(&wr));
    we_weight w;
    memset(&w, 0, sizeof w);
    w.N = 1; w.K = 10; w.data = &w;
    CHECK(we_wwriter_init(&wr, &w, WE_DTYPE_I32, 10, &err) == WEMBED_STATUS_UNSUPPORTED && strstr(err.msg, "dtype I32 cannot be a weight"));
    CHECK(we_wwriter_init(&wr, NULL, WE_DTYPE_Q8_0, 33, &err) == WEMBED_STATUS_BAD_FORMAT && strstr(err.msg, "do not fill whole Q8_0 blocks"));

    // Plain decoders
    float f;
    uint8_t b = 0x38;   // E4M3: 0.0111.000 = 1.0
    we_dtype_to_f32(WE_DTYPE_F8_E4M3, &b, &f);
    CHECK(f == 1.0f);
    b = 0xFE;           // -1.75 * 2^8
    we_dtype_to_f32(WE_DTYPE_F8_E4M3, &b, &f);
    CHECK(f == -448.0f);
    b = 0x7F;
    we_dtype_to_f32(WE_DTYPE_F8_E4M3, &b, &f);
    CHECK(isnan(f));
    b = 0x01;           // smallest subnormal 2^-9
    we_dtype_to_f32(WE_DTYPE_F8_E4M3, &b, &f);
    CHECK(f == 0x1p-9f);
    b = 0x3C;           // E5M2 1.0
    we_dtype_to_f32(WE_DTYPE_F8_E5M2, &b, &f);
    CHECK(f == 1.0f);
    uint64_t nb;
    CHECK(we_dtype_nbytes(WE_DTYPE_Q4_K, 512, &nb) && nb == 288 && !we_dtype_nbytes(WE_DTYPE_Q4_K, 100, &nb));
    CHECK(!we_dtype_nbytes(WE_DTYPE_F64, UINT64_MAX / 4, &nb) && we_dtype_info((we_dtype)99) == NULL);
    CHECK_EQ_INT(we_alloc_live(), 0);
}

int main(void) {
    test_headers();
    test_writer();
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-safetensors");
}
