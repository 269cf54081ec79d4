// arch-fallback.h - without WEMBED_SIMD (a plain C build), the optimized names are the
// scalar references (ggml's arch-fallback.h idea): callers always call we_gemm_f32 & co.
// and the packed layouts degenerate to the plain ones (WE_GEMM_NR = 1 in ops.h), so the
// same call sites work in both builds. Included by ops.h only.
#ifndef WE_OPS_ARCH_FALLBACK_H
#define WE_OPS_ARCH_FALLBACK_H

#if !defined(WEMBED_SIMD)
#define we_gemm_f32   we_gemm_f32_ref
#define we_gemm_f32_add we_gemm_f32_add_ref
#define we_gemm_q8    we_gemm_q8_ref
#define we_gemm_q4    we_gemm_q4_ref
#define we_softmax    we_softmax_ref
#define we_layer_norm we_layer_norm_ref
#define we_rms_norm   we_rms_norm_ref
#define we_gelu       we_gelu_ref
#define we_gelu_quick we_gelu_quick_ref
#define we_silu       we_silu_ref
#define we_gelu_tanh  we_gelu_tanh_ref
#endif

#endif // WE_OPS_ARCH_FALLBACK_H
