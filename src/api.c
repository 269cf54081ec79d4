// api.c - implements wembed.h on top of the pieces in core/, ops/, formats/, tokenizer/ and
// arch/. Each public entry point checks its arguments, then calls in.
#include "core/common.h"

#define WE_STR2(x) #x
#define WE_STR(x) WE_STR2(x)

const char *wembed_version(void) {
    return WE_STR(WEMBED_VERSION_MAJOR) "." WE_STR(WEMBED_VERSION_MINOR) "." WE_STR(WEMBED_VERSION_PATCH);
}

const char *wembed_system_info(void) {
    return
#if defined(WEMBED_SIMD) && defined(__wasm__)
        "simd128"
#elif defined(WEMBED_SIMD)
        "simd128(simde)"
#else
        "scalar"
#endif
#if defined(WEMBED_THREADS)
        " threads"
#endif
#if defined(__wasm__)
        " wasm32"
#endif
        ;
}
