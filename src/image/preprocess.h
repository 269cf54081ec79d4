// preprocess.h - pixels in, model input out, as the Hugging Face image processors do it
// (CLIPImageProcessor and the many processors with the same fields): drop alpha, resize with
// Pillow's filter, center crop (padding with black when the crop is larger), rescale to
// [0, 1], normalize per channel, lay out as channels x height x width.
//
// Decoding (PNG, JPEG, EXIF orientation) is the JS side's job; this takes raw pixels.
#ifndef WE_PREPROCESS_H
#define WE_PREPROCESS_H

#include "../core/common.h"
#include "../formats/json.h"
#include "resample.h"

typedef enum we_image_size_rule {
    WE_IMAGE_SIZE_SHORTEST_EDGE,  // scale so the short side is `shortest_edge` (aspect kept)
    WE_IMAGE_SIZE_EXACT,          // resize to height x width
} we_image_size_rule;

typedef struct we_image_config {
    bool do_resize;
    we_image_size_rule size_rule;
    int shortest_edge;            // SHORTEST_EDGE
    int height, width;            // EXACT
    we_resample resample;
    bool do_center_crop;
    int crop_height, crop_width;
    bool do_rescale;
    double rescale_factor;
    bool do_normalize;
    double mean[3], std[3];
} we_image_config;

// CLIPImageProcessor's defaults: shortest edge 224, bicubic, crop 224x224, 1/255, OpenAI's
// CLIP mean and std.
void we_image_config_default(we_image_config *c);

// Reads preprocessor_config.json (already parsed) over the defaults, and over the defaults of
// its image_processor_type where they differ from CLIP's (SiglipImageProcessor: no crop, resize
// to height x width, mean and std 0.5). Unknown fields are ignored; known ones with a wrong type
// or value are errors that name the field.
wembed_status we_image_config_from_json(we_image_config *c, const we_json *root, we_err *err);

// Size of the model input (after crop or, without crop, after resize) for a w x h image.
void we_image_output_size(const we_image_config *c, int w, int h, int *out_w, int *out_h);
// Size of the resized image (before the crop) for a w x h image.
void we_image_resized_size(const we_image_config *c, int w, int h, int *out_w, int *out_h);

// The uint8 RGB image just before rescaling: alpha dropped, resized, center-cropped (or
// padded). out: out_w x out_h x 3 bytes (we_image_output_size). Only the cropped part of the
// resized image is computed. Errors as we_image_preprocess.
wembed_status we_image_resize_crop(uint8_t *out, const uint8_t *pixels, int w, int h, size_t stride,
                                   int channels, const we_image_config *c, we_err *err);

// Runs the whole pipeline on an image of w x h pixels with `channels` 3 (RGB) or 4 (RGBA;
// alpha is dropped, as Image.convert("RGB") does), rows `stride` bytes apart. out receives
// 3 x out_h x out_w floats (we_image_output_size). Errors: INVALID_ARGUMENT (sizes, stride,
// channels), ALLOC_FAILED.
wembed_status we_image_preprocess(float *out, const uint8_t *pixels, int w, int h, size_t stride,
                                  int channels, const we_image_config *c, we_err *err);

#endif // WE_PREPROCESS_H
