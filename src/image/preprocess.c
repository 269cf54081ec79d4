// preprocess.c - see preprocess.h. The steps follow transformers' image_processing_clip.py and
// image_transforms.py (resize, center_crop, rescale, normalize), including their integer
// rounding, so that the uint8 image before rescaling is identical to the reference's.
#include "preprocess.h"

#include <math.h>
#include <string.h>

void we_image_config_default(we_image_config *c) {
    memset(c, 0, sizeof *c);
    c->do_resize = true;
    c->size_rule = WE_IMAGE_SIZE_SHORTEST_EDGE;
    c->shortest_edge = 224;
    c->height = c->width = 224;
    c->resample = WE_RESAMPLE_BICUBIC;
    c->do_center_crop = true;
    c->crop_height = c->crop_width = 224;
    c->do_rescale = true;
    c->rescale_factor = 1.0 / 255.0;
    c->do_normalize = true;
    // OPENAI_CLIP_MEAN / OPENAI_CLIP_STD in transformers' image_utils.py
    const double mean[3] = { 0.48145466, 0.4578275, 0.40821073 };
    const double std[3] = { 0.26862954, 0.26130258, 0.27577711 };
    memcpy(c->mean, mean, sizeof mean);
    memcpy(c->std, std, sizeof std);
}

// -----------------------------------------------------------------------------------------
// preprocessor_config.json

static wembed_status get_bool(const we_json *root, const char *key, bool *out, we_err *err) {
    const we_json *v = we_json_get(root, key);
    if (!v || we_json_is(v, WE_JSON_NULL)) return WEMBED_STATUS_OK;
    if (!we_json_as_bool(v, out))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json: \"%s\" must be true or false", key);
    return WEMBED_STATUS_OK;
}

static wembed_status get_dim(const we_json *v, const char *what, int *out, we_err *err) {
    int64_t i;
    if (!we_json_as_int(v, &i) || i < 1 || i > 16384)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json: %s must be an integer in 1..16384", what);
    *out = (int)i;
    return WEMBED_STATUS_OK;
}

static wembed_status get_triple(const we_json *root, const char *key, double out[3], bool positive, we_err *err) {
    const we_json *v = we_json_get(root, key);
    if (!v || we_json_is(v, WE_JSON_NULL)) return WEMBED_STATUS_OK;
    double d;
    if (we_json_as_double(v, &d)) {           // one value for every channel
        out[0] = out[1] = out[2] = d;
    } else if (we_json_is(v, WE_JSON_ARRAY) && v->len == 3) {
        for (int i = 0; i < 3; i++) {
            if (!we_json_as_double(we_json_at(v, (size_t)i), &out[i]))
                return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json: \"%s\" must hold numbers", key);
        }
    } else {
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json: \"%s\" must be a number or 3 numbers", key);
    }
    for (int i = 0; i < 3; i++) {
        if (!isfinite(out[i]) || (positive && !(out[i] > 0)))
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json: \"%s\" has a bad value", key);
    }
    return WEMBED_STATUS_OK;
}

wembed_status we_image_config_from_json(we_image_config *c, const we_json *root, we_err *err) {
    if (!we_json_is(root, WE_JSON_OBJECT))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json must be a JSON object");
    // SiglipImageProcessor's own defaults, under the fields the file gives: a resize straight
    // to size (aspect not kept) with no center crop, and mean and std 0.5 (IMAGENET_STANDARD_*).
    const char *type = we_json_as_str(we_json_get(root, "image_processor_type"), NULL);
    if (type && strncmp(type, "SiglipImageProcessor", 20) == 0) {
        c->size_rule = WE_IMAGE_SIZE_EXACT;
        c->do_center_crop = false;
        for (int i = 0; i < 3; i++) c->mean[i] = c->std[i] = 0.5;
    }
    wembed_status rc;
    if ((rc = get_bool(root, "do_resize", &c->do_resize, err)) ||
        (rc = get_bool(root, "do_center_crop", &c->do_center_crop, err)) ||
        (rc = get_bool(root, "do_rescale", &c->do_rescale, err)) ||
        (rc = get_bool(root, "do_normalize", &c->do_normalize, err)))
        return rc;

    // "size": 224 (old configs: the shortest edge), {"shortest_edge": n} or {"height", "width"}
    const we_json *size = we_json_get(root, "size");
    if (size && !we_json_is(size, WE_JSON_NULL)) {
        const we_json *se = we_json_get(size, "shortest_edge");
        if (we_json_is(size, WE_JSON_NUMBER)) {
            if ((rc = get_dim(size, "\"size\"", &c->shortest_edge, err))) return rc;
            c->size_rule = WE_IMAGE_SIZE_SHORTEST_EDGE;
        } else if (se) {
            if ((rc = get_dim(se, "\"size\".shortest_edge", &c->shortest_edge, err))) return rc;
            c->size_rule = WE_IMAGE_SIZE_SHORTEST_EDGE;
        } else if (we_json_get(size, "height") && we_json_get(size, "width")) {
            if ((rc = get_dim(we_json_get(size, "height"), "\"size\".height", &c->height, err)) ||
                (rc = get_dim(we_json_get(size, "width"), "\"size\".width", &c->width, err)))
                return rc;
            c->size_rule = WE_IMAGE_SIZE_EXACT;
        } else {
            return we_errorf(err, WEMBED_STATUS_UNSUPPORTED,
                             "preprocessor_config.json: \"size\" must be a number, {\"shortest_edge\": n} or {\"height\": h, \"width\": w}");
        }
    }
    const we_json *crop = we_json_get(root, "crop_size");
    if (crop && !we_json_is(crop, WE_JSON_NULL)) {
        if (we_json_is(crop, WE_JSON_NUMBER)) {
            if ((rc = get_dim(crop, "\"crop_size\"", &c->crop_height, err))) return rc;
            c->crop_width = c->crop_height;
        } else if ((rc = get_dim(we_json_get(crop, "height"), "\"crop_size\".height", &c->crop_height, err)) ||
                   (rc = get_dim(we_json_get(crop, "width"), "\"crop_size\".width", &c->crop_width, err))) {
            return rc;
        }
    }
    const we_json *rs = we_json_get(root, "resample");
    if (rs && !we_json_is(rs, WE_JSON_NULL)) {
        int64_t r;
        if (!we_json_as_int(rs, &r) || r < 0 || r > 5)
            return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json: \"resample\" must be a Pillow filter id 0..5");
        c->resample = (we_resample)r;
    }
    const we_json *rf = we_json_get(root, "rescale_factor");
    if (rf && !we_json_is(rf, WE_JSON_NULL) &&
        (!we_json_as_double(rf, &c->rescale_factor) || !isfinite(c->rescale_factor)))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "preprocessor_config.json: \"rescale_factor\" must be a number");
    if ((rc = get_triple(root, "image_mean", c->mean, false, err)) ||
        (rc = get_triple(root, "image_std", c->std, true, err)))
        return rc;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------

void we_image_resized_size(const we_image_config *c, int w, int h, int *out_w, int *out_h) {
    if (!c->do_resize) { *out_w = w; *out_h = h; return; }
    if (c->size_rule == WE_IMAGE_SIZE_EXACT) { *out_w = c->width; *out_h = c->height; return; }
    // get_resize_output_image_size(default_to_square=False): the long side is
    // int(size * long / short), a truncation of the correctly rounded quotient.
    int s = c->shortest_edge;
    int shorter = w <= h ? w : h, longer = w <= h ? h : w;
    double l = (double)s * longer / shorter;
    int new_long = l >= (double)WE_RESAMPLE_MAX ? WE_RESAMPLE_MAX + 1 : (int)l;
    if (w <= h) { *out_w = s; *out_h = new_long; }
    else { *out_w = new_long; *out_h = s; }
}

void we_image_output_size(const we_image_config *c, int w, int h, int *out_w, int *out_h) {
    if (c->do_center_crop) { *out_w = c->crop_width; *out_h = c->crop_height; return; }
    we_image_resized_size(c, w, h, out_w, out_h);
}

static int floor_div2(int x) { return x >= 0 ? x / 2 : -((-x + 1) / 2); }

wembed_status we_image_resize_crop(uint8_t *out, const uint8_t *pixels, int w, int h, size_t stride,
                                   int channels, const we_image_config *c, we_err *err) {
    if (!out || !pixels || !c) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "no pixels or no output");
    if (channels != 3 && channels != 4)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "an image has 3 (RGB) or 4 (RGBA) channels, not %d", channels);
    if (w < 1 || h < 1 || w > WE_RESAMPLE_MAX || h > WE_RESAMPLE_MAX)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "image size %dx%d is not in 1..%d", w, h, WE_RESAMPLE_MAX);
    if (stride < (size_t)w * (size_t)channels)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "row stride %zu is less than %d x width %d", stride, channels, w);

    int rw, rh, ow, oh;
    we_image_resized_size(c, w, h, &rw, &rh);
    if (rw > WE_RESAMPLE_MAX || rh > WE_RESAMPLE_MAX)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT,
                         "a %dx%d image is too elongated: its resized long side would exceed %d pixels", w, h, WE_RESAMPLE_MAX);
    we_image_output_size(c, w, h, &ow, &oh);

    // The crop's rectangle in the resized image, as transformers' center_crop computes it
    // (Python's floor division), and the part of it that lies inside the image: the rest is
    // the zero padding center_crop adds when the crop is larger than the image.
    int top = 0, left = 0;
    if (c->do_center_crop) {
        top = floor_div2(rh - oh);
        left = floor_div2(rw - ow);
        if (top < 0 || left < 0 || top + oh > rh || left + ow > rw) {
            int nh = WE_MAX(oh, rh), nw = WE_MAX(ow, rw);
            int top_pad = (nh - rh + 1) / 2, left_pad = (nw - rw + 1) / 2;   // ceil
            top = WE_MAX(0, top + top_pad) - top_pad;
            left = WE_MAX(0, left + left_pad) - left_pad;
        }
    }
    int x0 = WE_MAX(0, left), y0 = WE_MAX(0, top);
    int x1 = WE_MIN(rw, left + ow), y1 = WE_MIN(rh, top + oh);

    uint8_t *rgb = NULL, *part = NULL;
    const uint8_t *src = pixels;
    size_t src_stride = stride;
    wembed_status rc = WEMBED_STATUS_OK;
    memset(out, 0, (size_t)ow * oh * 3);   // black: the padding
    if (x1 <= x0 || y1 <= y0) return WEMBED_STATUS_OK;
    if (channels == 4) {
        size_t n;
        if (!we_mul_size((size_t)w * 3, (size_t)h, &n) || !(rgb = we_malloc(n))) {
            rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for a %dx%d image", w, h);
            goto done;
        }
        for (int y = 0; y < h; y++) {
            const uint8_t *p = pixels + (size_t)y * stride;
            uint8_t *q = rgb + (size_t)y * w * 3;
            for (int x = 0; x < w; x++) memcpy(q + x * 3, p + x * 4, 3);
        }
        src = rgb;
        src_stride = (size_t)w * 3;
    }
    we_resample_window win = { rw, rh, x0, y0, x1 - x0, y1 - y0 };
    bool whole = x1 - x0 == ow && y1 - y0 == oh;
    if (whole) {
        rc = we_resample_rgb_window(out, &win, src, w, h, src_stride, c->resample, err);
        goto done;
    }
    if (!(part = we_malloc((size_t)(x1 - x0) * (y1 - y0) * 3))) {
        rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory resizing an image");
        goto done;
    }
    if ((rc = we_resample_rgb_window(part, &win, src, w, h, src_stride, c->resample, err))) goto done;
    for (int y = y0; y < y1; y++)
        memcpy(out + ((size_t)(y - top) * ow + (x0 - left)) * 3, part + (size_t)(y - y0) * (x1 - x0) * 3, (size_t)(x1 - x0) * 3);
done:
    we_free(rgb);
    we_free(part);
    return rc;
}

wembed_status we_image_preprocess(float *out, const uint8_t *pixels, int w, int h, size_t stride,
                                  int channels, const we_image_config *c, we_err *err) {
    if (!out || !c) return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "no pixels or no output");
    int ow, oh;
    we_image_output_size(c, w, h, &ow, &oh);
    uint8_t *crop = NULL;
    if (ow > 0 && oh > 0 && (size_t)ow * oh <= (size_t)1 << 26) crop = we_malloc((size_t)ow * oh * 3);
    if (!crop) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for a %dx%d model input", ow, oh);
    wembed_status rc = we_image_resize_crop(crop, pixels, w, h, stride, channels, c, err);
    if (rc == WEMBED_STATUS_OK) {
        // Rescale and normalize in double, rounded once to float (the reference computes in
        // float64; transformers' own float32 steps differ from it by an ulp at most).
        double scale = c->do_rescale ? c->rescale_factor : 1.0;
        size_t plane = (size_t)ow * oh;
        for (int ch = 0; ch < 3; ch++) {
            double mean = c->do_normalize ? c->mean[ch] : 0.0, std = c->do_normalize ? c->std[ch] : 1.0;
            for (size_t i = 0; i < plane; i++) out[ch * plane + i] = (float)((crop[i * 3 + ch] * scale - mean) / std);
        }
    }
    we_free(crop);
    return rc;
}
