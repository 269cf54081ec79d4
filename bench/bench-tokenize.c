// bench-tokenize.c - tokenization throughput (MB/s of UTF-8 input) of the C tokenizer on about
// 1 MB of mixed text (English prose with punctuation and digits, accented Latin, Greek,
// Cyrillic, CJK, emoji), for each tokenizer file: as one document, and as ~4000 texts of
// ~250 bytes (the embedding case). Best of 5 rounds, in CPU time of the calling thread (the
// machine may be shared; wall time is printed beside it). For each file also its load: CPU and
// wall time of wembed_tokenizer_load, and the engine's memory (we_alloc_bytes: held after the
// load, and its peak during the load, the input JSON not counted).
//
//     build/bench-tokenize [tests/data/tokenizers [more/tokenizer.json ...]]
//
// The real Gemma 3 / Qwen3 files are stored compressed; the build unpacks them:
//     build/bench-tokenize tests/data/tokenizers build/data/tokenizers/{gemma-3,qwen3}/tokenizer.json
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "wembed.h"

static double wall(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now(void) {
    struct timespec ts;
#if defined(CLOCK_THREAD_CPUTIME_ID) && !defined(__EMSCRIPTEN__)
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
#else
    timespec_get(&ts, TIME_UTC);
#endif
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *WORDS[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
    "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
    "embedding", "vectors", "similarity", "search", "tokenization", "language", "model", "retrieval",
    "transformer", "attention", "sentence", "document", "query", "database", "neural", "network",
    "Wikipedia", "Paris", "London", "Tokyo", "January", "research", "university", "government",
    "café", "naïve", "résumé", "über", "Straße", "élève", "São", "Zürich",
    "Ευχαριστώ", "λόγος", "Добрый", "день", "мир", "机器学习", "自然语言处理", "東京", "안녕하세요", "😀", "👍🏽", "🇫🇷",
    "don't", "it's", "we'll", "2024", "3.14", "10,000", "e-mail", "U.S.", "(see", "below)", "\"quoted\"", "—",
};

static char *make_text(size_t target, size_t *out_len) {
    char *buf = malloc(target + 64);
    size_t n = 0;
    while (n < target) {
        const char *w = WORDS[rnd(sizeof WORDS / sizeof WORDS[0])];
        size_t l = strlen(w);
        memcpy(buf + n, w, l);
        n += l;
        unsigned r = rnd(20);
        buf[n++] = r == 0 ? '.' : r == 1 ? ',' : ' ';
        if (r == 0) buf[n++] = ' ';
    }
    *out_len = n;
    return buf;
}

int main(int argc, char **argv) {
    char dir[4096];
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else {
        snprintf(dir, sizeof dir, "%s", __FILE__);
        char *s = strrchr(dir, '/');
        if (s) *s = 0;
        strncat(dir, "/../tests/data/tokenizers", sizeof dir - strlen(dir) - 1);
    }
    size_t len;
    char *text = make_text((size_t)1 << 20, &len);
    const char *defaults[] = { "bge-small-en-v1.5", "clip-vit-base-patch32", "bge-small-zh-v1.5", "t5-small" };
    size_t n_default = sizeof defaults / sizeof defaults[0], n_files = n_default + (argc > 2 ? (size_t)argc - 2 : 0);
    printf("input: %.2f MB of mixed text\n", len / 1048576.0);
    for (size_t t = 0; t < n_files; t++) {
        char path[4200], name[256];
        if (t < n_default) {
            snprintf(path, sizeof path, "%s/%s/tokenizer.json", dir, defaults[t]);
            snprintf(name, sizeof name, "%s", defaults[t]);
        } else {   // a path: named by its folder
            snprintf(path, sizeof path, "%s", argv[2 + t - n_default]);
            char *sl = strrchr(path, '/');
            const char *folder = path;
            if (sl) {
                *sl = 0;
                const char *up = strrchr(path, '/');
                folder = up ? up + 1 : path;
            }
            snprintf(name, sizeof name, "%.200s", folder);
            if (sl) *sl = '/';
        }
        FILE *f = fopen(path, "rb");
        if (!f) { fprintf(stderr, "cannot open %s\n", path); return 1; }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *json = malloc((size_t)n);
        if (!json || fread(json, 1, (size_t)n, f) != (size_t)n) return 1;
        fclose(f);
        wembed_tokenizer *tok = NULL;
        int64_t before = we_alloc_bytes();
        we_alloc_reset_peak();
        double w0 = wall(), t0 = now();
        if (wembed_tokenizer_load(json, (size_t)n, &tok) != WEMBED_STATUS_OK) {
            fprintf(stderr, "%s: %s\n", name, wembed_tokenizer_last_error(tok));
            return 1;
        }
        double load_ms = (now() - t0) * 1e3, load_wall_ms = (wall() - w0) * 1e3;
        double held_mb = (double)(we_alloc_bytes() - before) / 1048576.0, peak_mb = (double)(we_alloc_peak_bytes() - before) / 1048576.0;
        free(json);
        double best_doc = 1e9, best_many = 1e9;
        long tokens = 0;
        for (int round = 0; round < 5; round++) {
            wembed_encoding *e = NULL;
            t0 = now();
            if (wembed_tokenizer_encode(tok, text, len, NULL, &e) != WEMBED_STATUS_OK) return 1;
            double dt = now() - t0;
            if (dt < best_doc) best_doc = dt;
            tokens = e->n_tokens;
            wembed_encoding_free(e);
            // The same bytes as texts of about 250 bytes, cut at spaces.
            t0 = now();
            for (size_t i = 0; i < len;) {
                size_t j = i + 250 < len ? i + 250 : len;
                while (j < len && text[j] != ' ') j++;
                if (wembed_tokenizer_encode(tok, text + i, j - i, NULL, &e) != WEMBED_STATUS_OK) return 1;
                wembed_encoding_free(e);
                i = j;
            }
            dt = now() - t0;
            if (dt < best_many) best_many = dt;
        }
        printf("%-24s %5.1f MB json: load %7.1f ms cpu (%7.1f wall), %6.1f MB held, %6.1f MB peak   one document %6.1f MB/s (%ld tokens)   250-byte texts %6.1f MB/s\n",
               name, n / 1048576.0, load_ms, load_wall_ms, held_mb, peak_mb, len / 1048576.0 / best_doc, tokens, len / 1048576.0 / best_many);
        wembed_tokenizer_free(tok);
    }
    free(text);
    return 0;
}
