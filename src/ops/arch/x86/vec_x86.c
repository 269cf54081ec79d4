// vec_x86.c - the x86-64 row and elementwise kernels at 256 and 512 bits (../native_gemm.h,
// we_native_vec): activations, the GEMM epilogues, the int8 quantization of activations and
// attention's row loops, instantiated from vec_tmpl.h for AVX2 + FMA and for AVX-512, each with
// its target attribute (the build's baseline stays x86-64-v2 for the addon), run where cpuid
// says (gemm_x86.c's probe: they go with the f32 kernel of the same instruction set).
//
// Why not the SIMD128 code at a wider -march: SIMDe maps each wasm op onto one 128-bit
// instruction, so the vector math ran 4 lanes wide (AVX-512: 16), and at the addon's baseline
// without the masked loads that let a row's tail go through the same code.
#include "../native_gemm.h"

#if defined(WE_NATIVE_GEMM) && defined(__x86_64__)

#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)

// -----------------------------------------------------------------------------------------
// AVX2 + FMA: 8 lanes (FMA for attention's exps only: vec_tmpl.h exp_neg_fma)

#define TGT __attribute__((target("avx2,fma")))
#define VW 8
#define FN(name) CAT(name, avx2)
#define VF __m256
#define VI __m256i
#define VM __m256
#define VH __m128
#define VD __m256d

TGT static inline __m256i avx2_maskn(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
TGT static inline float avx2_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
TGT static inline float avx2_hmax(__m256 v) {           // pmax order, as V_PMAX
    __m128 s = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    s = _mm_max_ps(_mm_movehl_ps(s, s), s);
    s = _mm_max_ss(_mm_movehdup_ps(s), s);
    return _mm_cvtss_f32(s);
}
TGT static inline int32_t avx2_ihmax(__m256i v) {
    __m128i s = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_max_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_max_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}
TGT static inline double avx2_dhsum(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
TGT static inline void avx2_store_q8(uint8_t *q, __m256i v, uint8_t flip) {   // 8 bytes
    __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    __m128i p8 = _mm_xor_si128(_mm_packs_epi16(p16, p16), _mm_set1_epi8((char)flip));
    _mm_storel_epi64((__m128i *)(void *)q, p8);
}

#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_LOADN(p, n) _mm256_maskload_ps(p, avx2_maskn(n))
#define V_LOADN_FILL(p, n, f) _mm256_blendv_ps(_mm256_set1_ps(f), V_LOADN(p, n), _mm256_castsi256_ps(avx2_maskn(n)))
#define V_STOREN(p, v, n) _mm256_maskstore_ps(p, avx2_maskn(n), v)
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_FMA _mm256_fmadd_ps
#define V_FNMA _mm256_fnmadd_ps
#define V_DIV _mm256_div_ps
#define V_PMIN(a, b) _mm256_min_ps(b, a)
#define V_PMAX(a, b) _mm256_max_ps(b, a)
#define V_BITS _mm256_castps_si256
#define V_FLOATS _mm256_castsi256_ps
#define V_ISET1 _mm256_set1_epi32
#define V_ILOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define V_IADD _mm256_add_epi32
#define V_ISUB _mm256_sub_epi32
#define V_IAND _mm256_and_si256
#define V_IMAX _mm256_max_epi32
#define V_ISHL _mm256_slli_epi32
#define V_ISRA _mm256_srai_epi32
#define V_ABS(v) V_FLOATS(V_IAND(V_BITS(v), V_ISET1(0x7fffffff)))
#define V_NEG(v) _mm256_xor_ps(v, _mm256_set1_ps(-0.0f))
#define V_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define V_SEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define V_ZERO_WHERE(x, m) _mm256_andnot_ps(m, x)
#define V_CVT_I32 _mm256_cvtepi32_ps
#define V_CVT_F32 _mm256_cvtps_epi32
#define V_HSUM avx2_hsum
#define V_HMAX avx2_hmax
#define V_IHMAX avx2_ihmax
#define V_STORE_Q8 avx2_store_q8
#define V_LO_H _mm256_castps256_ps128
#define V_HI_H(x) _mm256_extractf128_ps(x, 1)
#define V_JOIN_H(a, b) _mm256_insertf128_ps(_mm256_castps128_ps256(a), b, 1)
#define V_D_FROM_H _mm256_cvtps_pd
#define V_H_FROM_D _mm256_cvtpd_ps
#define V_DSET1 _mm256_set1_pd
#define V_DADD _mm256_add_pd
#define V_DSUB _mm256_sub_pd
#define V_DMUL _mm256_mul_pd
#define V_DPMAX(a, b) _mm256_max_pd(b, a)
#define V_DHSUM avx2_dhsum
#define V_DNEG_ABS(z) _mm256_or_pd(z, _mm256_set1_pd(-0.0))

#include "vec_tmpl.h"

#undef TGT
#undef VW
#undef FN
#undef VF
#undef VI
#undef VM
#undef VH
#undef VD
#undef V_SET1
#undef V_LOAD
#undef V_STORE
#undef V_LOADN
#undef V_LOADN_FILL
#undef V_STOREN
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_FMA
#undef V_FNMA
#undef V_DIV
#undef V_PMIN
#undef V_PMAX
#undef V_BITS
#undef V_FLOATS
#undef V_ISET1
#undef V_ILOAD
#undef V_IADD
#undef V_ISUB
#undef V_IAND
#undef V_IMAX
#undef V_ISHL
#undef V_ISRA
#undef V_ABS
#undef V_NEG
#undef V_LT
#undef V_GE
#undef V_SEL
#undef V_ZERO_WHERE
#undef V_CVT_I32
#undef V_CVT_F32
#undef V_HSUM
#undef V_HMAX
#undef V_IHMAX
#undef V_STORE_Q8
#undef V_LO_H
#undef V_HI_H
#undef V_JOIN_H
#undef V_D_FROM_H
#undef V_H_FROM_D
#undef V_DSET1
#undef V_DADD
#undef V_DSUB
#undef V_DMUL
#undef V_DPMAX
#undef V_DHSUM
#undef V_DNEG_ABS

// -----------------------------------------------------------------------------------------
// AVX-512 (F, BW, VL): 16 lanes, compare results in mask registers, tails by masked loads and
// stores (which do not fault on the lanes they leave out).

#define TGT __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw")))
#define VW 16
#define FN(name) CAT(name, avx512)
#define VF __m512
#define VI __m512i
#define VM __mmask16
#define VH __m256
#define VD __m512d

#define MASKN(n) ((__mmask16)((1u << (n)) - 1u))

TGT static inline void avx512_store_q8(uint8_t *q, __m512i v, uint8_t flip) {   // 16 bytes
    __m128i p8 = _mm_xor_si128(_mm512_cvtsepi32_epi8(v), _mm_set1_epi8((char)flip));
    _mm_storeu_si128((__m128i *)(void *)q, p8);
}

#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_LOADN(p, n) _mm512_maskz_loadu_ps(MASKN(n), p)
#define V_LOADN_FILL(p, n, f) _mm512_mask_loadu_ps(_mm512_set1_ps(f), MASKN(n), p)
#define V_STOREN(p, v, n) _mm512_mask_storeu_ps(p, MASKN(n), v)
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_FMA _mm512_fmadd_ps
#define V_FNMA _mm512_fnmadd_ps
#define V_DIV _mm512_div_ps
#define V_PMIN(a, b) _mm512_min_ps(b, a)
#define V_PMAX(a, b) _mm512_max_ps(b, a)
#define V_BITS _mm512_castps_si512
#define V_FLOATS _mm512_castsi512_ps
#define V_ISET1 _mm512_set1_epi32
#define V_ILOAD(p) _mm512_loadu_si512((const void *)(p))
#define V_IADD _mm512_add_epi32
#define V_ISUB _mm512_sub_epi32
#define V_IAND _mm512_and_si512
#define V_IMAX _mm512_max_epi32
#define V_ISHL _mm512_slli_epi32
#define V_ISRA _mm512_srai_epi32
#define V_ABS(v) V_FLOATS(V_IAND(V_BITS(v), V_ISET1(0x7fffffff)))
#define V_NEG(v) V_FLOATS(_mm512_xor_si512(V_BITS(v), V_ISET1((int32_t)0x80000000u)))
#define V_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define V_SEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define V_ZERO_WHERE(x, m) _mm512_maskz_mov_ps((__mmask16)~(m), x)
#define V_CVT_I32 _mm512_cvtepi32_ps
#define V_CVT_F32 _mm512_cvtps_epi32
#define V_HSUM _mm512_reduce_add_ps
#define V_HMAX _mm512_reduce_max_ps
#define V_IHMAX _mm512_reduce_max_epi32
#define V_STORE_Q8 avx512_store_q8
#define V_LO_H _mm512_castps512_ps256
#define V_HI_H(x) _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))
#define V_JOIN_H(a, b) _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(a)), _mm256_castps_pd(b), 1))
#define V_D_FROM_H _mm512_cvtps_pd
#define V_H_FROM_D _mm512_cvtpd_ps
#define V_DSET1 _mm512_set1_pd
#define V_DADD _mm512_add_pd
#define V_DSUB _mm512_sub_pd
#define V_DMUL _mm512_mul_pd
#define V_DPMAX(a, b) _mm512_max_pd(b, a)
#define V_DHSUM _mm512_reduce_add_pd
#define V_DNEG_ABS(z) _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(z), _mm512_set1_epi64((int64_t)0x8000000000000000ull)))

#include "vec_tmpl.h"

// -----------------------------------------------------------------------------------------

#define VEC_TABLE(isa, id)                                                                     \
    {id, CAT(act, isa), CAT(epi_f32, isa), CAT(epi_q8, isa), CAT(quantize_q8, isa),           \
     CAT(layer_norm_row, isa), CAT(mul_row, isa), CAT(add_row, isa), CAT(max_row, isa),      \
     CAT(exp_sub_sum, isa)}

static const we_native_vec VEC[] = {
    VEC_TABLE(avx2, WE_F32_KERNEL_AVX2),
    VEC_TABLE(avx512, WE_F32_KERNEL_AVX512),
};

const we_native_vec *we_native_vec_of(we_f32_kernel id) {
    if (!we_native_f32(id)) return NULL;                  // not this CPU's (or not x86's)
    return id == WE_F32_KERNEL_AVX2 ? &VEC[0] : id == WE_F32_KERNEL_AVX512 ? &VEC[1] : NULL;
}

#endif
