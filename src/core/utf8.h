// utf8.h - UTF-8 decoding with replacement, encoding, and UTF-16 lengths.
//
// Invalid input is decoded exactly as the WHATWG TextDecoder (and so a JS string conversion)
// does it: each maximal subpart of an ill-formed sequence becomes one U+FFFD. The engine
// never reads past `n`.
#ifndef WE_UTF8_H
#define WE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WE_REPLACEMENT_CHAR 0xFFFDu

// Decodes the code point at s[*i] (i < n), advancing *i past it (or past the maximal ill-formed
// subpart, returning U+FFFD).
uint32_t we_utf8_next(const uint8_t *s, size_t n, size_t *i);

// Bytes needed for cp (1-4); surrogates and values above U+10FFFF count as U+FFFD (3).
int we_utf8_len(uint32_t cp);

// Writes cp as UTF-8 into out (room for 4), returns the byte count. Surrogates and values
// above U+10FFFF are written as U+FFFD.
int we_utf8_encode(uint32_t cp, uint8_t *out);

// True if s[0..n) is well-formed UTF-8.
bool we_utf8_valid(const uint8_t *s, size_t n);

// Length of s[0..n) once made valid (each ill-formed subpart replaced by U+FFFD's 3 bytes).
size_t we_utf8_sanitized_len(const uint8_t *s, size_t n);
// Writes that valid copy into out (room for we_utf8_sanitized_len bytes), returns its length.
size_t we_utf8_sanitize(uint8_t *out, const uint8_t *s, size_t n);

// UTF-16 code units in the code point cp (1 or 2).
static inline int we_utf16_units(uint32_t cp) { return cp >= 0x10000 ? 2 : 1; }

#endif // WE_UTF8_H
