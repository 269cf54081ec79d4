// pack.c - what both kernel sets share: names, the activation dispatch (we_act_apply), the
// packed weight layouts (through the index functions in ops.h, so the loader's streaming
// path and these packers cannot disagree), and the int8 GEMM's scratch size.
#include "ops.h"

#include <string.h>

const char *we_act_name(we_act act) {
    switch (act) {
    case WE_ACT_NONE: return "none";
    case WE_ACT_GELU: return "gelu";
    case WE_ACT_GELU_QUICK: return "gelu_quick";
    case WE_ACT_SILU: return "silu";
    case WE_ACT_GELU_TANH: return "gelu_tanh";
    }
    return "?";
}

void we_act_apply(wembed_pool *pool, float *y, const float *x, size_t n, we_act act) {
    switch (act) {
    case WE_ACT_NONE: if (y != x && n > 0) memmove(y, x, n * sizeof(float)); return;
    case WE_ACT_GELU: we_gelu(pool, y, x, n); return;
    case WE_ACT_GELU_QUICK: we_gelu_quick(pool, y, x, n); return;
    case WE_ACT_SILU: we_silu(pool, y, x, n); return;
    case WE_ACT_GELU_TANH: we_gelu_tanh(pool, y, x, n); return;
    }
}

#if !defined(WEMBED_SIMD)
const char *we_ops_impl(void) { return "scalar"; }
#endif

// -----------------------------------------------------------------------------------------
// f32

size_t we_gemm_f32_packed_floats(int N, int K) {
    size_t panels = ((size_t)N + WE_GEMM_NR - 1) / WE_GEMM_NR;
    return panels * WE_GEMM_NR * (size_t)K;
}

void we_gemm_f32_pack(float *dst, const float *W, int N, int K) {
    memset(dst, 0, we_gemm_f32_packed_floats(N, K) * sizeof(float));
    for (int n = 0; n < N; n++) {
        const float *w = W + (size_t)n * K;            // (K)
        for (int k = 0; k < K; k++) dst[we_gemm_f32_packed_index(n, k, N, K)] = w[k];
    }
}

// -----------------------------------------------------------------------------------------
// int8

#if !defined(WEMBED_SIMD)
we_q8_kernel we_gemm_q8_kernel(void) { return WE_Q8_KERNEL_I16; }
bool we_gemm_q8_use_kernel(we_q8_kernel k) { return k == WE_Q8_KERNEL_I16; }
we_f32_kernel we_gemm_f32_kernel(void) { return WE_F32_KERNEL_SIMD128; }
bool we_gemm_f32_use_kernel(we_f32_kernel k) { return k == WE_F32_KERNEL_SIMD128; }
#endif

const char *we_gemm_f32_kernel_name(we_f32_kernel k) {
    switch (k) {
    case WE_F32_KERNEL_SIMD128: return "simd128";
    case WE_F32_KERNEL_AVX2: return "avx2-fma";
    case WE_F32_KERNEL_AVX512: return "avx512";
    case WE_F32_KERNEL_NEON: return "neon";
    }
    return "?";
}

const char *we_gemm_q8_kernel_name(we_q8_kernel k) {
    switch (k) {
    case WE_Q8_KERNEL_I16: return "i16";
    case WE_Q8_KERNEL_DOT_U8: return "relaxed-dot-u8";
    case WE_Q8_KERNEL_DOT_S8: return "relaxed-dot-s8";
    case WE_Q8_KERNEL_AVX2: return "avx2-maddubs";
    case WE_Q8_KERNEL_AVX_VNNI: return "avx-vnni";
    case WE_Q8_KERNEL_AVX512_VNNI: return "avx512-vnni";
    case WE_Q8_KERNEL_NEON_SDOT: return "neon-sdot";
    case WE_Q8_KERNEL_NEON_SMULL: return "neon-smull";
    }
    return "?";
}

// Panels of 8 channels, times pairs (i16 kernel) or quads (dot kernels) of k, as
// we_gemm_q8_packed_index lays them out.
static size_t q8_kgroup(void) {
#if defined(WEMBED_SIMD)
    return we_gemm_q8_kernel() == WE_Q8_KERNEL_I16 ? 2 : 4;
#else
    return 1;
#endif
}

size_t we_gemm_q8_sums_offset(int N, int K) {
#if defined(WEMBED_SIMD)
    size_t g = q8_kgroup();
    size_t panels = ((size_t)N + 7) / 8;
    size_t groups = ((size_t)K + g - 1) / g;
    return panels * groups * 8 * g;
#else
    return (size_t)N * (size_t)K;
#endif
}

size_t we_gemm_q8_packed_bytes(int N, int K) {
    size_t sums = q8_kgroup() == 4 ? ((size_t)N + 7) / 8 * 8 * sizeof(int32_t) : 0;
    return we_gemm_q8_sums_offset(N, K) + sums;
}

size_t we_gemm_q8_padding_start(int N, int K) {
#if defined(WEMBED_SIMD)
    if ((size_t)K % q8_kgroup()) return 0;      // every group of k in every panel has some
    return we_gemm_q8_packed_index(N / 8 * 8, 0, N, K);   // the last, partial panel
#else
    (void)K;
    return (size_t)N * (size_t)K;
#endif
}

void we_gemm_q8_pack_row(int8_t *dst, int n, const int8_t *wq_row, int N, int K) {
    size_t base = we_gemm_q8_packed_index(n, 0, N, K);
#if defined(WEMBED_SIMD)
    // k steps through the layout in groups: within one, bytes are consecutive; from one to
    // the next, the index advances by a whole group of the panel (8 channels).
    size_t g = q8_kgroup();
    for (int k = 0; k < K; k++) dst[base + (size_t)k / g * 8 * g + (size_t)k % g] = wq_row[k];
    if (g == 4) {   // the dot kernel's correction for channel n
        int32_t sum = 0;
        for (int k = 0; k < K; k++) sum += wq_row[k];
        sum *= 128;
        memcpy(dst + we_gemm_q8_sums_offset(N, K) + (size_t)n * sizeof sum, &sum, sizeof sum);
    }
#else
    memcpy(dst + base, wq_row, (size_t)K);
#endif
}

void we_gemm_q8_pack(int8_t *dst, const int8_t *Wq, int N, int K) {
    memset(dst, 0, we_gemm_q8_packed_bytes(N, K));
    for (int n = 0; n < N; n++) we_gemm_q8_pack_row(dst, n, Wq + (size_t)n * K, N, K);
}

// Scratch: sx (T floats, rounded up to 16 bytes), then the quantized activations: int16
// rows of K rounded up to 8 for the SIMD kernel (int8 rows of K for the reference, which
// fit in the same space), plus 16 bytes to align the start.
size_t we_gemm_q8_scratch_bytes(int T, int K) {
    size_t sx = ((size_t)T * sizeof(float) + 15) & ~(size_t)15;
    size_t kq = ((size_t)K + 7) & ~(size_t)7;
    return 16 + sx + (size_t)T * kq * sizeof(int16_t);
}

// -----------------------------------------------------------------------------------------
// 4-bit: the two layouts of ops.h, through these two index functions only.

#if !defined(WEMBED_SIMD)
bool we_gemm_q4_uses_dot(void) { return false; }
void we_gemm_q4_allow_dot(bool allow) { (void)allow; }
#endif

size_t we_gemm_q4_data_bytes(int N, int K, bool packed) {
    size_t nb = (size_t)we_q4_blocks(K);
    size_t rows = packed ? ((size_t)N + 7) / 8 * 8 : (size_t)N;
    return rows * nb * (WE_Q4_BLOCK / 2);
}

size_t we_gemm_q4_scale_floats(int N, int K, bool packed) {
    size_t rows = packed ? ((size_t)N + 7) / 8 * 8 : (size_t)N;
    return rows * (size_t)we_q4_blocks(K);
}

size_t we_gemm_q4_nibble(int n, int k, int N, int K, bool packed, bool *high) {
    (void)N;
    if (!packed) {
        *high = k % WE_Q4_BLOCK >= WE_Q4_BLOCK / 2;
        return ((size_t)n * (size_t)we_q4_blocks(K) + (size_t)(k / WE_Q4_BLOCK)) * (WE_Q4_BLOCK / 2) +
               (size_t)(k % (WE_Q4_BLOCK / 2));
    }
    size_t quads = (size_t)we_q4_blocks(K) * (WE_Q4_BLOCK / 4);   // groups of 4 k in a panel
    *high = n % 8 >= 4;
    return ((size_t)(n / 8) * quads + (size_t)(k / 4)) * 16 + (size_t)(n % 4) * 4 + (size_t)(k % 4);
}

size_t we_gemm_q4_scale_index(int n, int blk, int N, int K, bool packed) {
    (void)N;
    size_t nb = (size_t)we_q4_blocks(K);
    if (!packed) return (size_t)n * nb + (size_t)blk;
    return ((size_t)(n / 8) * nb + (size_t)blk) * 8 + (size_t)(n % 8);
}

void we_gemm_q4_store_row(uint8_t *dst, float *dscale, int n, const int8_t *q, const float *d,
                          int N, int K, bool packed) {
    for (int k = 0; k < K; k++) {
        bool high;
        uint8_t *b = dst + we_gemm_q4_nibble(n, k, N, K, packed, &high);
        uint8_t v = (uint8_t)(q[k] + 8);
        *b = high ? (uint8_t)((*b & 0x0F) | (v << 4)) : (uint8_t)((*b & 0xF0) | v);
    }
    // padding k (K up to the block): q = 0, stored as 8, so that the nibbles mean q + 8 throughout
    for (int k = K; k < we_q4_blocks(K) * WE_Q4_BLOCK; k++) {
        bool high;
        uint8_t *b = dst + we_gemm_q4_nibble(n, k, N, K, packed, &high);
        *b = high ? (uint8_t)((*b & 0x0F) | 0x80) : (uint8_t)((*b & 0xF0) | 0x08);
    }
    for (int blk = 0; blk < we_q4_blocks(K); blk++) dscale[we_gemm_q4_scale_index(n, blk, N, K, packed)] = d[blk];
}

// Scratch: per row and block, the activation scale and (dot kernel) the offset correction,
// each (T, blocks) rounded up to 16 bytes; then the quantized rows, int16 (i16 kernel) or
// int8, of K rounded up to the block; plus 16 bytes to align the start.
size_t we_gemm_q4_scratch_bytes(int T, int K) {
    size_t per_block = ((size_t)T * (size_t)we_q4_blocks(K) * sizeof(float) + 15) & ~(size_t)15;
    return 16 + 2 * per_block + (size_t)T * (size_t)we_q4_blocks(K) * WE_Q4_BLOCK * sizeof(int16_t);
}
