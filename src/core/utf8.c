// utf8.c - see utf8.h. The decoder follows the WHATWG Encoding Standard's UTF-8 decoder
// (https://encoding.spec.whatwg.org/#utf-8-decoder) so replacement matches TextDecoder.
#include "utf8.h"

uint32_t we_utf8_next(const uint8_t *s, size_t n, size_t *i) {
    size_t p = *i;
    uint8_t b0 = s[p++];
    if (b0 < 0x80) { *i = p; return b0; }

    uint32_t cp;
    int need;
    uint8_t lo = 0x80, hi = 0xBF;   // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) { need = 1; cp = b0 & 0x1F; }
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2; cp = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;          // no overlong forms
        if (b0 == 0xED) hi = 0x9F;          // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3; cp = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;          // no overlong forms
        if (b0 == 0xF4) hi = 0x8F;          // nothing above U+10FFFF
    } else {
        *i = p;                             // 0x80-0xC1, 0xF5-0xFF: never a lead byte
        return WE_REPLACEMENT_CHAR;
    }
    for (int k = 0; k < need; k++) {
        if (p >= n) { *i = p; return WE_REPLACEMENT_CHAR; }   // truncated: one U+FFFD
        uint8_t b = s[p];
        if (b < lo || b > hi) { *i = p; return WE_REPLACEMENT_CHAR; }  // b is not consumed
        lo = 0x80; hi = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
        p++;
    }
    *i = p;
    return cp;
}

int we_utf8_len(uint32_t cp) {
    if (cp < 0x80) return 1;
    if (cp < 0x800) return 2;
    if (cp < 0x10000 || cp > 0x10FFFF) return 3;   // incl. surrogates, written as U+FFFD
    return 4;
}

int we_utf8_encode(uint32_t cp, uint8_t *out) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = WE_REPLACEMENT_CHAR;
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

bool we_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) { i++; continue; }
        size_t start = i;
        uint32_t cp = we_utf8_next(s, n, &i);
        // A real U+FFFD in the input is 3 bytes long; a replacement is shorter or ill-formed.
        if (cp == WE_REPLACEMENT_CHAR && !(i - start == 3 && s[start] == 0xEF)) return false;
    }
    return true;
}

size_t we_utf8_sanitized_len(const uint8_t *s, size_t n) {
    size_t i = 0, len = 0;
    while (i < n) len += (size_t)we_utf8_len(we_utf8_next(s, n, &i));
    return len;
}

size_t we_utf8_sanitize(uint8_t *out, const uint8_t *s, size_t n) {
    size_t i = 0, len = 0;
    while (i < n) len += (size_t)we_utf8_encode(we_utf8_next(s, n, &i), out + len);
    return len;
}
