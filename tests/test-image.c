// test-image.c - image preprocessing against Pillow and the CLIP fixture, byte for byte.
//
// tests/data/image: Pillow 9.4 resizes of synthetic images (gen/image_refs.py; the
// images are recomputed here by the same integer formula). tests/data/fixtures/clip: raw
// images, their resized uint8 form and the normalized model input from the reference.
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "formats/json.h"
#include "image/preprocess.h"

// The generator's synth(): a gradient plus hashed noise, in exact integer arithmetic.
static uint8_t *synth(int w, int h, int seed) {
    uint8_t *a = malloc((size_t)w * h * 3);
    for (uint64_t y = 0; y < (uint64_t)h; y++)
        for (uint64_t x = 0; x < (uint64_t)w; x++)
            for (uint64_t c = 0; c < 3; c++) {
                uint64_t grad = (x * 255) / (uint64_t)(w > 1 ? w - 1 : 1) + (y * 191) / (uint64_t)(h > 1 ? h - 1 : 1) + c * 40;
                uint64_t mix = (x * 2654435761u + y * 40503 + c * 97 + (uint64_t)seed * 7919) & 0xFFFFFFFFu;
                uint64_t noise = (((mix ^ (mix >> 13)) * 1103515245u) & 0xFFFFFFFFu) >> 26;
                a[(y * (uint64_t)w + x) * 3 + c] = (uint8_t)((grad + noise) % 256);
            }
    return a;
}

static const we_json *load_json(we_arena *arena, const char *rel) {
    size_t n;
    uint8_t *text = we_test_read_file(we_test_data_path(rel), &n);
    if (!CHECKF(text != NULL, "cannot read %s", rel)) return NULL;
    const we_json *root = NULL;
    we_err err;
    CHECKF(we_json_parse(arena, (const char *)text, n, NULL, &root, &err) == WEMBED_STATUS_OK, "%s: %s", rel, err.msg);
    free(text);
    return root;
}

static int count_diff(const uint8_t *a, const uint8_t *b, size_t n, int *max_diff) {
    int bad = 0;
    *max_diff = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d) bad++;
        if (d > *max_diff) *max_diff = d;
    }
    return bad;
}

// Every Pillow case: resize (and crop) must be identical.
static void test_pillow_cases(void) {
    we_arena arena;
    we_arena_init(&arena, 0);
    const we_json *m = load_json(&arena, "image/manifest.json");
    const we_json *cases = we_json_get(m, "cases");
    CHECK(cases && cases->len >= 10);
    for (uint32_t i = 0; cases && i < cases->len; i++) {
        const we_json *cs = we_json_at(cases, i);
        const char *name = we_json_as_str(we_json_get(cs, "name"), NULL);
        int64_t sw, sh, seed, dw, dh, flt;
        we_json_as_int(we_json_at(we_json_get(cs, "src"), 0), &sw);
        we_json_as_int(we_json_at(we_json_get(cs, "src"), 1), &sh);
        we_json_as_int(we_json_get(cs, "seed"), &seed);
        we_json_as_int(we_json_at(we_json_get(cs, "resize"), 0), &dw);
        we_json_as_int(we_json_at(we_json_get(cs, "resize"), 1), &dh);
        we_json_as_int(we_json_get(cs, "filter"), &flt);
        const we_json *crop = we_json_get(cs, "crop");

        we_image_config c;
        we_image_config_default(&c);
        c.size_rule = WE_IMAGE_SIZE_EXACT;
        c.width = (int)dw;
        c.height = (int)dh;
        c.resample = (we_resample)flt;
        c.do_center_crop = crop && !we_json_is(crop, WE_JSON_NULL);
        if (c.do_center_crop) {
            int64_t chh, cww;
            we_json_as_int(we_json_at(crop, 0), &chh);
            we_json_as_int(we_json_at(crop, 1), &cww);
            c.crop_height = (int)chh;
            c.crop_width = (int)cww;
        }
        int ow, oh;
        we_image_output_size(&c, (int)sw, (int)sh, &ow, &oh);
        char rel[256];
        snprintf(rel, sizeof rel, "image/%s.bin", name);
        size_t n;
        uint8_t *want = we_test_read_file(we_test_data_path(rel), &n);
        if (!CHECKF(want && n == (size_t)ow * oh * 3, "%s: reference size %zu, expected %dx%dx3", name, n, ow, oh)) {
            free(want);
            continue;
        }
        uint8_t *src = synth((int)sw, (int)sh, (int)seed), *got = malloc(n);
        we_err err;
        wembed_status rc = we_image_resize_crop(got, src, (int)sw, (int)sh, (size_t)sw * 3, 3, &c, &err);
        int maxd = 0, bad = rc == WEMBED_STATUS_OK ? count_diff(got, want, n, &maxd) : -1;
        CHECKF(rc == WEMBED_STATUS_OK && bad == 0, "PILLOW(%s): rc %d (%s), %d of %zu bytes differ (max %d)",
               name, rc, rc ? err.msg : "", bad, n, maxd);
        free(src);
        free(got);
        free(want);
    }
    we_arena_free(&arena);
}

// The CLIP fixture: resized_uint8 byte for byte, pixel_values to float rounding.
static void test_clip_fixture(void) {
    we_arena arena;
    we_arena_init(&arena, 0);
    const we_json *pp = load_json(&arena, "fixtures/clip/preprocessor_config.json");
    we_image_config c;
    we_image_config_default(&c);
    we_err err;
    CHECK(we_image_config_from_json(&c, pp, &err) == WEMBED_STATUS_OK);
    CHECK(c.shortest_edge == 32 && c.crop_height == 32 && c.crop_width == 32 && c.resample == WE_RESAMPLE_BICUBIC);

    const struct { const char *name; int w, h; } cases[] = { { "image_raw0", 45, 37 }, { "image_raw1", 20, 27 } };
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        char rel[256];
        size_t n_img, n_res, n_pix;
        snprintf(rel, sizeof rel, "fixtures/clip/%s.image_uint8.bin", cases[i].name);
        uint8_t *img = we_test_read_file(we_test_data_path(rel), &n_img);
        snprintf(rel, sizeof rel, "fixtures/clip/%s.resized_uint8.bin", cases[i].name);
        uint8_t *resized = we_test_read_file(we_test_data_path(rel), &n_res);
        snprintf(rel, sizeof rel, "fixtures/clip/%s.pixel_values.bin", cases[i].name);
        float *pix = (float *)we_test_read_file(we_test_data_path(rel), &n_pix);
        CHECK(img && resized && pix && n_img == (size_t)cases[i].w * cases[i].h * 3);

        int rw, rh;
        we_image_resized_size(&c, cases[i].w, cases[i].h, &rw, &rh);
        CHECKF(n_res == (size_t)rw * rh * 3, "%s: resized to %dx%d", cases[i].name, rw, rh);
        we_image_config nocrop = c;
        nocrop.do_center_crop = false;
        uint8_t *got = malloc((size_t)rw * rh * 3);
        int maxd = 0;
        CHECK(we_image_resize_crop(got, img, cases[i].w, cases[i].h, (size_t)cases[i].w * 3, 3, &nocrop, &err) == WEMBED_STATUS_OK);
        CHECKF(count_diff(got, resized, n_res, &maxd) == 0, "CLIP(%s) resized_uint8 differs (max %d)", cases[i].name, maxd);

        // RGBA input with a stride and junk alpha gives the same model input.
        size_t stride = (size_t)cases[i].w * 4 + 12;
        uint8_t *rgba = malloc(stride * cases[i].h);
        memset(rgba, 0x5a, stride * cases[i].h);
        for (int y = 0; y < cases[i].h; y++)
            for (int x = 0; x < cases[i].w; x++) {
                memcpy(rgba + y * stride + x * 4, img + ((size_t)y * cases[i].w + x) * 3, 3);
                rgba[y * stride + x * 4 + 3] = (uint8_t)(x * 17 + y);
            }
        static float out3[3 * 32 * 32], out4[3 * 32 * 32];
        CHECK(we_image_preprocess(out3, img, cases[i].w, cases[i].h, (size_t)cases[i].w * 3, 3, &c, &err) == WEMBED_STATUS_OK);
        CHECK(we_image_preprocess(out4, rgba, cases[i].w, cases[i].h, stride, 4, &c, &err) == WEMBED_STATUS_OK);
        CHECK(memcmp(out3, out4, sizeof out3) == 0);
        // One float rounding of a float64 computation: within an ulp of values below ~2.2.
        double md = we_max_abs_diff(out3, pix, 3 * 32 * 32);
        CHECKF(md <= 5e-7, "CLIP(%s) pixel_values max abs diff %g", cases[i].name, md);
        free(img);
        free(resized);
        free(pix);
        free(got);
        free(rgba);
    }
    we_arena_free(&arena);
}

static void test_bad_input(void) {
    we_image_config c;
    we_image_config_default(&c);
    we_err err;
    uint8_t px[12] = { 0 };
    float *out = malloc(sizeof(float) * 3 * 224 * 224);
    CHECK(we_image_preprocess(out, px, 0, 1, 3, 3, &c, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err.msg, "0x1") != NULL);
    CHECK(we_image_preprocess(out, px, 2, 2, 5, 3, &c, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err.msg, "stride") != NULL);
    CHECK(we_image_preprocess(out, px, 1, 1, 3, 2, &c, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
    // A 1x1 image works (it becomes a flat 224x224 square).
    px[0] = 255; px[1] = 128; px[2] = 0;
    CHECK(we_image_preprocess(out, px, 1, 1, 3, 3, &c, &err) == WEMBED_STATUS_OK);
    CHECK(out[0] == out[224 * 224 - 1] && out[0] > 1.9f);
    // An absurd aspect ratio is a clear error, not a huge allocation.
    uint8_t *strip = calloc(1, (size_t)3 * 200000);
    CHECK(we_image_preprocess(out, strip, 1, 200000, 3, 3, &c, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err.msg, "elongated") != NULL);
    free(strip);
    // Allocation failures are reported cleanly and leak nothing.
    uint8_t img[5 * 7 * 3] = { 1, 2, 3 };
    for (int k = 0; k < 6; k++) {
        we_alloc_fail_after(k);
        wembed_status rc = we_image_preprocess(out, img, 5, 7, 15, 3, &c, &err);
        we_alloc_fail_after(-1);
        CHECK(rc == WEMBED_STATUS_OK || rc == WEMBED_STATUS_ALLOC_FAILED);
        CHECK_EQ_INT(we_alloc_live(), 0);
    }
    free(out);
}

static void test_config_json(void) {
    we_arena arena;
    we_arena_init(&arena, 0);
    const char *cfgs[] = {
        "{\"size\": 224, \"crop_size\": 224}",
        "{\"size\": {\"height\": 384, \"width\": 384}, \"do_center_crop\": false, \"resample\": 2, \"image_mean\": [0.5,0.5,0.5], \"image_std\": 0.5}",
        "{\"size\": {\"longest_edge\": 5}}",
        "{\"resample\": 9}",
        "{\"image_std\": [1, 0, 1]}",
        "{\"do_resize\": \"yes\"}",
    };
    const wembed_status want[] = { WEMBED_STATUS_OK, WEMBED_STATUS_OK, WEMBED_STATUS_UNSUPPORTED,
                                   WEMBED_STATUS_BAD_FORMAT, WEMBED_STATUS_BAD_FORMAT, WEMBED_STATUS_BAD_FORMAT };
    for (size_t i = 0; i < WE_ARRAY_LEN(cfgs); i++) {
        const we_json *root;
        we_err err;
        CHECK(we_json_parse(&arena, cfgs[i], strlen(cfgs[i]), NULL, &root, &err) == WEMBED_STATUS_OK);
        we_image_config c;
        we_image_config_default(&c);
        wembed_status rc = we_image_config_from_json(&c, root, &err);
        CHECKF(rc == want[i], "config %zu: %d (%s)", i, rc, err.msg);
        if (i == 1) {
            CHECK(c.size_rule == WE_IMAGE_SIZE_EXACT && c.height == 384 && !c.do_center_crop && c.resample == WE_RESAMPLE_BILINEAR);
            CHECK(c.mean[2] == 0.5 && c.std[0] == 0.5 && c.std[2] == 0.5);
            int ow, oh;
            we_image_output_size(&c, 1000, 10, &ow, &oh);
            CHECK(ow == 384 && oh == 384);
        }
    }
    we_arena_free(&arena);
}

int main(void) {
    test_pillow_cases();
    test_clip_fixture();
    test_bad_input();
    test_config_json();
    return we_test_finish("test-image");
}
