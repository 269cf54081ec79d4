// f16.c - bulk half/bf16 conversions (see f16.h). Plain loops: they run once at load time,
// and compilers vectorize them well enough for that.
#include "f16.h"

void we_f16_to_f32_n(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = we_f16_to_f32(src[i]);
}

void we_bf16_to_f32_n(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = we_bf16_to_f32(src[i]);
}

void we_f32_to_f16_n(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = we_f32_to_f16(src[i]);
}
