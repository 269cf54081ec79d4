// wembed.h - text and image embeddings with Hugging Face transformer models, in portable C11.
//
// Basic usage (the model API grows with the engine; see the README for what is in place):
//
//     #include "wembed.h"
//     #include <stdio.h>
//
//     int main(void) {
//         printf("wembed %s on %s\n", wembed_version(), wembed_system_info());
//         wembed_pool *pool = NULL;
//         if (wembed_pool_new(2, &pool) != WEMBED_STATUS_OK) return 1;
//         // ... load a model and embed with it (later sections of this header) ...
//         wembed_pool_free(pool);
//         return 0;
//     }
//
// Limitations:
//   - CPU only: scalar C everywhere, SIMD128 kernels in WebAssembly (and natively through
//     SIMDe), pthreads where the platform has them.
//   - The engine never touches the filesystem or the network: it is handed bytes.
//   - Not thread-safe per handle: one call at a time on a given handle; separate handles
//     may be used from separate threads.
//
// Conventions:
//   - Every function that can fail on input returns a wembed_status; on failure the handle
//     it was given (if any) holds a message, read with that handle's *_last_error().
//   - Strings returned by the engine are owned by it; each declaration says until when.
//   - Enum values only ever get added at the end.
#ifndef WEMBED_H
#define WEMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEMBED_VERSION_MAJOR 0
#define WEMBED_VERSION_MINOR 1
#define WEMBED_VERSION_PATCH 0

// -----------------------------------------------------------------------------------------
// Status codes

typedef enum wembed_status {
    WEMBED_STATUS_OK = 0,
    WEMBED_STATUS_INVALID_ARGUMENT = 1,  // the caller passed something that cannot be right
    WEMBED_STATUS_ALLOC_FAILED = 2,      // out of memory
    WEMBED_STATUS_BAD_FORMAT = 3,        // a file is malformed (truncated, bad header, ...)
    WEMBED_STATUS_UNSUPPORTED = 4,       // well-formed but not supported (architecture, dtype)
    WEMBED_STATUS_MISSING_FILE = 5,      // a file the model needs was not given
    WEMBED_STATUS_MISSING_TENSOR = 6,    // a tensor the architecture needs is absent
    WEMBED_STATUS_SHAPE_MISMATCH = 7,    // a tensor's shape disagrees with config.json
    WEMBED_STATUS_TOO_LONG = 8,          // input longer than allowed (truncate: error)
    WEMBED_STATUS_ABORTED = 9,           // a progress callback asked to stop
    WEMBED_STATUS_LIMIT = 10,            // a size or depth limit of a parser was exceeded
    WEMBED_STATUS_INTERNAL = 11,         // a bug: please report it
} wembed_status;

// Static English name of a status ("ok", "alloc_failed", ...). Never NULL.
const char *wembed_status_str(wembed_status rc);

// -----------------------------------------------------------------------------------------
// Library information

// "0.1.0". Static string.
const char *wembed_version(void);

// What this build runs on, e.g. "simd128 threads" or "scalar". Static string.
const char *wembed_system_info(void);

// -----------------------------------------------------------------------------------------
// Thread pool. Kernels split their output over the pool's threads; the caller's thread is
// one of them. A pool of 1 thread (or a build without threads) runs everything inline.

typedef struct wembed_pool wembed_pool;

// Number of threads worth using here (online CPUs, or 1 without threads).
int32_t wembed_default_threads(void);

// Creates a pool of n_threads (0 = wembed_default_threads()); *out_pool is owned by the
// caller, freed with wembed_pool_free. A build without threads gives a 1-thread pool.
wembed_status wembed_pool_new(int32_t n_threads, wembed_pool **out_pool);
int32_t       wembed_pool_n_threads(const wembed_pool *pool);
void          wembed_pool_free(wembed_pool *pool);                       // NULL is a no-op

#ifdef __cplusplus
}
#endif

#endif // WEMBED_H
