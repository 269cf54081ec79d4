// f16.h - IEEE half (fp16) and bfloat16 <-> float32, exact and portable.
//
// float -> half/bf16 rounds to nearest, ties to even (as torch and numpy do); NaN stays NaN;
// half subnormals are handled. half/bf16 -> float is exact.
#ifndef WE_F16_H
#define WE_F16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t we_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float we_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float we_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return we_bits_f32(sign | 0x7f800000u | (man << 13));   // inf / NaN
    if (exp == 0) {
        // zero or subnormal: man * 2^-24, exact in float
        float f = (float)man * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    return we_bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

static inline uint16_t we_f32_to_f16(float f) {
    uint32_t u = we_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return sign | (a > 0x7f800000u ? 0x7e00 : 0x7c00);  // NaN / inf
    if (a >= 0x477ff000u) return sign | 0x7c00;          // rounds to >= 65520: inf
    if (a < 0x38800000u) {                               // below 2^-14: subnormal or zero
        if (a < 0x33000000u) return sign;                // below 2^-25: rounds to zero
        uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e;                        // 14..24 bits to drop (+ implicit)
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return sign | (uint16_t)q;
    }
    // normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even
    uint32_t r = a + 0xfff + ((a >> 13) & 1);
    return sign | (uint16_t)((r - 0x38000000u) >> 13);
}

static inline float we_bf16_to_f32(uint16_t b) { return we_bits_f32((uint32_t)b << 16); }

static inline uint16_t we_f32_to_bf16(float f) {
    uint32_t u = we_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   // quiet NaN
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

// Bulk conversions of n values (little-endian sources, as in safetensors and GGUF).
void we_f16_to_f32_n(float *dst, const uint16_t *src, size_t n);
void we_bf16_to_f32_n(float *dst, const uint16_t *src, size_t n);
void we_f32_to_f16_n(uint16_t *dst, const float *src, size_t n);

#endif // WE_F16_H
