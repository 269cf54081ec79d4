// region.c - the reserved range, its break, and dlmalloc on top of it (region.h).
//
// dlmalloc is configured as Emscripten configures it for wasm memory - no mmap, one contiguous
// MORECORE - so the engine's blocks are laid out as in the wasm modules; unlike wasm memory the
// break also shrinks (dlmalloc trims the top), and the pages given back are released.
#define _DEFAULT_SOURCE 1   // MAP_ANONYMOUS, MAP_NORESERVE, madvise under -std=c11
#include "region.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned char *g_base;        // the reserved range, or NULL before the first call
static size_t g_brk;                 // offset of the break (bytes in use up to it)
static size_t g_committed;           // bytes from the base made readable and writable
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void reserve(void) {
    void *p = mmap(NULL, (size_t)WE_REGION_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    g_base = p;
    g_brk = (size_t)WE_REGION_START;
}

unsigned char *we_region_base(void) {
    pthread_once(&g_once, reserve);
    return g_base;
}

size_t we_region_committed(void) { return g_committed; }

static size_t page_up(size_t n) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return (n + pg - 1) / pg * pg;
}

// dlmalloc's MORECORE, called under its lock: moves the break by incr bytes and returns the old
// break, or (void *)-1 when the region is full (dlmalloc then returns NULL: ALLOC_FAILED).
static void *region_sbrk(intptr_t incr) {
    if (!we_region_base()) return (void *)-1;
    size_t old = g_brk;
    if (incr > 0) {
        if ((uint64_t)incr > WE_REGION_SIZE - old) return (void *)-1;
        size_t want = page_up(old + (size_t)incr);
        if (want > g_committed) {
            if (mprotect(g_base + g_committed, want - g_committed, PROT_READ | PROT_WRITE) != 0) return (void *)-1;
            g_committed = want;
        }
    } else if (incr < 0) {
        size_t dec = (size_t)(-incr);
        if (dec > old - (size_t)WE_REGION_START) return (void *)-1;
        size_t keep = page_up(old - dec);
        if (keep < g_committed) {   // give the pages back: zeroed on the next commit, like fresh memory
            madvise(g_base + keep, g_committed - keep, MADV_DONTNEED);
            mprotect(g_base + keep, g_committed - keep, PROT_NONE);
            g_committed = keep;
        }
    }
    g_brk = old + (size_t)incr;
    return g_base + old;
}

// -----------------------------------------------------------------------------------------
// dlmalloc 2.8.6 (public domain), static inside this file: nothing of it is seen outside.

#define USE_DL_PREFIX 1
#define DLMALLOC_EXPORT static
#define HAVE_MMAP 0
#define HAVE_MREMAP 0
#define MORECORE region_sbrk
#define MORECORE_CONTIGUOUS 1
#define USE_LOCKS 1
#define NO_MALLOC_STATS 1
#define NO_MALLINFO 1
#define MALLOC_ALIGNMENT 16
// Give pages back only past 256 MiB of free top: each call allocates and frees its activations,
// and a lower threshold made every call fault its pages in again (10% of a 512-token embed).
#define DEFAULT_TRIM_THRESHOLD ((size_t)256 << 20)
#include "third_party/dlmalloc.c"

void *we_region_malloc(size_t n) { return dlmalloc(n); }
void *we_region_calloc(size_t count, size_t size) { return dlcalloc(count, size); }
void *we_region_realloc(void *p, size_t n) { return dlrealloc(p, n); }
void we_region_free(void *p) { dlfree(p); }
