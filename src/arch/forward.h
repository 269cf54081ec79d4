// forward.h - what the forward passes share: the packed token batch they take, the layer
// building blocks (a Linear over any stored weight type, embedding gathers, residual + layer
// norm), and the passes themselves (bert.c, nomic_bert.c, clip.c).
//
// Batches are packed, not padded: the tokens of all sequences lie back to back, each
// sequence a range [seq_off[s], seq_off[s+1]). The projections and MLPs run on all tokens at
// once; attention runs per sequence. So padding costs nothing and needs no mask, and a
// sequence's result never depends on the others in its batch.
#ifndef WE_FORWARD_H
#define WE_FORWARD_H

#include "arch.h"

typedef struct we_tokens {
    int32_t n_seq;
    int32_t n_tok;
    const int32_t *seq_off;       // (n_seq + 1)
    const int32_t *ids;           // (n_tok)
    const int32_t *type_ids;      // (n_tok), or NULL: all 0
    const int32_t *pos;           // (n_tok) position ids (absolute embeddings, RoPE)
    const int32_t *rope_len;      // (n_seq) nomic: the length L dynamic NTK scales for, or NULL
} we_tokens;

// How a pass may override the model's RoPE scaling (wembed_embed_params).
typedef enum we_rope_mode {
    WE_ROPE_MODEL = 0,            // as config.json says (nomic: dynamic NTK when a factor is set)
    WE_ROPE_NONE,
    WE_ROPE_LINEAR,               // position interpolation: positions / factor
    WE_ROPE_NTK,                  // fixed NTK: base * factor^(rot/(rot-2)) at every length
    WE_ROPE_DYNAMIC_NTK,          // nomic's rule with the given factor
} we_rope_mode;

typedef struct we_rope_opts {
    we_rope_mode mode;
    float factor;                 // 0: the model's rotary_scaling_factor
} we_rope_opts;

// -----------------------------------------------------------------------------------------
// Building blocks

// Scratch bytes we_linear needs for T rows through w (0 for f32).
size_t we_linear_scratch_bytes(const we_weight *w, int T);

// y (T, N; ldy) = act(x (T, K; ldx) @ w^T + b), w a (N, K) weight of any type and layout:
// f32 packed -> we_gemm_f32; q8 packed -> we_gemm_q8 (x quantized per row on the fly);
// f16 (row-major) -> converted in blocks of rows to packed f32 in scratch; f32 row-major ->
// the reference GEMM. b may be NULL or absent (data NULL).
void we_linear(wembed_pool *pool, float *y, int ldy, const float *x, int ldx, const we_weight *w,
               const we_weight *b, int T, we_act act, void *scratch);

// out (n, E) = rows ids[i] of table (f32, f16 or q8 rows); add: out += instead of =.
void we_gather_rows(float *out, const we_weight *table, const int32_t *ids, int n, bool add);

// Checks ids (and type ids, positions) against the tables before anything reads them:
// INVALID_ARGUMENT, or TOO_LONG for a position past n_pos (0: no position table).
wembed_status we_check_tokens(const we_tokens *tk, const we_weight *tok_emb, const we_weight *type_emb,
                              int64_t n_pos, we_err *err);
// x (n_tok, E) = word embedding + token type embedding (type 0 when tk has none).
void we_embed_word_type(float *x, const we_tokens *tk, const we_weight *tok_emb, const we_weight *type_emb);

// x (T, E) = layer_norm(x + h) with gamma/beta (f32 vectors, may be absent).
void we_add_layer_norm(wembed_pool *pool, float *x, const float *h, const we_weight *g,
                       const we_weight *b, int T, int E, float eps);

static inline const float *we_vec(const we_weight *w) { return w && w->data ? (const float *)w->data : NULL; }

// -----------------------------------------------------------------------------------------
// The passes. Each writes the last hidden states of every token into out (n_tok, E), after
// the final layer norm where the architecture has one. WEMBED_STATUS_ALLOC_FAILED when the
// activations do not fit, with a message in err; the model stays usable.

wembed_status we_bert_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                              float *out, we_err *err);
wembed_status we_nomic_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                               const we_rope_opts *rope, float *out, we_err *err);

// CLIP text tower: out (n_tok, E) after final_layer_norm (causal attention per sequence).
wembed_status we_clip_text_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                   float *out, we_err *err);
// CLIP vision tower: pixels (B, C, S, S) normalized; out (B, 1 + n_patches, E), the encoder
// output before post_layernorm (HF's last_hidden_state).
wembed_status we_clip_vision_forward(const we_arch_model *m, wembed_pool *pool, const float *pixels, int B,
                                     float *out, we_err *err);

#endif // WE_FORWARD_H
