// attention.h - multi-head scaled dot-product attention for one sequence, and rotary
// position embeddings.
//
// we_attention tiles the computation with an online softmax (FlashAttention's recurrence:
// a running max and sum per query row, the output rescaled as the max grows), so memory
// grows linearly with the sequence length: no T x T score matrix ever exists. The score
// tiles (Q K^T) and the value products (P V) go through the f32 GEMM kernel; K and V are
// packed once per call into its layout.
//
// Layout: q and o are (T, n_head * head_dim), k and v (T, n_kv_head * head_dim), row-major
// with row strides ldq, ldk, ldv, ldo (in floats), head h in columns [h*head_dim,
// (h+1)*head_dim) - the layout a fused QKV projection produces. One sequence per call:
// callers pack batches without padding and call once per sequence, so padded positions cost
// nothing and need no mask.
#ifndef WE_ATTENTION_H
#define WE_ATTENTION_H

#include "../core/common.h"

// What one attention call computes, for one sequence of T tokens. Query head h reads
// key/value head h / (n_head / n_kv_head) (grouped-query attention; n_kv_head divides n_head).
// The logit of query i and key j is
//     s(i, j) = scale * q_i . k_j  +  bias[h][j - i + T - 1]        (bias when not NULL)
// over the keys j that i sees: all of them, or j <= i (causal), and |i - j| <= window when
// window > 0 (a symmetric sliding window; with causal, the last window + 1 keys up to i).
// Keys a query does not see weigh exactly 0; o_i = sum_j softmax_j(s(i, j)) v_j.
//
// SelfExtend (LongEmbed's bidirectional e5rope_self_extend_forward; Jin et al. 2024, "LLM Maybe
// LongLM"), when 0 < se_window < T: the pairs farther apart than the neighbour window take their
// dot product from grouped copies of q and k that the caller rotated at other positions,
//     q_i . k_j      |i - j| <  se_window       (ordinary RoPE positions)
//     qa_i . kg_j    j <= i - se_window         (q at i/G + shift, k at j/G)
//     qb_i . kg_j    j >= i + se_window         (q at i/G - shift, k at j/G: the reference puts
//                                                the shift on the key, k at j/G + shift; RoPE
//                                                logits depend on the difference only)
// in place of q_i . k_j in s(i, j) above; scale, bias and masks apply as before. se_window >= T
// (or 0) is plain attention, bit for bit. qa, qb are laid out as q (n_head heads), kg as k.
// With causal, no key lies after its query: only the first two lines apply (LongLM's causal
// SelfExtend, the lower triangle alone) and qb may be NULL.
typedef struct we_attn_params {
    int T;                        // tokens in the sequence
    int n_head, n_kv_head;        // query heads, key/value heads
    int head_dim;                 // any size; not tied to the model width
    float scale;                  // 1/sqrt(head_dim), or the family's (query_pre_attn_scalar, ...)
    bool causal;
    int window;                   // > 0: key j seen only when |i - j| <= window
    // (n_head, 2T - 1) additive logits by relative position j - i (MPNet's bucketed bias,
    // ALiBi's -slope |i - j|), added after the scale; NULL: none.
    const float *bias;
    int se_window;                // SelfExtend neighbour window W (> 0); 0: off
    const float *qa, *qb, *kg;    // SelfExtend: (T, n_head * head_dim; ldqa / ldqb), (T, n_kv_head * head_dim; ldkg)
    int ldqa, ldqb, ldkg;
} we_attn_params;

// Whether p's SelfExtend applies to a sequence of T tokens (0 < se_window < T).
static inline bool we_attn_self_extends(const we_attn_params *p, int T) { return p->se_window > 0 && p->se_window < T; }

// Floats of scratch we_attention needs for sequences up to T tokens with these heads on a pool of
// n_threads threads.
size_t we_attention_scratch_floats(int T, int n_kv_head, int head_dim, int n_threads);
// The same for what p asks for sequences of up to p->T tokens: SelfExtend (when it applies at
// p->T) needs a second packed K and two more score tiles per thread.
size_t we_attention_scratch_floats_for(const we_attn_params *p, int n_threads);

// o (T, n_head * head_dim; ldo) from q (T, n_head * head_dim; ldq), k and v
// (T, n_kv_head * head_dim; ldk, ldv) as we_attn_params says. scratch:
// we_attention_scratch_floats(...) floats, any alignment of malloc. Memory is O(T), never
// T x T; work is O(T x window) with a window.
void we_attention(wembed_pool *pool, float *o, int ldo, const float *q, int ldq, const float *k, int ldk,
                  const float *v, int ldv, const we_attn_params *p, float *scratch);

// The reference: one query row at a time, logits and softmax in double (SelfExtend too: each
// pair's logit from the q and k the definition above picks). scratch: T doubles
// per pool thread (n_threads * T).
void we_attention_ref(wembed_pool *pool, float *o, int ldo, const float *q, int ldq, const float *k, int ldk,
                      const float *v, int ldv, const we_attn_params *p, double *scratch);

// -----------------------------------------------------------------------------------------
// Rotary position embeddings, "half-split" (GPT-NeoX / nomic's rotate_half, not
// interleaved): for each head, dims [0, rot/2) and [rot/2, rot) pair up:
//     x1' = x1 cos(p w_i) - x2 sin(p w_i),  x2' = x2 cos(p w_i) + x1 sin(p w_i)
// with w_i = base^(-2i/rot). Dims past rot are left alone.

// cos and sin tables (T, rot/2) for positions pos0 .. pos0+T-1, computed in double (an
// angle of 8000 radians in float would be off by 5e-4) and rounded once.
void we_rope_tables(float *cos_t, float *sin_t, int T, int pos0, int rot, double base);

// The base dynamic NTK scaling gives a sequence of length L (nomic's
// NomicBertDynamicNTKRotaryEmbedding): base * (f*L/Lmax - (f-1))^(rot/(rot-2)) when
// L > Lmax, else base.
double we_rope_ntk_base(double base, int rot, double factor, int L, int Lmax);

// Rotates x (T, n_head * head_dim; ldx) in place with the tables above.
void we_rope_apply(wembed_pool *pool, float *x, int ldx, int T, int n_head, int head_dim, int rot,
                   const float *cos_t, const float *sin_t);

#endif // WE_ATTENTION_H
