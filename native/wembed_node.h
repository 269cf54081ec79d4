// wembed_node.h - what the generated wrappers (native/gen-exports.mjs) use: argument and
// return conversions between Node-API values and the wasm ABI the JS layer expects.
#ifndef WEMBED_NODE_H
#define WEMBED_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include <node_api.h>

typedef struct wn_export {
    const char *name;
    napi_callback fn;
} wn_export;

// The table of wrappers, ended by {NULL, NULL} (generated).
extern const wn_export wn_exports[];

// The n arguments into a (missing ones are undefined, as a wasm export sees them); false with
// a JS exception pending on failure.
bool wn_args(napi_env env, napi_callback_info info, napi_value *a, size_t n);
// JS numbers as a wasm export converts them (ToInt32, ToNumber); a pointer is a uint32 offset.
bool wn_i32(napi_env env, napi_value v, int32_t *out);
bool wn_f64(napi_env env, napi_value v, double *out);
bool wn_ptr(napi_env env, napi_value v, void **out);
// Writes p's offset as 4 bytes at where (an out-pointer, as in wasm32).
void wn_store_off(void *where, const void *p);

napi_value wn_ret_i32(napi_env env, int32_t v);
napi_value wn_ret_f64(napi_env env, double v);
napi_value wn_ret_ptr(napi_env env, const void *p);     // a pointer into the region
napi_value wn_ret_str(napi_env env, const char *s);     // the same, or a static string copied in once

#endif // WEMBED_NODE_H
