// native_gemm.h - the native GEMM micro-kernels of one architecture, picked at run time:
// x86-64 (x86/gemm_x86.c: cpuid) or arm64 (arm64/gemm_arm64.c: getauxval), for the native
// builds (the Node addon, the native engine, tests and tools). The wasm kernels
// (wasm/gemm.c) stay the drivers: work split, packing, int8 quantization and the epilogue
// (bias, activation) are theirs; these compute the tiles' sums only, on the same packed
// layouts (8-channel panels, ops.h), reading several adjacent panels per tile. Beside them,
// on x86-64, the row kernels of the same instruction sets (we_native_vec below: x86/vec_x86.c),
// which the drivers call for the epilogue, the quantization, the activations, layer norm and
// attention's row loops in place of the SIMD128 code.
//
// What every native kernel keeps, whatever the architecture:
//   f32   each element is one k-ordered chain of fused multiply-adds from 0, whatever the
//         tile or the kernel, so results do not depend on threads and the FMA kernels of an
//         architecture agree bit for bit; they differ from `_ref` (unfused) by rounding, within
//         the NMSE bound of tests/test-kernels.c.
//   int8  exact integer sums on the dot layout (4 consecutive k of a channel in each 32-bit
//         lane), bit-identical to `_ref`; activations as signed bytes x, or as unsigned bytes
//         x + 128 with the correction 128 * sum_k w (stored after the packed weights, ops.h)
//         subtracted (the relaxed-SIMD kernel's two encodings, ../wasm/gemm_q8_dot.h).
// Internal to src/ops (wasm/gemm.c calls it). Compiled natively on x86-64 and arm64 only.
#ifndef WE_OPS_NATIVE_GEMM_H
#define WE_OPS_NATIVE_GEMM_H

#if defined(WEMBED_SIMD) && !defined(__wasm__) && (defined(__x86_64__) || defined(__aarch64__))
#define WE_NATIVE_GEMM 1

#include "../ops.h"

#define WE_NATIVE_MR_MAX 8    // rows of the largest tile
#define WE_NATIVE_NP_MAX 4    // panels (of 8 channels) of the largest tile

typedef struct we_native_f32_kernel {
    we_f32_kernel id;
    int mr, np;            // the tile: mr rows x np panels
    // c (mr, 8 * npu; row stride ldc) = rows xr[0..mr) (K) . panels j < npu (<= np) at
    // wp + j * pstride, each (K, 8); nothing else of c is written. Rows beyond the matrix come
    // as repeated row pointers.
    void (*tile)(float *c, int ldc, const float *const *xr, const float *wp, size_t pstride, int npu, int K);
} we_native_f32_kernel;

typedef struct we_native_q8_kernel {
    we_q8_kernel id;
    int mr, np;
    bool unsigned_act;     // activations as x + 128 (then corr is subtracted), else as x
    // c (mr, 8 * np; row stride 8 * np) int32 = rows xr[0..mr) (4 * KQ bytes) . panels j < npu
    // at wp + j * pstride bytes, each (KQ quads x 32 bytes), minus corr[8 * j + n] when given
    // (unsigned_act kernels only; NULL for the others).
    void (*tile)(int32_t *c, const uint8_t *const *xr, const int8_t *wp, size_t pstride, int npu, int KQ,
                 const int32_t *corr);
} we_native_q8_kernel;

// The kernel of that id where this build and CPU run it, else NULL (the SIMD128 kernels'
// ids, the other architecture's, or an instruction set this CPU lacks).
const we_native_f32_kernel *we_native_f32(we_f32_kernel id);
const we_native_q8_kernel *we_native_q8(we_q8_kernel id);
// The fastest this CPU runs, or NULL (then the SIMD128 kernels run).
const we_native_f32_kernel *we_native_f32_best(void);
const we_native_q8_kernel *we_native_q8_best(void);

// The row and elementwise kernels of an instruction set (x86-64: x86/vec_x86.c), which run with
// the f32 kernel of that instruction set (we_gemm_f32_kernel picks both; none yet on arm64,
// where the SIMD128 row code runs). Their vector math is ../wasm/vmath.h's operation for
// operation (no FMA), so act, the epilogues and quantize_q8 are bit-identical to the SIMD128
// code; exp_sub_sum's exps fuse, and the sums across a row (its, layer norm's statistics) add
// in another order.
typedef struct we_native_vec {
    we_f32_kernel id;
    // y (n) = act(x (n)); y == x allowed (the SIMD128 act_task's work, a thread's share)
    void (*act)(float *y, const float *x, size_t n, we_act act);
    // The GEMM epilogues (../wasm/gemm.c epilogue_f32 / epilogue_q8) over nc columns of a tile
    // c (mr rows, stride ldc): y (+= when add) c + b, act; y = act((float)c * (sx[i] * ws) + b).
    void (*epi_f32)(float *y, int ldy, const float *c, int ldc, int mr, int nc, const float *b, we_act act, bool add);
    void (*epi_q8)(float *y, int ldy, const int32_t *c, int ldc, int mr, int nc, const float *sx, const float *ws,
                   const float *b, we_act act);
    // One row x (K) into q (nq bytes: nq a multiple of 16, >= K; past K q = 0) as gemm.c's
    // quantize_row does, each byte q ^ flip; returns the row's scale.
    float (*quantize_q8)(uint8_t *q, int nq, const float *x, int K, uint8_t flip);
    // One row of layer norm (../wasm/vec.c layer_norm_row), statistics in double; y == x allowed.
    void (*layer_norm_row)(float *y, const float *x, const float *gamma, const float *beta, int N, float eps);
    // Attention's row loops (../attention.c mul_row, add_row, max_row, exp_sub_sum).
    void (*mul_row)(float *y, const float *x, int n, float a);
    void (*add_row)(float *y, const float *x, int n);
    float (*max_row)(const float *p, int n);
    float (*exp_sub_sum)(float *p, int n, float m);
} we_native_vec;

// The row kernels that go with the f32 kernel id where this build and CPU run them, else NULL.
const we_native_vec *we_native_vec_of(we_f32_kernel id);

// The 4-bit GEMM's block kernel, what we_q4_dot_kernel_5x8 computes (../wasm/gemm_q8_dot.h:
// c (5, 8) int32 = 5 rows of one block of int8 activations . one block of a panel's nibbles
// q + 8, exact), where this CPU has a native one (arm64 with the dot product), else NULL.
typedef void (*we_native_q4_tile)(int32_t *c, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                                  const int8_t *x3, const int8_t *x4, const uint8_t *wp);
we_native_q4_tile we_native_q4(void);

#endif
#endif // WE_OPS_NATIVE_GEMM_H
