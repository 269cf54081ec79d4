// arena.h - bump allocation for things that live and die together (weights, activations,
// parsed JSON, tokenizer tables). One we_free per block instead of one per object.
#ifndef WE_ARENA_H
#define WE_ARENA_H

#include "common.h"

typedef struct we_arena_block we_arena_block;

typedef struct we_arena {
    we_arena_block *head;     // newest block first
    size_t block_size;        // default size of a new block
    size_t used;              // bytes handed out (for memory reports)
    size_t reserved;          // bytes allocated from the system
} we_arena;

// Blocks default to block_size bytes (0: 64 KiB); a bigger request gets a block of its own.
void we_arena_init(we_arena *a, size_t block_size);

// n bytes aligned to `align` (a power of two <= 64), or NULL when out of memory.
// The memory is not zeroed; we_arena_calloc zeroes it.
void *we_arena_alloc(we_arena *a, size_t n, size_t align);
void *we_arena_calloc(we_arena *a, size_t count, size_t size, size_t align);
// A NUL-terminated copy of s[0..n), or NULL.
char *we_arena_strndup(we_arena *a, const char *s, size_t n);

// Forgets every allocation (what they held is invalid) but keeps the newest block for the
// next ones: memory reused, not freed and allocated again, when an arena holds one short-lived
// thing after another.
void we_arena_reset(we_arena *a);

// Frees every block; the arena can be used again afterwards.
void we_arena_free(we_arena *a);

#endif // WE_ARENA_H
