// api.c - implements wembed.h on top of the pieces in core/, ops/, formats/, tokenizer/ and
// arch/. Each public entry point checks its arguments, then calls in.
#include "core/common.h"
#include "ops/ops.h"

#include <stdio.h>

#define WE_STR2(x) #x
#define WE_STR(x) WE_STR2(x)

const char *wembed_version(void) {
    return WE_STR(WEMBED_VERSION_MAJOR) "." WE_STR(WEMBED_VERSION_MINOR) "." WE_STR(WEMBED_VERSION_PATCH);
}

const char *wembed_system_info(void) {
    // The int8 kernel is known at run time only (probed: relaxed SIMD's dot product where the
    // module has it and the host computes it exactly), so the string is built on first use.
    // Natively on x86-64 the GEMM kernels are picked by cpuid: their names follow (e.g.
    // "simd128(simde) avx512 avx512-vnni threads").
    static char info[128];
    if (!info[0]) {
        we_q8_kernel k = we_gemm_q8_kernel();
        we_f32_kernel f = we_gemm_f32_kernel();
        snprintf(info, sizeof info, "%s%s%s%s%s%s%s",
#if defined(WEMBED_SIMD) && defined(__wasm__)
                 "simd128",
#elif defined(WEMBED_SIMD)
                 "simd128(simde)",
#else
                 "scalar",
#endif
                 f != WE_F32_KERNEL_SIMD128 ? " " : "", f != WE_F32_KERNEL_SIMD128 ? we_gemm_f32_kernel_name(f) : "",
                 k != WE_Q8_KERNEL_I16 ? " " : "", k != WE_Q8_KERNEL_I16 ? we_gemm_q8_kernel_name(k) : "",
#if defined(WEMBED_THREADS)
                 " threads",
#else
                 "",
#endif
#if defined(__wasm__)
                 " wasm32"
#else
                 ""
#endif
        );
    }
    return info;
}
