// search.h - a flat vector index: exact top-k by cosine or dot product over every stored
// vector, with two compact storages (int8 codes with a scale per vector; sign bits searched by
// Hamming distance, then the best candidates rescored). Used by the JS `Index` (js/vector-index.js)
// through the wasm seam; the native build runs the same code for the C tests.
//
//   we_vindex *vi = NULL;
//   we_vindex_new(384, WE_VI_COSINE, WE_VI_BINARY, WE_VI_RESCORE_INT8, &vi);
//   we_vindex_add(vi, vectors, n);                          // (n, 384) floats, copied in
//   we_vindex_search(vi, pool, query, 1, 10, 100, NULL, slots, scores, &found);
//   we_vindex_free(vi);
//
// What it is not: not an approximate graph or IVF index (every query reads every stored row,
// which the SIMD kernels make fast enough for hundreds of thousands of vectors), and it knows
// nothing of ids or metadata: rows are slots 0..n-1, removal moves the last row into the hole,
// and the caller keeps the slot <-> id map (js/vector-index.js does).
//
// Results are deterministic: candidates are ordered by (score descending, slot ascending), a
// total order, and every score is computed by the same instructions whatever the thread count,
// so a ranking never depends on the pool.
//
// Internal header (names we_*); the seam exports it as wembed__vindex_* (wasm/wembed_wasm.c).
#ifndef WE_SEARCH_H
#define WE_SEARCH_H

#include "../core/common.h"

typedef enum we_vi_metric {
    WE_VI_COSINE = 0,        // vectors and queries are L2-normalized on the way in
    WE_VI_DOT = 1,           // raw inner product
} we_vi_metric;

typedef enum we_vi_storage {
    WE_VI_F32 = 0,           // 4 bytes per dimension: exact scores
    WE_VI_INT8 = 1,          // 1 byte per dimension + a float scale per vector; the query is
                             // quantized the same way and scored with an integer dot product
    WE_VI_BINARY = 2,        // 1 bit per dimension (v > 0, MSB first, as WEMBED_OUTPUT_BINARY);
                             // Hamming search for candidates, then a rescoring tier (below)
} we_vi_storage;

typedef enum we_vi_rescore {     // what the candidates of a BINARY index are rescored with
    WE_VI_RESCORE_BITS = 0,      // the float query against the +-1 vector of the bits: no extra
                                 // memory; score = q . s / sqrt(dims)
    WE_VI_RESCORE_INT8 = 1,      // int8 codes kept beside the bits (+1 byte per dimension)
    WE_VI_RESCORE_F32 = 2,       // the float vectors kept beside the bits: exact scores
} we_vi_rescore;

enum {
    WE_VI_MAX_DIMS = 65536,      // int8 dot products stay exact in int32 up to here
    WE_VI_MAX_K = 100000,        // results (and candidates) per query
    WE_VI_MAX_QUERIES = 4096,    // queries per search call
};

typedef struct we_vindex we_vindex;

// A new empty index, or WEMBED_STATUS_INVALID_ARGUMENT / ALLOC_FAILED. rescore is ignored
// unless storage is BINARY. Owned by the caller: we_vindex_free.
wembed_status we_vindex_new(int32_t dims, we_vi_metric metric, we_vi_storage storage, we_vi_rescore rescore,
                            we_vindex **out);
void we_vindex_free(we_vindex *vi);                          // NULL is a no-op
// The message of the last failed call on this index ("" if none). Owned by the index.
const char *we_vindex_last_error(const we_vindex *vi);

int32_t we_vindex_count(const we_vindex *vi);
int32_t we_vindex_dims(const we_vindex *vi);
// Bytes the stored rows take (count * bytes per row over all tiers); the allocation may be
// larger (capacity).
double we_vindex_bytes(const we_vindex *vi);

// Room for n rows in total, so that adding them allocates nothing more.
wembed_status we_vindex_reserve(we_vindex *vi, int32_t n);
// Appends n rows x (n, dims) as slots count..count+n-1. Every value must be finite (else
// nothing is added). The rows are copied (normalized for cosine, then quantized as the
// storage says).
wembed_status we_vindex_add(we_vindex *vi, const float *x, int32_t n);
// Removes slot: the last row moves into it. *moved_from gets the old slot of the row that
// moved (count - 1 before the call), or -1 when slot was the last one.
wembed_status we_vindex_remove(we_vindex *vi, int32_t slot, int32_t *moved_from);
// The row at slot as floats (dims): the stored floats, else decoded int8 codes, else the +-1
// signs (scaled by 1 / sqrt(dims) for cosine).
wembed_status we_vindex_get(we_vindex *vi, int32_t slot, float *out);

// Top k of nq queries q (nq, dims). allow: NULL, or one byte per slot (0 = skip the row: a
// filter). candidates: rows kept from the Hamming pass of a BINARY index before rescoring
// (raised to k; ignored otherwise). Per query i: slots[i*k + j] and scores[i*k + j] for
// j < found[i] (found[i] < k only when fewer rows are allowed), best first. pool may be NULL.
wembed_status we_vindex_search(we_vindex *vi, wembed_pool *pool, const float *q, int32_t nq, int32_t k,
                               int32_t candidates, const uint8_t *allow, int32_t *slots, float *scores,
                               int32_t *found);

// The raw tiers, for saving and loading an index as bytes. A tier that the index does not
// keep is NULL. f32: (count, dims) floats; i8: (count, dims) codes and scales: (count) floats
// (code * scale = the normalized value); bits: (count, (dims + 7) / 8) bytes. Owned by the
// index; valid until the next call that changes it.
typedef enum we_vi_tier { WE_VI_TIER_F32 = 0, WE_VI_TIER_I8 = 1, WE_VI_TIER_SCALES = 2, WE_VI_TIER_BITS = 3 } we_vi_tier;
const void *we_vindex_tier(const we_vindex *vi, we_vi_tier tier);
// Appends n rows given as raw tiers (each one the index keeps must be given, the others must
// be NULL): what we_vindex_tier returned. Scales must be finite and >= 0, floats finite, and the
// rows as encoding writes them (a cosine row of norm 1 or 0; int8 codes peaking at +-127, or all
// 0 with scale 0): anything else is WEMBED_STATUS_BAD_FORMAT. Bits past dims are cleared. Nothing
// is added on failure.
wembed_status we_vindex_append_raw(we_vindex *vi, int32_t n, const float *f32, const int8_t *i8,
                                   const float *scales, const uint8_t *bits);

// -----------------------------------------------------------------------------------------
// Kernels (search_kernels.c): nr <= 4 rows at r, r + ld, r + 2 ld, ... against one query.
// `_ref` versions are the scalar definition; the SIMD ones give bit-identical results (the
// float reference sums in the same lane order as the vector code).

void we_search_dot_f32_ref(const float *q, const float *r, size_t ld, int nr, int d, float *out);
void we_search_dot_i8_ref(const int8_t *q, const int8_t *r, size_t ld, int nr, int d, int32_t *out);
void we_search_hamming_ref(const uint8_t *q, const uint8_t *r, size_t ld, int nr, int nbytes, int32_t *out);
// sum over i < d of (bit i of bits set ? q[i] : -q[i]), bits MSB first: the float query against
// the +-1 vector of a binary row.
float we_search_signed_sum_ref(const float *q, const uint8_t *bits, int d);
#if defined(WEMBED_SIMD)
void we_search_dot_f32(const float *q, const float *r, size_t ld, int nr, int d, float *out);
void we_search_dot_i8(const int8_t *q, const int8_t *r, size_t ld, int nr, int d, int32_t *out);
void we_search_hamming(const uint8_t *q, const uint8_t *r, size_t ld, int nr, int nbytes, int32_t *out);
float we_search_signed_sum(const float *q, const uint8_t *bits, int d);
#else
#define we_search_dot_f32 we_search_dot_f32_ref
#define we_search_dot_i8 we_search_dot_i8_ref
#define we_search_hamming we_search_hamming_ref
#define we_search_signed_sum we_search_signed_sum_ref
#endif
// "simd128", "simd128 via SIMDe" or "scalar". Static string.
const char *we_search_impl(void);

#endif // WE_SEARCH_H
