// gemm_q8_dot.h - the int8 micro-kernel on relaxed SIMD's byte dot product
// (i32x4.relaxed_dot_i8x16_i7x16_add_s: 16 multiply-adds into 4 int32 lanes in one
// instruction, against 8 for SIMD128's i32x4.dot_i16x8_s), and the probe that says whether
// this host can run it exactly. Internal to src/ops/arch/wasm/ (gemm.c calls it).
//
// The instruction's second operand is "i7": bytes above 127 are read as unsigned on some
// hosts (x86 with VNNI: vpdpbusd), as signed on others (Arm: sdot), and pairs may saturate in
// 16 bits on others (x86 without VNNI: pmaddubsw). So the kernel passes the weights (int8,
// |w| <= 127) as the first operand and the activations as the second, encoded for the host:
//   UNSIGNED: x + 128 (the int8 code with its top bit flipped), and the kernel subtracts
//             128 * sum_k w[n][k] per channel;
//   SIGNED:   x itself.
// Either way the int32 sums are the exact integer dot products of the SIMD128 kernel, so the
// results are bit-identical to it and to we_gemm_q8_ref. A host that is neither (or a build
// without relaxed SIMD) gets NONE and the SIMD128 kernel.
//
// This file's .c is compiled three ways: natively (the instruction emulated exactly, so the
// native tests run this kernel), by clang 16 with -mrelaxed-simd for the relaxed wasm
// modules, and by Emscripten's clang 14 for the plain ones, where we_q8_dot_run says false
// and the kernels are never called. It includes only freestanding headers (clang 16 compiles
// it without Emscripten's sysroot) and holds no static data: the plain and relaxed modules
// then have the same memory layout, which lets them share one JS glue (the glue has data
// addresses in it; wasm/patch-glue.mjs checks).
#ifndef WE_OPS_GEMM_Q8_DOT_H
#define WE_OPS_GEMM_Q8_DOT_H

#include <stdbool.h>
#include <stdint.h>

// out (4) = acc + the 4 byte products of each lane: the instruction itself, once, on the
// caller's data (gemm.c's probe tells the behaviours apart from it). false, out untouched,
// in a build without relaxed SIMD.
bool we_q8_dot_run(int32_t *out, const int8_t *w, const uint8_t *x, const int32_t *acc);

// c (5, 8) int32 = rows x0..x4 (4*KQ encoded bytes) . panel wp (KQ quads x 32 int8: for each
// group of 4 k, channels 0-3 then 4-7, each as its 4 consecutive k) - corr (8). corr is
// 128 * sum_k w[n][k] in UNSIGNED mode (stored after the packed weights at pack time, see
// ops.h we_gemm_q8_sums_offset), zeros in SIGNED mode.
void we_q8_dot_kernel_5x8(int32_t *c, const uint8_t *x0, const uint8_t *x1, const uint8_t *x2,
                          const uint8_t *x3, const uint8_t *x4, const int8_t *wp, int KQ,
                          const int32_t *corr);

// The 4-bit GEMM's kernel (gemm.c): c (5, 8) int32 = rows x0..x4 (one block: 32 int8, the
// signed first operand) . one block of a panel (8 groups of 4 k x 16 bytes of nibbles q + 8,
// which are the 7-bit second operand: exact on every host). No correction here.
void we_q4_dot_kernel_5x8(int32_t *c, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                          const int8_t *x3, const int8_t *x4, const uint8_t *wp);

#if !defined(__wasm__)
// Native builds emulate the instruction; tests pick which host behaviour it emulates
// (true: signed, like Arm; false, the default: unsigned, like x86 VNNI). This one static
// variable is native only.
void we_q8_dot_emulate_signed(bool is_signed);
#endif

#endif // WE_OPS_GEMM_Q8_DOT_H
