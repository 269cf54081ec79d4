// window.h - the tokenizer's windows of long texts, for the embedding calls (src/embed.c):
// the tokens of a part of a text that are exactly the whole text's (see tokenizer.c).
// Not public.
#ifndef WE_TOKENIZER_WINDOW_H
#define WE_TOKENIZER_WINDOW_H

#include "../wembed.h"

// Bytes kept away from a window's cut ends (see tokenizer.c).
#define WE_WINDOW_MARGIN 1024u

// s[0..n) is part of a longer text (text_start / text_end: it begins / ends the text). *ids
// gets the ids of the tokens of the whole text that lie in it, from the first word starting at
// or after `from`; *last_end the end offset (in s) of the last of them. *ids is owned by the
// tokenizer, valid until its next call. Errors: wembed_tokenizer_last_error.
wembed_status we_tokenizer_window(wembed_tokenizer *tok, const uint8_t *s, uint32_t n, bool text_start, bool text_end,
                                  uint32_t from, const int32_t **ids, uint32_t *n_ids, uint32_t *last_end);
// The length of a prefix of text[0..n) whose encoding cut to max_length tokens (on the right,
// special tokens added or not) is the whole text's; n when no shorter one was found (text
// short, or a word as long as the text). For callers that copy a long text in by parts.
wembed_status we_tokenizer_truncation_prefix(wembed_tokenizer *tok, const char *text, size_t n, int32_t max_length,
                                             bool add_special, size_t *cut);
// A UTF-8 char boundary at or before `at` (at most 3 bytes back).
uint32_t we_utf8_floor(const uint8_t *s, uint32_t at);

#endif // WE_TOKENIZER_WINDOW_H
