// gguf.c - a tokenizer from a llama.cpp GGUF file's tokenizer.ggml.* metadata, rebuilt as the
// Hugging Face pipeline the file was converted from, so it gives the same ids.
//
// tokenizer.ggml.model "bert" (BERT, bge, MiniLM, nomic-embed-text): llama.cpp's converter
// stores WordPiece tokens as "x" for "##x", "▁x" for a word-initial "x", and "[..]" tokens
// unchanged; that is undone here. The pipeline is then BertNormalizer (clean text, CJK
// spacing, lowercase, accents stripped: llama.cpp's WPM always lowercases, as every uncased
// BERT tokenizer.json does), BertPreTokenizer, WordPiece ("##", 100 chars) and [CLS] A [SEP];
// control tokens (type 3) are the added special tokens.
//
// Not: other tokenizer.ggml.model values (gpt2, llama, t5, ...): a clear UNSUPPORTED error.
#include <string.h>

#include "tok.h"

#define OOM(err) we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "GGUF tokenizer: out of memory")

static wembed_status bert_from_gguf(we_tokenizer *tok, const we_gguf_vocab *v, we_err *err) {
    we_arena *a = &tok->arena;
    we_model *m = &tok->model;
    m->type = WE_MODEL_WORDPIECE;
    m->n_tok = m->vocab_size = v->n_tokens;
    m->tok = we_arena_calloc(a, v->n_tokens ? v->n_tokens : 1, sizeof(char *), 8);
    m->tok_len = we_arena_calloc(a, v->n_tokens ? v->n_tokens : 1, sizeof(uint32_t), 4);
    if (!m->tok || !m->tok_len) return OOM(err);
    uint32_t n_control = 0;
    for (uint32_t i = 0; i < v->n_tokens; i++) {
        const char *s = v->tokens[i].s;
        size_t n = (size_t)v->tokens[i].n;
        if (n > UINT32_MAX / 2) return we_errorf(err, WEMBED_STATUS_LIMIT, "GGUF tokenizer: token %u too long", i);
        char *t;
        size_t tn;
        if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
            t = we_arena_strndup(a, s, n);
            tn = n;
        } else if (n >= 3 && memcmp(s, "\xe2\x96\x81", 3) == 0) {       // "▁x": word-initial x
            t = we_arena_strndup(a, s + 3, n - 3);
            tn = n - 3;
        } else {                                                         // "x": "##x"
            t = we_arena_alloc(a, n + 3, 1);
            if (t) {
                memcpy(t, "##", 2);
                memcpy(t + 2, s, n);
                t[n + 2] = 0;
            }
            tn = n + 2;
        }
        if (!t) return OOM(err);
        m->tok[i] = t;
        m->tok_len[i] = (uint32_t)tn;
        if (tn > m->max_tok_bytes) m->max_tok_bytes = (uint32_t)tn;
        if (we_strmap_put(&m->map, t, (uint32_t)tn, (int32_t)i)) return OOM(err);
        if (v->token_types && v->token_types[i] == 3) n_control++;
    }
    if (v->unk_id < 0 || (uint32_t)v->unk_id >= v->n_tokens)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "GGUF tokenizer: a bert vocabulary needs tokenizer.ggml.unknown_token_id");
    m->unk = m->tok[v->unk_id];
    m->unk_len = m->tok_len[v->unk_id];
    m->prefix = "##";
    m->prefix_len = 2;
    m->max_input_chars_per_word = 100;
    for (int b = 0; b < 256; b++) m->byte_ids[b] = -1;

    tok->normalizer = we_arena_calloc(a, 1, sizeof(we_normalizer), 8);
    tok->pretok = we_arena_calloc(a, 1, sizeof(we_pretok), 8);
    if (!tok->normalizer || !tok->pretok) return OOM(err);
    tok->normalizer->type = WE_NORM_BERT;
    tok->normalizer->clean_text = tok->normalizer->handle_chinese_chars = true;
    tok->normalizer->lowercase = tok->normalizer->strip_accents = true;
    tok->pretok->type = WE_PRE_BERT;

    int32_t cls = v->cls_id >= 0 ? v->cls_id : v->bos_id, sep = v->sep_id >= 0 ? v->sep_id : v->eos_id;
    if (cls >= 0 && sep >= 0 && (uint32_t)cls < v->n_tokens && (uint32_t)sep < v->n_tokens) {
        we_post *pp = we_arena_calloc(a, 1, sizeof(we_post), 8);
        if (!pp) return OOM(err);
        pp->type = WE_POST_BERT;
        pp->cls = m->tok[cls];
        pp->cls_id = cls;
        pp->sep = m->tok[sep];
        pp->sep_id = sep;
        tok->post = pp;
    }

    // Control tokens are the added special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]).
    tok->added = we_arena_calloc(a, n_control ? n_control : 1, sizeof(we_added_token), 8);
    if (!tok->added) return OOM(err);
    for (uint32_t i = 0; i < v->n_tokens && v->token_types; i++) {
        if (v->token_types[i] != 3 || m->tok_len[i] == 0) continue;
        we_added_token *at = &tok->added[tok->n_added++];
        memset(at, 0, sizeof *at);
        at->content = m->tok[i];
        at->len = m->tok_len[i];
        at->id = (int32_t)i;
        at->special = true;
        if (we_strmap_put(&tok->added_map, at->content, at->len, at->id)) return OOM(err);
    }
    wembed_status rc = we_added_build_matchers(tok, err);
    if (rc) return rc;

    for (int i = 0; i < 8; i++) tok->special_ids[i] = -1;
    tok->special_ids[0] = v->unk_id;
    tok->special_ids[1] = tok->special_ids[4] = tok->post ? cls : -1;
    tok->special_ids[2] = tok->special_ids[5] = tok->post ? sep : -1;
    tok->special_ids[3] = v->pad_id;
    tok->special_ids[6] = v->mask_id;
    return WEMBED_STATUS_OK;
}

wembed_status we_tokenizer_from_gguf(we_tokenizer *tok, const we_gguf_vocab *v, we_err *err) {
    tok->work.err = err;
    if (!v->model) return we_errorf(err, WEMBED_STATUS_MISSING_FILE, "GGUF: the file has no tokenizer (tokenizer.ggml.tokens)");
    if (strcmp(v->model, "bert") == 0) return bert_from_gguf(tok, v, err);
    return we_errorf(err, WEMBED_STATUS_UNSUPPORTED, "GGUF: tokenizer.ggml.model \"%.32s\" is not supported (only \"bert\"); "
                     "give the model's tokenizer.json instead", v->model);
}
