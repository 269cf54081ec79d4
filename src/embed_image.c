// embed_image.c - the image calls of wembed.h: pixels prepared as the model's
// preprocessor_config.json says (image/preprocess.h), the family's vision tower (hidden states
// and pooled image embeddings), and the shared last steps (embed.h).
#include <math.h>
#include <string.h>

#include "arch/forward.h"
#include "embed.h"
#include "image/preprocess.h"

// Images per forward pass: the activations of a ViT-B/32 are ~0.4 MB per image per buffer.
#define IMAGE_BATCH 16

static bool has_vision(const wembed_model *m) {
    return m && !m->failed && m->arch.family && m->arch.vision.hidden > 0;
}

int32_t wembed_image_size(const wembed_model *m) {
    return has_vision(m) ? m->arch.vision.image_size : 0;
}

float wembed_model_logit_scale(const wembed_model *m) {
    if (!m || m->failed || !m->arch.family || !m->arch.logit_scale) return 0;
    return expf(m->arch.logit_scale);
}

float wembed_model_logit_bias(const wembed_model *m) {
    return m && !m->failed && m->arch.family ? m->arch.logit_bias : 0;
}

bool wembed_model_logit_sigmoid(const wembed_model *m) {
    return m && !m->failed && m->arch.family && m->arch.logit_sigmoid;
}

static wembed_status resolve_image(wembed_model *m, const wembed_embed_params *p, we_resolved *r) {
    we_err *err = &m->err;
    if (!has_vision(m)) return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "this model has no vision tower");
    if (!p) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "no params (use wembed_embed_default_params())");
    memset(r, 0, sizeof *r);
    r->hidden = m->arch.vision.hidden;
    r->pooled = m->arch.vision.pooled;
    if (p->pooling != WEMBED_POOLING_DEFAULT && p->pooling != WEMBED_POOLING_CLS && p->pooling != WEMBED_POOLING_NONE)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "an image is pooled by its class token (cls) or not at all (none)");
    r->pooling = p->pooling == WEMBED_POOLING_NONE ? WEMBED_POOLING_NONE : WEMBED_POOLING_CLS;
    if (p->normalize < WEMBED_NORMALIZE_DEFAULT || p->normalize > 1)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "normalize must be 0, 1 or default (-1), not %d", p->normalize);
    r->normalize = p->normalize == WEMBED_NORMALIZE_DEFAULT ? r->pooling != WEMBED_POOLING_NONE : p->normalize == 1;
    int32_t full = r->pooling == WEMBED_POOLING_NONE ? r->hidden : r->pooled;
    if (p->dims && r->pooling == WEMBED_POOLING_NONE)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "dims (Matryoshka) applies to pooled vectors, not to pooling none");
    if (p->dims < 0 || p->dims > full)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "dims %d is outside 1..%d (0: all)", p->dims, full);
    r->dims = p->dims ? p->dims : full;
    if ((unsigned)p->output > WEMBED_OUTPUT_BINARY || (p->output != WEMBED_OUTPUT_F32 && r->pooling == WEMBED_POOLING_NONE))
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "int8 and binary outputs are for pooled vectors");
    // The long-input options reach the text forward passes only (a vision tower takes no options).
    if (p->attention_temperature != 1.0f || p->self_extend_window || p->self_extend_group)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "attention_temperature and self_extend apply to text only, not to images");
    return WEMBED_STATUS_OK;
}

size_t wembed_image_vector_bytes(wembed_model *m, const wembed_embed_params *p) {
    we_resolved r;
    if (!m || resolve_image(m, p, &r)) return 0;
    return we_vector_bytes(&r, p->output);
}

// The model's preprocessing, from preprocessor_config.json over CLIP's defaults sized to the
// vision tower; the crop must give the tower's input size.
static wembed_status image_config(wembed_model *m, we_image_config *c) {
    we_err *err = &m->err;
    int32_t S = m->arch.vision.image_size;
    we_image_config_default(c);
    c->shortest_edge = c->height = c->width = c->crop_height = c->crop_width = S;
    size_t n;
    const uint8_t *text = we_model_file_data(m, "preprocessor_config.json", &n);
    if (text) {
        we_arena a;
        we_arena_init(&a, 0);
        const we_json *root;
        wembed_status rc = we_json_parse(&a, (const char *)text, n, NULL, &root, err);
        if (!rc) rc = we_image_config_from_json(c, root, err);
        we_arena_free(&a);
        if (rc) {
            we_err_prefix(err, "preprocessor_config.json");
            return rc;
        }
    }
    // Whatever the image, the result must be the S x S input the tower takes.
    bool square = c->do_center_crop ? c->crop_width == S && c->crop_height == S
                                    : c->do_resize && c->size_rule == WE_IMAGE_SIZE_EXACT && c->width == S && c->height == S;
    if (!square)
        return we_errorf(err, WEMBED_STATUS_UNSUPPORTED,
                         "preprocessor_config.json does not produce the %dx%d input the vision tower takes", S, S);
    return WEMBED_STATUS_OK;
}

wembed_status wembed_image_preprocess(wembed_model *m, const wembed_image *img, float *out, size_t out_size) {
    if (!m) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&m->err);
    if (!has_vision(m)) return we_errorf(&m->err, WEMBED_STATUS_UNSUPPORTED, "this model has no vision tower");
    int32_t S = m->arch.vision.image_size;
    if (!img || !img->pixels || !out || out_size < sizeof(float) * 3 * (size_t)S * S)
        return we_errorf(&m->err, WEMBED_STATUS_INVALID_ARGUMENT, "need an image and room for 3 x %d x %d floats", S, S);
    we_image_config c;
    wembed_status rc = image_config(m, &c);
    if (rc) return rc;
    return we_image_preprocess(out, img->pixels, img->width, img->height, img->stride, img->channels, &c, &m->err);
}

// Runs the tower on B prepared images (B x C x S x S) and writes their vectors to out.
static wembed_status embed_batch(wembed_model *m, wembed_pool *pool, const float *pixels, int B,
                                 const we_resolved *r, const wembed_embed_params *p, int b0, uint8_t *out) {
    const wembed_output kind = p->output;
    const we_vision_spec *vs = &m->arch.vision;
    const int E = vs->hidden, T = vs->n_tokens, P = vs->pooled;
    size_t vb = we_vector_bytes(r, kind);
    bool tokens = r->pooling == WEMBED_POOLING_NONE;
    float *hidden = tokens ? we_malloc(sizeof(float) * (size_t)B * T * E) : NULL;
    float *pooled = we_malloc(sizeof(float) * (size_t)B * P);
    double *v = we_malloc(sizeof(double) * (size_t)P);
    wembed_status rc = WEMBED_STATUS_OK;
    if ((tokens && !hidden) || !pooled || !v) {
        rc = we_errorf(&m->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for %d images", B);
        goto done;
    }
    if ((rc = m->arch.family->vision_forward(&m->arch, pool, pixels, B, hidden, pooled, &m->err))) goto done;
    for (int b = 0; b < B; b++) {
        if (tokens) {
            const float *h = hidden + (size_t)b * T * E;
            for (int t = 0; t < T; t++)
                if (!we_write_token_vector((float *)(out + ((size_t)b * T + t) * vb), h + (size_t)t * E, E, r->normalize) &&
                    !p->allow_non_finite) {
                    rc = we_non_finite(m, b0 + b);
                    goto done;
                }
            continue;
        }
        for (int e = 0; e < P; e++) v[e] = pooled[(size_t)b * P + e];
        if (!we_finish_vector(out + (size_t)b * vb, v, r, kind) && !p->allow_non_finite) {
            rc = we_non_finite(m, b0 + b);
            goto done;
        }
    }
done:
    we_free(hidden);
    we_free(pooled);
    we_free(v);
    return rc;
}

// Runs both image calls: pixels ready (pixel_values) or prepared batch by batch (images).
static wembed_status embed_images_or_pixels(wembed_model *m, const wembed_image *images, const float *pixel_values,
                                            int32_t n, const wembed_embed_params *p, void *out, size_t out_size) {
    if (!m) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&m->err);
    we_resolved r;
    wembed_status rc = resolve_image(m, p, &r);
    if (rc) return rc;
    if (n < 0 || (n > 0 && ((!images && !pixel_values) || !out)))
        return we_errorf(&m->err, WEMBED_STATUS_INVALID_ARGUMENT, "bad batch of %d images", n);
    const we_vision_spec *vs = &m->arch.vision;
    size_t per_out = (r.pooling == WEMBED_POOLING_NONE ? (size_t)vs->n_tokens : 1) * we_vector_bytes(&r, p->output);
    if ((size_t)n * per_out > out_size)
        return we_errorf(&m->err, WEMBED_STATUS_INVALID_ARGUMENT, "output buffer of %zu bytes is too small: %zu needed",
                         out_size, (size_t)n * per_out);
    we_image_config c;
    if (images && (rc = image_config(m, &c))) return rc;
    wembed_pool *pool;
    if ((rc = we_model_pool(m, &pool))) return rc;
    size_t per_image = (size_t)vs->n_channels * vs->image_size * vs->image_size;
    float *pixels = NULL;
    if (images && !(pixels = we_malloc(sizeof(float) * per_image * (size_t)WE_MIN(n, IMAGE_BATCH) + 16)))
        return we_errorf(&m->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for %d images", WE_MIN(n, IMAGE_BATCH));
    for (int32_t b0 = 0; b0 < n && !rc; b0 += IMAGE_BATCH) {
        int nb = WE_MIN(IMAGE_BATCH, n - b0);
        for (int i = 0; images && i < nb && !rc; i++) {
            const wembed_image *img = &images[b0 + i];
            if (!img->pixels) rc = we_errorf(&m->err, WEMBED_STATUS_INVALID_ARGUMENT, "no pixels");
            else rc = we_image_preprocess(pixels + (size_t)i * per_image, img->pixels, img->width, img->height, img->stride,
                                          img->channels, &c, &m->err);
            if (rc) we_err_prefix(&m->err, "image %d", b0 + i);
        }
        const float *batch = images ? pixels : pixel_values + (size_t)b0 * per_image;
        if (!rc) rc = embed_batch(m, pool, batch, nb, &r, p, b0, (uint8_t *)out + (size_t)b0 * per_out);
    }
    we_free(pixels);
    return rc;
}

wembed_status wembed_embed_pixels(wembed_model *m, const float *pixel_values, int32_t B,
                                  const wembed_embed_params *p, void *out, size_t out_size) {
    return embed_images_or_pixels(m, NULL, pixel_values, B, p, out, out_size);
}

wembed_status wembed_embed_images(wembed_model *m, const wembed_image *images, int32_t n,
                                  const wembed_embed_params *p, void *out, size_t out_size) {
    return embed_images_or_pixels(m, images, NULL, n, p, out, out_size);
}
