// regex.c - the regular expressions of tokenizer.json Split pre-tokenizers and Replace
// normalizers, which the Rust library runs with Oniguruma (Ruby syntax, Unicode classes).
//
// A small compiler for the subset real tokenizers use, and a Pike VM (Thompson NFA with thread
// priorities) that gives Oniguruma's leftmost-first matches in time linear in the text:
//   - literals, escaped punctuation, \n \r \t \f \v \a \e \0 \xHH \x{H..} \uHHHH
//   - .  \d \D \w \W \s \S  \p{..} \P{..} \p{^..} with general categories (short or long names)
//   - [...] classes: ranges, negation, escapes and \p{..} inside
//   - groups ( ), (?: ), (?<name> ), alternation, * + ? {n} {n,} {n,m} (greedy or lazy)
//   - ^ $ (line anchors, as in Ruby), \A \z
//   - lookahead (?= ) (?! ) of a single character (GPT-2's \s+(?!\S))
//   - case-insensitive groups (?i: ) over ASCII literals (Llama 3's and Qwen2/3's
//     (?i:'s|'t|'re|'ve|'m|'ll|'d)), with Oniguruma's Unicode folding: s also matches U+017F
//     (long s) and k U+212A (Kelvin sign), as their case folds are s and k
// Anything else (classes or non-ASCII letters under (?i), (?i) without a group, letter pairs
// with a multi-char fold like "ss" (ß) under (?i), lookbehind, backreferences, possessive
// quantifiers, scripts, POSIX brackets, ...) is refused at load time with the construct named:
// no silent fallback. Class semantics are Oniguruma's: \w = L|M|N|Pc, \d = Nd, \s = White_Space.
#include <string.h>

#include "tok.h"
#include "unicode.h"

// -----------------------------------------------------------------------------------------
// Character classes

typedef enum item_kind { IT_RANGE, IT_GC, IT_WS, IT_WORD, IT_ANY_BUT_NL } item_kind;

typedef struct cls_item {
    uint8_t kind;
    bool neg;
    uint32_t lo, hi;          // IT_RANGE
    uint32_t gc_mask;         // IT_GC: bit per we_uc_gc
} cls_item;

typedef struct cls {
    bool neg;
    cls_item *items;
    uint32_t n_items;
    uint32_t cap_items;       // while parsing: items are we_malloc'd, copied to the arena at the end
    uint32_t ascii[4];        // 128-bit membership of ASCII, precomputed
} cls;

static bool item_has(const cls_item *it, uint32_t c) {
    bool r;
    switch (it->kind) {
    case IT_RANGE: r = c >= it->lo && c <= it->hi; break;
    case IT_GC: r = (it->gc_mask >> we_uc(c)->gc) & 1; break;
    case IT_WS: r = we_uc_is_ws(c); break;
    case IT_WORD: {
        uint8_t g = we_uc(c)->gc;
        r = (g >= WE_GC_LU && g <= WE_GC_NO) || g == WE_GC_PC;   // L, M, N, Pc
        break;
    }
    default: r = c != '\n'; break;
    }
    return r != it->neg;
}

static bool cls_has_slow(const cls *k, uint32_t c) {
    bool r = false;
    for (uint32_t i = 0; i < k->n_items && !r; i++) r = item_has(&k->items[i], c);
    return r != k->neg;
}

static inline bool cls_has(const cls *k, uint32_t c) {
    if (c < 128) return (k->ascii[c >> 5] >> (c & 31)) & 1;
    return cls_has_slow(k, c);
}

// -----------------------------------------------------------------------------------------
// Program

enum { OP_CHAR, OP_CLASS, OP_SPLIT, OP_JMP, OP_MATCH, OP_BOL, OP_EOL, OP_BOT, OP_EOT, OP_LOOK };

typedef struct inst {
    uint8_t op;
    bool neg;                 // OP_LOOK: negative lookahead
    uint32_t x, y;            // CHAR: x = code point; CLASS/LOOK: x = class; SPLIT: x (preferred), y; JMP: x
} inst;

// Patterns common enough to get a hand-written matcher (same matches, much faster); every
// other pattern runs on the VM.
typedef enum fast_kind { FAST_NONE, FAST_GPT2, FAST_CLIP, FAST_WS_RUN } fast_kind;

struct we_regex {
    inst *prog;
    uint32_t n;
    cls *classes;
    uint32_t n_classes;
    fast_kind fast;
};

#define MAX_PROG 65536
#define MAX_CLASSES 4096

// -----------------------------------------------------------------------------------------
// Parser (pattern -> AST)

enum { N_EMPTY, N_CHAR, N_CLASS, N_CAT, N_ALT, N_REP, N_BOL, N_EOL, N_BOT, N_EOT, N_LOOK };

typedef struct node node;
struct node {
    uint8_t type;
    bool greedy, neg;
    uint32_t c;               // N_CHAR: code point; N_CLASS/N_LOOK: class index
    uint32_t min, max;        // N_REP (max UINT32_MAX: unbounded)
    node **kids;
    uint32_t n_kids;
};

typedef struct parser {
    const uint8_t *p;
    size_t n, i;
    we_arena *arena;
    we_err *err;
    const char *pattern;
    size_t pattern_len;
    cls *classes;             // growable (we_malloc), copied into the arena at the end
    uint32_t n_classes, cap_classes;
    uint32_t depth;
    bool icase;               // inside (?i: )
    wembed_status rc;
} parser;

static node *fail(parser *ps, wembed_status rc, const char *what) {
    if (!ps->rc) {
        ps->rc = rc;
        int shown = ps->pattern_len > 120 ? 120 : (int)ps->pattern_len;
        we_errorf(ps->err, rc, "regex \"%.*s%s\": %s at offset %zu", shown, ps->pattern,
                  ps->pattern_len > 120 ? "..." : "", what, ps->i);
    }
    return NULL;
}

static node *new_node(parser *ps, uint8_t type) {
    node *nd = we_arena_calloc(ps->arena, 1, sizeof(node), 8);
    if (!nd) return fail(ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    nd->type = type;
    return nd;
}

static bool at_end(const parser *ps) { return ps->i >= ps->n; }
static uint32_t peek(const parser *ps) {
    size_t i = ps->i;
    return we_utf8_next(ps->p, ps->n, &i);
}
static uint32_t next(parser *ps) { return we_utf8_next(ps->p, ps->n, &ps->i); }

static int new_class(parser *ps) {
    if (ps->n_classes >= MAX_CLASSES) { fail(ps, WEMBED_STATUS_LIMIT, "too many character classes"); return -1; }
    if (ps->n_classes == ps->cap_classes) {
        uint32_t cap = ps->cap_classes ? ps->cap_classes * 2 : 16;
        cls *c = we_realloc(ps->classes, (size_t)cap * sizeof(cls));
        if (!c) { fail(ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); return -1; }
        ps->classes = c;
        ps->cap_classes = cap;
    }
    memset(&ps->classes[ps->n_classes], 0, sizeof(cls));
    return (int)ps->n_classes++;
}

static bool add_item(parser *ps, uint32_t k, cls_item it) {
    cls *c = &ps->classes[k];
    if (c->n_items == c->cap_items) {
        uint32_t cap = c->cap_items ? c->cap_items * 2 : 4;
        cls_item *items = we_realloc(c->items, (size_t)cap * sizeof(cls_item));
        if (!items) { fail(ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); return false; }
        c->items = items;
        c->cap_items = cap;
    }
    c->items[c->n_items++] = it;
    return true;
}

static void free_class_items(parser *ps) {
    for (uint32_t k = 0; k < ps->n_classes; k++) we_free(ps->classes[k].items);
    we_free(ps->classes);
    ps->classes = NULL;
}

// General category names Oniguruma accepts for \p{..} (case, spaces, '_' and '-' ignored).
static const struct { const char *name; uint32_t mask; } GC_NAMES[] = {
#define B(x) (1u << WE_GC_##x)
    { "l", B(LU) | B(LL) | B(LT) | B(LM) | B(LO) }, { "letter", B(LU) | B(LL) | B(LT) | B(LM) | B(LO) },
    { "lu", B(LU) }, { "uppercaseletter", B(LU) }, { "ll", B(LL) }, { "lowercaseletter", B(LL) },
    { "lt", B(LT) }, { "titlecaseletter", B(LT) }, { "lm", B(LM) }, { "modifierletter", B(LM) },
    { "lo", B(LO) }, { "otherletter", B(LO) },
    { "lc", B(LU) | B(LL) | B(LT) }, { "casedletter", B(LU) | B(LL) | B(LT) },
    { "m", B(MN) | B(MC) | B(ME) }, { "mark", B(MN) | B(MC) | B(ME) }, { "combiningmark", B(MN) | B(MC) | B(ME) },
    { "mn", B(MN) }, { "nonspacingmark", B(MN) }, { "mc", B(MC) }, { "spacingmark", B(MC) },
    { "me", B(ME) }, { "enclosingmark", B(ME) },
    { "n", B(ND) | B(NL) | B(NO) }, { "number", B(ND) | B(NL) | B(NO) },
    { "nd", B(ND) }, { "decimalnumber", B(ND) }, { "nl", B(NL) }, { "letternumber", B(NL) },
    { "no", B(NO) }, { "othernumber", B(NO) },
    { "p", B(PC) | B(PD) | B(PS) | B(PE) | B(PI) | B(PF) | B(PO) },
    { "punctuation", B(PC) | B(PD) | B(PS) | B(PE) | B(PI) | B(PF) | B(PO) },
    { "pc", B(PC) }, { "connectorpunctuation", B(PC) }, { "pd", B(PD) }, { "dashpunctuation", B(PD) },
    { "ps", B(PS) }, { "openpunctuation", B(PS) }, { "pe", B(PE) }, { "closepunctuation", B(PE) },
    { "pi", B(PI) }, { "initialpunctuation", B(PI) }, { "pf", B(PF) }, { "finalpunctuation", B(PF) },
    { "po", B(PO) }, { "otherpunctuation", B(PO) },
    { "s", B(SM) | B(SC) | B(SK) | B(SO) }, { "symbol", B(SM) | B(SC) | B(SK) | B(SO) },
    { "sm", B(SM) }, { "mathsymbol", B(SM) }, { "sc", B(SC) }, { "currencysymbol", B(SC) },
    { "sk", B(SK) }, { "modifiersymbol", B(SK) }, { "so", B(SO) }, { "othersymbol", B(SO) },
    { "z", B(ZS) | B(ZL) | B(ZP) }, { "separator", B(ZS) | B(ZL) | B(ZP) },
    { "zs", B(ZS) }, { "spaceseparator", B(ZS) }, { "zl", B(ZL) }, { "lineseparator", B(ZL) },
    { "zp", B(ZP) }, { "paragraphseparator", B(ZP) },
    { "c", B(CC) | B(CF) | B(CS) | B(CO) | B(CN) }, { "other", B(CC) | B(CF) | B(CS) | B(CO) | B(CN) },
    { "cc", B(CC) }, { "control", B(CC) }, { "cf", B(CF) }, { "format", B(CF) },
    { "cs", B(CS) }, { "surrogate", B(CS) }, { "co", B(CO) }, { "privateuse", B(CO) },
    { "cn", B(CN) }, { "unassigned", B(CN) },
#undef B
};

// Parses the name of \p{name} / \p{^name} (after "\p"), adds the item to class k.
static bool parse_property(parser *ps, uint32_t k, bool neg) {
    if (at_end(ps) || ps->p[ps->i] != '{') { fail(ps, WEMBED_STATUS_UNSUPPORTED, "\\p without {name}"); return false; }
    ps->i++;
    if (!at_end(ps) && ps->p[ps->i] == '^') { neg = !neg; ps->i++; }
    char name[48];
    size_t nl = 0;
    size_t start = ps->i;
    while (!at_end(ps) && ps->p[ps->i] != '}') {
        uint8_t ch = ps->p[ps->i++];
        if (ch == ' ' || ch == '_' || ch == '-') continue;
        if (nl + 1 >= sizeof name) { fail(ps, WEMBED_STATUS_UNSUPPORTED, "unknown property name"); return false; }
        name[nl++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    if (at_end(ps)) { fail(ps, WEMBED_STATUS_BAD_FORMAT, "unterminated \\p{"); return false; }
    ps->i++;
    name[nl] = 0;
    for (size_t t = 0; t < WE_ARRAY_LEN(GC_NAMES); t++) {
        if (strcmp(GC_NAMES[t].name, name) == 0) {
            cls_item it = { IT_GC, neg, 0, 0, GC_NAMES[t].mask };
            return add_item(ps, k, it);
        }
    }
    if (strcmp(name, "space") == 0 || strcmp(name, "whitespace") == 0) return add_item(ps, k, (cls_item){ IT_WS, neg, 0, 0, 0 });
    if (strcmp(name, "word") == 0) return add_item(ps, k, (cls_item){ IT_WORD, neg, 0, 0, 0 });
    ps->i = start;
    fail(ps, WEMBED_STATUS_UNSUPPORTED, "unsupported property (only general categories, Space and Word)");
    return false;
}

static int hexval(uint32_t c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

// An escape after '\'. Either a single code point (*cp, returns 1) or a class item added to
// class k (returns 2; k < 0 means a new class is made and returned in *cp), 0 on error.
static int parse_escape(parser *ps, int k, uint32_t *cp, bool in_class) {
    if (at_end(ps)) { fail(ps, WEMBED_STATUS_BAD_FORMAT, "trailing backslash"); return 0; }
    uint32_t e = next(ps);
    cls_item it = { 0, false, 0, 0, 0 };
    switch (e) {
    case 'n': *cp = '\n'; return 1;
    case 'r': *cp = '\r'; return 1;
    case 't': *cp = '\t'; return 1;
    case 'f': *cp = '\f'; return 1;
    case 'v': *cp = '\v'; return 1;
    case 'a': *cp = 7; return 1;
    case 'e': *cp = 27; return 1;
    case '0': *cp = 0; return 1;
    case 'x': case 'u': {
        uint32_t v = 0;
        int digits = 0, want = e == 'u' ? 4 : 2;
        if (e == 'x' && !at_end(ps) && ps->p[ps->i] == '{') {
            ps->i++;
            while (!at_end(ps) && ps->p[ps->i] != '}' && hexval(ps->p[ps->i]) >= 0 && digits < 8) {
                v = v * 16 + (uint32_t)hexval(ps->p[ps->i++]);
                digits++;
            }
            if (at_end(ps) || ps->p[ps->i] != '}' || digits == 0 || v > 0x10FFFF) {
                fail(ps, WEMBED_STATUS_BAD_FORMAT, "bad \\x{...} escape");
                return 0;
            }
            ps->i++;
        } else {
            while (digits < want && !at_end(ps) && hexval(ps->p[ps->i]) >= 0) {
                v = v * 16 + (uint32_t)hexval(ps->p[ps->i++]);
                digits++;
            }
            if (digits != want) { fail(ps, WEMBED_STATUS_BAD_FORMAT, "bad hex escape"); return 0; }
        }
        *cp = v;
        return 1;
    }
    case 'd': case 'D': it.kind = IT_GC; it.gc_mask = 1u << WE_GC_ND; it.neg = e == 'D'; break;
    case 'w': case 'W': it.kind = IT_WORD; it.neg = e == 'W'; break;
    case 's': case 'S': it.kind = IT_WS; it.neg = e == 'S'; break;
    case 'p': case 'P': {
        if (k < 0 && (k = new_class(ps)) < 0) return 0;
        if (!parse_property(ps, (uint32_t)k, e == 'P')) return 0;
        *cp = (uint32_t)k;
        return 2;
    }
    default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
            ps->i--;
            fail(ps, WEMBED_STATUS_UNSUPPORTED, in_class ? "unsupported escape in a class" : "unsupported escape");
            return 0;
        }
        *cp = e;          // escaped punctuation or any other char: itself
        return 1;
    }
    if (k < 0 && (k = new_class(ps)) < 0) return 0;
    if (!add_item(ps, (uint32_t)k, it)) return 0;
    *cp = (uint32_t)k;
    return 2;
}

static node *class_node(parser *ps, uint32_t k) {
    node *nd = new_node(ps, N_CLASS);
    if (nd) nd->c = k;
    return nd;
}

// A literal code point; under (?i: ) an ASCII letter becomes the class of the code points whose
// Unicode case fold is the same (Oniguruma's ignore-case: a/A, s/S/U+017F, k/K/U+212A).
static node *char_node(parser *ps, uint32_t c) {
    bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
    if (ps->icase && !lower && !upper && c >= 0x80) return fail(ps, WEMBED_STATUS_UNSUPPORTED, "non-ASCII literal under (?i)");
    if (!ps->icase || (!lower && !upper)) {
        node *nd = new_node(ps, N_CHAR);
        if (nd) nd->c = c;
        return nd;
    }
    uint32_t lc = lower ? c : c + 32;
    int k = new_class(ps);
    if (k < 0 || !add_item(ps, (uint32_t)k, (cls_item){ IT_RANGE, false, lc, lc, 0 }) ||
        !add_item(ps, (uint32_t)k, (cls_item){ IT_RANGE, false, lc - 32, lc - 32, 0 }))
        return NULL;
    uint32_t extra = lc == 's' ? 0x17F : lc == 'k' ? 0x212A : 0;
    if (extra && !add_item(ps, (uint32_t)k, (cls_item){ IT_RANGE, false, extra, extra, 0 })) return NULL;
    return class_node(ps, (uint32_t)k);
}

// Under (?i), Oniguruma also matches a letter pair by a single code point whose full case fold
// is that pair (ß = ss, U+FB01 = fi, ...): such pairs in the group's text are refused.
static bool has_fold_pair(const uint8_t *p, size_t n) {
    static const char *const PAIRS[] = { "ss", "st", "ff", "fi", "fl" };
    for (size_t i = 0; i + 1 < n; i++) {
        uint8_t a = p[i] | 0x20, b = p[i + 1] | 0x20;
        for (size_t t = 0; t < WE_ARRAY_LEN(PAIRS); t++)
            if (a == (uint8_t)PAIRS[t][0] && b == (uint8_t)PAIRS[t][1]) return true;
    }
    return false;
}

// [...] after '['.
static node *parse_bracket(parser *ps) {
    int k = new_class(ps);
    if (k < 0) return NULL;
    if (!at_end(ps) && ps->p[ps->i] == '^') { ps->classes[k].neg = true; ps->i++; }
    bool first = true;
    for (;;) {
        if (at_end(ps)) return fail(ps, WEMBED_STATUS_BAD_FORMAT, "unterminated [");
        uint32_t c = peek(ps);
        if (c == ']' && !first) { ps->i++; break; }
        first = false;
        if (c == '[') return fail(ps, WEMBED_STATUS_UNSUPPORTED, "nested class or POSIX bracket");
        if (c == '&' && ps->i + 1 < ps->n && ps->p[ps->i + 1] == '&') return fail(ps, WEMBED_STATUS_UNSUPPORTED, "class intersection");
        next(ps);
        uint32_t lo = c;
        if (c == '\\') {
            int r = parse_escape(ps, k, &lo, true);
            if (r == 0) return NULL;
            if (r == 2) continue;
        }
        uint32_t hi = lo;
        if (!at_end(ps) && ps->p[ps->i] == '-' && ps->i + 1 < ps->n && ps->p[ps->i + 1] != ']') {
            ps->i++;
            hi = next(ps);
            if (hi == '\\') {
                int r = parse_escape(ps, -1, &hi, true);
                if (r != 1) return r == 0 ? NULL : fail(ps, WEMBED_STATUS_UNSUPPORTED, "class as a range end");
            } else if (hi == '[') {
                return fail(ps, WEMBED_STATUS_UNSUPPORTED, "nested class");
            }
            if (hi < lo) return fail(ps, WEMBED_STATUS_BAD_FORMAT, "empty range in class");
        }
        if (!add_item(ps, (uint32_t)k, (cls_item){ IT_RANGE, false, lo, hi, 0 })) return NULL;
    }
    return class_node(ps, (uint32_t)k);
}

static node *parse_alt(parser *ps);

static node *parse_atom(parser *ps) {
    uint32_t c = next(ps);
    switch (c) {
    case '(': {
        if (++ps->depth > 200) return fail(ps, WEMBED_STATUS_LIMIT, "groups nested too deeply");
        bool look = false, neg = false, icase = ps->icase;
        size_t group_start = ps->i;
        if (!at_end(ps) && ps->p[ps->i] == '?') {
            ps->i++;
            uint32_t k = at_end(ps) ? 0 : next(ps);
            if (k == ':') {
            } else if (k == 'i' && !at_end(ps) && ps->p[ps->i] == ':') {
                ps->i++;
                ps->icase = true;
            } else if (k == '=' || k == '!') {
                look = true;
                neg = k == '!';
            } else if (k == '<' && !at_end(ps) && ps->p[ps->i] != '=' && ps->p[ps->i] != '!') {
                while (!at_end(ps) && ps->p[ps->i] != '>') ps->i++;      // named group
                if (at_end(ps)) return fail(ps, WEMBED_STATUS_BAD_FORMAT, "unterminated group name");
                ps->i++;
            } else {
                return fail(ps, WEMBED_STATUS_UNSUPPORTED, k == 'i' || k == '-' || k == 'm' || k == 'x'
                                                               ? "inline options like (?i)"
                                                               : k == '<' ? "lookbehind" : "group type");
            }
        }
        node *inner = parse_alt(ps);
        if (!inner) return NULL;
        if (at_end(ps) || next(ps) != ')') return fail(ps, WEMBED_STATUS_BAD_FORMAT, "missing )");
        ps->depth--;
        if (ps->icase && has_fold_pair(ps->p + group_start, ps->i - group_start))
            return fail(ps, WEMBED_STATUS_UNSUPPORTED, "a letter pair with a multi-char case fold (ss, st, ff, fi, fl) under (?i)");
        ps->icase = icase;
        if (!look) return inner;
        // Only a lookahead of one character is supported (it becomes a test of the next char).
        node *nd = new_node(ps, N_LOOK);
        if (!nd) return NULL;
        nd->neg = neg;
        if (inner->type == N_CLASS) {
            nd->c = inner->c;
        } else if (inner->type == N_CHAR) {
            int k = new_class(ps);
            if (k < 0 || !add_item(ps, (uint32_t)k, (cls_item){ IT_RANGE, false, inner->c, inner->c, 0 })) return NULL;
            nd->c = (uint32_t)k;
        } else {
            return fail(ps, WEMBED_STATUS_UNSUPPORTED, "lookahead of more than one character");
        }
        return nd;
    }
    case '[':
        if (ps->icase) return fail(ps, WEMBED_STATUS_UNSUPPORTED, "class under (?i)");
        return parse_bracket(ps);
    case '.': {
        int k = new_class(ps);
        if (k < 0 || !add_item(ps, (uint32_t)k, (cls_item){ IT_ANY_BUT_NL, false, 0, 0, 0 })) return NULL;
        return class_node(ps, (uint32_t)k);
    }
    case '^': return new_node(ps, N_BOL);
    case '$': return new_node(ps, N_EOL);
    case '\\': {
        if (!at_end(ps) && (ps->p[ps->i] == 'A' || ps->p[ps->i] == 'z')) {
            return new_node(ps, ps->p[ps->i++] == 'A' ? N_BOT : N_EOT);
        }
        uint32_t v;
        int r = parse_escape(ps, -1, &v, false);
        if (r == 0) return NULL;
        if (r == 2) return ps->icase ? fail(ps, WEMBED_STATUS_UNSUPPORTED, "class under (?i)") : class_node(ps, v);
        return char_node(ps, v);
    }
    case '*': case '+': case '?': case '{':
        ps->i--;
        return fail(ps, WEMBED_STATUS_BAD_FORMAT, "quantifier without a target");
    default: return char_node(ps, c);
    }
}

static bool parse_uint(parser *ps, uint32_t *v) {
    size_t start = ps->i;
    uint64_t x = 0;
    while (!at_end(ps) && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9') {
        x = x * 10 + (ps->p[ps->i++] - '0');
        if (x > 100000) return false;
    }
    *v = (uint32_t)x;
    return ps->i > start;
}

static node *parse_repeat(parser *ps) {
    node *atom = parse_atom(ps);
    if (!atom) return NULL;
    while (!at_end(ps)) {
        uint32_t c = ps->p[ps->i], mn, mx;
        if (c == '*') { mn = 0; mx = UINT32_MAX; ps->i++; }
        else if (c == '+') { mn = 1; mx = UINT32_MAX; ps->i++; }
        else if (c == '?') { mn = 0; mx = 1; ps->i++; }
        else if (c == '{') {
            size_t save = ps->i++;
            if (!parse_uint(ps, &mn)) { ps->i = save; break; }      // a literal '{' (Oniguruma)
            mx = mn;
            if (!at_end(ps) && ps->p[ps->i] == ',') {
                ps->i++;
                if (!parse_uint(ps, &mx)) mx = UINT32_MAX;
            }
            if (at_end(ps) || ps->p[ps->i] != '}') { ps->i = save; break; }
            ps->i++;
            if (mx < mn) return fail(ps, WEMBED_STATUS_BAD_FORMAT, "bad {n,m}");
        } else {
            break;
        }
        bool greedy = true;
        if (!at_end(ps) && ps->p[ps->i] == '?') { greedy = false; ps->i++; }
        else if (!at_end(ps) && ps->p[ps->i] == '+') return fail(ps, WEMBED_STATUS_UNSUPPORTED, "possessive quantifier");
        if (atom->type == N_BOL || atom->type == N_EOL || atom->type == N_BOT || atom->type == N_EOT || atom->type == N_LOOK)
            return fail(ps, WEMBED_STATUS_UNSUPPORTED, "quantified assertion");
        node *rep = new_node(ps, N_REP);
        if (!rep) return NULL;
        rep->min = mn;
        rep->max = mx;
        rep->greedy = greedy;
        rep->kids = we_arena_alloc(ps->arena, sizeof(node *), 8);
        if (!rep->kids) return fail(ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
        rep->kids[0] = atom;
        rep->n_kids = 1;
        atom = rep;
    }
    return atom;
}

static node *list_node(parser *ps, uint8_t type, node **items, uint32_t n) {
    if (n == 1) return items[0];
    node *nd = new_node(ps, type);
    if (!nd) return NULL;
    nd->kids = we_arena_alloc(ps->arena, (size_t)(n ? n : 1) * sizeof(node *), 8);
    if (!nd->kids) return fail(ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    memcpy(nd->kids, items, (size_t)n * sizeof(node *));
    nd->n_kids = n;
    return nd;
}

// A list of nodes built in a growable buffer then copied into a node.
typedef struct nlist { node **v; uint32_t n, cap; } nlist;
static bool nlist_push(parser *ps, nlist *l, node *nd) {
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        node **v = we_realloc(l->v, (size_t)cap * sizeof(node *));
        if (!v) { fail(ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); return false; }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = nd;
    return true;
}

static node *parse_concat(parser *ps) {
    nlist l = { 0 };
    while (!at_end(ps) && ps->p[ps->i] != '|' && ps->p[ps->i] != ')') {
        node *nd = parse_repeat(ps);
        if (!nd || !nlist_push(ps, &l, nd)) { we_free(l.v); return NULL; }
    }
    node *r = l.n == 0 ? new_node(ps, N_EMPTY) : list_node(ps, N_CAT, l.v, l.n);
    we_free(l.v);
    return r;
}

static node *parse_alt(parser *ps) {
    nlist l = { 0 };
    for (;;) {
        node *nd = parse_concat(ps);
        if (!nd || !nlist_push(ps, &l, nd)) { we_free(l.v); return NULL; }
        if (at_end(ps) || ps->p[ps->i] != '|') break;
        ps->i++;
    }
    node *r = list_node(ps, N_ALT, l.v, l.n);
    we_free(l.v);
    return r;
}

// -----------------------------------------------------------------------------------------
// Compiler (AST -> program)

typedef struct compiler {
    inst *prog;
    uint32_t n, cap;
    parser *ps;
} compiler;

static int emit(compiler *cc, uint8_t op, uint32_t x, uint32_t y) {
    if (cc->n >= MAX_PROG) { fail(cc->ps, WEMBED_STATUS_LIMIT, "pattern too large"); return -1; }
    if (cc->n == cc->cap) {
        uint32_t cap = cc->cap ? cc->cap * 2 : 64;
        inst *p = we_realloc(cc->prog, (size_t)cap * sizeof(inst));
        if (!p) { fail(cc->ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); return -1; }
        cc->prog = p;
        cc->cap = cap;
    }
    cc->prog[cc->n] = (inst){ op, false, x, y };
    return (int)cc->n++;
}

static bool compile(compiler *cc, const node *nd) {
    switch (nd->type) {
    case N_EMPTY: return true;
    case N_CHAR: return emit(cc, OP_CHAR, nd->c, 0) >= 0;
    case N_CLASS: return emit(cc, OP_CLASS, nd->c, 0) >= 0;
    case N_BOL: return emit(cc, OP_BOL, 0, 0) >= 0;
    case N_EOL: return emit(cc, OP_EOL, 0, 0) >= 0;
    case N_BOT: return emit(cc, OP_BOT, 0, 0) >= 0;
    case N_EOT: return emit(cc, OP_EOT, 0, 0) >= 0;
    case N_LOOK: {
        int i = emit(cc, OP_LOOK, nd->c, 0);
        if (i < 0) return false;
        cc->prog[i].neg = nd->neg;
        return true;
    }
    case N_CAT:
        for (uint32_t k = 0; k < nd->n_kids; k++)
            if (!compile(cc, nd->kids[k])) return false;
        return true;
    case N_ALT: {
        // SPLIT L1, next; L1: a; JMP end; next: SPLIT L2, next2; ... last: z; end:
        uint32_t *jumps = we_malloc((size_t)nd->n_kids * sizeof(uint32_t));
        if (!jumps) { fail(cc->ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); return false; }
        bool ok = true;
        uint32_t nj = 0;
        for (uint32_t k = 0; k < nd->n_kids && ok; k++) {
            int split = -1;
            if (k + 1 < nd->n_kids) {
                split = emit(cc, OP_SPLIT, 0, 0);
                if (split < 0) { ok = false; break; }
                cc->prog[split].x = (uint32_t)split + 1;
            }
            ok = compile(cc, nd->kids[k]);
            if (!ok) break;
            if (k + 1 < nd->n_kids) {
                int j = emit(cc, OP_JMP, 0, 0);
                if (j < 0) { ok = false; break; }
                jumps[nj++] = (uint32_t)j;
                cc->prog[split].y = cc->n;
            }
        }
        for (uint32_t k = 0; ok && k < nj; k++) cc->prog[jumps[k]].x = cc->n;
        we_free(jumps);
        return ok;
    }
    case N_REP: {
        const node *body = nd->kids[0];
        for (uint32_t k = 0; k < nd->min; k++)
            if (!compile(cc, body)) return false;
        if (nd->max == UINT32_MAX) {
            // L: SPLIT body, out; body; JMP L; out:
            int l = emit(cc, OP_SPLIT, 0, 0);
            if (l < 0 || !compile(cc, body) || emit(cc, OP_JMP, (uint32_t)l, 0) < 0) return false;
            cc->prog[l].x = nd->greedy ? (uint32_t)l + 1 : cc->n;
            cc->prog[l].y = nd->greedy ? cc->n : (uint32_t)l + 1;
            return true;
        }
        // (max - min) optional copies, all skipping to the end.
        uint32_t opt = nd->max - nd->min;
        uint32_t *splits = we_malloc((size_t)(opt ? opt : 1) * sizeof(uint32_t));
        if (!splits) { fail(cc->ps, WEMBED_STATUS_ALLOC_FAILED, "out of memory"); return false; }
        bool ok = true;
        for (uint32_t k = 0; k < opt && ok; k++) {
            int s = emit(cc, OP_SPLIT, 0, 0);
            ok = s >= 0 && compile(cc, body);
            if (ok) splits[k] = (uint32_t)s;
        }
        for (uint32_t k = 0; ok && k < opt; k++) {
            uint32_t s = splits[k];
            cc->prog[s].x = nd->greedy ? s + 1 : cc->n;
            cc->prog[s].y = nd->greedy ? cc->n : s + 1;
        }
        we_free(splits);
        return ok;
    }
    }
    return false;
}

static wembed_status finish(parser *ps, node *root, we_regex **out) {
    compiler cc = { NULL, 0, 0, ps };
    if (!root || !compile(&cc, root) || emit(&cc, OP_MATCH, 0, 0) < 0) {
        we_free(cc.prog);
        free_class_items(ps);
        return ps->rc ? ps->rc : WEMBED_STATUS_INTERNAL;
    }
    we_regex *re = we_arena_calloc(ps->arena, 1, sizeof(we_regex), 8);
    inst *prog = we_arena_alloc(ps->arena, (size_t)cc.n * sizeof(inst), 8);
    cls *classes = we_arena_alloc(ps->arena, (size_t)(ps->n_classes ? ps->n_classes : 1) * sizeof(cls), 8);
    if (!re || !prog || !classes) {
        we_free(cc.prog);
        free_class_items(ps);
        return we_errorf(ps->err, WEMBED_STATUS_ALLOC_FAILED, "regex: out of memory");
    }
    memcpy(prog, cc.prog, (size_t)cc.n * sizeof(inst));
    if (ps->n_classes) memcpy(classes, ps->classes, (size_t)ps->n_classes * sizeof(cls));
    for (uint32_t k = 0; k < ps->n_classes; k++) {
        cls_item *items = we_arena_alloc(ps->arena, (size_t)(classes[k].n_items ? classes[k].n_items : 1) * sizeof(cls_item), 8);
        if (!items) {
            we_free(cc.prog);
            free_class_items(ps);
            return we_errorf(ps->err, WEMBED_STATUS_ALLOC_FAILED, "regex: out of memory");
        }
        if (classes[k].n_items) memcpy(items, classes[k].items, (size_t)classes[k].n_items * sizeof(cls_item));
        classes[k].items = items;
        classes[k].cap_items = classes[k].n_items;
    }
    for (uint32_t k = 0; k < ps->n_classes; k++) {
        memset(classes[k].ascii, 0, sizeof classes[k].ascii);
        for (uint32_t c = 0; c < 128; c++)
            if (cls_has_slow(&classes[k], c)) classes[k].ascii[c >> 5] |= 1u << (c & 31);
    }
    we_free(cc.prog);
    free_class_items(ps);
    re->prog = prog;
    re->n = cc.n;
    re->classes = classes;
    re->n_classes = ps->n_classes;
    *out = re;
    return WEMBED_STATUS_OK;
}

static const char PAT_GPT2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char PAT_CLIP[] = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

static fast_kind fast_of(const char *pattern, size_t n) {
    if (n == sizeof PAT_GPT2 - 1 && memcmp(pattern, PAT_GPT2, n) == 0) return FAST_GPT2;
    if (n == sizeof PAT_CLIP - 1 && memcmp(pattern, PAT_CLIP, n) == 0) return FAST_CLIP;
    if ((n == 3 && memcmp(pattern, "\\s+", 3) == 0) || (n == 5 && memcmp(pattern, "[\\s]+", 5) == 0)) return FAST_WS_RUN;
    return FAST_NONE;
}

wembed_status we_regex_compile(we_arena *arena, const char *pattern, size_t n, we_regex **out,
                               we_err *err) {
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.p = (const uint8_t *)pattern;
    ps.n = n;
    ps.arena = arena;
    ps.err = err;
    ps.pattern = pattern;
    ps.pattern_len = n;
    if (!we_utf8_valid(ps.p, n)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "regex: pattern is not valid UTF-8");
    node *root = parse_alt(&ps);
    if (root && !at_end(&ps)) root = fail(&ps, WEMBED_STATUS_BAD_FORMAT, "unmatched )");
    wembed_status rc = finish(&ps, root, out);
    if (!rc) (*out)->fast = fast_of(pattern, n);
    return rc;
}

wembed_status we_regex_literal(we_arena *arena, const char *text, size_t n, we_regex **out, we_err *err) {
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.p = (const uint8_t *)text;
    ps.n = n;
    ps.arena = arena;
    ps.err = err;
    ps.pattern = text;
    ps.pattern_len = n;
    if (!we_utf8_valid(ps.p, n)) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "regex: pattern is not valid UTF-8");
    nlist l = { 0 };
    node *root = NULL;
    while (!at_end(&ps)) {
        node *nd = new_node(&ps, N_CHAR);
        if (!nd || !nlist_push(&ps, &l, nd)) break;
        nd->c = next(&ps);
    }
    if (!ps.rc) root = l.n == 0 ? new_node(&ps, N_EMPTY) : list_node(&ps, N_CAT, l.v, l.n);
    we_free(l.v);
    return finish(&ps, root, out);
}

// -----------------------------------------------------------------------------------------
// Pike VM

typedef struct thread {
    uint32_t pc, start;
} thread;

typedef struct tlist {
    thread *t;
    uint32_t n;
} tlist;

typedef struct vm {
    const we_regex *re;
    const uint8_t *s;
    uint32_t n;
    uint32_t *mark;           // (prog) generation at which a pc was added
    uint32_t gen;
    uint32_t *stack;          // (prog) pending pcs of the closure
} vm;

static inline bool assert_ok(const vm *v, const inst *in, uint32_t pos) {
    switch (in->op) {
    case OP_BOL: return pos == 0 || v->s[pos - 1] == '\n';
    case OP_EOL: return pos == v->n || v->s[pos] == '\n';
    case OP_BOT: return pos == 0;
    case OP_EOT: return pos == v->n;
    default: {       // OP_LOOK
        bool has = false;
        if (pos < v->n) {
            uint32_t i = pos;
            has = cls_has(&v->re->classes[in->x], we_next_cp(v->s, v->n, &i));
        }
        return in->neg ? !has : has;
    }
    }
}

// Adds the thread at pc and everything reachable from it without consuming input, in
// priority order.
static void addthread(vm *v, tlist *l, uint32_t pc0, uint32_t start, uint32_t pos) {
    uint32_t sp = 0;
    v->stack[sp++] = pc0;
    while (sp) {
        uint32_t pc = v->stack[--sp];
        for (;;) {
            if (v->mark[pc] == v->gen) break;
            v->mark[pc] = v->gen;
            const inst *in = &v->re->prog[pc];
            if (in->op == OP_JMP) { pc = in->x; continue; }
            if (in->op == OP_SPLIT) { v->stack[sp++] = in->y; pc = in->x; continue; }
            if (in->op >= OP_BOL) {
                if (!assert_ok(v, in, pos)) break;
                pc++;
                continue;
            }
            l->t[l->n++] = (thread){ pc, start };
            break;
        }
    }
}

int we_regex_search(we_work *w, const we_regex *re, const uint8_t *s, uint32_t n, uint32_t from,
                    uint32_t *ms, uint32_t *me) {
    // Memory: two thread lists, marks and a stack, each sized by the program.
    size_t per = re->n;
    we_buf *b = &w->re_threads;
    b->n = 0;
    if (!we_buf_reserve(b, per * 2 * sizeof(thread) + per * 2 * sizeof(uint32_t) + 64, 1)) return -1;
    thread *t0 = b->p;
    thread *t1 = t0 + per;
    uint32_t *mark = (uint32_t *)(t1 + per);
    uint32_t *stack = mark + per;
    memset(mark, 0, per * sizeof(uint32_t));
    vm v = { re, s, n, mark, 0, stack };
    tlist cl = { t0, 0 }, nl = { t1, 0 };
    bool matched = false;
    uint32_t pos = from;
    v.gen = 1;
    for (;;) {
        if (!matched) addthread(&v, &cl, 0, pos, pos);
        if (cl.n == 0) {
            if (matched || pos >= n) break;
            // Nothing alive: skip to the next char.
            pos += we_lead_len(s[pos]);
            if (pos > n) pos = n;
            v.gen++;
            continue;
        }
        uint32_t c = 0, npos = pos;
        if (pos < n) c = we_next_cp(s, n, &npos);
        v.gen++;
        nl.n = 0;
        w->re_steps += cl.n + 1;
        for (uint32_t k = 0; k < cl.n; k++) {
            const inst *in = &re->prog[cl.t[k].pc];
            if (in->op == OP_MATCH) {
                matched = true;
                *ms = cl.t[k].start;
                *me = pos;
                break;      // lower-priority threads are cut
            }
            if (pos >= n) continue;
            bool ok = in->op == OP_CHAR ? c == in->x : cls_has(&re->classes[in->x], c);
            if (ok) addthread(&v, &nl, cl.t[k].pc + 1, cl.t[k].start, npos);
        }
        if (pos >= n) break;
        tlist tmp = cl;
        cl = nl;
        nl = tmp;
        pos = npos;
    }
    return matched ? 1 : 0;
}

// -----------------------------------------------------------------------------------------
// Hand-written matchers. Each returns the end of the leftmost-first match starting exactly at
// i (or i when none starts there), following the alternatives in the pattern's order.

enum { K_WS, K_L, K_N, K_O };     // \s, \p{L}, \p{N}, anything else

static inline int kind_at(const uint8_t *s, uint32_t n, uint32_t i, uint32_t *next) {
    uint32_t c = we_next_cp(s, n, next);
    (void)i;
    if (c < 0x80) {
        if (c == ' ' || (c >= 9 && c <= 13)) return K_WS;
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return K_L;
        if (c >= '0' && c <= '9') return K_N;
        return K_O;
    }
    const we_uc_info *u = we_uc(c);
    if (u->flags & WE_UC_WS) return K_WS;
    if (u->gc >= WE_GC_LU && u->gc <= WE_GC_LO) return K_L;
    if (u->gc >= WE_GC_ND && u->gc <= WE_GC_NO) return K_N;
    return K_O;
}

// End of the run of chars of kind k starting at i.
static inline uint32_t run_of(const uint8_t *s, uint32_t n, uint32_t i, int k) {
    while (i < n) {
        uint32_t j = i;
        if (kind_at(s, n, i, &j) != k) break;
        i = j;
    }
    return i;
}

// 's 't 're 've 'm 'll 'd at i: the end, or 0.
static inline uint32_t contraction(const uint8_t *s, uint32_t n, uint32_t i) {
    if (s[i] != '\'' || i + 1 >= n) return 0;
    uint8_t a = s[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 < n && ((a == 'r' && s[i + 2] == 'e') || (a == 'v' && s[i + 2] == 'e') || (a == 'l' && s[i + 2] == 'l'))) return i + 3;
    return 0;
}

static uint32_t match_gpt2(const uint8_t *s, uint32_t n, uint32_t i) {
    uint32_t e = contraction(s, n, i);
    if (e) return e;
    uint32_t j = i;
    int k = kind_at(s, n, i, &j);
    if (k == K_WS) {
        if (s[i] == ' ' && j < n) {          // " ?\p{L}+" etc. with the space
            uint32_t q = j;
            int k2 = kind_at(s, n, j, &q);
            if (k2 != K_WS) return run_of(s, n, q, k2);
        }
        // \s+(?!\S): the run, minus its last char when a non-space follows; else \s+
        uint32_t end = run_of(s, n, j, K_WS);
        if (end == n) return end;
        uint32_t last = end - 1;
        while (last > i && (s[last] & 0xC0) == 0x80) last--;
        return last > i ? last : end;
    }
    return run_of(s, n, j, k);
}

static uint32_t match_clip(const uint8_t *s, uint32_t n, uint32_t i) {
    static const char SOT[] = "<|startoftext|>", EOT[] = "<|endoftext|>";
    if (s[i] == '<') {
        if (n - i >= sizeof SOT - 1 && memcmp(s + i, SOT, sizeof SOT - 1) == 0) return i + (uint32_t)sizeof SOT - 1;
        if (n - i >= sizeof EOT - 1 && memcmp(s + i, EOT, sizeof EOT - 1) == 0) return i + (uint32_t)sizeof EOT - 1;
    }
    uint32_t e = contraction(s, n, i);
    if (e) return e;
    uint32_t j = i;
    int k = kind_at(s, n, i, &j);
    if (k == K_WS) return i;                   // no alternative starts with a space
    if (k == K_N) return j;                    // [\p{N}]: one char
    return run_of(s, n, j, k);
}

static wembed_status fast_find_matches(we_work *w, const we_regex *re, const uint8_t *s, uint32_t n) {
    uint32_t i = 0, prev = 0;
    while (i < n) {
        uint32_t e;
        if (re->fast == FAST_WS_RUN) {
            uint32_t j = i;
            e = kind_at(s, n, i, &j) == K_WS ? run_of(s, n, j, K_WS) : i;
        } else {
            e = re->fast == FAST_GPT2 ? match_gpt2(s, n, i) : match_clip(s, n, i);
        }
        if (e == i) {                          // nothing starts here: on to the next char
            i += we_lead_len(s[i]);
            continue;
        }
        if (!we_buf_reserve(&w->matches, 2, sizeof(we_match)))
            return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
        we_match *m = w->matches.p;
        if (prev != i) m[w->matches.n++] = (we_match){ prev, i, false };
        m[w->matches.n++] = (we_match){ i, e, true };
        prev = i = e;
    }
    if (prev != n) {
        if (!we_buf_reserve(&w->matches, 1, sizeof(we_match)))
            return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
        ((we_match *)w->matches.p)[w->matches.n++] = (we_match){ prev, n, false };
    }
    return WEMBED_STATUS_OK;
}

wembed_status we_regex_find_matches(we_work *w, const we_regex *re, const uint8_t *s, uint32_t n) {
    w->matches.n = 0;
    if (!we_buf_reserve(&w->matches, 1, sizeof(we_match)))
        return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    if (n == 0) {
        ((we_match *)w->matches.p)[w->matches.n++] = (we_match){ 0, 0, false };
        return WEMBED_STATUS_OK;
    }
    if (re->fast != FAST_NONE && !w->regex_no_fast) return fast_find_matches(w, re, s, n);
    // Leftmost-first matching must follow a higher-priority thread to its end even after a
    // lower one matched, so a pathological pattern can take quadratic time (as it does in
    // Oniguruma). Real tokenizer patterns stay far below this budget.
    w->re_steps = 0;
    uint64_t budget = (uint64_t)8 * ((uint64_t)n + 16) * (re->n + 16) + 1000000;
    uint32_t prev = 0, last_end = 0;
    bool have_last = false;
    uint32_t last_match_end = 0;
    while (last_end <= n) {
        uint32_t ms, me;
        int found = we_regex_search(w, re, s, n, last_end, &ms, &me);
        if (found < 0) return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
        if (w->re_steps > budget)
            return we_errorf(w->err, WEMBED_STATUS_LIMIT, "regex: the pattern needs quadratic work on this %u-byte text", n);
        if (!found) break;
        // onig::FindMatches: no empty match right where the last match ended.
        if (ms == me && have_last && last_match_end == me) {
            last_end += last_end < n ? we_lead_len(s[last_end]) : 1;
            continue;
        }
        last_end = me;
        last_match_end = me;
        have_last = true;
        if (!we_buf_reserve(&w->matches, 2, sizeof(we_match)))
            return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
        we_match *m = w->matches.p;
        if (prev != ms) m[w->matches.n++] = (we_match){ prev, ms, false };
        m[w->matches.n++] = (we_match){ ms, me, true };
        prev = me;
        if (ms == me && me >= n) break;
    }
    if (prev != n) {
        if (!we_buf_reserve(&w->matches, 1, sizeof(we_match)))
            return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
        ((we_match *)w->matches.p)[w->matches.n++] = (we_match){ prev, n, false };
    }
    return WEMBED_STATUS_OK;
}
