// region.h - the Node addon's memory: one reserved range of the address space in which every
// engine allocation lives, so that JS sees it as one ArrayBuffer and pointers cross as 32-bit
// offsets into it, exactly as they do into a wasm module's memory. The JS layer (js/heap.js,
// js/embedder.js, ...) then runs unchanged on either backend.
//
// The range is reserved once (4 GiB, the wasm modules' maximum, PROT_NONE) and committed as the
// allocator's break grows, as wasm memory grows; dlmalloc (the allocator Emscripten's modules
// use, native/third_party/) manages it on top of that break. Offset 0 is never a block (the
// first 64 KiB stay unused), so 0 means NULL on both sides.
//
// Who uses it: the engine's allocator hook (src/core/common.c calls malloc & co., mapped here
// by native/region_alloc.h, force-included when the addon's engine is compiled), the export
// seam (wasm/wembed_wasm.c, the same) and the binding (native/wembed_node.c: _malloc, _free
// and the offset <-> pointer conversions).
#ifndef WEMBED_NODE_REGION_H
#define WEMBED_NODE_REGION_H

#include <stddef.h>
#include <stdint.h>

#define WE_REGION_SIZE ((uint64_t)1 << 32)   // bytes reserved: offsets fit in 32 bits
#define WE_REGION_START ((uint64_t)1 << 16)  // the first offset the allocator may hand out

// The region's first byte (reserving it on the first call); NULL when it could not be reserved.
unsigned char *we_region_base(void);

void *we_region_malloc(size_t n);
void *we_region_calloc(size_t count, size_t size);
void *we_region_realloc(void *p, size_t n);
void  we_region_free(void *p);

// Bytes committed (the break), and the most ever committed: the addon's "memory size".
size_t we_region_committed(void);

// offset -> pointer (0 -> NULL), and back; a pointer outside the region gives UINT32_MAX.
static inline void *we_region_ptr(uint32_t off) { return off ? we_region_base() + off : NULL; }
static inline uint32_t we_region_off(const void *p) {
    if (!p) return 0;
    uintptr_t b = (uintptr_t)we_region_base(), u = (uintptr_t)p;
    return u >= b && u - b < WE_REGION_SIZE ? (uint32_t)(u - b) : UINT32_MAX;
}

#endif // WEMBED_NODE_REGION_H
