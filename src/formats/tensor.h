// tensor.h - the element types found in model files, the engine's weight tensors, and the
// streaming writer that turns bytes of a file's tensor into an engine-owned weight.
//
// Files (safetensors, GGUF) store tensors as F32, F16, BF16 or block-quantized GGML types;
// the engine keeps each weight as f32, f16 or q8 (int8 with one f32 scale per row, the rule
// of we_quantize_rows_q8 in ops.h), in row-major order or in the GEMM's packed layout. The
// writer converts element by element as chunks arrive: an element or quantization block may
// straddle two chunks (a few bytes are carried over), and a q8 destination buffers one row
// of floats to find its scale. Nothing else is buffered, so loading needs the final weight
// memory plus one chunk plus one row.
//
// Not: a tensor library. No arithmetic here beyond conversion.
#ifndef WE_TENSOR_H
#define WE_TENSOR_H

#include "../core/common.h"

// -----------------------------------------------------------------------------------------
// Element types of model files. Values are internal (not the GGML or safetensors codes).

typedef enum we_dtype {
    WE_DTYPE_F32 = 0,
    WE_DTYPE_F16,
    WE_DTYPE_BF16,
    WE_DTYPE_F64,
    WE_DTYPE_F8_E4M3,
    WE_DTYPE_F8_E5M2,
    WE_DTYPE_BOOL,
    WE_DTYPE_U8,
    WE_DTYPE_I8,
    WE_DTYPE_U16,
    WE_DTYPE_I16,
    WE_DTYPE_U32,
    WE_DTYPE_I32,
    WE_DTYPE_U64,
    WE_DTYPE_I64,
    // GGML block types (ggml-common.h layouts)
    WE_DTYPE_Q4_0,
    WE_DTYPE_Q4_1,
    WE_DTYPE_Q5_0,
    WE_DTYPE_Q5_1,
    WE_DTYPE_Q8_0,
    WE_DTYPE_Q2_K,
    WE_DTYPE_Q3_K,
    WE_DTYPE_Q4_K,
    WE_DTYPE_Q5_K,
    WE_DTYPE_Q6_K,
    WE_DTYPE_COUNT
} we_dtype;

typedef struct we_dtype_traits {
    const char *name;         // "F32", "BF16", "Q4_0", ... (safetensors / GGML spelling)
    uint32_t block_elems;     // elements per block (1 for plain types)
    uint32_t block_bytes;     // bytes per block
    bool is_weight;           // can be converted to a float weight
} we_dtype_traits;

const we_dtype_traits *we_dtype_info(we_dtype t);

// Bytes of n elements of type t (n must be a multiple of the block size); false on overflow
// or a partial block.
bool we_dtype_nbytes(we_dtype t, uint64_t n, uint64_t *out);

// Dequantizes one block of a block type (or one element of a plain float type) into
// out[0..block_elems). Plain types: exactly as the f16.h conversions; F64 rounds to nearest.
void we_dtype_to_f32(we_dtype t, const uint8_t *src, float *out);

// -----------------------------------------------------------------------------------------
// Engine weights

typedef enum we_wtype {
    WE_WTYPE_F32 = 0,
    WE_WTYPE_F16,     // IEEE half, converted to float where used
    WE_WTYPE_Q8,      // int8 with one float scale per row (ops.h: we_quantize_rows_q8)
    WE_WTYPE_Q4,      // 4-bit blocks of 32 with a float scale each (ops.h: we_quantize_row_q4)
} we_wtype;

typedef enum we_layout {
    WE_LAYOUT_ROWS = 0,   // row-major (N, K): element (n, k) at n*K + k
    WE_LAYOUT_PACKED,     // the GEMM's packed panels: we_gemm_{f32,q8}_packed_index(n, k, N, K),
                          // we_gemm_q4_nibble(..., packed)
} we_layout;

// One weight tensor. Shapes are in the files' torch order: a Linear weight is (N = out, K = in),
// an embedding table (rows, dim), a vector (n), a conv kernel (out, in, h, w) viewed as
// (out, in*h*w). The last dimension is K, the product of the others N.
typedef struct we_weight {
    we_wtype type;
    we_layout layout;         // PACKED only for 2-D f32/q8/q4 matmul weights
    int32_t n_dims;           // 0 (scalar) to 4
    int64_t ne[4];            // torch order, ne[n_dims-1] innermost
    int64_t N, K;             // rows and row length (K = ne[n_dims-1], or 1 for a scalar)
    void *data;               // f32, uint16 (f16), int8 elements or q4 nibbles, per layout; NULL: absent
    float *scale;             // q8: (N) per-row scales; q4: per block (we_gemm_q4_scale_index); else NULL
    size_t nbytes;            // bytes of data + scale
    const char *name;         // the engine (HF) name, owned by the model
} we_weight;

// Element (n, k) as a float, whatever the type and layout (slow: for tests and tools).
float we_weight_get(const we_weight *w, int64_t n, int64_t k);

// Bytes the data (without scales) of a (N, K) weight of this type and layout takes, and the
// bytes of its scales.
bool we_weight_data_bytes(we_wtype type, we_layout layout, int64_t N, int64_t K, size_t *out);
size_t we_weight_scale_bytes(we_wtype type, we_layout layout, int64_t N, int64_t K);

// -----------------------------------------------------------------------------------------
// Streaming writer: bytes of one tensor of a file, in file order, into a we_weight whose
// type, layout, shape and buffers are already set (data zeroed where the layout pads).
// A writer with dst NULL consumes and drops the bytes (tensors the model does not use).

typedef struct we_wwriter {
    we_weight *dst;           // NULL: skip
    we_dtype src;
    uint64_t n_elems;         // elements of the source tensor
    uint64_t n_bytes;         // bytes of the source tensor
    uint64_t done_bytes;      // bytes consumed so far
    uint64_t elem;            // next element to produce
    uint8_t carry[512];       // (block_bytes) a block split across chunks
    uint32_t n_carry;
    float *row;               // q8, q4: (K) the row being gathered; else NULL
    int8_t *qrow;             // q8 + packed, q4: the quantized row before scattering
    float *qscale;            // q4: the row's block scales
    uint64_t n_nonfinite;     // NaN / Inf values seen (reported as a warning)
} we_wwriter;

// Prepares w for a source of n_elems elements of type src into dst (NULL: skip). Allocates
// the q8 row buffers (WEMBED_STATUS_ALLOC_FAILED) and checks that the sizes agree.
wembed_status we_wwriter_init(we_wwriter *w, we_weight *dst, we_dtype src, uint64_t n_elems, we_err *err);
// Consumes n bytes (at most what the tensor has left); returns the bytes used.
size_t we_wwriter_write(we_wwriter *w, const uint8_t *p, size_t n);
static inline bool we_wwriter_done(const we_wwriter *w) { return w->done_bytes == w->n_bytes; }
void we_wwriter_free(we_wwriter *w);

#endif // WE_TENSOR_H
