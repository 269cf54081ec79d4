// unicode.c - lookups over the generated tables (unicode_tables.c): lowercase, decomposition,
// composition. See unicode.h.
#include "unicode.h"

#include <stddef.h>

int we_uc_lower(uint32_t cp, uint32_t out[3]) {
    if (cp < 0x80) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    out[0] = cp;
    if (!we_uc_has(cp, WE_UC_LOWER)) return 1;
    for (uint32_t i = 0; i < we_uc_lower_multi_n; i++) {
        if (we_uc_lower_multi[i][0] == cp) {
            int n = 0;
            for (int k = 1; k <= 3 && we_uc_lower_multi[i][k]; k++) out[n++] = we_uc_lower_multi[i][k];
            return n;
        }
    }
    size_t lo = 0, hi = we_uc_lower_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (we_uc_lower_map[mid][0] < cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo < we_uc_lower_n && we_uc_lower_map[lo][0] == cp) out[0] = we_uc_lower_map[lo][1];
    return 1;
}

static const we_uc_decomp_entry *find_decomp(uint32_t cp) {
    size_t lo = 0, hi = we_uc_decomp_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (we_uc_decomp_index[mid].cp < cp) lo = mid + 1;
        else hi = mid;
    }
    return (lo < we_uc_decomp_n && we_uc_decomp_index[lo].cp == cp) ? &we_uc_decomp_index[lo] : NULL;
}

// Hangul syllables (Unicode 3.12, "Conjoining Jamo Behavior").
enum { S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7,
       L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT,
       S_COUNT = L_COUNT * N_COUNT };

static int decompose_into(uint32_t cp, bool compat, uint32_t *out, int n) {
    if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
        uint32_t s = cp - S_BASE;
        if (n + 3 > WE_UC_DECOMP_MAX) return n;
        out[n++] = L_BASE + s / N_COUNT;
        out[n++] = V_BASE + (s % N_COUNT) / T_COUNT;
        if (s % T_COUNT) out[n++] = T_BASE + s % T_COUNT;
        return n;
    }
    const we_uc_decomp_entry *e = we_uc_has(cp, compat ? WE_UC_DECOMP_K : WE_UC_DECOMP_C)
                                      ? find_decomp(cp) : NULL;
    if (!e || (e->compat && !compat)) {
        if (n < WE_UC_DECOMP_MAX) out[n++] = cp;
        return n;
    }
    for (int k = 0; k < e->len; k++) n = decompose_into(we_uc_decomp_data[e->off + k], compat, out, n);
    return n;
}

int we_uc_decompose(uint32_t cp, bool compat, uint32_t *out) {
    return decompose_into(cp, compat, out, 0);
}

uint32_t we_uc_compose(uint32_t a, uint32_t b) {
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 &&
        b > T_BASE && b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    size_t lo = 0, hi = we_uc_comp_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (we_uc_comp[mid][0] < a || (we_uc_comp[mid][0] == a && we_uc_comp[mid][1] < b)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < we_uc_comp_n && we_uc_comp[lo][0] == a && we_uc_comp[lo][1] == b) return we_uc_comp[lo][2];
    return 0;
}
