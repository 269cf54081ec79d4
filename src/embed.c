// embed.c - the embedding calls of wembed.h: batches of token ids through the model's forward
// pass, then pooling, Matryoshka truncation, normalization and output quantization.
//
// How a call goes:
//   1. Each row's real tokens (mask 1) become one sequence, or several overlapping windows
//      when it is longer than max_tokens and truncate is CHUNK. Positions count from the row's
//      start (or, WE_POS_FROM_PAD: from pad_id + 1 over non-pad ids, as RoBERTa's HF code does).
//      A family whose text spec has pad_to (SigLIP) gets each sequence padded with its pad id
//      to that length, every position attended, as its reference runs it.
//   2. Sequences are sorted by length and packed into groups of at most a token budget, so
//      short texts share big GEMMs and a long document gets a forward of its own.
//   3. Each sequence's last hidden states are pooled (or copied out, pooling NONE), projected
//      (CLIP), and passed through the model's sentence-transformers Dense modules when the
//      call uses the model's own pooling (WEMBED_POOLING_DEFAULT: what SentenceTransformer
//      .encode computes; a pooling the call names is that pooling alone); windows of one row
//      are averaged, weighted by their token counts.
//   4. The row's vector: Matryoshka rule, normalize, quantize; written at the row's index.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/forward.h"
#include "core/pool.h"
#include "embed.h"
#include "tokenizer/window.h"

// Tokens per forward pass for batches of short sequences (a longer sequence gets its own).
#define TOKEN_BUDGET 2048

wembed_embed_params wembed_embed_default_params(void) {
    wembed_embed_params p;
    memset(&p, 0, sizeof p);
    p.pooling = WEMBED_POOLING_DEFAULT;
    p.normalize = WEMBED_NORMALIZE_DEFAULT;
    p.truncate = WEMBED_TRUNCATE_END;
    p.chunk_overlap = -1;
    p.rope_scaling = WEMBED_ROPE_MODEL;
    p.ntk_length = WEMBED_NTK_LENGTH_OWN;
    p.output = WEMBED_OUTPUT_F32;
    p.attention_temperature = 1.0f;
    return p;
}

static wembed_status resolve(wembed_model *m, const wembed_embed_params *p, we_resolved *r) {
    we_err *err = &m->err;
    memset(r, 0, sizeof *r);
    if (m->failed || !m->arch.family) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "this model handle holds a failed load");
    if (!p) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "no params (use wembed_embed_default_params())");
    const we_text_spec *ts = &m->arch.text;
    r->hidden = ts->hidden;
    r->pooled = ts->pooled;
    if (r->hidden <= 0) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "this model has no text encoder");
    r->pooling = p->pooling == WEMBED_POOLING_DEFAULT ? m->pooling : (wembed_pooling)p->pooling;
    // The Dense modules follow the model's own pooling only; pooling named by the call: the
    // pooled vector alone, as wide as the first Dense module's input.
    r->dense = p->pooling == WEMBED_POOLING_DEFAULT && r->pooling != WEMBED_POOLING_NONE && m->n_dense > 0;
    if (m->n_dense > 0 && !r->dense) r->pooled = m->dense[0].in;
    if (p->pooling < WEMBED_POOLING_DEFAULT || p->pooling > WEMBED_POOLING_WEIGHTED_MEAN)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "unknown pooling %d", p->pooling);
    uint32_t allowed = ts->poolings ? ts->poolings : ~(1u << WEMBED_POOLING_EOS);
    if (r->pooling != WEMBED_POOLING_NONE && !(allowed & (1u << r->pooling)))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "pooling %d does not apply to %s models%s",
                         (int)r->pooling, m->arch.family->name,
                         r->pooling == WEMBED_POOLING_EOS ? " (eos is for towers that pool an end-of-text token; use last)" : "");
    if (!ts->chunks && p->truncate == WEMBED_TRUNCATE_CHUNK)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "%s pools one token of a text: chunking does not apply",
                         m->arch.family->name);
    if (p->normalize < WEMBED_NORMALIZE_DEFAULT || p->normalize > 1)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "normalize must be 0, 1 or default (-1), not %d", p->normalize);
    // Per-token output is raw hidden states unless normalization is asked for explicitly.
    r->normalize = p->normalize == WEMBED_NORMALIZE_DEFAULT ? (r->pooling != WEMBED_POOLING_NONE && m->normalize)
                                                            : p->normalize == 1;
    if (p->dims && r->pooling == WEMBED_POOLING_NONE)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "dims (Matryoshka) applies to pooled vectors, not to pooling none");
    int32_t full = r->pooling == WEMBED_POOLING_NONE ? r->hidden : r->pooled;
    if (p->dims < 0 || p->dims > full)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "dims %d is outside 1..%d (0: all)", p->dims, full);
    r->dims = p->dims ? p->dims : full;
    // The model's rule applies to any requested size, the full one included: nomic's recipe is
    // layer_norm, truncate, normalize whatever the size (dims 0 asks for the plain output).
    r->matryoshka_ln = p->dims && ts->matryoshka == WE_MATRYOSHKA_LAYER_NORM;
    if ((unsigned)p->truncate > WEMBED_TRUNCATE_EXTEND || (unsigned)p->output > WEMBED_OUTPUT_BINARY ||
        (unsigned)p->rope_scaling > WEMBED_ROPE_DYNAMIC_NTK || (unsigned)p->ntk_length > WEMBED_NTK_LENGTH_PADDED)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "unknown truncate, output, rope_scaling or ntk_length value");
    if (p->truncate == WEMBED_TRUNCATE_CHUNK && r->pooling == WEMBED_POOLING_NONE)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "chunking averages pooled windows; it does not apply to pooling none");
    if (p->output != WEMBED_OUTPUT_F32 && r->pooling == WEMBED_POOLING_NONE)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "int8 and binary outputs are for pooled vectors");
    if (!(p->rope_factor >= 0 && p->rope_factor < 1e6))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "rope_factor must be >= 0");
    if ((p->rope_scaling != WEMBED_ROPE_MODEL || p->rope_factor != 0) && !ts->rope)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "rope_scaling / rope_factor: %s models have no rotary position embeddings",
                         m->arch.family->name);
    if (!(p->attention_temperature > 0 && isfinite(p->attention_temperature)))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "attention_temperature must be a finite number > 0 (1: the plain model), not %g",
                         (double)p->attention_temperature);
    if (p->self_extend_group < 0 || p->self_extend_window < 0 || (p->self_extend_window > 0) != (p->self_extend_group > 0))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "self_extend_group %d, self_extend_window %d: give both (group >= 1, window >= 1) or neither",
                         p->self_extend_group, p->self_extend_window);
    if (p->self_extend_window > 0 && !ts->self_extend)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "self_extend: %s models do not support it (%s)", m->arch.family->name,
                         ts->rope ? "not wired into this family's forward pass yet" : "it regroups rotary positions; this family has none");
    bool extensible = ts->extends;
    int32_t limit = ts->n_ctx;
    int32_t def = m->max_seq_length > 0 ? WE_MIN(m->max_seq_length, limit) : limit;
    if (p->max_tokens < 0) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "max_tokens must be >= 0");
    if (p->max_tokens > limit && !extensible)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "max_tokens %d is more than the model's %d positions",
                         p->max_tokens, limit);
    r->max_tokens = p->max_tokens ? p->max_tokens : def;
    if (r->max_tokens < 1) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "the model takes no tokens");
    // The effective params: the call's, with truncate EXTEND turned into what it means for this model.
    wembed_embed_params *e = &r->eff;
    *e = *p;
    if (p->truncate == WEMBED_TRUNCATE_EXTEND) {
        const bool named = p->self_extend_window > 0 || p->rope_scaling != WEMBED_ROPE_MODEL || p->rope_factor != 0;
        e->truncate = WEMBED_TRUNCATE_END;
        switch (we_text_extension(ts)) {
        case WE_EXT_SELF_EXTEND:
            if (!named) {   // W = half the trained length; G per text (WE_SE_GROUP_AUTO)
                e->self_extend_window = WE_MAX(1, we_text_trained(ts) / 2);
                e->self_extend_group = WE_SE_GROUP_AUTO;
            }
            /* fall through */
        case WE_EXT_NATIVE:
            if (!p->max_tokens) r->max_tokens = WE_MAX(def, WEMBED_EXTEND_MAX_TOKENS);
            break;
        default:
            if (!ts->chunks || r->pooling == WEMBED_POOLING_NONE)
                return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "truncate extend: %s models cannot run past their %d positions, "
                                 "and %s", m->arch.family->name, limit,
                                 ts->chunks ? "chunking does not apply to pooling none" : "chunking does not apply to them");
            e->truncate = WEMBED_TRUNCATE_CHUNK;
            break;
        }
    }
    if (e->truncate == WEMBED_TRUNCATE_CHUNK && !(e->chunk_overlap < r->max_tokens))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "chunk_overlap %d must be less than max_tokens %d",
                         e->chunk_overlap, r->max_tokens);
    return WEMBED_STATUS_OK;
}

size_t we_vector_bytes(const we_resolved *r, wembed_output out) {
    if (out == WEMBED_OUTPUT_INT8) return (size_t)r->dims;
    if (out == WEMBED_OUTPUT_BINARY) return ((size_t)r->dims + 7) / 8;
    return (size_t)r->dims * sizeof(float);
}

int32_t wembed_embed_dims(wembed_model *m, const wembed_embed_params *p) {
    we_resolved r;
    if (!m || resolve(m, p, &r)) return 0;
    return r.dims;
}

size_t wembed_embed_vector_bytes(wembed_model *m, const wembed_embed_params *p) {
    we_resolved r;
    if (!m || resolve(m, p, &r)) return 0;
    return we_vector_bytes(&r, p->output);
}

wembed_status we_model_pool(wembed_model *m, wembed_pool **out) {
    if (!m->pool) {
        if (m->params.pool) {
            m->pool = m->params.pool;
        } else {
            wembed_status rc = wembed_pool_new(m->params.n_threads, &m->pool);
            if (rc) return we_errorf(&m->err, rc, "could not start %d threads", m->params.n_threads);
            m->owns_pool = true;
        }
    }
    *out = m->pool;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Pooling and the per-vector steps

bool we_write_token_vector(float *o, const float *h, int E, bool normalize) {
    bool finite = true;
    if (!normalize) {
        memcpy(o, h, sizeof(float) * (size_t)E);
    } else {
        double ss = 0;
        for (int e = 0; e < E; e++) ss += (double)h[e] * h[e];
        double n = sqrt(ss) < 1e-12 ? 1e-12 : sqrt(ss);     // F.normalize's eps
        for (int e = 0; e < E; e++) o[e] = (float)(h[e] / n);
    }
    for (int e = 0; e < E; e++) finite &= isfinite(o[e]) != 0;
    return finite;
}

wembed_status we_non_finite(wembed_model *m, int64_t input) {
    return we_errorf(&m->err, WEMBED_STATUS_NON_FINITE,
                     "input %lld: the output has NaN or infinite values (broken weights, hyper-parameters or input); "
                     "set allow_non_finite to get them anyway", (long long)input);
}

// v (E) from the hidden states h (n, E) of one sequence.
static void pool_seq(double *v, const float *h, int n, int E, wembed_pooling pooling) {
    switch (pooling) {
    case WEMBED_POOLING_CLS:
        for (int e = 0; e < E; e++) v[e] = h[e];
        return;
    case WEMBED_POOLING_LAST:
    case WEMBED_POOLING_EOS:
        for (int e = 0; e < E; e++) v[e] = h[(size_t)(n - 1) * E + e];
        return;
    case WEMBED_POOLING_MAX:
        for (int e = 0; e < E; e++) {
            float mx = -INFINITY;
            for (int t = 0; t < n; t++) mx = h[(size_t)t * E + e] > mx ? h[(size_t)t * E + e] : mx;
            v[e] = mx;
        }
        return;
    default: {
        // mean, mean / sqrt(n), weighted mean (weights 1..n, sentence-transformers' rule)
        double wsum = 0;
        for (int e = 0; e < E; e++) v[e] = 0;
        for (int t = 0; t < n; t++) {
            double w = pooling == WEMBED_POOLING_WEIGHTED_MEAN ? t + 1 : 1;
            wsum += w;
            for (int e = 0; e < E; e++) v[e] += w * h[(size_t)t * E + e];
        }
        double div = pooling == WEMBED_POOLING_MEAN_SQRT_LEN ? sqrt((double)n) : wsum;
        for (int e = 0; e < E; e++) v[e] /= div;
        return;
    }
    }
}

// The model's Dense modules, in modules.json order, on one pooled vector: v (dense[0].in) ->
// v (the last out_features). Each is act(x W^T + b) in float32, as Dense.forward runs it on
// the float32 pooled vector. buf: 2 * widest floats; scratch: we_linear's for one row.
static void apply_dense(wembed_pool *pool, const wembed_model *m, double *v, float *buf, int widest, void *scratch) {
    float *x = buf, *y = buf + widest;
    for (int e = 0; e < m->dense[0].in; e++) x[e] = (float)v[e];
    for (uint32_t i = 0; i < m->n_dense; i++) {
        const we_st_dense *d = &m->dense[i];
        we_linear(pool, y, d->out, x, d->in, &d->w, d->bias ? &d->b : NULL, 1, WE_ACT_NONE, scratch);
        if (d->act == WE_DENSE_TANH)
            for (int e = 0; e < d->out; e++) y[e] = (float)tanh((double)y[e]);
        float *t = x;
        x = y;
        y = t;
    }
    for (int e = 0; e < m->dense[m->n_dense - 1].out; e++) v[e] = x[e];
}

// The finished vector of a row from its pooled values u (r->pooled; overwritten):
// Matryoshka, normalize, quantize into out.
bool we_finish_vector(void *out, double *u, const we_resolved *r, wembed_output kind) {
    int E = r->pooled, D = r->dims;
    bool finite = true;
    if (r->matryoshka_ln) {
        // F.layer_norm(x, (E,)) without weights, eps 1e-5, then keep the first D
        double mean = 0, var = 0;
        for (int e = 0; e < E; e++) mean += u[e];
        mean /= E;
        for (int e = 0; e < E; e++) var += (u[e] - mean) * (u[e] - mean);
        var /= E;
        double inv = 1.0 / sqrt(var + 1e-5);
        for (int e = 0; e < E; e++) u[e] = (u[e] - mean) * inv;
    }
    if (r->normalize) {
        // F.normalize: x / max(||x||, 1e-12), over the kept dimensions
        double ss = 0;
        for (int e = 0; e < D; e++) ss += u[e] * u[e];
        double n = sqrt(ss);
        if (n < 1e-12) n = 1e-12;
        for (int e = 0; e < D; e++) u[e] /= n;
    }
    for (int e = 0; e < D; e++) finite &= isfinite((float)u[e]) != 0;   // also a double beyond float's range
    if (kind == WEMBED_OUTPUT_F32) {
        float *o = out;
        for (int e = 0; e < D; e++) o[e] = (float)u[e];
    } else if (kind == WEMBED_OUTPUT_INT8) {
        int8_t *o = out;
        double mx = 0;
        for (int e = 0; e < D; e++) mx = fabs(u[e]) > mx ? fabs(u[e]) : mx;
        double s = mx > 0 ? 127.0 / mx : 0;
        for (int e = 0; e < D; e++) {
            double q = nearbyint(u[e] * s);
            o[e] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
        }
    } else {
        uint8_t *o = out;
        memset(o, 0, ((size_t)D + 7) / 8);
        for (int e = 0; e < D; e++)
            if (u[e] > 0) o[e >> 3] |= (uint8_t)(0x80 >> (e & 7));   // numpy.packbits order
    }
    return finite;
}

// -----------------------------------------------------------------------------------------
// The core: sequences of tokens in, vectors out. Several sequences may feed one output (the
// windows of a chunked input): their pooled vectors are averaged, weighted by token count.

typedef struct seqin {
    const int32_t *ids, *types, *pos;   // (len) each; types NULL: all 0
    int32_t len;
    int32_t out;                  // output index
    int32_t rope_len;             // the length dynamic NTK scales for
} seqin;

static int cmp_seqin(const void *a, const void *b) {
    const seqin *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->out < y->out ? -1 : x->out > y->out;
}

// The classification head (we_text_spec.head) on a pooled vector: v (E) -> v (n_labels).
// buf holds h (E) | z (E) | logits (n_labels).
static void apply_head(wembed_pool *pool, const we_cls_head *head, double *v, float *buf, void *scratch, int E) {
    float *h = buf, *z = buf + E, *lg = buf + 2 * E;
    for (int e = 0; e < E; e++) h[e] = (float)v[e];
    const float *x = h;
    if (head->pre_w) {
        we_linear(pool, z, E, h, E, head->pre_w, head->pre_b, 1, head->pre_act, scratch);
        if (head->pre_tanh)
            for (int e = 0; e < E; e++) z[e] = tanhf(z[e]);
        if (head->norm_w) {
            const we_norm ln = { WE_NORM_LAYER, head->norm_eps };
            we_apply_norm(pool, &ln, z, E, z, E, head->norm_w, head->norm_b, 1, E);
        }
        x = z;
    }
    we_linear(pool, lg, head->n_labels, x, E, head->out_w, head->out_b, 1, WE_ACT_NONE, scratch);
    for (int e = 0; e < head->n_labels; e++) v[e] = lg[e];
}

// Runs seqs (reordered in place) through the model: pooled vectors are added, weighted by
// token count, to acc (pooled per output) and acc_n; pooling NONE writes token rows to out at
// tok_out[output] instead.
static wembed_status forward_seqs(wembed_model *m, seqin *seqs, size_t n_seq, const we_resolved *r,
                                  const wembed_embed_params *p, double *acc, int64_t *acc_n, const int64_t *tok_out,
                                  void *out) {
    we_err *err = &m->err;
    const int E = r->hidden;
    int32_t *tok_ids = NULL, *tok_types = NULL, *tok_pos = NULL, *seq_off = NULL, *rope_len = NULL;
    float *hidden = NULL, *proj_in = NULL, *dense_buf = NULL, *head_buf = NULL;
    void *proj_scratch = NULL, *dense_work = NULL, *head_scratch = NULL;
    double *v = NULL;
    wembed_pool *pool = NULL;
    wembed_status rc = WEMBED_STATUS_OK;
    qsort(seqs, n_seq, sizeof(seqin), cmp_seqin);
    if ((rc = we_model_pool(m, &pool))) goto done;
    // The length a sequence runs at: its own, or the family's pad_to (we_text_spec).
    const int32_t pad_to = m->arch.text.pad_to;
#define RUN_LEN(s) WE_MAX((s)->len, pad_to)
    int32_t longest = n_seq ? RUN_LEN(&seqs[n_seq - 1]) : 0;
    size_t budget = (size_t)WE_MAX(TOKEN_BUDGET, longest);
    tok_ids = we_malloc(sizeof(int32_t) * budget);
    tok_types = we_malloc(sizeof(int32_t) * budget);
    tok_pos = we_malloc(sizeof(int32_t) * budget);
    seq_off = we_malloc(sizeof(int32_t) * (budget + 1));
    rope_len = we_malloc(sizeof(int32_t) * budget);
    hidden = we_malloc(sizeof(float) * budget * (size_t)E);
    // The widest vector a row goes through: hidden, pooled, every Dense module's output.
    int32_t widest = WE_MAX(E, r->pooled);
    size_t dense_scratch = 0;
    for (uint32_t i = 0; r->dense && i < m->n_dense; i++) {
        widest = WE_MAX(widest, m->dense[i].out);
        dense_scratch = WE_MAX(dense_scratch, we_linear_scratch_bytes(&m->dense[i].w, 1));
    }
    v = we_malloc(sizeof(double) * (size_t)widest);
    if (r->dense) {
        dense_buf = we_malloc(sizeof(float) * 2 * (size_t)widest);
        dense_work = we_malloc(dense_scratch + 16);
        if (!dense_buf || !dense_work) {
            rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for the Dense modules");
            goto done;
        }
    }
    const we_weight *proj = m->arch.text.proj;
    if (proj) {
        proj_in = we_malloc(sizeof(float) * ((size_t)E + (size_t)r->pooled));
        proj_scratch = we_malloc(we_linear_scratch_bytes(proj, 1) + 16);
    }
    const we_cls_head *head = r->head;
    if (head) {
        // h (E) | z (E) | logits (n_labels) (apply_head)
        const we_weight *hw[] = { head->pre_w, head->out_w };
        head_buf = we_malloc(sizeof(float) * (2 * (size_t)E + (size_t)head->n_labels));
        head_scratch = we_malloc(we_linear_scratch_max(1, hw, 2) + 16);
    }
    if (!tok_ids || !tok_types || !tok_pos || !seq_off || !rope_len || !hidden || !v || (proj && (!proj_in || !proj_scratch)) ||
        (head && (!head_buf || !head_scratch))) {
        rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for a batch of %zu tokens", budget);
        goto done;
    }
    const we_fwd_opts fo = { { (we_rope_mode)p->rope_scaling, p->rope_factor }, p->attention_temperature,
                             p->self_extend_group, p->self_extend_window };

    for (size_t g0 = 0; g0 < n_seq;) {
        // A group: consecutive sequences (by length) within the budget.
        size_t g1 = g0, ntok = 0;
        for (; g1 < n_seq && (g1 == g0 || ntok + (size_t)RUN_LEN(&seqs[g1]) <= budget); g1++) ntok += (size_t)RUN_LEN(&seqs[g1]);
        we_tokens tk = { (int32_t)(g1 - g0), (int32_t)ntok, seq_off, tok_ids, tok_types, tok_pos, rope_len, &fo };
        size_t k = 0;
        for (size_t si = g0; si < g1; si++) {
            const seqin *s = &seqs[si];
            seq_off[si - g0] = (int32_t)k;
            rope_len[si - g0] = s->rope_len;
            memcpy(tok_ids + k, s->ids, sizeof(int32_t) * (size_t)s->len);
            memcpy(tok_pos + k, s->pos, sizeof(int32_t) * (size_t)s->len);
            if (s->types) memcpy(tok_types + k, s->types, sizeof(int32_t) * (size_t)s->len);
            else memset(tok_types + k, 0, sizeof(int32_t) * (size_t)s->len);
            if (pad_to > s->len) {
                // The pad ids after the sequence's tokens, at positions 0..pad_to-1 from its start.
                for (int32_t t = 0; t < pad_to; t++) {
                    if (t >= s->len) tok_ids[k + t] = m->arch.text.pad_id, tok_types[k + t] = 0;
                    tok_pos[k + t] = t;
                }
            }
            k += (size_t)RUN_LEN(s);
        }
        seq_off[g1 - g0] = (int32_t)k;
        if ((rc = m->arch.family->forward(&m->arch, pool, &tk, &fo, hidden, err))) goto done;
        for (size_t si = g0; si < g1; si++) {
            const seqin *s = &seqs[si];
            const float *h = hidden + (size_t)seq_off[si - g0] * E;
            if (r->pooling == WEMBED_POOLING_NONE) {
                for (int32_t t = 0; t < s->len; t++)
                    if (!we_write_token_vector((float *)out + (size_t)(tok_out[s->out] + t) * E, h + (size_t)t * E, E, r->normalize) &&
                        !p->allow_non_finite) {
                        rc = we_non_finite(m, s->out);
                        goto done;
                    }
                continue;
            }
            if (r->pooling == WEMBED_POOLING_EOS) {
                int32_t at = m->arch.family->eos_index(&m->arch, s->ids, s->len);
                for (int e = 0; e < E; e++) v[e] = h[(size_t)at * E + e];
            } else {
                pool_seq(v, h, RUN_LEN(s), E, r->pooling);
            }
            if (head) {
                apply_head(pool, head, v, head_buf, head_scratch, E);
            } else if (proj) {
                // The model's projection of pooled vectors (we_text_spec.proj).
                for (int e = 0; e < E; e++) proj_in[e] = (float)v[e];
                we_linear(pool, proj_in + E, r->pooled, proj_in, E, proj, m->arch.text.proj_b, 1, WE_ACT_NONE, proj_scratch);
                for (int e = 0; e < r->pooled; e++) v[e] = proj_in[E + e];
            }
            if (r->dense) apply_dense(pool, m, v, dense_buf, widest, dense_work);
            double *a = acc + (size_t)s->out * r->pooled;
            for (int e = 0; e < r->pooled; e++) a[e] += v[e] * s->len;
            acc_n[s->out] += s->len;
        }
        g0 = g1;
    }
done:
    we_free(tok_ids);
    we_free(tok_types);
    we_free(tok_pos);
    we_free(seq_off);
    we_free(rope_len);
    we_free(hidden);
    we_free(v);
    we_free(proj_in);
    we_free(proj_scratch);
    we_free(dense_buf);
    we_free(dense_work);
    we_free(head_buf);
    we_free(head_scratch);
    return rc;
}
#undef RUN_LEN

// The vector of one output from its accumulated windows: average, Matryoshka, normalize, quantize.
static wembed_status finish_output(wembed_model *m, const we_resolved *r, const wembed_embed_params *p, const double *a,
                                   int64_t n, int32_t index, void *out) {
    double *v = we_malloc(sizeof(double) * ((size_t)r->pooled + 1));
    if (!v) return we_errorf(&m->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    for (int e = 0; e < r->pooled; e++) v[e] = a[e] / (double)n;
    wembed_status rc = we_finish_vector(out, v, r, p->output) || p->allow_non_finite ? WEMBED_STATUS_OK : we_non_finite(m, index);
    we_free(v);
    return rc;
}

// Embeds seqs (reordered in place) into n_out outputs. Pooling NONE: one sequence per output,
// token rows written in output order.
static wembed_status embed_seqs(wembed_model *m, seqin *seqs, size_t n_seq, int32_t n_out, const we_resolved *r,
                                const wembed_embed_params *p, void *out, size_t out_size) {
    const size_t vb = we_vector_bytes(r, p->output);
    double *acc = NULL;
    int64_t *acc_n = NULL, *tok_out = NULL;
    wembed_status rc = WEMBED_STATUS_OK;
    // Output size, and where each output's token rows go (pooling NONE).
    int64_t n_vectors = n_out;
    if (r->pooling == WEMBED_POOLING_NONE) {
        if (!(tok_out = we_calloc((size_t)n_out + 1, sizeof(int64_t)))) goto oom;
        for (size_t i = 0; i < n_seq; i++) tok_out[seqs[i].out + 1] += seqs[i].len;
        for (int32_t b = 0; b < n_out; b++) tok_out[b + 1] += tok_out[b];
        n_vectors = tok_out[n_out];
    } else {
        acc = we_calloc((size_t)n_out * r->pooled + 1, sizeof(double));
        acc_n = we_calloc((size_t)n_out + 1, sizeof(int64_t));
        if (!acc || !acc_n) goto oom;
    }
    if ((size_t)n_vectors * vb > out_size) {
        rc = we_errorf(&m->err, WEMBED_STATUS_INVALID_ARGUMENT, "output buffer of %zu bytes is too small: %lld vectors of %zu bytes",
                       out_size, (long long)n_vectors, vb);
        goto done;
    }
    if ((rc = forward_seqs(m, seqs, n_seq, r, p, acc, acc_n, tok_out, out))) goto done;
    for (int32_t b = 0; r->pooling != WEMBED_POOLING_NONE && b < n_out; b++) {
        if (!acc_n[b]) continue;   // streamed separately (wembed_embed_text's long chunked texts)
        if ((rc = finish_output(m, r, p, acc + (size_t)b * r->pooled, acc_n[b], b, (uint8_t *)out + (size_t)b * vb))) goto done;
    }
    goto done;
oom:
    rc = we_errorf(&m->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
done:
    we_free(acc);
    we_free(acc_n);
    we_free(tok_out);
    return rc;
}

// Appends s to *seqs (capacity *cap, doubled as needed).
static wembed_status push_seq(wembed_model *m, seqin **seqs, size_t *n_seq, size_t *cap, seqin s) {
    if (*n_seq == *cap) {
        seqin *ns = we_realloc(*seqs, sizeof(seqin) * (*cap *= 2));
        if (!ns) return we_errorf(&m->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
        *seqs = ns;
    }
    (*seqs)[(*n_seq)++] = s;
    return WEMBED_STATUS_OK;
}

// Appends the sequences of one input of n tokens: itself, its first max_tokens (END), or
// overlapping windows (CHUNK). *seqs grows as needed.
static wembed_status add_input(wembed_model *m, seqin **seqs, size_t *n_seq, size_t *cap, const seqin *whole,
                               const we_resolved *r, const wembed_embed_params *p, int32_t overlap) {
    if (whole->len == 0) return we_errorf(&m->err, WEMBED_STATUS_INVALID_ARGUMENT, "input %d has no tokens", whole->out);
    if (whole->len > r->max_tokens && p->truncate == WEMBED_TRUNCATE_ERROR)
        return we_errorf(&m->err, WEMBED_STATUS_TOO_LONG, "input %d has %d tokens; the limit is %d (truncate: error)",
                         whole->out, whole->len, r->max_tokens);
    int32_t step = r->max_tokens - overlap;
    for (int32_t s0 = 0;; s0 += step) {
        seqin s = *whole;
        s.ids += s0;
        s.pos += s0;
        if (s.types) s.types += s0;
        s.len = WE_MIN(whole->len - s0, r->max_tokens);
        if (p->ntk_length == WEMBED_NTK_LENGTH_OWN) s.rope_len = s.len;
        wembed_status rc = push_seq(m, seqs, n_seq, cap, s);
        if (rc) return rc;
        if (p->truncate != WEMBED_TRUNCATE_CHUNK || s0 + s.len >= whole->len) break;
    }
    return WEMBED_STATUS_OK;
}

static wembed_status ids_run(wembed_model *m, const int32_t *ids, const int32_t *type_ids,
                             const int32_t *mask, int32_t B, int32_t T, const we_resolved *rr,
                             const wembed_embed_params *p, void *out, size_t out_size);

wembed_status wembed_embed_ids(wembed_model *m, const int32_t *ids, const int32_t *type_ids,
                               const int32_t *mask, int32_t B, int32_t T,
                               const wembed_embed_params *p, void *out, size_t out_size) {
    if (!m) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&m->err);
    we_resolved r;
    wembed_status rc = resolve(m, p, &r);
    if (rc) return rc;
    return ids_run(m, ids, type_ids, mask, B, T, &r, &r.eff, out, out_size);
}

// -----------------------------------------------------------------------------------------
// Classification (cross-encoders): the pooled last hidden state (the head's pooling: first
// token or mean) through the model's head (we_text_spec.head), one row of n_labels raw logits
// per input. Inputs longer than the model's limit are an error (a pair's truncation is the
// tokenizer's, only_second).

// The call parameters of a classification: the head's pooling, no normalization, logits as
// the pooled vector.
static wembed_status resolve_classify(wembed_model *m, we_resolved *r, wembed_embed_params *p) {
    we_err *err = &m->err;
    memset(r, 0, sizeof *r);
    *p = wembed_embed_default_params();
    p->truncate = WEMBED_TRUNCATE_ERROR;
    if (m->failed || !m->arch.family) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "this model handle holds a failed load");
    const we_text_spec *ts = &m->arch.text;
    if (ts->hidden <= 0 || ts->head.n_labels <= 0)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "this model has no sequence-classification head (config.json architectures: *ForSequenceClassification)");
    r->pooling = ts->head.pooling;
    r->normalize = false;
    r->hidden = ts->hidden;
    r->pooled = r->dims = ts->head.n_labels;
    r->max_tokens = ts->n_ctx;
    r->head = &ts->head;
    return WEMBED_STATUS_OK;
}

int32_t wembed_model_n_labels(const wembed_model *m) {
    return m && !m->failed && m->arch.family ? m->arch.text.head.n_labels : 0;
}

const char *wembed_model_label(const wembed_model *m, int32_t i) {
    if (i < 0 || i >= wembed_model_n_labels(m)) return NULL;
    char key[16];
    snprintf(key, sizeof key, "%d", (int)i);
    return we_json_as_str(we_json_get(m->arch.text.head.id2label, key), NULL);
}

wembed_status wembed_classify_ids(wembed_model *m, const int32_t *ids, const int32_t *type_ids,
                                  const int32_t *mask, int32_t B, int32_t T, float *logits, size_t n_logits) {
    if (!m) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&m->err);
    we_resolved r;
    wembed_embed_params p;
    wembed_status rc = resolve_classify(m, &r, &p);
    if (rc) return rc;
    if (B > 0 && !logits) return we_errorf(&m->err, WEMBED_STATUS_INVALID_ARGUMENT, "no logits buffer");
    return ids_run(m, ids, type_ids, mask, B, T, &r, &p, logits, n_logits * sizeof(float));
}

wembed_status wembed_classify_pairs(wembed_model *m, const char *const *texts_a, const size_t *lens_a,
                                    const char *const *texts_b, const size_t *lens_b, int32_t n,
                                    float *logits, size_t n_logits, uint8_t *truncated) {
    if (!m) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err *err = &m->err;
    we_err_clear(err);
    we_resolved r;
    wembed_embed_params p;
    wembed_status rc = resolve_classify(m, &r, &p);
    if (rc) return rc;
    if (n < 0 || (n > 0 && (!texts_a || !texts_b || !logits)))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "bad batch of %d pairs", n);
    wembed_tokenizer *tok = wembed_model_tokenizer(m);
    if (!tok) return WEMBED_STATUS_MISSING_FILE;
    int32_t limit = m->max_seq_length > 0 ? WE_MIN(m->max_seq_length, r.max_tokens) : r.max_tokens;
    wembed_encoding **encs = we_calloc((size_t)n + 1, sizeof(*encs));
    seqin *seqs = we_malloc(sizeof(seqin) * ((size_t)n + 1));
    int32_t *iota = we_malloc(sizeof(int32_t) * ((size_t)limit + 1));
    if (!encs || !seqs || !iota) { rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); goto done; }
    const bool from_pad = m->arch.text.pos_rule == WE_POS_FROM_PAD;
    for (int32_t j = 0; j <= limit; j++) iota[j] = from_pad ? m->arch.text.pad_id + 1 + j : j;
    wembed_tokenize_params tp = wembed_tokenize_default_params();
    tp.max_length = limit;
    tp.truncation_strategy = WEMBED_TRUNCATION_ONLY_SECOND;   // the query is never cut
    wembed_tokenize_params full = wembed_tokenize_default_params();
    for (int32_t i = 0; i < n; i++) {
        size_t la = lens_a ? lens_a[i] : (texts_a[i] ? strlen(texts_a[i]) : 0);
        size_t lb = lens_b ? lens_b[i] : (texts_b[i] ? strlen(texts_b[i]) : 0);
        const char *a = texts_a[i] ? texts_a[i] : "", *b = texts_b[i] ? texts_b[i] : "";
        rc = wembed_tokenizer_encode_pair(tok, a, la, b, lb, &tp, &encs[i]);
        if (rc) { rc = we_errorf(err, rc, "pair %d: %s", i, wembed_tokenizer_last_error(tok)); goto done; }
        if (truncated) {
            // Whether the cut removed anything: the untruncated length.
            truncated[i] = 0;
            wembed_encoding *e = NULL;
            if (encs[i]->n_tokens >= limit && wembed_tokenizer_encode_pair(tok, a, la, b, lb, &full, &e) == WEMBED_STATUS_OK)
                truncated[i] = e->n_tokens > encs[i]->n_tokens;
            wembed_encoding_free(e);
        }
        seqs[i] = (seqin){ encs[i]->ids, encs[i]->type_ids, iota, encs[i]->n_tokens, i, encs[i]->n_tokens };
    }
    rc = embed_seqs(m, seqs, (size_t)n, n, &r, &p, logits, n_logits * sizeof(float));
done:
    for (int32_t i = 0; encs && i < n; i++) wembed_encoding_free(encs[i]);
    we_free(encs);
    we_free(seqs);
    we_free(iota);
    return rc;
}

// The embedding (or classification) of B rows of T ids under resolved params.
static wembed_status ids_run(wembed_model *m, const int32_t *ids, const int32_t *type_ids,
                             const int32_t *mask, int32_t B, int32_t T, const we_resolved *rr,
                             const wembed_embed_params *p, void *out, size_t out_size) {
    we_err *err = &m->err;
    wembed_status rc = WEMBED_STATUS_OK;
    const we_resolved r = *rr;
    if (B < 0 || T < 0 || (B > 0 && (!ids || !out)) || (size_t)B * (size_t)T > (size_t)1 << 31)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "bad batch: %d rows of %d tokens", B, T);

    // The real tokens (mask 1) of every row, compacted, with their positions: the column for
    // absolute positions (window tokens restart at 0), or the count of non-pad ids (WE_POS_FROM_PAD).
    size_t n_all = (size_t)B * T;
    int32_t *c_ids = we_malloc(sizeof(int32_t) * (n_all + 1)), *c_types = we_malloc(sizeof(int32_t) * (n_all + 1));
    int32_t *c_pos = we_malloc(sizeof(int32_t) * (n_all + 1));
    size_t cap = (size_t)B + 1, n_seq = 0;
    seqin *seqs = we_malloc(sizeof(seqin) * cap);
    int32_t *iota = NULL;
    if (!c_ids || !c_types || !c_pos || !seqs) { rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); goto done; }
    const bool from_pad = m->arch.text.pos_rule == WE_POS_FROM_PAD;
    const int32_t pad = from_pad ? m->arch.text.pad_id : 0;
    const bool chunk = p->truncate == WEMBED_TRUNCATE_CHUNK;
    int32_t overlap = p->chunk_overlap >= 0 ? p->chunk_overlap : r.max_tokens / 8;
    size_t k = 0;
    for (int32_t b = 0; b < B; b++) {
        size_t k0 = k;
        int32_t rpos = pad;
        for (int32_t t = 0; t < T; t++) {
            size_t at = (size_t)b * T + t;
            int32_t mk = mask ? mask[at] : 1;
            if (mk != 0 && mk != 1) { rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "mask values must be 0 or 1 (row %d)", b); goto done; }
            if (!mk) continue;
            c_ids[k] = ids[at];
            c_types[k] = type_ids ? type_ids[at] : 0;
            c_pos[k] = from_pad ? (ids[at] != pad ? ++rpos : pad) : t;
            k++;
        }
        seqin whole = { c_ids + k0, c_types + k0, c_pos + k0, (int32_t)(k - k0), b, T };
        if ((rc = add_input(m, &seqs, &n_seq, &cap, &whole, &r, p, overlap))) goto done;
    }
    if (chunk) {
        // Each window is embedded as an input of its own: positions from its start.
        if (!(iota = we_malloc(sizeof(int32_t) * (size_t)r.max_tokens))) { rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); goto done; }
        for (int32_t j = 0; j < r.max_tokens; j++) iota[j] = from_pad ? pad + 1 + j : j;
        for (size_t i = 0; i < n_seq; i++) seqs[i].pos = iota;
    }
    rc = embed_seqs(m, seqs, n_seq, B, &r, p, out, out_size);
done:
    we_free(iota);
    we_free(c_ids);
    we_free(c_types);
    we_free(c_pos);
    we_free(seqs);
    return rc;
}

// -----------------------------------------------------------------------------------------
// Texts

wembed_tokenizer *wembed_model_tokenizer(wembed_model *m) {
    if (!m || m->failed) return NULL;
    if (!m->tokenizer)
        we_errorf(&m->err, WEMBED_STATUS_MISSING_FILE, "the model was loaded without tokenizer.json: give it, or embed token ids");
    return m->tokenizer;
}

// The special tokens the post-processor puts before and after a single text, read off the
// encoding of one token (they are the tokens with special_tokens_mask 1 around it).
static void template_counts(const wembed_encoding *enc, int32_t *n_pre, int32_t *n_post) {
    int32_t first = -1, last = -1;
    for (int32_t i = 0; i < enc->n_tokens; i++)
        if (!enc->special_tokens_mask[i]) {
            if (first < 0) first = i;
            last = i;
        }
    *n_pre = first < 0 ? enc->n_tokens : first;
    *n_post = first < 0 ? 0 : enc->n_tokens - 1 - last;
}

// -----------------------------------------------------------------------------------------
// Text streams: one text, a piece at a time, in memory bounded by the model's window and one
// step of text, whatever the text's size. Its tokens come from windows of the text
// (we_encode_window: exactly the whole text's tokens, never the whole text at once). Under
// CHUNK they form overlapping windows of max_tokens with the template's special tokens around
// each, embedded a group at a time and averaged as they come (weighted by token count); under
// END the first tokens are the sequence and the rest of the text is not needed; under ERROR
// more than fit is an error as soon as it is seen.

#define STREAM_STEP ((size_t)64 << 10)     // bytes of text tokenized per step
#define STREAM_SLICE ((size_t)1 << 20)     // bytes of a caller's text taken in at a time

struct wembed_text_stream {
    wembed_model *m;
    wembed_embed_params p;
    we_resolved r;
    wembed_tokenizer *tok;
    uint8_t *text;                // (n_text, cap_text) the text from a little before `pos` on
    size_t n_text, cap_text;
    bool at_start;                // text[0] is the text's first byte
    size_t pos;                   // end of the last token taken, in text
    size_t step;                  // bytes per step (doubles while a step finds no whole word)
    int32_t n_pre, n_post;        // the template's special tokens around a sequence
    int32_t *specials;            // (n_pre + n_post) ids, then (n_pre + n_post) type ids
    int32_t body_type;
    int32_t wsize, stride;        // body tokens per window; between window starts
    int32_t *body;                // (wsize + 1) body tokens not yet windowed
    int32_t n_body;
    int64_t n_tokens;             // body tokens seen
    int32_t *win;                 // (group * 2 * max_tokens) ids | type ids of queued windows
    seqin *seqs;                  // (group)
    int32_t n_win, group;
    int32_t *iota;                // (max_tokens) positions
    double *acc;                  // (pooled) weighted sum of the pooled windows
    int64_t acc_n;
    bool full;                    // END / ERROR: no more text is needed
    wembed_status failed;         // the first error, kept
};

static wembed_status stream_fail(wembed_text_stream *s, wembed_status rc) {
    if (!s->failed) s->failed = rc;
    return rc;
}

// Embeds the queued windows, adding their pooled vectors to the stream's sum.
static wembed_status stream_flush(wembed_text_stream *s) {
    if (!s->n_win) return WEMBED_STATUS_OK;
    wembed_status rc = forward_seqs(s->m, s->seqs, (size_t)s->n_win, &s->r, &s->p, s->acc, &s->acc_n, NULL, NULL);
    s->n_win = 0;
    return rc ? stream_fail(s, rc) : WEMBED_STATUS_OK;
}

// Queues the window of body tokens b[0..n) wrapped in the template's special tokens.
static wembed_status stream_window(wembed_text_stream *s, const int32_t *b, int32_t n, bool chunked) {
    const int32_t T = s->r.max_tokens, np = s->n_pre, nq = s->n_post, ns = np + nq;
    int32_t *ids = s->win + (size_t)2 * s->n_win * T, *types = ids + T;
    memcpy(ids, s->specials, sizeof(int32_t) * (size_t)np);
    memcpy(ids + np, b, sizeof(int32_t) * (size_t)n);
    memcpy(ids + np + n, s->specials + np, sizeof(int32_t) * (size_t)nq);
    memcpy(types, s->specials + ns, sizeof(int32_t) * (size_t)np);
    for (int32_t k = 0; k < n; k++) types[np + k] = s->body_type;
    memcpy(types + np + n, s->specials + ns + np, sizeof(int32_t) * (size_t)nq);
    int32_t len = ns + n;
    // ntk_length padded: a chunked text's windows are all padded to max_tokens.
    int32_t rope_len = s->p.ntk_length == WEMBED_NTK_LENGTH_PADDED && chunked ? T : len;
    s->seqs[s->n_win++] = (seqin){ ids, types, s->iota, len, 0, rope_len };
    return s->n_win == s->group ? stream_flush(s) : WEMBED_STATUS_OK;
}

// Takes the body tokens ids[0..n).
static wembed_status stream_take(wembed_text_stream *s, const int32_t *ids, uint32_t n) {
    wembed_status rc;
    for (uint32_t i = 0; i < n && !s->full; i++) {
        s->body[s->n_body++] = ids[i];
        s->n_tokens++;
        if (s->n_body <= s->wsize) continue;
        if (s->p.truncate == WEMBED_TRUNCATE_ERROR)
            return stream_fail(s, we_errorf(&s->m->err, WEMBED_STATUS_TOO_LONG, "the text has more than %d tokens (truncate: error)",
                                            s->r.max_tokens));
        if (s->p.truncate == WEMBED_TRUNCATE_END) {
            s->full = true;
            break;
        }
        // CHUNK: a window is complete once a token follows it.
        if ((rc = stream_window(s, s->body, s->wsize, true))) return rc;
        s->n_body -= s->stride;
        memmove(s->body, s->body + s->stride, sizeof(int32_t) * (size_t)s->n_body);
    }
    return WEMBED_STATUS_OK;
}

// One step: tokenizes text[a, b) around pos and takes the tokens that are the whole text's.
// final: the text ends with what is buffered.
static wembed_status stream_step(wembed_text_stream *s, bool final) {
    size_t a = s->pos > WE_WINDOW_MARGIN ? we_utf8_floor(s->text, (uint32_t)(s->pos - WE_WINDOW_MARGIN)) : 0;
    size_t b = WE_MIN(s->n_text, s->pos + s->step + WE_WINDOW_MARGIN);
    bool end = final && b == s->n_text;
    if (!end) b = we_utf8_floor(s->text, (uint32_t)b);
    const int32_t *ids;
    uint32_t n, last_end;
    wembed_status rc = we_tokenizer_window(s->tok, s->text + a, (uint32_t)(b - a), s->at_start && a == 0, end,
                                           (uint32_t)(s->pos - a), &ids, &n, &last_end);
    if (rc) return stream_fail(s, we_errorf(&s->m->err, rc, "%s", wembed_tokenizer_last_error(s->tok)));
    if (n) {
        s->pos = a + last_end;
        s->step = STREAM_STEP;
    } else if (!end) {
        s->step *= 2;   // no whole word yet: look further
    }
    if (end) s->pos = s->n_text;
    return stream_take(s, ids, n);
}

// Drops the text before the next step's window.
static void stream_compact(wembed_text_stream *s) {
    if (s->pos <= WE_WINDOW_MARGIN + 4) return;
    size_t drop = we_utf8_floor(s->text, (uint32_t)(s->pos - WE_WINDOW_MARGIN));
    memmove(s->text, s->text + drop, s->n_text - drop);
    s->n_text -= drop;
    s->pos -= drop;
    s->at_start = false;
}

wembed_status wembed_text_stream_new(wembed_model *m, const wembed_embed_params *p, wembed_text_stream **out) {
    if (!m || !out) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    we_err *err = &m->err;
    we_err_clear(err);
    we_resolved r;
    wembed_status rc = resolve(m, p, &r);
    if (rc) return rc;
    if (r.pooling == WEMBED_POOLING_NONE)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "a text stream gives one pooled vector: pooling none does not apply");
    wembed_tokenizer *th = wembed_model_tokenizer(m);
    if (!th) return WEMBED_STATUS_MISSING_FILE;
    // The template: the special tokens around the encoding of one word.
    wembed_encoding *one = NULL;
    wembed_tokenize_params tp = wembed_tokenize_default_params();
    if ((rc = wembed_tokenizer_encode(th, "a", 1, &tp, &one))) return we_errorf(err, rc, "%s", wembed_tokenizer_last_error(th));
    int32_t n_pre, n_post;
    template_counts(one, &n_pre, &n_post);
    const int32_t T = r.max_tokens, wsize = T - n_pre - n_post;
    const int32_t overlap = p->chunk_overlap >= 0 ? p->chunk_overlap : wsize / 8;
    if (wsize < 1 || (p->truncate == WEMBED_TRUNCATE_CHUNK && overlap >= wsize)) {
        wembed_encoding_free(one);
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "max_tokens %d leaves no room for a window after %d special tokens (overlap %d)",
                         T, n_pre + n_post, overlap);
    }
    wembed_text_stream *s = we_calloc(1, sizeof *s);
    if (!s) { wembed_encoding_free(one); return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); }
    s->m = m;
    s->p = *p;
    s->r = r;
    s->tok = th;
    s->at_start = true;
    s->step = STREAM_STEP;
    s->n_pre = n_pre;
    s->n_post = n_post;
    s->wsize = wsize;
    s->stride = wsize - overlap;
    s->group = WE_MAX(1, TOKEN_BUDGET / T);
    s->specials = we_malloc(sizeof(int32_t) * 2 * ((size_t)(n_pre + n_post) + 1));
    s->body = we_malloc(sizeof(int32_t) * ((size_t)wsize + 1));
    s->win = we_malloc(sizeof(int32_t) * 2 * (size_t)s->group * (size_t)T);
    s->seqs = we_malloc(sizeof(seqin) * (size_t)s->group);
    s->iota = we_malloc(sizeof(int32_t) * (size_t)T);
    s->acc = we_calloc((size_t)r.pooled + 1, sizeof(double));
    if (!s->specials || !s->body || !s->win || !s->seqs || !s->iota || !s->acc) {
        wembed_encoding_free(one);
        wembed_text_stream_free(s);
        return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    }
    const int32_t ns = n_pre + n_post, last = one->n_tokens - n_post;
    for (int32_t k = 0; k < n_pre; k++) { s->specials[k] = one->ids[k]; s->specials[ns + k] = one->type_ids[k]; }
    for (int32_t k = 0; k < n_post; k++) {
        s->specials[n_pre + k] = one->ids[last + k];
        s->specials[ns + n_pre + k] = one->type_ids[last + k];
    }
    s->body_type = n_pre < last ? one->type_ids[n_pre] : 0;
    wembed_encoding_free(one);
    const bool from_pad = m->arch.text.pos_rule == WE_POS_FROM_PAD;
    const int32_t pad = from_pad ? m->arch.text.pad_id : 0;
    for (int32_t j = 0; j < T; j++) s->iota[j] = from_pad ? pad + 1 + j : j;
    *out = s;
    return WEMBED_STATUS_OK;
}

wembed_status wembed_text_stream_write(wembed_text_stream *s, const char *text, size_t len) {
    if (!s || (!text && len)) return WEMBED_STATUS_INVALID_ARGUMENT;
    if (s->failed) return s->failed;
    for (size_t off = 0; off < len && !s->full;) {
        size_t n = WE_MIN(len - off, STREAM_SLICE);
        if (s->n_text + n > s->cap_text) {
            size_t cap = WE_MAX(s->n_text + n, 2 * s->cap_text);
            uint8_t *t = we_realloc(s->text, cap);
            if (!t) return stream_fail(s, we_errorf(&s->m->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory"));
            s->text = t;
            s->cap_text = cap;
        }
        memcpy(s->text + s->n_text, text + off, n);
        s->n_text += n;
        off += n;
        while (!s->full && s->n_text >= s->pos + s->step + 2 * WE_WINDOW_MARGIN) {
            wembed_status rc = stream_step(s, false);
            if (rc) return rc;
        }
        stream_compact(s);
    }
    return WEMBED_STATUS_OK;
}

bool wembed_text_stream_full(const wembed_text_stream *s) { return !s || s->full || s->failed; }

wembed_status wembed_text_stream_finish(wembed_text_stream *s, void *out, size_t out_size) {
    if (!s) return WEMBED_STATUS_INVALID_ARGUMENT;
    if (s->failed) return s->failed;
    wembed_status rc;
    while (!s->full && s->pos < s->n_text) {
        bool last = s->n_text < s->pos + s->step + 2 * WE_WINDOW_MARGIN;
        if ((rc = stream_step(s, last))) return rc;
        if (last) break;
    }
    const int32_t n = WE_MIN(s->n_body, s->wsize);
    if (s->n_tokens == 0 && s->n_pre + s->n_post == 0)
        return stream_fail(s, we_errorf(&s->m->err, WEMBED_STATUS_INVALID_ARGUMENT, "the text gives no tokens"));
    // The sequence, or the last window: a window is emitted only once a token follows it, so
    // there always is one more (of overlap + 1 tokens or more).
    if ((rc = stream_window(s, s->body, n, s->p.truncate == WEMBED_TRUNCATE_CHUNK && s->n_tokens > s->wsize))) return rc;
    if ((rc = stream_flush(s))) return rc;
    size_t vb = we_vector_bytes(&s->r, s->p.output);
    if (!out || out_size < vb)
        return stream_fail(s, we_errorf(&s->m->err, WEMBED_STATUS_INVALID_ARGUMENT, "output buffer of %zu bytes is too small for %zu",
                                        out_size, vb));
    return finish_output(s->m, &s->r, &s->p, s->acc, s->acc_n, 0, out);
}

void wembed_text_stream_free(wembed_text_stream *s) {
    if (!s) return;
    we_free(s->text);
    we_free(s->specials);
    we_free(s->body);
    we_free(s->win);
    we_free(s->seqs);
    we_free(s->iota);
    we_free(s->acc);
    we_free(s);
}

// A long CHUNK text of wembed_embed_text through a stream, a slice at a time, reporting progress.
static wembed_status embed_streamed(wembed_model *m, const char *text, size_t len, const wembed_embed_params *p,
                                    uint64_t *done, uint64_t total, void *out, size_t vb) {
    wembed_text_stream *s = NULL;
    wembed_status rc = wembed_text_stream_new(m, p, &s);
    for (size_t off = 0; !rc && off < len; off += STREAM_SLICE) {
        size_t n = WE_MIN(STREAM_SLICE, len - off);
        rc = wembed_text_stream_write(s, text + off, n);
        *done += n;
        if (!rc && p->progress && !p->progress((float)((double)*done / (double)total), p->progress_user))
            rc = we_errorf(&m->err, WEMBED_STATUS_ABORTED, "the progress callback stopped the call");
    }
    if (!rc) rc = wembed_text_stream_finish(s, out, vb);
    wembed_text_stream_free(s);
    return rc;
}

wembed_status wembed_embed_text(wembed_model *m, const char *const *texts, const size_t *lens, int32_t n,
                                const wembed_embed_params *p, void *out, size_t out_size) {
    if (!m) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err *err = &m->err;
    we_err_clear(err);
    we_resolved r;
    wembed_status rc = resolve(m, p, &r);
    if (rc) return rc;
    p = &r.eff;
    if (n < 0 || (n > 0 && (!texts || !out)))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "bad batch of %d texts", n);
    wembed_tokenizer *tok = wembed_model_tokenizer(m);
    if (!tok) return WEMBED_STATUS_MISSING_FILE;

    wembed_encoding **encs = we_calloc((size_t)n + 1, sizeof(*encs));
    uint8_t *streamed = we_calloc((size_t)n + 1, 1);   // long CHUNK texts, embedded through a stream
    size_t cap = (size_t)n + 1, n_seq = 0;
    seqin *seqs = we_malloc(sizeof(seqin) * cap);
    int32_t *iota = we_malloc(sizeof(int32_t) * ((size_t)r.max_tokens + 1));
    if (!encs || !streamed || !seqs || !iota) { rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); goto done; }
    const bool from_pad = m->arch.text.pos_rule == WE_POS_FROM_PAD;
    const int32_t pad = from_pad ? m->arch.text.pad_id : 0;
    // Positions of a plain text: 0..n-1 (WE_POS_FROM_PAD: pad_id + 1 on, for texts without pad ids).
    for (int32_t j = 0; j <= r.max_tokens; j++) iota[j] = from_pad ? pad + 1 + j : j;

    // Every text tokenized only as far as the call needs: max_tokens, or one more to tell a
    // text that does not fit (the tokenizer then reads a prefix of it).
    wembed_tokenize_params tp = wembed_tokenize_default_params();
    tp.max_length = p->truncate == WEMBED_TRUNCATE_END ? r.max_tokens : r.max_tokens + 1;
    int32_t longest = 0;
    uint64_t total = 0, done_bytes = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t len = lens ? lens[i] : (texts[i] ? strlen(texts[i]) : 0);
        if (!texts[i] && len) { rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "text %d is NULL", i); goto done; }
        rc = wembed_tokenizer_encode(tok, texts[i] ? texts[i] : "", len, &tp, &encs[i]);
        if (rc) { rc = we_errorf(err, rc, "text %d: %s", i, wembed_tokenizer_last_error(tok)); goto done; }
        int32_t nt = encs[i]->n_tokens;
        if (nt == 0) { rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "text %d gives no tokens", i); goto done; }
        if (nt > r.max_tokens && p->truncate == WEMBED_TRUNCATE_ERROR) {
            rc = we_errorf(err, WEMBED_STATUS_TOO_LONG, "text %d has more than %d tokens (truncate: error)", i, r.max_tokens);
            goto done;
        }
        if (nt > r.max_tokens) {
            streamed[i] = 1;
            total += len;
            continue;
        }
        longest = WE_MAX(longest, nt);
    }
    const size_t vb = we_vector_bytes(&r, p->output);
    if (r.pooling != WEMBED_POOLING_NONE && (size_t)n * vb > out_size) {
        rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "output buffer of %zu bytes is too small: %d vectors of %zu bytes",
                       out_size, n, vb);
        goto done;
    }
    for (int32_t i = 0; i < n; i++) {
        const wembed_encoding *e = encs[i];
        if (streamed[i]) {
            // The chunk path: the whole text through a stream (its windows never all in memory).
            wembed_encoding_free(encs[i]);
            encs[i] = NULL;
            size_t len = lens ? lens[i] : strlen(texts[i]);
            if ((rc = embed_streamed(m, texts[i], len, p, &done_bytes, total, (uint8_t *)out + (size_t)i * vb, vb))) {
                rc = we_errorf(err, rc, "text %d: %s", i, wembed_model_last_error(m));
                goto done;
            }
            continue;
        }
        int32_t rope_len = p->ntk_length == WEMBED_NTK_LENGTH_PADDED ? longest : e->n_tokens;
        if ((rc = push_seq(m, &seqs, &n_seq, &cap, (seqin){ e->ids, e->type_ids, iota, e->n_tokens, i, rope_len }))) goto done;
    }
    rc = embed_seqs(m, seqs, n_seq, n, &r, p, out, out_size);
done:
    for (int32_t i = 0; encs && i < n; i++) wembed_encoding_free(encs[i]);
    we_free(encs);
    we_free(streamed);
    we_free(seqs);
    we_free(iota);
    return rc;
}
