// resample.h - image resizing that reproduces Pillow's Image.resize() byte for byte.
//
// Vision models were trained on images resized by Pillow (the HF image processors call
// PIL.Image.resize), so "bicubic" here means Pillow's bicubic exactly: its convolution
// coefficients (antialiased: the filter widens by the scale factor when downscaling), their
// 22-bit fixed-point rounding, the horizontal pass first, and rounding to uint8 between the
// two passes. Pillow's libImaging/Resample.c is the reference (read, not copied).
//
// Not here: Pillow's `reducing_gap` pre-reduction (the HF processors do not use it), modes
// other than 8-bit RGB/RGBA-without-alpha (alpha is dropped before resizing, as
// convert("RGB") does), boxes (sub-rectangles of the source).
#ifndef WE_RESAMPLE_H
#define WE_RESAMPLE_H

#include "../core/common.h"

// Pillow's filter ids (PIL.Image.Resampling values), as preprocessor_config.json's "resample".
typedef enum we_resample {
    WE_RESAMPLE_NEAREST = 0,
    WE_RESAMPLE_LANCZOS = 1,
    WE_RESAMPLE_BILINEAR = 2,
    WE_RESAMPLE_BICUBIC = 3,
    WE_RESAMPLE_BOX = 4,
    WE_RESAMPLE_HAMMING = 5,
} we_resample;

// Largest width or height, of the source or of the (virtual) resized image.
#define WE_RESAMPLE_MAX (1 << 24)

// Resizes an RGB image src (sw x sh pixels, 3 bytes each, rows `src_stride` bytes apart) to
// dst (dw x dh, tightly packed RGB). Returns WEMBED_STATUS_ALLOC_FAILED or
// WEMBED_STATUS_INVALID_ARGUMENT (sizes outside 1..WE_RESAMPLE_MAX, unknown filter) with a
// message.
wembed_status we_resample_rgb(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw, int sh,
                              size_t src_stride, we_resample filter, we_err *err);

// A rectangle of the resized image: only it is computed, with exactly the values the whole
// resize would give there. This is how a center crop of an extreme aspect ratio (a 1 x 10000
// strip resized to a 224-pixel short side is 2.24 million pixels long) costs only the crop.
typedef struct we_resample_window {
    int full_w, full_h;   // size of the whole resized image
    int x0, y0, w, h;     // the rectangle computed, inside it
} we_resample_window;

// dst: w x h tightly packed RGB.
wembed_status we_resample_rgb_window(uint8_t *dst, const we_resample_window *window,
                                     const uint8_t *src, int sw, int sh, size_t src_stride,
                                     we_resample filter, we_err *err);

#endif // WE_RESAMPLE_H
