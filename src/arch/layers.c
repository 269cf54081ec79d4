// layers.c - building blocks of the forward passes (forward.h).
#include <string.h>

#include "../core/f16.h"
#include "../core/pool.h"
#include "forward.h"

// f16 weights are kept row-major and converted when used, NB output channels at a time,
// into the packed f32 layout the GEMM reads: the scratch holds one such block.
#define F16_BLOCK 64

size_t we_linear_scratch_bytes(const we_weight *w, int T) {
    if (w->type == WE_WTYPE_Q8) return we_gemm_q8_scratch_bytes(T, (int)w->K);
    if (w->type == WE_WTYPE_F16) return we_gemm_f32_packed_floats(F16_BLOCK, (int)w->K) * sizeof(float);
    return 0;
}

void we_linear(wembed_pool *pool, float *y, int ldy, const float *x, int ldx, const we_weight *w,
               const we_weight *b, int T, we_act act, void *scratch) {
    int N = (int)w->N, K = (int)w->K;
    const float *bias = we_vec(b);
    switch (w->type) {
    case WE_WTYPE_F32:
        if (w->layout == WE_LAYOUT_PACKED) we_gemm_f32(pool, y, ldy, x, ldx, w->data, bias, T, K, N, act);
        else we_gemm_f32_ref(pool, y, ldy, x, ldx, w->data, bias, T, K, N, act);
        return;
    case WE_WTYPE_Q8:
        if (w->layout == WE_LAYOUT_PACKED) we_gemm_q8(pool, y, ldy, x, ldx, w->data, w->scale, bias, T, K, N, act, scratch);
        else we_gemm_q8_ref(pool, y, ldy, x, ldx, w->data, w->scale, bias, T, K, N, act, scratch);
        return;
    case WE_WTYPE_F16: {
        float *wp = scratch;
        const uint16_t *h = w->data;
        for (int n0 = 0; n0 < N; n0 += F16_BLOCK) {
            int nb = WE_MIN(F16_BLOCK, N - n0);
            memset(wp, 0, we_gemm_f32_packed_floats(nb, K) * sizeof(float));
            for (int n = 0; n < nb; n++)
                for (int k = 0; k < K; k++)
                    wp[we_gemm_f32_packed_index(n, k, nb, K)] = we_f16_to_f32(h[(size_t)(n0 + n) * K + k]);
            we_gemm_f32(pool, y + n0, ldy, x, ldx, wp, bias ? bias + n0 : NULL, T, K, nb, act);
        }
        return;
    }
    }
}

void we_gather_rows(float *out, const we_weight *t, const int32_t *ids, int n, bool add) {
    int64_t E = t->K;
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t)i * E;
        int64_t r = ids[i];
        switch (t->type) {
        case WE_WTYPE_F32: {
            const float *row = (const float *)t->data + r * E;
            if (add) for (int64_t e = 0; e < E; e++) o[e] += row[e];
            else memcpy(o, row, sizeof(float) * (size_t)E);
            break;
        }
        case WE_WTYPE_F16: {
            const uint16_t *row = (const uint16_t *)t->data + r * E;
            for (int64_t e = 0; e < E; e++) o[e] = (add ? o[e] : 0.0f) + we_f16_to_f32(row[e]);
            break;
        }
        case WE_WTYPE_Q8: {
            const int8_t *row = (const int8_t *)t->data + r * E;
            float s = t->scale[r];
            for (int64_t e = 0; e < E; e++) o[e] = (add ? o[e] : 0.0f) + (float)row[e] * s;
            break;
        }
        }
    }
}

void we_add_layer_norm(wembed_pool *pool, float *x, const float *h, const we_weight *g,
                       const we_weight *b, int T, int E, float eps) {
    size_t n = (size_t)T * E;
    for (size_t i = 0; i < n; i++) x[i] += h[i];
    we_layer_norm(pool, x, E, x, E, we_vec(g), we_vec(b), T, E, eps);
}

wembed_status we_check_tokens(const we_tokens *tk, const we_weight *tok_emb, const we_weight *type_emb,
                              int64_t n_pos, we_err *err) {
    for (int32_t i = 0; i < tk->n_tok; i++) {
        if (tk->ids[i] < 0 || tk->ids[i] >= tok_emb->N)
            return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "token id %d is outside the vocabulary (0..%lld)",
                             tk->ids[i], (long long)tok_emb->N - 1);
        if (tk->type_ids && type_emb && (tk->type_ids[i] < 0 || tk->type_ids[i] >= type_emb->N))
            return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "token type id %d is outside 0..%lld",
                             tk->type_ids[i], (long long)type_emb->N - 1);
        if (tk->pos[i] < 0)
            return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "negative position %d", tk->pos[i]);
        if (n_pos > 0 && tk->pos[i] >= n_pos)
            return we_errorf(err, WEMBED_STATUS_TOO_LONG, "position %d is past the model's %lld positions",
                             tk->pos[i], (long long)n_pos);
    }
    return WEMBED_STATUS_OK;
}

void we_embed_word_type(float *x, const we_tokens *tk, const we_weight *tok_emb, const we_weight *type_emb) {
    we_gather_rows(x, tok_emb, tk->ids, tk->n_tok, false);
    if (tk->type_ids) {
        we_gather_rows(x, type_emb, tk->type_ids, tk->n_tok, true);
        return;
    }
    const int32_t zero = 0;
    for (int i = 0; i < tk->n_tok; i++) we_gather_rows(x + (size_t)i * tok_emb->K, type_emb, &zero, 1, true);
}
