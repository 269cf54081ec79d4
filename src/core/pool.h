// pool.h - the thread pool behind wembed_pool (declared in wembed.h).
//
// we_pool_run(pool, fn, ctx) calls fn(ctx, ith, nth) once for every ith in [0, nth) - the
// caller's thread runs ith 0 - and returns when all calls have returned. Kernels split their
// output by ith (we_split: fixed shares) or hand it out piece by piece (we_queue: whoever is
// free takes the next), so results never depend on scheduling: every element is computed by
// exactly the same instructions whatever the thread count.
//
// Built with WEMBED_THREADS (native, wasm with pthreads) it uses pthreads; without it (the
// single-thread wasm and WASI builds) every pool has one thread and runs fn inline.
#ifndef WE_POOL_H
#define WE_POOL_H

#include "common.h"

#include <stdatomic.h>

typedef void (*we_task_fn)(void *ctx, int ith, int nth);

// pool may be NULL: fn runs inline as (ctx, 0, 1).
void we_pool_run(wembed_pool *pool, we_task_fn fn, void *ctx);

// Threads of the pool (1 for NULL).
static inline int we_pool_threads(const wembed_pool *pool) {
    return pool ? (int)wembed_pool_n_threads(pool) : 1;
}

// The [begin, end) share of ith among nth over n items, in multiples of `step` (the last
// share takes the rest). Shares differ by at most one step.
static inline void we_split(int64_t n, int64_t step, int ith, int nth, int64_t *begin, int64_t *end) {
    int64_t units = (n + step - 1) / step;
    int64_t b = units * ith / nth, e = units * (ith + 1) / nth;
    *begin = WE_MIN(b * step, n);
    *end = WE_MIN(e * step, n);
}

// Items [0, n) handed out one at a time to whichever thread asks next: on time-sliced vCPUs
// (or beside a busy neighbour) a thread that gets less CPU then does less of the work, where
// fixed shares would make everyone wait for it. Initialise before we_pool_run.
typedef struct we_queue { atomic_llong next; int64_t n; } we_queue;

static inline void we_queue_init(we_queue *q, int64_t n) {
    atomic_init(&q->next, 0);
    q->n = n;
}

// The next item, or false when none is left.
static inline bool we_queue_take(we_queue *q, int64_t *item) {
    int64_t i = (int64_t)atomic_fetch_add_explicit(&q->next, 1, memory_order_relaxed);
    *item = i;
    return i < q->n;
}

#endif // WE_POOL_H
