// wembed_wasm.c - the export seam between the engine and the JS package.
//
// Everything the JS side calls is here and marked WEMBED_WASM_EXPORT (SQLite's form: the
// attribute keeps it and exports it, no <emscripten.h> needed). Public engine functions are
// re-exported under their own names; JS-only helpers start with `wembed__`. Pointers cross as
// 32-bit offsets into the module's memory; the JS side copies inputs in once and outputs
// out once (js/engine.js).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "wembed.h"

#define WEMBED_WASM_EXPORT __attribute__((used, visibility("default")))

// -----------------------------------------------------------------------------------------
// Library information

WEMBED_WASM_EXPORT const char *wembed__version(void) { return wembed_version(); }
WEMBED_WASM_EXPORT const char *wembed__system_info(void) { return wembed_system_info(); }
WEMBED_WASM_EXPORT const char *wembed__status_str(int rc) { return wembed_status_str((wembed_status)rc); }

// Enum values for JS, so js/ never hard-codes a number. Static string.
WEMBED_WASM_EXPORT const char *wembed__consts_json(void) {
    static char buf[1024];
    if (!buf[0]) {
        snprintf(buf, sizeof buf,
                 "{\"status\":{\"ok\":%d,\"invalid_argument\":%d,\"alloc_failed\":%d,"
                 "\"bad_format\":%d,\"unsupported\":%d,\"missing_file\":%d,\"missing_tensor\":%d,"
                 "\"shape_mismatch\":%d,\"too_long\":%d,\"aborted\":%d,\"limit\":%d,\"internal\":%d}}",
                 WEMBED_STATUS_OK, WEMBED_STATUS_INVALID_ARGUMENT, WEMBED_STATUS_ALLOC_FAILED,
                 WEMBED_STATUS_BAD_FORMAT, WEMBED_STATUS_UNSUPPORTED, WEMBED_STATUS_MISSING_FILE,
                 WEMBED_STATUS_MISSING_TENSOR, WEMBED_STATUS_SHAPE_MISMATCH, WEMBED_STATUS_TOO_LONG,
                 WEMBED_STATUS_ABORTED, WEMBED_STATUS_LIMIT, WEMBED_STATUS_INTERNAL);
    }
    return buf;
}

// -----------------------------------------------------------------------------------------
// Thread pool

// Returns the pool or 0 (out of memory / bad count).
WEMBED_WASM_EXPORT wembed_pool *wembed__pool_new(int n_threads) {
    wembed_pool *pool = NULL;
    return wembed_pool_new(n_threads, &pool) == WEMBED_STATUS_OK ? pool : NULL;
}
WEMBED_WASM_EXPORT int wembed__pool_n_threads(const wembed_pool *pool) { return wembed_pool_n_threads(pool); }
WEMBED_WASM_EXPORT void wembed__pool_free(wembed_pool *pool) { wembed_pool_free(pool); }

// The number of live engine allocations (tests check that JS-side calls leak nothing).
WEMBED_WASM_EXPORT double wembed__alloc_live(void) { return (double)we_alloc_live(); }

