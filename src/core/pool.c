// pool.c - see pool.h.
//
// Workers wait for a new generation number, run their share, and count down `pending`; the
// last one wakes the caller. Both sides spin briefly before sleeping on a condition
// variable: a GEMM of a small layer takes tens of microseconds, less than a futex round
// trip, but on a machine with time-sliced vCPUs a long spin steals the CPU from the very
// thread being waited for, so the spin is short.
#include "pool.h"

#include <stdatomic.h>
#include <string.h>

#if defined(WEMBED_THREADS)
#include <pthread.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif
#endif

// Spins before sleeping: about 40 us natively (a pause is tens of cycles); wasm has no pause
// instruction, so its spin loop is much faster per iteration and needs more iterations for
// the same wait, or every hand-off pays a futex wake-up (bench/results/design-notes.md).
#if defined(__wasm__)
#define SPIN_ITERS 40000
#else
#define SPIN_ITERS 4000
#endif

#if defined(WEMBED_THREADS)
typedef struct worker_arg { wembed_pool *pool; int ith; } worker_arg;
#endif

struct wembed_pool {
    int n_threads;
#if defined(WEMBED_THREADS)
    pthread_t *threads;              // n_threads - 1 workers
    worker_arg *args;                // their arguments, owned by the pool
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;          // workers wait here for a new generation
    pthread_cond_t cv_done;          // the caller waits here for pending == 0
    _Atomic uint32_t generation;
    _Atomic int pending;
    _Atomic bool stop;
    we_task_fn fn;
    void *ctx;
#endif
};

int32_t wembed_pool_n_threads(const wembed_pool *pool) { return pool ? pool->n_threads : 1; }

#if defined(WEMBED_THREADS)


static void *worker_main(void *p) {
    worker_arg a = *(worker_arg *)p;
    wembed_pool *pool = a.pool;
    uint32_t seen = 0;
    for (;;) {
        uint32_t gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&pool->stop, memory_order_acquire)) {
            if (++spins < SPIN_ITERS) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&pool->mu);
            while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
                   !atomic_load_explicit(&pool->stop, memory_order_acquire))
                pthread_cond_wait(&pool->cv_work, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load_explicit(&pool->stop, memory_order_acquire)) return NULL;
        seen = gen;
        pool->fn(pool->ctx, a.ith, pool->n_threads);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->cv_done);
            pthread_mutex_unlock(&pool->mu);
        }
    }
}

static void pool_stop(wembed_pool *pool) {
    pthread_mutex_lock(&pool->mu);
    atomic_store_explicit(&pool->stop, true, memory_order_release);
    pthread_cond_broadcast(&pool->cv_work);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->n_started; i++) pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->cv_work);
    pthread_cond_destroy(&pool->cv_done);
    pthread_mutex_destroy(&pool->mu);
    we_free(pool->threads);
    we_free(pool->args);
}

int32_t wembed_default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int32_t)n;
}

#else

int32_t wembed_default_threads(void) { return 1; }

#endif

wembed_status wembed_pool_new(int32_t n_threads, wembed_pool **out_pool) {
    if (!out_pool) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out_pool = NULL;
    if (n_threads < 0 || n_threads > 256) return WEMBED_STATUS_INVALID_ARGUMENT;
    if (n_threads == 0) n_threads = wembed_default_threads();
    wembed_pool *pool = we_calloc(1, sizeof *pool);
    if (!pool) return WEMBED_STATUS_ALLOC_FAILED;
#if defined(WEMBED_THREADS)
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv_work, NULL);
    pthread_cond_init(&pool->cv_done, NULL);
    if (n_threads > 1) {
        pool->threads = we_calloc((size_t)n_threads - 1, sizeof(pthread_t));
        pool->args = we_calloc((size_t)n_threads - 1, sizeof(worker_arg));
        if (!pool->threads || !pool->args) { pool_stop(pool); we_free(pool); return WEMBED_STATUS_ALLOC_FAILED; }
        for (int i = 1; i < n_threads; i++) {
            pool->args[i - 1] = (worker_arg){ pool, i };
            // Failure (e.g. a wasm build whose worker pool is exhausted) keeps what started.
            if (pthread_create(&pool->threads[i - 1], NULL, worker_main, &pool->args[i - 1]) != 0) break;
            pool->n_started++;
        }
        pool->n_threads = pool->n_started + 1;
    }
#else
    (void)n_threads;
    pool->n_threads = 1;
#endif
    *out_pool = pool;
    return WEMBED_STATUS_OK;
}

void wembed_pool_free(wembed_pool *pool) {
    if (!pool) return;
#if defined(WEMBED_THREADS)
    pool_stop(pool);
#endif
    we_free(pool);
}

void we_pool_run(wembed_pool *pool, we_task_fn fn, void *ctx) {
    if (!pool || pool->n_threads <= 1) { fn(ctx, 0, 1); return; }
#if defined(WEMBED_THREADS)
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->pending, pool->n_threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->cv_work);
    pthread_mutex_unlock(&pool->mu);

    fn(ctx, 0, pool->n_threads);

    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) != 0) {
        if (++spins < SPIN_ITERS) { CPU_RELAX(); continue; }
        pthread_mutex_lock(&pool->mu);
        while (atomic_load_explicit(&pool->pending, memory_order_acquire) != 0)
            pthread_cond_wait(&pool->cv_done, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
#endif
}
