// safetensors.h - reading and validating the header of a .safetensors file.
//
// Format (https://github.com/huggingface/safetensors): 8 bytes little-endian N, then N bytes
// of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the data section; offsets are relative to its start. The header is checked the way
// the safetensors library checks it, each failure with its own message: length within the
// file and under the library's 100 MB limit, a JSON object, known dtypes, shapes whose
// product fits, byte sizes that match dtype x shape, and tensors that tile the data section
// exactly (no gap, no overlap, nothing past the end, nothing after the last tensor).
//
// Not: a reader of tensor data. The loader (src/model.c) streams the data section through
// we_wwriter (tensor.h) using the offsets validated here.
#ifndef WE_SAFETENSORS_H
#define WE_SAFETENSORS_H

#include "../core/arena.h"
#include "json.h"
#include "tensor.h"

#define WE_ST_MAX_HEADER ((uint64_t)100000000)   // the safetensors library's own limit
#define WE_ST_MAX_DIMS 8

typedef struct we_st_tensor {
    const char *name;             // as in the file (arena copy)
    uint32_t name_len;
    we_dtype dtype;
    int32_t n_dims;
    int64_t shape[WE_ST_MAX_DIMS];   // torch order
    uint64_t n_elems;
    uint64_t begin, end;          // [begin, end) within the data section
} we_st_tensor;

typedef struct we_st_header {
    uint64_t header_len;          // N
    uint64_t data_start;          // 8 + N: file offset of the data section
    uint64_t data_len;            // bytes of the data section (file size - data_start)
    uint32_t n_tensors;
    we_st_tensor *tensors;        // (n_tensors) sorted by begin
    const we_json *metadata;      // the "__metadata__" object, or NULL
} we_st_header;

// Reads N from the first 8 bytes of a file of file_size bytes and checks it: status
// BAD_FORMAT (file too short, N past the end) or LIMIT (N over WE_ST_MAX_HEADER).
wembed_status we_st_read_len(const uint8_t prefix[8], uint64_t file_size, uint64_t *header_len, we_err *err);

// Parses the N header bytes (json) of a file of file_size bytes into *out (allocated in a).
// Status BAD_FORMAT, UNSUPPORTED (a dtype the engine does not know), LIMIT or ALLOC_FAILED.
wembed_status we_st_parse_header(we_arena *a, const char *json, uint64_t header_len, uint64_t file_size,
                                 we_st_header *out, we_err *err);

// The tensor named name (exact match), or NULL.
const we_st_tensor *we_st_find(const we_st_header *h, const char *name);

#endif // WE_SAFETENSORS_H
