// region_alloc.h - force-included (-include) into the engine's allocator (src/core/common.c) and
// the export seam (wasm/wembed_wasm.c) when they are compiled for the Node addon: their
// malloc & co. become the region's (native/region.h says why), and a pointer JS wrote into
// memory (an offset) is mapped onto the region. <stdlib.h> comes first, so that its own
// declarations keep their names; only the calls in those two files are renamed.
#ifndef WEMBED_NODE_REGION_ALLOC_H
#define WEMBED_NODE_REGION_ALLOC_H

#include <stdlib.h>

#include "region.h"

#define malloc(n) we_region_malloc(n)
#define calloc(c, n) we_region_calloc(c, n)
#define realloc(p, n) we_region_realloc(p, n)
#define free(p) we_region_free(p)

#define WEMBED_SEAM_PTR(off) we_region_ptr((uint32_t)(off))
// The seam's functions are called from the binding only: not exported from the .node.
#define WEMBED_WASM_EXPORT __attribute__((used))

#endif // WEMBED_NODE_REGION_ALLOC_H
