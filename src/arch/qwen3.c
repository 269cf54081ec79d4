// qwen3.c - the qwen3 family: Qwen3 decoders used as embedders (Qwen/Qwen3-Embedding-0.6B, -4B,
// -8B; model_type "qwen3", architectures Qwen3ForCausalLM), as transformers'
// models/qwen3/modeling_qwen3.py (Qwen3Model) computes them: hyper-parameters from config.json
// (Qwen3Config names and defaults) or from llama.cpp's "qwen3" GGUF metadata, the tensor table
// and the forward pass. sentence-transformers then pools the LAST token and normalizes.
//
//   x = E[id]                                                            (n_tok, E)
//   per layer:  h = rms(x) * w_in
//               q = h Wq^T (n, H d),  k = h Wk^T,  v = h Wv^T (n, KV d)   no biases
//               q = rms_d(q) * w_qn,  k = rms_d(k) * w_kn   per head, over head_dim
//               rotate q and k (RoPE half-split, base rope_theta, all head_dim dims)
//               x = x + attn(q, k, v) Wo^T            causal, GQA, scale head_dim^-0.5
//               h = rms(x) * w_post
//               x = x + (silu(h Wg^T) * (h Wu^T)) Wd^T
//   x = rms(x) * w_norm                                   -> last hidden states
//   embedding = x[last real token], then L2 (1_Pooling lasttoken, 2_Normalize)
//
// Subtle points of the reference code, each mirrored here:
//   1. CAUSAL attention (a decoder used as an embedder) plus the padding mask: query i sees
//      keys j <= i of its own text. The batch is packed (forward.h), so a text's tokens are a
//      sequence of their own whatever the padding side.
//   2. Qwen3RMSNorm: x * rsqrt(mean(x^2) + eps) * w, the weight as stored (no 1 + w), eps
//      rms_norm_eps; the same for the final norm.
//   3. q_norm / k_norm are RMSNorms over head_dim, per head, applied to the projections
//      BEFORE RoPE (q_norm(q_proj(x).view(..., head_dim)), then apply_rotary_pos_emb).
//   4. Grouped-query attention: repeat_kv, so query head h reads key/value head
//      h / (num_attention_heads / num_key_value_heads). head_dim comes from config.head_dim
//      (Qwen3Config default 128), which need not be hidden_size / num_attention_heads: q_proj
//      is (H head_dim, E), o_proj (E, H head_dim); the scale is head_dim^-0.5.
//   5. RoPE: rotate_half (half-split) over the whole head_dim, base rope_theta (1e6 for
//      Qwen3-Embedding), positions 0..S-1 of the padded row (arange, also for left padding:
//      a left-padded text sits at S-n..S-1; rotations are relative, so its vector is the
//      right-padded one up to rounding). HF builds cos/sin in float32; here the angles are
//      double and rounded once (the two agree to ~1e-7 * position).
//   6. SwiGLU MLP: down_proj(act(gate_proj(x)) * up_proj(x)), act = hidden_act (silu); no
//      biases anywhere (attention_bias false).
//   7. Last-token pooling (sentence-transformers Pooling lasttoken) = the row of the last
//      position whose attention_mask is 1: with left or right padding that is the text's last
//      real token, the last row of its packed sequence. Qwen3-Embedding's tokenizer appends
//      <|endoftext|>, so that row is the end token. Matryoshka: L2 of the first dims of the
//      pooled vector (sentence-transformers truncate_dim).
//   8. Checkpoints: Qwen3-Embedding stores Qwen3Model's names flat (embed_tokens.weight,
//      layers.N...); Qwen3ForCausalLM checkpoints prefix them with "model." and add lm_head
//      (unused). GGUF (llama.cpp convert_hf_to_gguf.py Qwen3Model, LLM_ARCH_QWEN3): token_embd,
//      blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, attn_q_norm, attn_k_norm,
//      ffn_norm, ffn_gate, ffn_up, ffn_down}, output_norm; metadata qwen3.* (key_length is
//      head_dim; rope type NEOX, i.e. half-split, weights not permuted); pooling_type 3 (last)
//      on the embedding models.
// Call options (README "Long inputs"): RoPE scaling in place of the config's (none); SelfExtend
// as LongLM applies it to a decoder, the lower triangle only (q at i // G + W - W // G, k at
// j // G for j <= i - W); TempScale (we_attend).
// Variants the forward pass does not implement are refused with UNSUPPORTED, naming the key:
// use_sliding_window true (sliding layers from max_window_layers on) and layer_types with a
// sliding layer, attention_bias true, rope_scaling of a type other than default (yarn, ...);
// in GGUF, a rope.scaling.type other than none.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/pool.h"
#include "../formats/gguf.h"
#include "forward.h"

typedef struct qwen3_hparams {
    we_text_hp base;          // first member (the generic hooks read it):
                              //   n_vocab: vocab_size
                              //   n_embd: hidden_size
                              //   n_layer: num_hidden_layers
                              //   n_head: num_attention_heads
                              //   n_ff: intermediate_size
                              //   n_ctx: max_position_embeddings
    int32_t n_kv_head;        // num_key_value_heads (null: num_attention_heads)
    int32_t head_dim;         // head_dim (not necessarily hidden_size / num_attention_heads)
    float eps;                // rms_norm_eps
    float rope_theta;         // rope_theta
    we_act act;               // hidden_act, on the gate
} qwen3_hparams;

// The weights: we_decoder_weights, layers we_decoder_layer (no post_attn_norm / post_ffn_norm).
static const we_wentry g_qwen3_entries[] = {
    WE_DECODER_ENTRIES,
    // Qwen3's post_attention_layernorm is the MLP's input norm.
    {"layers.%d.post_attention_layernorm.weight", "blk.%d.ffn_norm.weight", 0, true, WE_W_VEC, 0, 0, 1, {WE_D_EMBD}, WE_DEC_L(ffn_norm)},
};

static const char *const g_qwen3_prefixes[] = {"model.", NULL};
static const char *const g_qwen3_gguf[] = {"qwen3", NULL};

#define LIM (1 << 24)   // sanity bound on vocab and positions

// Shapes both readers check: GQA groups, an even head_dim for RoPE.
static wembed_status check_heads(const qwen3_hparams *hp, const char *src, we_err *err) {
    if (hp->base.n_head % hp->n_kv_head)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: %d attention heads are not a multiple of %d key/value heads", src,
                         hp->base.n_head, hp->n_kv_head);
    if (hp->head_dim % 2) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: head_dim %d must be even (RoPE)", src, hp->head_dim);
    if (!(hp->rope_theta > 0)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "%s: rope_theta must be positive", src);
    return WEMBED_STATUS_OK;
}

static wembed_status qwen3_from_config(we_arch_model *ma, const we_json *cfg, we_err *err) {
    qwen3_hparams *hp = ma->hp;
    wembed_status rc;
    bool sliding, bias;
    if ((rc = we_cfg_int(cfg, "vocab_size", 151936, 1, LIM, &hp->base.n_vocab, err)) ||
        (rc = we_cfg_int(cfg, "hidden_size", 4096, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_cfg_int(cfg, "num_hidden_layers", 32, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_cfg_int(cfg, "num_attention_heads", 32, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_cfg_int(cfg, "num_key_value_heads", hp->base.n_head, 1, 4096, &hp->n_kv_head, err)) ||
        (rc = we_cfg_int(cfg, "head_dim", 128, 2, 4096, &hp->head_dim, err)) ||
        (rc = we_cfg_int(cfg, "intermediate_size", 22016, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_cfg_int(cfg, "max_position_embeddings", 32768, 1, LIM, &hp->base.n_ctx, err)) ||
        (rc = we_cfg_pos_float(cfg, "rms_norm_eps", 1e-6, &hp->eps, err)) ||
        (rc = we_cfg_pos_float(cfg, "rope_theta", 10000.0, &hp->rope_theta, err)) ||
        (rc = we_cfg_act(cfg, "hidden_act", "silu", &hp->act, err)) ||
        (rc = we_cfg_bool(cfg, "use_sliding_window", false, &sliding, err)) ||
        (rc = we_cfg_bool(cfg, "attention_bias", false, &bias, err)) ||
        (rc = we_cfg_rope_scaling_none(cfg, "qwen3", err)))
        return rc;
    if (sliding) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: qwen3 with use_sliding_window true is not supported");
    if (bias) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: qwen3 with attention_bias true is not supported");
    const we_json *lt = we_json_get(cfg, "layer_types");
    for (uint32_t i = 0; lt && we_json_is(lt, WE_JSON_ARRAY) && i < lt->len; i++)
        if (!we_json_str_eq(we_json_at(lt, i), "full_attention"))
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "config.json: qwen3 layer_types[%u] is not \"full_attention\" "
                             "(sliding layers are not supported)", i);
    return check_heads(hp, "config.json", err);
}

static wembed_status qwen3_from_gguf(we_arch_model *ma, const struct we_gguf *g, we_err *err) {
    qwen3_hparams *hp = ma->hp;
    wembed_status rc;
    int32_t rot;
    if ((rc = we_gguf_cfg_int(g, "qwen3.embedding_length", -1, 1, 65536, &hp->base.n_embd, err)) ||
        (rc = we_gguf_cfg_int(g, "qwen3.block_count", -1, 1, 1024, &hp->base.n_layer, err)) ||
        (rc = we_gguf_cfg_int(g, "qwen3.attention.head_count", -1, 1, 4096, &hp->base.n_head, err)) ||
        (rc = we_gguf_cfg_int(g, "qwen3.attention.head_count_kv", hp->base.n_head, 1, 4096, &hp->n_kv_head, err)) ||
        (rc = we_gguf_cfg_int(g, "qwen3.attention.key_length", hp->base.n_embd / hp->base.n_head, 2, 4096, &hp->head_dim, err)) ||
        (rc = we_gguf_cfg_int(g, "qwen3.rope.dimension_count", hp->head_dim, 2, 4096, &rot, err)) ||
        (rc = we_gguf_cfg_int(g, "qwen3.feed_forward_length", -1, 1, 1 << 20, &hp->base.n_ff, err)) ||
        (rc = we_gguf_cfg_int(g, "qwen3.context_length", -1, 1, LIM, &hp->base.n_ctx, err)))
        return rc;
    if (rot != hp->head_dim)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: qwen3.rope.dimension_count %d (partial rotary over head_dim %d) is not supported",
                         rot, hp->head_dim);
    // llama.cpp's defaults: eps 1e-6, freq_base 10000
    if ((rc = we_gguf_cfg_pos_float(g, "qwen3.attention.layer_norm_rms_epsilon", 1e-6, &hp->eps, err)) ||
        (rc = we_gguf_cfg_pos_float(g, "qwen3.rope.freq_base", 10000.0, &hp->rope_theta, err)))
        return rc;
    const char *rs = we_gguf_get_str(g, "qwen3.rope.scaling.type");
    if (rs && strcmp(rs, "none") != 0)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: qwen3.rope.scaling.type \"%.40s\" is not supported (none)", rs);
    hp->act = WE_ACT_SILU;
    hp->base.n_vocab = (int32_t)WE_MIN(we_gguf_rows(g, "token_embd.weight", 0), (int64_t)LIM);
    return check_heads(hp, "GGUF", err);
}

static int64_t qwen3_dim(const we_arch_model *ma, int sym, int group) {
    const qwen3_hparams *hp = ma->hp;
    switch (sym) {
    case WE_D_DEC_Q: return (int64_t)hp->base.n_head * hp->head_dim;
    case WE_D_DEC_KV: return (int64_t)hp->n_kv_head * hp->head_dim;
    case WE_D_DEC_HEAD: return hp->head_dim;
    }
    return we_text_hp_dim(ma, sym, group);
}

static wembed_status qwen3_finish(we_arch_model *ma, const bool *group_present, we_err *err) {
    (void)group_present; (void)err;
    const qwen3_hparams *hp = ma->hp;
    we_text_spec *t = &ma->text;
    we_text_hp_spec(&hp->base, t);
    t->extends = t->rope = t->self_extend = true;
    t->pos_rule = WE_POS_PLAIN;
    t->pooling = WEMBED_POOLING_LAST;
    t->chunks = true;
    t->matryoshka = WE_MATRYOSHKA_TRUNCATE;
    return WEMBED_STATUS_OK;
}

static int qwen3_describe(const we_arch_model *ma, char *buf, size_t cap) {
    const qwen3_hparams *hp = ma->hp;
    return snprintf(buf, cap, "\"n_kv_head\":%d,\"head_dim\":%d,\"eps\":%.7g,\"act\":\"%s\",\"rope_theta\":%.9g,\"causal\":true",
                    hp->n_kv_head, hp->head_dim, (double)hp->eps, we_act_name(hp->act), (double)hp->rope_theta);
}

static wembed_status qwen3_forward(const we_arch_model *m, wembed_pool *pool, const we_tokens *tk,
                                   const we_fwd_opts *o, float *x, we_err *err) {
    const qwen3_hparams *hp = m->hp;
    const we_decoder_weights *w = m->w;
    const int E = hp->base.n_embd, H = hp->base.n_head, KV = hp->n_kv_head, d = hp->head_dim, n = tk->n_tok;
    const we_decoder_shape shape = { E, hp->base.n_ff, H, KV, d };
    const we_norm rms = { WE_NORM_RMS, hp->eps };
    wembed_status rc = we_check_tokens(tk, &w->tok_emb, NULL, 0, err);   // RoPE: any position
    if (rc) return rc;
    if (n == 0) return WEMBED_STATUS_OK;

    we_attn_params ap = { .n_head = H, .n_kv_head = KV, .head_dim = d, .scale = 1.0f / sqrtf((float)d), .causal = true };
    // RoPE of every token (positions from tk->pos), the same tables for every layer; a call's
    // RoPE scaling in place of the config's (none), and SelfExtend as LongLM applies it to a
    // decoder: the lower triangle only (attention.h).
    const we_rope_cfg rope = { d, hp->rope_theta, WE_ROPE_NONE, 0, hp->base.n_ctx };
    we_decoder_bufs b;
    we_rope_pass rp;
    we_carve c = {0};
    for (;;) {
        we_decoder_carve(&c, &b, &w->layers[0], &shape, n);
        we_rope_carve(&c, &rp, tk, &rope, o, &ap, NULL);     // (n, d/2) tables; SelfExtend's copies
        b.attn = we_carve_floats(&c, we_attend_scratch_floats(tk, &ap, false, we_pool_threads(pool)));
        if (c.base) break;
        if (!we_carve_alloc(&c)) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the activations of %d tokens", n);
    }

    we_gather_rows(x, &w->tok_emb, tk->ids, n, false);
    // Pre-norm layers without Gemma's post norms; SwiGLU (silu on the gate).
    for (int il = 0; il < hp->base.n_layer; il++)
        we_decoder_block(pool, &w->layers[il], &shape, &rms, hp->act, x, tk, &rp, &ap, &b);
    we_apply_norm(pool, &rms, x, E, x, E, &w->out_norm, NULL, n, E);
    we_carve_free(&c);
    return WEMBED_STATUS_OK;
}

static const char *const g_qwen3_types[] = {"qwen3", NULL};

const we_family we_family_qwen3 = {
    .name = "qwen3",
    .model_types = g_qwen3_types,
    .gguf_archs = g_qwen3_gguf,
    .hp_size = sizeof(qwen3_hparams),
    .w_size = sizeof(we_decoder_weights),
    .layer_size = sizeof(we_decoder_layer),
    .entries = g_qwen3_entries,
    .n_entries = (uint32_t)WE_ARRAY_LEN(g_qwen3_entries),
    .prefixes = g_qwen3_prefixes,
    .n_groups = 1,
    .from_config = qwen3_from_config,
    .from_gguf = qwen3_from_gguf,
    .dim = qwen3_dim,
    .n_layer = we_text_hp_n_layer,
    .alloc = we_text_hp_alloc,
    .slot = we_slot_simple,
    .finish = qwen3_finish,
    .describe = qwen3_describe,
    .forward = qwen3_forward,
};
