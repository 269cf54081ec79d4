// resample.c - Pillow-exact resizing (see resample.h).
//
// Separable convolution, one pass per axis. For each output pixel, precompute() gives the
// first input pixel it reads and the normalized filter weights; they are then rounded to
// fixed point with PRECISION_BITS fractional bits, as Pillow does for 8-bit images, and every
// pass rounds (adds half) and clips back to uint8. The order of passes (horizontal, then
// vertical) and the skipping of a pass whose size does not change are part of the result.
#include "resample.h"

#include <math.h>
#include <string.h>

// 32 bits of int, minus 8 for the pixel value, minus 2 to keep sums of overshooting
// weights (bicubic and lanczos have negative lobes) from overflowing.
#define PRECISION_BITS (32 - 8 - 2)

#define WE_PI 3.14159265358979323846   // M_PI is not in strict C11

// -----------------------------------------------------------------------------------------
// Filters, as functions of the distance in input pixels (scaled by 1/filterscale when
// downscaling), with their support radius.

static double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

static double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double hamming_filter(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * WE_PI;
    return sin(x) / x * (0.54 + 0.46 * cos(x));
}

// Keys' cubic with a = -0.5, as Pillow (and OpenCV's INTER_CUBIC use -0.75; Pillow does not).
static double bicubic_filter(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x = x * WE_PI;
    return sin(x) / x;
}

static double lanczos_filter(double x) {
    if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
    return 0.0;
}

typedef struct filter {
    double (*fn)(double);
    double support;
} filter;

// -----------------------------------------------------------------------------------------

typedef struct coeffs {
    int ksize;          // weights per output pixel (the widest window)
    int *bounds;        // [out][2]: first input pixel, number of input pixels
    int32_t *kk;        // [out][ksize]: fixed-point weights
} coeffs;

static void coeffs_free(coeffs *c) {
    we_free(c->bounds);
    we_free(c->kk);
    c->bounds = NULL;
    c->kk = NULL;
}

// Weights for output pixels [out0, out0 + n) of resizing in_size pixels to out_size along
// one axis.
static wembed_status precompute(coeffs *c, int in_size, int out_size, int out0, int n_out,
                                const filter *f, we_err *err) {
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;       // widen only when downscaling
    double support = f->support * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    memset(c, 0, sizeof *c);
    c->ksize = ksize;
    size_t n;
    double *prekk = NULL;
    if (!we_mul_size((size_t)n_out, (size_t)ksize, &n) ||
        !(prekk = we_malloc(n * sizeof(double))) ||
        !(c->kk = we_malloc(n * sizeof(int32_t))) ||
        !(c->bounds = we_malloc((size_t)n_out * 2 * sizeof(int)))) {
        we_free(prekk);
        coeffs_free(c);
        return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory resizing an image");
    }
    for (int i = 0; i < n_out; i++) {
        int xx = out0 + i;
        double center = (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        // Pillow truncates toward zero here (a C cast), not floor: the same for center +/-
        // support + 0.5 >= 0, and the clamp below covers the negative case.
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = &prekk[(size_t)i * ksize];
        int x;
        for (x = 0; x < xmax; x++) {
            double w = f->fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++) {
            if (ww != 0.0) k[x] /= ww;
        }
        for (; x < ksize; x++) k[x] = 0;
        c->bounds[i * 2 + 0] = xmin;
        c->bounds[i * 2 + 1] = xmax;
    }
    // Round to fixed point away from zero, as Pillow's normalize_coeffs_8bpc.
    for (size_t i = 0; i < n; i++) {
        double v = prekk[i] * (1 << PRECISION_BITS);
        c->kk[i] = (int32_t)(v < 0 ? -0.5 + v : 0.5 + v);
    }
    we_free(prekk);
    return WEMBED_STATUS_OK;
}

static inline uint8_t clip8(int64_t in) {
    if (in >= ((int64_t)1 << PRECISION_BITS << 8)) return 255;
    if (in <= 0) return 0;
    return (uint8_t)(in >> PRECISION_BITS);
}

// dst (dw x h) from src (sw x h), RGB. Sums in 64 bits: the same values as Pillow's 32-bit
// ones wherever those do not overflow, which PRECISION_BITS guarantees for real weights.
static void pass_horizontal(uint8_t *dst, const uint8_t *src, size_t src_stride, int dw, int h,
                            const coeffs *c) {
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * src_stride;
        uint8_t *out = dst + (size_t)y * dw * 3;
        for (int xx = 0; xx < dw; xx++) {
            int xmin = c->bounds[xx * 2], xmax = c->bounds[xx * 2 + 1];
            const int32_t *k = &c->kk[(size_t)xx * c->ksize];
            int64_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int x = 0; x < xmax; x++) {
                const uint8_t *p = row + (size_t)(x + xmin) * 3;
                s0 += p[0] * (int64_t)k[x];
                s1 += p[1] * (int64_t)k[x];
                s2 += p[2] * (int64_t)k[x];
            }
            out[xx * 3 + 0] = clip8(s0);
            out[xx * 3 + 1] = clip8(s1);
            out[xx * 3 + 2] = clip8(s2);
        }
    }
}

// dst (w x dh) from src (w x sh), RGB.
static void pass_vertical(uint8_t *dst, const uint8_t *src, size_t src_stride, int w, int dh,
                          const coeffs *c) {
    for (int yy = 0; yy < dh; yy++) {
        int ymin = c->bounds[yy * 2], ymax = c->bounds[yy * 2 + 1];
        const int32_t *k = &c->kk[(size_t)yy * c->ksize];
        uint8_t *out = dst + (size_t)yy * w * 3;
        for (int xc = 0; xc < w * 3; xc++) {
            int64_t s = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < ymax; y++) s += src[(size_t)(y + ymin) * src_stride + xc] * (int64_t)k[y];
            out[xc] = clip8(s);
        }
    }
}

static void copy_rgb(uint8_t *dst, const uint8_t *src, size_t src_stride, int w, int h) {
    for (int y = 0; y < h; y++) memcpy(dst + (size_t)y * w * 3, src + (size_t)y * src_stride, (size_t)w * 3);
}

// Pillow's NEAREST: the source pixel under each output pixel's center, no filtering.
static void resize_nearest(uint8_t *dst, const we_resample_window *w, const uint8_t *src, int sw,
                           int sh, size_t src_stride) {
    for (int j = 0; j < w->h; j++) {
        int y = (int)(((double)(w->y0 + j) + 0.5) * sh / w->full_h);
        if (y >= sh) y = sh - 1;
        for (int i = 0; i < w->w; i++) {
            int x = (int)(((double)(w->x0 + i) + 0.5) * sw / w->full_w);
            if (x >= sw) x = sw - 1;
            memcpy(dst + ((size_t)j * w->w + i) * 3, src + (size_t)y * src_stride + (size_t)x * 3, 3);
        }
    }
}

wembed_status we_resample_rgb_window(uint8_t *dst, const we_resample_window *w,
                                     const uint8_t *src, int sw, int sh, size_t src_stride,
                                     we_resample kind, we_err *err) {
    if (sw < 1 || sh < 1 || sw > WE_RESAMPLE_MAX || sh > WE_RESAMPLE_MAX ||
        w->full_w < 1 || w->full_h < 1 || w->full_w > WE_RESAMPLE_MAX || w->full_h > WE_RESAMPLE_MAX)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT,
                         "cannot resize a %dx%d image to %dx%d: sizes must be 1..%d", sw, sh,
                         w->full_w, w->full_h, WE_RESAMPLE_MAX);
    if (w->w < 1 || w->h < 1 || w->x0 < 0 || w->y0 < 0 || w->x0 > w->full_w - w->w || w->y0 > w->full_h - w->h)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "window %dx%d at (%d, %d) is outside the %dx%d image",
                         w->w, w->h, w->x0, w->y0, w->full_w, w->full_h);
    if (src_stride < (size_t)sw * 3)
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT, "row stride %zu is less than 3 x width %d", src_stride, sw);
    filter f;
    switch (kind) {
    case WE_RESAMPLE_NEAREST:
        resize_nearest(dst, w, src, sw, sh, src_stride);
        return WEMBED_STATUS_OK;
    case WE_RESAMPLE_BOX: f = (filter){ box_filter, 0.5 }; break;
    case WE_RESAMPLE_BILINEAR: f = (filter){ bilinear_filter, 1.0 }; break;
    case WE_RESAMPLE_HAMMING: f = (filter){ hamming_filter, 1.0 }; break;
    case WE_RESAMPLE_BICUBIC: f = (filter){ bicubic_filter, 2.0 }; break;
    case WE_RESAMPLE_LANCZOS: f = (filter){ lanczos_filter, 3.0 }; break;
    default:
        return we_errorf(err, WEMBED_STATUS_INVALID_ARGUMENT,
                         "unknown resample filter %d (Pillow's are 0-5)", (int)kind);
    }
    // Pillow skips the pass of an axis whose size does not change (no rounding there).
    bool need_h = w->full_w != sw, need_v = w->full_h != sh;
    coeffs ch = { 0 }, cv = { 0 };
    uint8_t *tmp = NULL;
    wembed_status rc = WEMBED_STATUS_OK;
    if (need_h && (rc = precompute(&ch, sw, w->full_w, w->x0, w->w, &f, err)) != WEMBED_STATUS_OK) goto done;
    if (need_v && (rc = precompute(&cv, sh, w->full_h, w->y0, w->h, &f, err)) != WEMBED_STATUS_OK) goto done;
    if (need_h && need_v) {
        // Only the rows the vertical pass reads need the horizontal pass.
        int first = cv.bounds[0], last = cv.bounds[(w->h - 1) * 2] + cv.bounds[(w->h - 1) * 2 + 1];
        tmp = we_malloc((size_t)w->w * 3 * (size_t)(last - first));
        if (!tmp) { rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "out of memory resizing an image"); goto done; }
        pass_horizontal(tmp, src + (size_t)first * src_stride, src_stride, w->w, last - first, &ch);
        for (int i = 0; i < w->h; i++) cv.bounds[i * 2] -= first;
        pass_vertical(dst, tmp, (size_t)w->w * 3, w->w, w->h, &cv);
    } else if (need_h) {
        pass_horizontal(dst, src + (size_t)w->y0 * src_stride, src_stride, w->w, w->h, &ch);
    } else if (need_v) {
        pass_vertical(dst, src + (size_t)w->x0 * 3, src_stride, w->w, w->h, &cv);
    } else {
        copy_rgb(dst, src + (size_t)w->y0 * src_stride + (size_t)w->x0 * 3, src_stride, w->w, w->h);
    }
done:
    we_free(tmp);
    coeffs_free(&ch);
    coeffs_free(&cv);
    return rc;
}

wembed_status we_resample_rgb(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw, int sh,
                              size_t src_stride, we_resample kind, we_err *err) {
    we_resample_window w = { dw, dh, 0, 0, dw, dh };
    return we_resample_rgb_window(dst, &w, src, sw, sh, src_stride, kind, err);
}
