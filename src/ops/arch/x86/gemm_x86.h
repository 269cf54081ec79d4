// gemm_x86.h - native x86-64 GEMM micro-kernels at 256 and 512 bits, picked at run time
// (cpuid), for the native builds: the Node addon and the native engine, tests and tools. The
// wasm kernels (../wasm/gemm.c) stay the drivers: work split, packing, int8 quantization and
// the epilogue (bias, activation) are theirs; these compute the tiles' sums only, on the same
// packed layouts (8-channel panels, ops.h), reading several adjacent panels per tile.
//
// f32: vfmadd231ps, so each product is added without rounding it first: results differ from
// the `_ref` (and the SIMD128 kernel) by rounding, within the NMSE bound of
// tests/test-kernels.c. Every element is still one k-ordered FMA chain, whatever the tile or
// the kernel (AVX2 and AVX-512 agree bit for bit), so results do not depend on threads.
// int8: exact integer sums as the other kernels, bit-identical to `_ref`, on the dot layout
// (4 consecutive k of a channel in each 32-bit lane):
//   AVX512-VNNI / AVX-VNNI  vpdpbusd, activations as unsigned bytes x + 128 and the correction
//                           128 * sum_k w subtracted (the relaxed-SIMD kernel's encoding,
//                           ../wasm/gemm_q8_dot.h);
//   AVX2                    vpmaddubsw on |w| and x * sign(w) (at most 2 * 128 * 127 per pair:
//                           no saturation) then vpmaddwd by ones; activations as signed bytes.
// Internal to src/ops (gemm.c calls it). Compiled on x86-64 natively only.
#ifndef WE_OPS_GEMM_X86_H
#define WE_OPS_GEMM_X86_H

#if defined(WEMBED_SIMD) && defined(__x86_64__) && !defined(__wasm__)
#define WE_X86 1

#include <stddef.h>
#include <stdint.h>

#define WE_X86_MR_MAX 8    // rows of the largest tile
#define WE_X86_NP_MAX 4    // panels (of 8 channels) of the largest tile

typedef struct we_x86_f32_kernel {
    const char *name;
    int mr, np;            // the tile: mr rows x np panels
    // c (mr, 8 * np; row stride 8 * np) = rows xr[0..mr) (K) . panels j < npu (<= np) at
    // wp + j * pstride, each (K, 8).
    void (*tile)(float *c, const float *const *xr, const float *wp, size_t pstride, int npu, int K);
} we_x86_f32_kernel;

typedef struct we_x86_q8_kernel {
    const char *name;
    int mr, np;
    int unsigned_act;      // activations as x + 128 (then corr is subtracted), else as x
    // c (mr, 8 * np; row stride 8 * np) int32 = rows xr[0..mr) (4 * KQ bytes) . panels j < npu
    // at wp + j * pstride bytes, each (KQ quads x 32 bytes), minus corr[8 * j + n] when given.
    void (*tile)(int32_t *c, const uint8_t *const *xr, const int8_t *wp, size_t pstride, int npu, int KQ,
                 const int32_t *corr);
} we_x86_q8_kernel;

// 1: AVX2 + FMA, 2: AVX-512 (F, VL, BW): the f32 kernel, or NULL where this CPU lacks it.
const we_x86_f32_kernel *we_x86_f32(int level);
// 1: AVX2 (vpmaddubsw), 2: AVX-VNNI, 3: AVX512-VNNI: the int8 kernel, or NULL.
const we_x86_q8_kernel *we_x86_q8(int level);

#endif
#endif // WE_OPS_GEMM_X86_H
