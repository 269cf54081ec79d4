// embed.c - the embedding calls of wembed.h: batches of token ids through the model's forward
// pass, then pooling, Matryoshka truncation, normalization and output quantization.
//
// How a call goes:
//   1. Each row's real tokens (mask 1) become one sequence, or several overlapping windows
//      when it is longer than max_tokens and truncate is CHUNK. Positions count from the row's
//      start (or, WE_POS_FROM_PAD: from pad_id + 1 over non-pad ids, as RoBERTa's HF code does).
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
    r->matryoshka_ln = p->dims && p->dims < full && ts->matryoshka == WE_MATRYOSHKA_LAYER_NORM;
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

// Embeds seqs (reordered in place) into n_out outputs. Pooling NONE: one sequence per output,
// token rows written in output order.
static wembed_status embed_seqs(wembed_model *m, seqin *seqs, size_t n_seq, int32_t n_out, const we_resolved *r,
                                const wembed_embed_params *p, void *out, size_t out_size) {
    we_err *err = &m->err;
    const int E = r->hidden;
    const size_t vb = we_vector_bytes(r, p->output);
    int32_t *tok_ids = NULL, *tok_types = NULL, *tok_pos = NULL, *seq_off = NULL, *rope_len = NULL;
    float *hidden = NULL, *proj_in = NULL, *dense_buf = NULL, *head_buf = NULL;
    void *proj_scratch = NULL, *dense_work = NULL, *head_scratch = NULL;
    double *acc = NULL, *v = NULL;
    int64_t *acc_n = NULL, *tok_out = NULL;
    wembed_pool *pool = NULL;
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
        rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "output buffer of %zu bytes is too small: %lld vectors of %zu bytes",
                       out_size, (long long)n_vectors, vb);
        goto done;
    }
    qsort(seqs, n_seq, sizeof(seqin), cmp_seqin);
    if ((rc = we_model_pool(m, &pool))) goto done;
    int32_t longest = n_seq ? seqs[n_seq - 1].len : 0;
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
        // h0 (E) | pre (E) | logits (n_labels)
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
        while (g1 < n_seq && (g1 == g0 || ntok + (size_t)seqs[g1].len <= budget)) ntok += (size_t)seqs[g1++].len;
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
            k += (size_t)s->len;
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
                pool_seq(v, h, s->len, E, r->pooling);
            }
            if (head) {
                // The classification head (we_text_spec.head) on the pooled first token.
                float *h0 = head_buf, *mid = head_buf + E, *lg = head_buf + 2 * E;
                for (int e = 0; e < E; e++) h0[e] = (float)v[e];
                const float *x = h0;
                if (head->pre_w) {
                    we_linear(pool, mid, E, h0, E, head->pre_w, head->pre_b, 1, WE_ACT_NONE, head_scratch);
                    if (head->pre_tanh)
                        for (int e = 0; e < E; e++) mid[e] = tanhf(mid[e]);
                    x = mid;
                }
                we_linear(pool, lg, head->n_labels, x, E, head->out_w, head->out_b, 1, WE_ACT_NONE, head_scratch);
                for (int e = 0; e < head->n_labels; e++) v[e] = lg[e];
            } else if (proj) {
                // The model's projection of pooled vectors (we_text_spec.proj).
                for (int e = 0; e < E; e++) proj_in[e] = (float)v[e];
                we_linear(pool, proj_in + E, r->pooled, proj_in, E, proj, NULL, 1, WE_ACT_NONE, proj_scratch);
                for (int e = 0; e < r->pooled; e++) v[e] = proj_in[E + e];
            }
            if (r->dense) apply_dense(pool, m, v, dense_buf, widest, dense_work);
            double *a = acc + (size_t)s->out * r->pooled;
            for (int e = 0; e < r->pooled; e++) a[e] += v[e] * s->len;
            acc_n[s->out] += s->len;
        }
        g0 = g1;
    }
    if (r->pooling != WEMBED_POOLING_NONE) {
        for (int32_t b = 0; b < n_out; b++) {
            double *a = acc + (size_t)b * r->pooled;
            for (int e = 0; e < r->pooled; e++) v[e] = a[e] / (double)acc_n[b];
            if (!we_finish_vector((uint8_t *)out + (size_t)b * vb, v, r, p->output) && !p->allow_non_finite) {
                rc = we_non_finite(m, b);
                goto done;
            }
        }
    }
    goto done;
oom:
    rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
done:
    we_free(tok_ids);
    we_free(tok_types);
    we_free(tok_pos);
    we_free(seq_off);
    we_free(rope_len);
    we_free(hidden);
    we_free(acc);
    we_free(acc_n);
    we_free(tok_out);
    we_free(v);
    we_free(proj_in);
    we_free(proj_scratch);
    we_free(dense_buf);
    we_free(dense_work);
    we_free(head_buf);
    we_free(head_scratch);
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
// Classification (cross-encoders): the first token's last hidden state through the model's
// head (we_text_spec.head), one row of n_labels raw logits per input. Inputs longer than the
// model's limit are an error (a pair's truncation is the tokenizer's, only_second).

// The call parameters of a classification: CLS pooling, no normalization, logits as the
// pooled vector.
static wembed_status resolve_classify(wembed_model *m, we_resolved *r, wembed_embed_params *p) {
    we_err *err = &m->err;
    memset(r, 0, sizeof *r);
    *p = wembed_embed_default_params();
    p->truncate = WEMBED_TRUNCATE_ERROR;
    if (m->failed || !m->arch.family) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "this model handle holds a failed load");
    const we_text_spec *ts = &m->arch.text;
    if (ts->hidden <= 0 || ts->head.n_labels <= 0)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "this model has no sequence-classification head (config.json architectures: *ForSequenceClassification)");
    r->pooling = WEMBED_POOLING_CLS;
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
    if (m->tokenizer) return m->tokenizer;
    size_t n;
    const uint8_t *json = we_model_file_data(m, "tokenizer.json", &n);
    if (!json) {
        we_errorf(&m->err, WEMBED_STATUS_MISSING_FILE, "the model was loaded without tokenizer.json: give it, or embed token ids");
        return NULL;
    }
    wembed_tokenizer *tok = NULL;
    wembed_status rc = wembed_tokenizer_load(json, n, &tok);
    if (rc) {
        we_errorf(&m->err, rc, "tokenizer.json: %s", tok ? wembed_tokenizer_last_error(tok) : "out of memory");
        wembed_tokenizer_free(tok);
        return NULL;
    }
    return m->tokenizer = tok;
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
    int32_t **win = we_calloc((size_t)n + 1, sizeof(*win));   // window ids/types/pos per chunked text
    size_t cap = (size_t)n + 1, n_seq = 0;
    seqin *seqs = we_malloc(sizeof(seqin) * cap);
    int32_t *iota = we_malloc(sizeof(int32_t) * ((size_t)r.max_tokens + 1));
    if (!encs || !win || !seqs || !iota) { rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); goto done; }
    const bool from_pad = m->arch.text.pos_rule == WE_POS_FROM_PAD;
    const int32_t pad = from_pad ? m->arch.text.pad_id : 0;
    // Positions of a plain text: 0..n-1 (WE_POS_FROM_PAD: pad_id + 1 on, for texts without pad ids).
    for (int32_t j = 0; j <= r.max_tokens; j++) iota[j] = from_pad ? pad + 1 + j : j;

    wembed_tokenize_params tp = wembed_tokenize_default_params();
    tp.max_length = p->truncate == WEMBED_TRUNCATE_END ? r.max_tokens : 0;
    int32_t longest = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t len = lens ? lens[i] : (texts[i] ? strlen(texts[i]) : 0);
        if (!texts[i] && len) { rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "text %d is NULL", i); goto done; }
        rc = wembed_tokenizer_encode(tok, texts[i] ? texts[i] : "", len, &tp, &encs[i]);
        if (rc) { rc = we_errorf(err, rc, "text %d: %s", i, wembed_tokenizer_last_error(tok)); goto done; }
        longest = WE_MAX(longest, encs[i]->n_tokens);
    }
    for (int32_t i = 0; i < n; i++) {
        const wembed_encoding *e = encs[i];
        int32_t len = e->n_tokens;
        if (len == 0) { rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "text %d gives no tokens", i); goto done; }
        if (len > r.max_tokens && p->truncate == WEMBED_TRUNCATE_ERROR) {
            rc = we_errorf(err, WEMBED_STATUS_TOO_LONG, "text %d has %d tokens; the limit is %d (truncate: error)", i, len, r.max_tokens);
            goto done;
        }
        int32_t rope_len = p->ntk_length == WEMBED_NTK_LENGTH_PADDED ? longest : len;
        if (len <= r.max_tokens) {
            if ((rc = push_seq(m, &seqs, &n_seq, &cap, (seqin){ e->ids, e->type_ids, iota, len, i, rope_len }))) goto done;
            continue;
        }
        // CHUNK: windows of the text's own tokens, each wrapped in the template's specials.
        int32_t n_pre, n_post;
        template_counts(e, &n_pre, &n_post);
        int32_t body = len - n_pre - n_post, wsize = r.max_tokens - n_pre - n_post;
        int32_t overlap = p->chunk_overlap >= 0 ? p->chunk_overlap : wsize / 8;
        if (wsize < 1 || overlap >= wsize) {
            rc = we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "max_tokens %d leaves no room for a window after %d special tokens (overlap %d)",
                           r.max_tokens, n_pre + n_post, overlap);
            goto done;
        }
        int32_t step = wsize - overlap, n_win = body <= wsize ? 1 : 1 + (body - wsize + step - 1) / step;
        if (!(win[i] = we_malloc(sizeof(int32_t) * 2 * (size_t)n_win * r.max_tokens))) {
            rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
            goto done;
        }
        for (int32_t w = 0; w < n_win; w++) {
            int32_t s0 = w * step, blen = WE_MIN(wsize, body - s0), wl = n_pre + blen + n_post;
            int32_t *wi = win[i] + (size_t)2 * w * r.max_tokens, *wt = wi + r.max_tokens;
            memcpy(wi, e->ids, sizeof(int32_t) * (size_t)n_pre);
            memcpy(wi + n_pre, e->ids + n_pre + s0, sizeof(int32_t) * (size_t)blen);
            memcpy(wi + n_pre + blen, e->ids + len - n_post, sizeof(int32_t) * (size_t)n_post);
            memcpy(wt, e->type_ids, sizeof(int32_t) * (size_t)n_pre);
            memcpy(wt + n_pre, e->type_ids + n_pre + s0, sizeof(int32_t) * (size_t)blen);
            memcpy(wt + n_pre + blen, e->type_ids + len - n_post, sizeof(int32_t) * (size_t)n_post);
            seqin sw = { wi, wt, iota, wl, i, p->ntk_length == WEMBED_NTK_LENGTH_PADDED ? r.max_tokens : wl };
            if ((rc = push_seq(m, &seqs, &n_seq, &cap, sw))) goto done;
        }
    }
    rc = embed_seqs(m, seqs, n_seq, n, &r, p, out, out_size);
done:
    for (int32_t i = 0; encs && i < n; i++) wembed_encoding_free(encs[i]);
    for (int32_t i = 0; win && i < n; i++) we_free(win[i]);
    we_free(encs);
    we_free(win);
    we_free(seqs);
    we_free(iota);
    return rc;
}
