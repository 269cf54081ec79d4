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
    static char info[96];
    static const char *const kernels[] = {"", " relaxed-dot-u8", " relaxed-dot-s8"};
    if (!info[0]) {
        we_q8_kernel k = we_gemm_q8_kernel();
        snprintf(info, sizeof info, "%s%s%s%s",
#if defined(WEMBED_SIMD) && defined(__wasm__)
                 "simd128",
#elif defined(WEMBED_SIMD)
                 "simd128(simde)",
#else
                 "scalar",
#endif
                 kernels[k < 3 ? k : 0],
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
