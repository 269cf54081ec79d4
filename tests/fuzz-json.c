// fuzz-json.c - libFuzzer target for the JSON reader (src/formats/json.c): any input must be
// accepted or refused with a status and message, never crash, read out of bounds or leak;
// an accepted document must be walkable to every leaf.
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "formats/json.h"

// Touches every value, so a dangling or short pointer in the tree shows up under ASan.
static size_t walk(const we_json *v, int depth) {
    size_t h = (size_t)v->type + v->len;
    switch (v->type) {
    case WE_JSON_STRING:
        for (uint32_t i = 0; i <= v->len; i++) h += (uint8_t)v->u.str[i];   // incl. the NUL
        break;
    case WE_JSON_ARRAY:
        for (uint32_t i = 0; i < v->len; i++) h += walk(&v->u.items[i], depth + 1);
        break;
    case WE_JSON_OBJECT:
        for (uint32_t i = 0; i < v->len; i++) {
            const we_json_member *m = &v->u.members[i];
            for (uint32_t k = 0; k <= m->key_len; k++) h += (uint8_t)m->key[k];
            h += walk(&m->value, depth + 1);
        }
        break;
    case WE_JSON_NUMBER: {
        double f = 0;
        if (!we_json_as_double(v, &f)) __builtin_trap();   // every number parsed reads back
        h += (size_t)(f == f) + (v->u.num.is_int ? (size_t)v->u.num.i : 0);
        if (!v->u.num.is_int && v->u.num.text)
            for (uint32_t i = 0; i <= v->len; i++) h += (uint8_t)v->u.num.text[i];   // incl. the NUL
        break;
    }
    default:
        break;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    we_arena a;
    we_arena_init(&a, 4096);
    we_json_limits lim = we_json_default_limits();
    lim.max_depth = 64;
    lim.max_nodes = 1 << 16;
    const we_json *v = NULL;
    we_err err;
    err.msg[0] = 0;
    wembed_status rc = we_json_parse(&a, (const char *)data, size, &lim, &v, &err);
    if (rc == WEMBED_STATUS_OK) {
        volatile size_t h = walk(v, 0);
        (void)h;
    } else if (strncmp(err.msg, "JSON ", 5) != 0 && rc != WEMBED_STATUS_LIMIT) {
        __builtin_trap();   // every refusal names its position
    }
    we_arena_free(&a);
    if (we_alloc_live() != 0) __builtin_trap();
    return 0;
}
