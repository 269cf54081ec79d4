// embed.h - what the text (embed.c) and image (embed_image.c) embedding calls share: the
// resolved call parameters, the model's compute pool, and the last steps of every vector.
#ifndef WE_EMBED_H
#define WE_EMBED_H

#include "model.h"

typedef struct we_resolved {
    wembed_pooling pooling;
    bool normalize;
    int32_t hidden;               // per-token vectors
    int32_t pooled;               // pooled vectors, before Matryoshka (CLIP: the projection; after
                                  // the Dense modules when dense)
    bool dense;                   // the model's sentence-transformers Dense modules apply (its own pooling)
    int32_t dims;                 // of each output vector
    int32_t max_tokens;
    wembed_embed_params eff;      // the call's params as they apply (truncate EXTEND resolved)
    bool matryoshka_ln;           // nomic's rule: layer norm (no affine) before truncating
    const we_cls_head *head;      // classification (wembed_classify_*): the head's logits are the
                                  // pooled vector (pooling CLS, pooled = n_labels); NULL: embedding
} we_resolved;

// Bytes of one output vector.
size_t we_vector_bytes(const we_resolved *r, wembed_output out);

// The model's pool: params.pool, or one of its own made at the first call.
wembed_status we_model_pool(wembed_model *m, wembed_pool **out);

// From a pooled vector u (r->pooled doubles; overwritten) to the output: Matryoshka rule,
// normalization, quantization into out (we_vector_bytes). Returns false if the vector (before
// quantization) holds a NaN or an infinity: the caller's WEMBED_STATUS_NON_FINITE.
bool we_finish_vector(void *out, double *u, const we_resolved *r, wembed_output kind);

// One per-token output row (pooling NONE): the hidden state h (E), L2-normalized when asked.
// Returns false if the row holds a NaN or an infinity.
bool we_write_token_vector(float *o, const float *h, int E, bool normalize);

// The error for a non-finite output vector of input `input` (its 0-based index).
wembed_status we_non_finite(wembed_model *m, int64_t input);

#endif // WE_EMBED_H
