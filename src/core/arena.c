// arena.c - see arena.h.
#include "arena.h"

#include <string.h>

struct we_arena_block {
    we_arena_block *next;
    size_t cap, off;          // bytes in data[], bytes used
    unsigned char data[];
};

void we_arena_init(we_arena *a, size_t block_size) {
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : (size_t)64 << 10;
}

// Room for n bytes at `align` in b, as an offset into b->data, or SIZE_MAX.
static size_t block_fit(const we_arena_block *b, size_t n, size_t align) {
    uintptr_t base = (uintptr_t)b->data;
    size_t off = (size_t)(((base + b->off + align - 1) & ~(uintptr_t)(align - 1)) - base);
    if (off > b->cap || n > b->cap - off) return SIZE_MAX;
    return off;
}

void *we_arena_alloc(we_arena *a, size_t n, size_t align) {
    WE_ASSERT(align && (align & (align - 1)) == 0 && align <= 64);
    we_arena_block *b = a->head;
    size_t off = b ? block_fit(b, n, align) : SIZE_MAX;
    if (off == SIZE_MAX) {
        // A new block, with 64 bytes of slack so any alignment fits whatever malloc returns.
        if (n > SIZE_MAX - sizeof(we_arena_block) - 64) return NULL;
        size_t cap = WE_MAX(n + 64, a->block_size);
        b = we_malloc(sizeof(we_arena_block) + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->off = 0;
        b->next = a->head;
        a->head = b;
        a->reserved += sizeof(we_arena_block) + cap;
        off = block_fit(b, n, align);
        WE_ASSERT(off != SIZE_MAX);
    }
    b->off = off + n;
    a->used += n;
    return b->data + off;
}

void *we_arena_calloc(we_arena *a, size_t count, size_t size, size_t align) {
    size_t n;
    if (!we_mul_size(count, size, &n)) return NULL;
    void *p = we_arena_alloc(a, n, align);
    if (p) memset(p, 0, n);
    return p;
}

char *we_arena_strndup(we_arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *p = we_arena_alloc(a, n + 1, 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void we_arena_free(we_arena *a) {
    for (we_arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        we_free(b);
    }
    we_arena_init(a, a->block_size);
}

void we_arena_reset(we_arena *a) {
    we_arena_block *keep = a->head;
    if (!keep) return;
    for (we_arena_block *b = keep->next, *next; b; b = next) {
        next = b->next;
        we_free(b);
    }
    keep->next = NULL;
    keep->off = 0;
    a->used = 0;
    a->reserved = sizeof(we_arena_block) + keep->cap;
}
