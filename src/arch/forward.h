// forward.h - what the forward passes share: the packed token batch they take, the layers
// a pass is written in (a Linear over any stored weight type, embedding gathers, the norms,
// residual blocks, gated MLPs, RoPE tables, attention over every sequence of a batch), the
// one planner that sizes a pass's activations, and the pieces several families have in common
// (q/k/v projections, the post-LN layer's tail, the Qwen3 / Gemma 3 decoder layer, the
// CLIP-style pre-LN layer and text tower), each with the weight-table rows of its tensors.
//
// Batches are packed, not padded: the tokens of all sequences lie back to back, each
// sequence a range [seq_off[s], seq_off[s+1]). The projections and MLPs run on all tokens at
// once; attention runs per sequence. So padding costs nothing and needs no mask, and a
// sequence's result never depends on the others in its batch.
#ifndef WE_FORWARD_H
#define WE_FORWARD_H

#include <stddef.h>

#include "../ops/attention.h"
#include "arch.h"

struct we_tokens {
    int32_t n_seq;
    int32_t n_tok;
    const int32_t *seq_off;       // (n_seq + 1)
    const int32_t *ids;           // (n_tok)
    const int32_t *type_ids;      // (n_tok), or NULL: all 0
    const int32_t *pos;           // (n_tok) position ids (absolute embeddings, RoPE)
    const int32_t *rope_len;      // (n_seq) the length dynamic NTK scales for, or NULL: own length
    const we_fwd_opts *opts;      // the call's options (we_attend reads attn_temp), or NULL: none
};

static inline int32_t we_seq_len(const we_tokens *tk, int s) { return tk->seq_off[s + 1] - tk->seq_off[s]; }
int32_t we_longest_seq(const we_tokens *tk);

static inline const float *we_vec(const we_weight *w) { return w && w->data ? (const float *)w->data : NULL; }

// -----------------------------------------------------------------------------------------
// The activation planner. A pass carves every buffer it needs, in two rounds of the same
// code: the first (base NULL) only counts, we_carve_alloc allocates, the second hands out the
// pointers. Buffers of 1 MiB and more get blocks of their own, the rest share one: wasm memory
// never shrinks, and separate blocks of a few MB fit into what a load left free (the parse of
// a 33 MB tokenizer.json below the weights), where one block of all of them would not.
//
//   we_carve c = {0};
//   for (;;) {
//       qkv = we_carve_floats(&c, n * 3 * E);
//       lin = we_carve_bytes(&c, we_linear_scratch_max(n, ws, 3));
//       if (c.base) break;
//       if (!we_carve_alloc(&c)) return out_of_memory;
//   }
//   ...
//   we_carve_free(&c);

#define WE_CARVE_BLOCKS 32

typedef struct we_carve {
    char *base;                   // NULL while counting; then the block of the small buffers
    size_t off;                   // its bytes so far
    bool overflow;
    int n_big, i_big;             // buffers with their own block: counted, handed out
    size_t big_size[WE_CARVE_BLOCKS];
    char *big[WE_CARVE_BLOCKS];
} we_carve;

float *we_carve_floats(we_carve *c, size_t n);
void *we_carve_bytes(we_carve *c, size_t n);
// Allocates what the counting round asked for and starts the second round; false: out of memory.
bool we_carve_alloc(we_carve *c);
void we_carve_free(we_carve *c);

// -----------------------------------------------------------------------------------------
// Linear layers, embeddings

// Scratch bytes we_linear needs for T rows through w (0 for f32).
size_t we_linear_scratch_bytes(const we_weight *w, int T);
// The most any of the n weights needs (absent weights: 0).
size_t we_linear_scratch_max(int T, const we_weight *const *ws, int n);

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
// x (n_tok, E) = word embedding + token type embedding (type 0 when tk has none; word alone
// when type_emb is NULL or absent).
void we_embed_word_type(float *x, const we_tokens *tk, const we_weight *tok_emb, const we_weight *type_emb);

// -----------------------------------------------------------------------------------------
// Norms and residual blocks

typedef enum we_norm_kind {
    WE_NORM_LAYER = 0,            // LayerNorm, with or without bias (torch.nn.LayerNorm)
    WE_NORM_RMS,                  // RMSNorm, x * rsqrt(mean x^2 + eps) * w
    WE_NORM_RMS_1P,               // Gemma's RMSNorm, x * rsqrt(mean x^2 + eps) * (1 + w)
} we_norm_kind;

typedef struct we_norm {
    we_norm_kind kind;
    float eps;
} we_norm;

// y (T, E; ldy) = norm(x (T, E; ldx)) with weight g and bias b (LayerNorm only; either may
// be absent). y == x allowed.
void we_apply_norm(wembed_pool *pool, const we_norm *nk, float *y, int ldy, const float *x, int ldx,
                   const we_weight *g, const we_weight *b, int T, int E);
// Post-LN: x (T, E) = norm(x + h).
void we_add_norm(wembed_pool *pool, const we_norm *nk, float *x, const float *h, const we_weight *g,
                 const we_weight *b, int T, int E);
// x (n) += h (n).
void we_residual(float *x, const float *h, size_t n);

// Gated MLP core: h (T, F; ldh) = act(gate) * up, gate and up (T, F) with their row strides.
// Which projection (or which half of a fused one) is the gate is the caller's: pass it as gate.
// h may be up (in place).
void we_glu(wembed_pool *pool, float *h, int ldh, const float *gate, int ldg, const float *up, int ldu,
            int T, int F, we_act act);

// -----------------------------------------------------------------------------------------
// The query, key and value projections of a self-attention with biases (BertSelfAttention's
// query / key / value, MPNet's q / k / v, DeBERTa's *_proj, CLIP's q_proj / k_proj / v_proj):
// a member of the family's layer struct.

typedef struct we_qkv {
    we_weight q_w, q_b;           // (E, E), (E)
    we_weight k_w, k_b;           // (E, E), (E)
    we_weight v_w, v_b;           // (E, E), (E)
} we_qkv;

// qkv (T, 3E) = [x Wq^T + bq | x Wk^T + bk | x Wv^T + bv] for x (T, E).
void we_qkv_linear(wembed_pool *pool, const we_qkv *w, float *qkv, const float *x, int T, int E, void *scratch);

// Its weight-table rows under BertSelfAttention's HF names (attention.self.query / key / value)
// and llama.cpp's bert GGUF names, for the we_qkv at offset OFF of the family's layer struct.
#define WE_QKV_T(OFF, f) (uint16_t)((OFF) + offsetof(we_qkv, f))
#define WE_BERT_QKV_ENTRIES(OFF)                                                                                                 \
    {"encoder.layer.%d.attention.self.query.weight", "blk.%d.attn_q.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, \
     WE_QKV_T(OFF, q_w)},                                                                                                        \
    {"encoder.layer.%d.attention.self.query.bias", "blk.%d.attn_q.bias", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_QKV_T(OFF, q_b)}, \
    {"encoder.layer.%d.attention.self.key.weight", "blk.%d.attn_k.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD},   \
     WE_QKV_T(OFF, k_w)},                                                                                                        \
    {"encoder.layer.%d.attention.self.key.bias", "blk.%d.attn_k.bias", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_QKV_T(OFF, k_b)}, \
    {"encoder.layer.%d.attention.self.value.weight", "blk.%d.attn_v.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, \
     WE_QKV_T(OFF, v_w)},                                                                                                        \
    {"encoder.layer.%d.attention.self.value.bias", "blk.%d.attn_v.bias", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_QKV_T(OFF, v_b)}

// -----------------------------------------------------------------------------------------
// The post-LN (BERT) layer after its attention: BertLayer's attention output and feed-forward,
// which MPNet, DeBERTa-v2, JinaBERT and GTE share (each family has its own attention before it):
//   x = LN_attn(x + a Wo^T + bo);   x = LN_out(x + ffn(x) Wdown^T + bdown)
// ffn(x) is BERT's act(x Wup^T + bup), or gated: act(gate) * up, gate and up the halves of one
// (2F, E) projection or two (F, E) ones, without a bias (JinaBERT's GEGLU, GTE's up_gate_proj).

typedef struct we_postln_tail {
    we_weight o_w, o_b;           // (E, E), (E)   the attention's output projection
    we_weight attn_ln_w, attn_ln_b;   // (E)       its LayerNorm
    we_weight up_w, up_b;         // (F, E), (F)   plain: the intermediate Linear; gated, split: the up half
    we_weight gate_w;             // (F, E)        gated, split: the activated half
    we_weight gu_w;               // (2F, E)       gated, fused: both halves in the checkpoint's order
    we_weight down_w, down_b;     // (E, F), (E)   the output Linear
    we_weight out_ln_w, out_ln_b; // (E)           its LayerNorm
} we_postln_tail;

// Its weight-table rows under BertLayer's HF names and llama.cpp's bert GGUF names, for the
// we_postln_tail at offset OFF of the family's layer struct: the attention output
// (attention.output.dense, .LayerNorm), and BERT's feed-forward (intermediate.dense,
// output.dense, output.LayerNorm) under condition C.
#define WE_POSTLN_T(OFF, f) (uint16_t)((OFF) + offsetof(we_postln_tail, f))
#define WE_POSTLN_ATTN_OUT_ENTRIES(OFF)                                                                                          \
    {"encoder.layer.%d.attention.output.dense.weight", "blk.%d.attn_output.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_EMBD}, \
     WE_POSTLN_T(OFF, o_w)},                                                                                                     \
    {"encoder.layer.%d.attention.output.dense.bias", "blk.%d.attn_output.bias", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD},           \
     WE_POSTLN_T(OFF, o_b)},                                                                                                     \
    {"encoder.layer.%d.attention.output.LayerNorm.weight", "blk.%d.attn_output_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, \
     WE_POSTLN_T(OFF, attn_ln_w)},                                                                                               \
    {"encoder.layer.%d.attention.output.LayerNorm.bias", "blk.%d.attn_output_norm.bias", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD},  \
     WE_POSTLN_T(OFF, attn_ln_b)}
#define WE_POSTLN_BERT_FFN_ENTRIES(C, OFF)                                                                                       \
    {"encoder.layer.%d.intermediate.dense.weight", "blk.%d.ffn_up.weight", 0, true, WE_W_LINEAR, 0, C, 2, {WE_D_FF, WE_D_EMBD},   \
     WE_POSTLN_T(OFF, up_w)},                                                                                                    \
    {"encoder.layer.%d.intermediate.dense.bias", "blk.%d.ffn_up.bias", 0, true, WE_W_VEC, 0, C, 1, {WE_D_FF}, WE_POSTLN_T(OFF, up_b)}, \
    {"encoder.layer.%d.output.dense.weight", "blk.%d.ffn_down.weight", 0, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_FF},       \
     WE_POSTLN_T(OFF, down_w)},                                                                                                  \
    {"encoder.layer.%d.output.dense.bias", "blk.%d.ffn_down.bias", 0, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_POSTLN_T(OFF, down_b)}, \
    {"encoder.layer.%d.output.LayerNorm.weight", "blk.%d.layer_output_norm.weight", 0, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD},      \
     WE_POSTLN_T(OFF, out_ln_w)},                                                                                                \
    {"encoder.layer.%d.output.LayerNorm.bias", "blk.%d.layer_output_norm.bias", 0, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD},          \
     WE_POSTLN_T(OFF, out_ln_b)}

// A family's feed-forward kind.
typedef struct we_ffn {
    int F;                        // inner width
    we_act act;                   // plain: on the intermediate Linear; gated: on the gate
    bool glu;                     // gated: act(gate) * up
    bool split;                   // gated: gate_w and up_w (else gu_w)
    int gate_at;                  // gated: the gate's first column in the (T, 2F) projection, 0 or F
} we_ffn;

// Floats of the feed-forward's inner activations for T rows (the ff of we_postln_*).
static inline size_t we_ffn_floats(const we_ffn *f, int T) { return (size_t)T * (f->glu ? 2 : 1) * f->F; }

// x (T, E) = LN_out(x + ffn(x) Wdown^T + bdown) in place; h (T, E) and ff (we_ffn_floats) scratch.
void we_postln_ffn(wembed_pool *pool, const we_postln_tail *L, const we_ffn *f, const we_norm *ln, float *x, float *h,
                   float *ff, int T, int E, void *lscratch);
// x (T, E) = LN_attn(x + a Wo^T + bo) for the attention output a (T, E), then we_postln_ffn.
void we_postln_tail_apply(wembed_pool *pool, const we_postln_tail *L, const we_ffn *f, const we_norm *ln, float *x,
                          const float *a, float *h, float *ff, int T, int E, void *lscratch);

// -----------------------------------------------------------------------------------------
// Rotary position embeddings (half-split, attention.h) for any RoPE family.

// A family's own RoPE rule; we_rope_resolve applies a call's override on top of it.
typedef struct we_rope_cfg {
    int32_t rot;                  // dims rotated per head (even)
    double base;                  // rope_theta / rotary_emb_base
    we_rope_mode mode;            // the model's own scaling (WE_ROPE_NONE, LINEAR, NTK, DYNAMIC_NTK,
                                  // NTK_SCALED_FREQ)
    double factor;                // its factor (dynamic NTK: rotary_scaling_factor)
    int32_t max_trained;          // dynamic NTK: the length past which the base grows
} we_rope_cfg;

// The base and position scale for a sequence of length L (the rope length of we_tokens). The
// angle of frequency i at position p is p * pos_scale / base^(2i/rot):
//   NONE             base, 1
//   LINEAR           base, 1/f
//   NTK              base * f^(rot/(rot-2)), 1                  (f > 1; at every length)
//   DYNAMIC_NTK      we_rope_ntk_base(base, rot, f, L, max_trained), 1
//   NTK_SCALED_FREQ  base * f, f^(-2/rot)                       (f > 0; at every length) --
//                    kexue.fm/archives/9706 eq. (6): 1/(base f)^(2i/rot) / f^(2/rot)
// A call's mode (o->mode != MODEL) replaces the model's, and a call's factor (> 0) its factor.
void we_rope_resolve(const we_rope_cfg *c, const we_rope_opts *o, int L, double *base, double *pos_scale);

// cos and sin (n_tok, rot/2) for every token of tk at its position, each sequence with its
// own base (dynamic NTK): angles in double, rounded once.
void we_rope_fill(float *cos_t, float *sin_t, const we_tokens *tk, const we_rope_cfg *c, const we_rope_opts *o);
// The same at other positions: floor(pos / div) + add for a token at pos (div >= 1; the result
// may be negative or, with a fractional add, not an integer), with the base and position scale
// of its sequence as above. div 1, add 0: we_rope_fill.
void we_rope_fill_at(float *cos_t, float *sin_t, const we_tokens *tk, const we_rope_cfg *c, const we_rope_opts *o,
                     int div, double add);

// -----------------------------------------------------------------------------------------
// q and k of a RoPE family: the tables of a forward pass, the rotation, and SelfExtend.
//
// SelfExtend (we_fwd_opts.se_group G, se_window W; attention.h has the definition) needs, besides
// q and k at their positions p, q at p/G + shift and p/G - shift and k at p/G (shift = W - W/G):
// we_rope_carve makes their tables and buffers and points the attention's parameters at them,
// we_rope_rotate fills them from the unrotated q and k. What a RoPE family calls:
//
//   we_rope_pass rp;                                   // one per RoPE config of the model
//   for (;;) {                                         // the planner's loop (we_carve)
//       ...
//       we_rope_carve(&c, &rp, tk, &cfg, o, &ap, NULL);   // before the attention scratch: it
//       attn = we_carve_floats(&c, we_attend_scratch_floats(tk, &ap, ...));   // sizes for SelfExtend
//       ...
//   }
//   per layer:  we_rope_rotate(pool, &rp, q, ldq, k, ldk);   // instead of we_rope_apply on q and k
//               we_attend(pool, tk, ..., &ap, ...);
//
// and sets we_text_spec.self_extend in its finish (embed.c refuses SelfExtend on a family that
// does not). A model with two RoPE configs (local and global layers) makes two passes with their
// own attention parameters; the second passes the first as share, so that both use one set of
// SelfExtend buffers (a layer uses them between its rotation and its attention only).
typedef struct we_rope_pass {
    we_rope_cfg cfg;
    int n_tok, n_head, n_kv_head, head_dim;
    int se_group, se_window;      // SelfExtend, when some sequence of the batch is longer than the
                                  // window, G > 1 and the attention sees pairs W apart (no sliding
                                  // window below W); else 0 (G = 1 changes no position)
    float *cos_t, *sin_t;         // (n_tok, rot/2) at pos
    float *cos_a, *sin_a;         // SelfExtend: (n_tok, rot/2) at pos/G + shift (queries, keys before)
    float *cos_b, *sin_b;         // SelfExtend: (n_tok, rot/2) at pos/G - shift (queries, keys after)
    float *cos_g, *sin_g;         // SelfExtend: (n_tok, rot/2) at pos/G (keys)
    bool causal;                  // the attention is causal: no keys after the query, no qb and its tables
    float *qa, *qb;               // SelfExtend: (n_tok, n_head * head_dim) each (qb NULL when causal)
    float *kg;                    // SelfExtend: (n_tok, n_kv_head * head_dim)
} we_rope_pass;

// One round of the planner (we_carve) for rp: the tables of tk's tokens under cfg and o->rope,
// and with SelfExtend (o->se_window) its tables and rotated copies (share's copies when share is
// not NULL); in the allocated round it also fills the tables. Sets ap's SelfExtend fields (the
// window in both rounds, so we_attend_scratch_floats(ap) sizes for it). ap gives the heads.
void we_rope_carve(we_carve *c, we_rope_pass *rp, const we_tokens *tk, const we_rope_cfg *cfg, const we_fwd_opts *o,
                   we_attn_params *ap, const we_rope_pass *share);

// q (n_tok, n_head * head_dim; ldq) and k (n_tok, n_kv_head * head_dim; ldk) rotated in place at
// their positions; with SelfExtend, first their copies at the grouped positions.
void we_rope_rotate(wembed_pool *pool, const we_rope_pass *rp, float *q, int ldq, float *k, int ldk);

// -----------------------------------------------------------------------------------------
// The pre-norm decoder layer of Qwen3 and Gemma 3 (Qwen3DecoderLayer, Gemma3DecoderLayer):
// grouped-query attention with per-head q/k RMSNorms before RoPE, and a gated MLP, the same
// tensors under the same names; Gemma adds norms on the attention's and the MLP's outputs.
//   h = attn_norm(x);  x += post_attn_norm(o_proj(attn(rope(q_norm(q)), rope(k_norm(k)), v)))
//   h = ffn_norm(x);   x += post_ffn_norm(down(act(gate(h)) * up(h)))
// (post_attn_norm, post_ffn_norm: Gemma's; absent from a table, none.)

typedef struct we_decoder_layer {
    we_weight attn_norm;          // (E)        input_layernorm
    we_weight q_w;                // (H d, E)   self_attn.q_proj
    we_weight k_w, v_w;           // (KV d, E)  self_attn.k_proj / v_proj
    we_weight o_w;                // (E, H d)   self_attn.o_proj
    we_weight q_norm, k_norm;     // (d)        self_attn.q_norm / k_norm (per head)
    we_weight post_attn_norm;     // (E)        Gemma: post_attention_layernorm
    we_weight ffn_norm;           // (E)        Qwen3: post_attention_layernorm; Gemma: pre_feedforward_layernorm
    we_weight gate_w, up_w;       // (F, E)     mlp.gate_proj / up_proj
    we_weight down_w;             // (E, F)     mlp.down_proj
    we_weight post_ffn_norm;      // (E)        Gemma: post_feedforward_layernorm
} we_decoder_layer;

typedef struct we_decoder_weights {
    we_decoder_layer *layers;     // (n_layer); first member (we_slot_simple)
    we_weight tok_emb;            // (V, E)  embed_tokens
    we_weight out_norm;           // (E)     norm
} we_decoder_weights;

// The widths of the attention's projections, which need not be hidden_size (dims of the tables).
enum { WE_D_DEC_Q = WE_D_FAMILY, WE_D_DEC_KV, WE_D_DEC_HEAD };   // H head_dim, KV head_dim, head_dim

// The weight-table rows both families share, with llama.cpp's GGUF names; each adds its norms
// around the attention and the MLP (their HF names differ).
#define WE_DEC_M(f) (uint16_t)offsetof(we_decoder_weights, f)
#define WE_DEC_L(f) (uint16_t)offsetof(we_decoder_layer, f)
#define WE_DECODER_ENTRIES                                                                                                       \
    {"embed_tokens.weight", "token_embd.weight", 0, false, WE_W_TABLE, 0, 0, 2, {WE_D_VOCAB, WE_D_EMBD}, WE_DEC_M(tok_emb)},      \
    {"norm.weight", "output_norm.weight", 0, false, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_DEC_M(out_norm)},                          \
    {"layers.%d.input_layernorm.weight", "blk.%d.attn_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_DEC_L(attn_norm)}, \
    {"layers.%d.self_attn.q_proj.weight", "blk.%d.attn_q.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_DEC_Q, WE_D_EMBD}, WE_DEC_L(q_w)}, \
    {"layers.%d.self_attn.k_proj.weight", "blk.%d.attn_k.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_DEC_KV, WE_D_EMBD}, WE_DEC_L(k_w)}, \
    {"layers.%d.self_attn.v_proj.weight", "blk.%d.attn_v.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_DEC_KV, WE_D_EMBD}, WE_DEC_L(v_w)}, \
    {"layers.%d.self_attn.o_proj.weight", "blk.%d.attn_output.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_DEC_Q}, WE_DEC_L(o_w)}, \
    {"layers.%d.self_attn.q_norm.weight", "blk.%d.attn_q_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_DEC_HEAD}, WE_DEC_L(q_norm)}, \
    {"layers.%d.self_attn.k_norm.weight", "blk.%d.attn_k_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_DEC_HEAD}, WE_DEC_L(k_norm)}, \
    {"layers.%d.mlp.gate_proj.weight", "blk.%d.ffn_gate.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, WE_DEC_L(gate_w)}, \
    {"layers.%d.mlp.up_proj.weight", "blk.%d.ffn_up.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_FF, WE_D_EMBD}, WE_DEC_L(up_w)}, \
    {"layers.%d.mlp.down_proj.weight", "blk.%d.ffn_down.weight", 0, true, WE_W_LINEAR, 0, 0, 2, {WE_D_EMBD, WE_D_FF}, WE_DEC_L(down_w)}

// Its shape: width E, MLP width F, H query and KV key/value heads of head_dim d.
typedef struct we_decoder_shape {
    int E, F, H, KV, d;
} we_decoder_shape;

// Its activations for n tokens.
typedef struct we_decoder_bufs {
    float *h;                     // (n, E)     normed x; o_proj / down_proj out
    float *q, *k, *v;             // (n, H d), (n, KV d), (n, KV d)
    float *a;                     // (n, H d)   attention output
    float *g, *u;                 // (min(n, we_decoder_mlp_rows), F) gate; up, act(gate) * up in place
    float *attn;                  // we_attend's scratch (the caller's: it knows the attentions)
    void *lscratch;               // the Linear scratch
} we_decoder_bufs;

// Tokens per run of the MLP (layers.c: 256); set before a forward pass, not during one.
extern int we_decoder_mlp_rows;
// One round of the planner (we_carve) for all of b but attn; L0 any layer.
void we_decoder_carve(we_carve *c, we_decoder_bufs *b, const we_decoder_layer *L0, const we_decoder_shape *s, int n);
// One layer over x (n_tok, E) in place: q and k rotated by rp, attention ap, the gate's act.
void we_decoder_block(wembed_pool *pool, const we_decoder_layer *L, const we_decoder_shape *s, const we_norm *rms, we_act act,
                      float *x, const we_tokens *tk, const we_rope_pass *rp, const we_attn_params *ap, const we_decoder_bufs *b);

// -----------------------------------------------------------------------------------------
// Vision transformers: patches, 2-D RoPE, attention pooling by a probe

// The tokens of B images of T rows each, one sequence an image (no ids: a vision tower reads
// only the sequences); seq_off (B + 1) is the caller's.
we_tokens we_image_tokens(int32_t *seq_off, int B, int T);

// patches (B * G * G, C * P * P) = the P x P patches of B images (B, C, S, S), row by row, each
// as its pixels in (c, ky, kx) order (G = S / P; a partial patch is dropped). That is the
// kernel layout of a stride-P patch convolution (E, C, P, P) and the order of einops'
// "b c (h p1) (w p2) -> b (h w) (c p1 p2)", so either is one GEMM on these rows.
void we_image_patches(float *patches, const float *pixels, int B, int C, int S, int P);

// The 2-D RoPE of EVA02 (timm's RotaryEmbeddingCat with in_pixels false; nomic-embed-vision):
// for the patch at (row, col) of a gh x gw grid, head_dim/4 bands w_j = 1 / temperature^(j /
// (head_dim/4)) per axis; angle j is t_row w_j and angle head_dim/4 + j is t_col w_j, with
// t_row = row / gh * ref_h and t_col = col / gw * ref_w (EVA's rescaling to the pretraining
// grid; ref 0: t = the index). cos and sin (gh * gw, head_dim / 2), patches row by row, in
// float32 arithmetic as the reference builds them.
void we_rope2d_tables(float *cos_t, float *sin_t, int gh, int gw, int ref_h, int ref_w, int head_dim, double temperature);
// x (T, n_head * head_dim; ldx) rotated in place by the T rows of the tables, each head's dims
// in interleaved pairs (2i, 2i+1) by angle i (timm's rot(): [-x1, x0, -x3, x2, ...]):
//     x'_2i = x_2i cos - x_2i+1 sin,   x'_2i+1 = x_2i+1 cos + x_2i sin
void we_rope_apply_interleaved(float *x, int ldx, int T, int n_head, int head_dim, const float *cos_t, const float *sin_t);

// Attention pooling: o (n_seq, n_head * head_dim; ldo) = for each sequence s of tk, one query
// q_s (row s of q, ldq; ldq 0: the same query for all) attending to the sequence's own rows of
// k and v: softmax(q_s . k_j * scale) over j, per head (a latent / probe query, nomic's
// selector and SigLIP's MAP head). scratch: the longest sequence's count of floats.
void we_attend_probe(float *o, int ldo, const float *q, int ldq, const we_tokens *tk, const float *k, int ldk,
                     const float *v, int ldv, int n_head, int head_dim, float scale, float *scratch);

// -----------------------------------------------------------------------------------------
// Attention over every sequence of a packed batch

// Fills bias (n_head, 2T - 1) for a sequence of T tokens (we_attn_params.bias).
typedef void (*we_bias_fn)(const void *ctx, float *bias, int T);

// Scratch floats we_attend needs for tk's longest sequence under p (its SelfExtend too; bias:
// whether a bias_fn is given).
size_t we_attend_scratch_floats(const we_tokens *tk, const we_attn_params *p, bool bias, int n_threads);

// o (n_tok; ldo) = attention of each sequence of tk on its own rows of q, k, v, with p's heads,
// scale, mask, window and SelfExtend (p->T, p->bias and the rows of p->qa, qb, kg are set per
// sequence; bias_fn NULL: no bias). TempScale (tk->opts->attn_temp = tau) divides the scale and
// the bias by tau, so softmax((q.k scale + bias + mask) / tau); tau 1 leaves them untouched.
void we_attend(wembed_pool *pool, const we_tokens *tk, float *o, int ldo, const float *q, int ldq,
               const float *k, int ldk, const float *v, int ldv, const we_attn_params *p,
               we_bias_fn bias_fn, const void *bias_ctx, float *scratch);

// -----------------------------------------------------------------------------------------
// The pre-LN encoder layer of the CLIP-style towers: CLIPEncoderLayer and SiglipEncoderLayer
// hold the same tensors under the same names and compute
//   x += out_proj(attention(q_proj, k_proj, v_proj of layer_norm1(x)));  x += fc2(act(fc1(layer_norm2(x))))

typedef struct we_preln_layer {
    we_weight ln1_w, ln1_b;       // (E)            layer_norm1
    we_qkv qkv;                   // self_attn.q_proj, k_proj, v_proj
    we_weight o_w, o_b;           // (E, E), (E)    self_attn.out_proj
    we_weight ln2_w, ln2_b;       // (E)            layer_norm2
    we_weight fc1_w, fc1_b;       // (F, E), (F)    mlp.fc1
    we_weight fc2_w, fc2_b;       // (E, F), (E)    mlp.fc2
} we_preln_layer;

// The weight-table rows of one such layer (we_wentry), in group G under condition C, HF names
// under HF (".encoder.layers.%d....") and GGUF names under GG (".blk.%d...." as llama.cpp's
// clip files spell them; its converter renames mlp.fc1 to ffn_down and fc2 to ffn_up).
#define WE_PRELN_L(f) (uint16_t)offsetof(we_preln_layer, f)
#define WE_PRELN_LAYER_ENTRIES(G, C, HF, GG)                                                                         \
    {HF ".encoder.layers.%d.layer_norm1.weight", GG ".blk.%d.ln1.weight", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(ln1_w)}, \
    {HF ".encoder.layers.%d.layer_norm1.bias", GG ".blk.%d.ln1.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(ln1_b)},     \
    {HF ".encoder.layers.%d.self_attn.q_proj.weight", GG ".blk.%d.attn_q.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, WE_PRELN_L(qkv.q_w)}, \
    {HF ".encoder.layers.%d.self_attn.q_proj.bias", GG ".blk.%d.attn_q.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(qkv.q_b)},               \
    {HF ".encoder.layers.%d.self_attn.k_proj.weight", GG ".blk.%d.attn_k.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, WE_PRELN_L(qkv.k_w)}, \
    {HF ".encoder.layers.%d.self_attn.k_proj.bias", GG ".blk.%d.attn_k.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(qkv.k_b)},               \
    {HF ".encoder.layers.%d.self_attn.v_proj.weight", GG ".blk.%d.attn_v.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, WE_PRELN_L(qkv.v_w)}, \
    {HF ".encoder.layers.%d.self_attn.v_proj.bias", GG ".blk.%d.attn_v.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(qkv.v_b)},               \
    {HF ".encoder.layers.%d.self_attn.out_proj.weight", GG ".blk.%d.attn_out.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_EMBD}, WE_PRELN_L(o_w)}, \
    {HF ".encoder.layers.%d.self_attn.out_proj.bias", GG ".blk.%d.attn_out.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(o_b)},           \
    {HF ".encoder.layers.%d.layer_norm2.weight", GG ".blk.%d.ln2.weight", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(ln2_w)}, \
    {HF ".encoder.layers.%d.layer_norm2.bias", GG ".blk.%d.ln2.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(ln2_b)},     \
    {HF ".encoder.layers.%d.mlp.fc1.weight", GG ".blk.%d.ffn_down.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_FF, WE_D_EMBD}, WE_PRELN_L(fc1_w)}, \
    {HF ".encoder.layers.%d.mlp.fc1.bias", GG ".blk.%d.ffn_down.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_FF}, WE_PRELN_L(fc1_b)},      \
    {HF ".encoder.layers.%d.mlp.fc2.weight", GG ".blk.%d.ffn_up.weight", G, true, WE_W_LINEAR, 0, C, 2, {WE_D_EMBD, WE_D_FF}, WE_PRELN_L(fc2_w)}, \
    {HF ".encoder.layers.%d.mlp.fc2.bias", GG ".blk.%d.ffn_up.bias", G, true, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_L(fc2_b)}

// The activations of we_preln_block over the tokens of tk (layers shaped like L, width E,
// MLP width F, attention ap), plus `extra` floats for the caller (*more); one round of the
// planner each until allocated. false: out of memory (c->base NULL).
bool we_preln_plan(we_carve *c, wembed_pool *pool, const we_preln_layer *L, const we_tokens *tk, int E, int F,
                   const we_attn_params *ap, size_t extra, float **buf, float **attn, void **lscratch, float **more);
// One layer over x (n_tok, E), in place; buf, attn and lscratch from we_preln_plan.
void we_preln_block(wembed_pool *pool, const we_preln_layer *L, float *x, const we_tokens *tk, int E, int F,
                    const we_norm *ln, we_act act, const we_attn_params *ap, float *buf, float *attn, void *lscratch);

// The text tower of CLIP and SigLIP (CLIPTextTransformer, SiglipTextTransformer): the same
// tensors under the same names, and
//   x = E_tok[id] + E_pos[pos];  per layer we_preln_block;  x = final_layer_norm(x)
// The two differ only in the attention's mask: CLIP's is causal, SigLIP's none at all.
typedef struct we_preln_text {
    we_weight tok_emb;            // (V, E)  text_model.embeddings.token_embedding
    we_weight pos_emb;            // (P, E)  text_model.embeddings.position_embedding
    we_preln_layer *layers;       // (n_layer)
    we_weight final_ln_w, final_ln_b;   // (E) text_model.final_layer_norm
} we_preln_text;

// Its weight-table rows (we_wentry), in group G under condition C, for the we_preln_text at
// offset OFF of the family's weights; GGUF names as llama.cpp's clip files spell them.
#define WE_PRELN_T(OFF, f) (uint16_t)((OFF) + offsetof(we_preln_text, f))
#define WE_PRELN_TEXT_ENTRIES(G, C, OFF)                                                                                          \
    {"text_model.embeddings.token_embedding.weight", "t.token_embd.weight", G, false, WE_W_TABLE, 0, C, 2, {WE_D_VOCAB, WE_D_EMBD}, \
     WE_PRELN_T(OFF, tok_emb)},                                                                                                   \
    {"text_model.embeddings.position_embedding.weight", "t.position_embd.weight", G, false, WE_W_VEC, 0, C, 2, {WE_D_POS, WE_D_EMBD}, \
     WE_PRELN_T(OFF, pos_emb)},                                                                                                   \
    WE_PRELN_LAYER_ENTRIES(G, C, "text_model", "t"),                                                                              \
    {"text_model.final_layer_norm.weight", "t.post_ln.weight", G, false, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_T(OFF, final_ln_w)}, \
    {"text_model.final_layer_norm.bias", "t.post_ln.bias", G, false, WE_W_VEC, 0, C, 1, {WE_D_EMBD}, WE_PRELN_T(OFF, final_ln_b)}

// x (n_tok, E) = the tower's last hidden states for the tokens of tk (n_layer layers of width E,
// n_head heads, MLP width F); causal: CLIP's causal mask, else no mask.
wembed_status we_preln_text_forward(wembed_pool *pool, const we_preln_text *w, const we_tokens *tk, int n_layer, int E,
                                    int n_head, int F, const we_norm *ln, we_act act, bool causal, float *x, we_err *err);

#endif // WE_FORWARD_H
