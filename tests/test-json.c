// test-json.c - the strict JSON reader (src/formats/json.c): RFC 8259 acceptance and
// rejection, UTF-8 and \u escapes, numbers, limits, duplicate keys, line:column in every
// error, allocation failure without leaks, and the real config/tokenizer files.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "formats/json.h"

// Parses s (length n) with limits lim; returns rc, the root in *out and the message in err.
static wembed_status parse_n(we_arena *a, const char *s, size_t n, const we_json_limits *lim,
                             const we_json **out, we_err *err) {
    we_err_clear(err);
    return we_json_parse(a, s, n, lim, out, err);
}

// Accepts `s`, returning the root (valid until the arena is freed).
static const we_json *ok(we_arena *a, const char *s) {
    const we_json *v = NULL;
    we_err err;
    wembed_status rc = parse_n(a, s, strlen(s), NULL, &v, &err);
    CHECKF(rc == WEMBED_STATUS_OK && v, "should parse: %s (got %s: %s)", s, wembed_status_str(rc), err.msg);
    return rc == WEMBED_STATUS_OK ? v : NULL;
}

// Refuses s with status `want`; the message must hold "JSON L:C:" (when want_pos) and `needle`.
static void bad_n(const char *s, size_t n, wembed_status want, const char *pos, const char *needle) {
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *v = (const we_json *)1;
    we_err err;
    wembed_status rc = parse_n(&a, s, n, NULL, &v, &err);
    CHECKF(rc == want, "%.*s: want %s, got %s (%s)", (int)WE_MIN(n, 60u), s, wembed_status_str(want),
           wembed_status_str(rc), err.msg);
    CHECKF(v == NULL, "out must be NULL on failure: %.*s", (int)WE_MIN(n, 60u), s);
    if (pos) {
        char want_pos[64];
        snprintf(want_pos, sizeof want_pos, "JSON %s: ", pos);
        CHECKF(strncmp(err.msg, want_pos, strlen(want_pos)) == 0, "%.*s: message '%s' should start with '%s'",
               (int)WE_MIN(n, 60u), s, err.msg, want_pos);
    }
    if (needle) CHECKF(strstr(err.msg, needle) != NULL, "%.*s: message '%s' should mention '%s'",
                       (int)WE_MIN(n, 60u), s, err.msg, needle);
    we_arena_free(&a);
}

static void bad(const char *s, wembed_status want, const char *pos, const char *needle) {
    bad_n(s, strlen(s), want, pos, needle);
}

// -----------------------------------------------------------------------------------------

static void test_values(void) {
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *v;

    v = ok(&a, "null");            CHECK(we_json_is(v, WE_JSON_NULL));
    v = ok(&a, " true ");          CHECK(we_json_is(v, WE_JSON_TRUE));
    v = ok(&a, "\t\r\nfalse\n");   CHECK(we_json_is(v, WE_JSON_FALSE));
    bool bv = true;
    CHECK(we_json_as_bool(v, &bv) && bv == false);
    v = ok(&a, "\"\"");            CHECK(we_json_is(v, WE_JSON_STRING) && v->len == 0 && v->u.str[0] == 0);
    v = ok(&a, "[]");              CHECK(we_json_is(v, WE_JSON_ARRAY) && v->len == 0);
    v = ok(&a, "{}");              CHECK(we_json_is(v, WE_JSON_OBJECT) && v->len == 0);
    v = ok(&a, "[ ]");             CHECK(we_json_is(v, WE_JSON_ARRAY) && v->len == 0);
    v = ok(&a, "{ \n }");          CHECK(we_json_is(v, WE_JSON_OBJECT) && v->len == 0);

    v = ok(&a, "{\"a\": [1, 2, {\"b\": null, \"c\": [[], {}]}], \"d\": \"x\", \"\": 0}");
    CHECK(we_json_is(v, WE_JSON_OBJECT) && v->len == 3);
    const we_json *arr = we_json_get(v, "a");
    CHECK(we_json_is(arr, WE_JSON_ARRAY) && arr->len == 3);
    int64_t i = 0;
    CHECK(we_json_as_int(we_json_at(arr, 1), &i) && i == 2);
    CHECK(we_json_at(arr, 3) == NULL);
    const we_json *inner = we_json_at(arr, 2);
    CHECK(we_json_is(we_json_get(inner, "b"), WE_JSON_NULL));
    const we_json *c = we_json_get(inner, "c");
    CHECK(c && c->len == 2 && we_json_is(we_json_at(c, 0), WE_JSON_ARRAY) && we_json_is(we_json_at(c, 1), WE_JSON_OBJECT));
    CHECK(we_json_str_eq(we_json_get(v, "d"), "x"));
    CHECK(we_json_as_int(we_json_get(v, ""), &i) && i == 0);
    // members keep file order
    CHECK(strcmp(v->u.members[0].key, "a") == 0 && strcmp(v->u.members[1].key, "d") == 0 &&
          v->u.members[2].key_len == 0);
    // NULL-tolerant lookups
    CHECK(we_json_get(NULL, "a") == NULL && we_json_get(arr, "a") == NULL);
    CHECK(we_json_at(NULL, 0) == NULL && we_json_at(v, 0) == NULL);
    CHECK(we_json_as_str(we_json_get(v, "missing"), NULL) == NULL);
    CHECK(!we_json_as_int(we_json_get(v, "d"), &i));
    CHECK(!we_json_str_eq(we_json_get(v, "a"), "x"));

    // deep-ish nesting with mixed containers, closed in one go
    v = ok(&a, "[{\"k\":[{\"k\":[{\"k\":[1]}]}]}]");
    const we_json *w = we_json_get(we_json_at(we_json_get(we_json_at(we_json_get(we_json_at(v, 0), "k"), 0), "k"), 0), "k");
    CHECK(we_json_as_int(we_json_at(w, 0), &i) && i == 1);

    // a UTF-8 byte order mark is skipped (RFC 8259 8.1 allows it)
    v = ok(&a, "\xEF\xBB\xBF{\"a\":1}");
    CHECK(we_json_as_int(we_json_get(v, "a"), &i) && i == 1);
    we_arena_free(&a);
}

static void test_numbers(void) {
    we_arena a;
    we_arena_init(&a, 0);
    struct { const char *s; double f; bool is_int; int64_t i; } cases[] = {
        {"0", 0.0, true, 0},
        {"-0", -0.0, true, 0},
        {"1", 1.0, true, 1},
        {"-1", -1.0, true, -1},
        {"123456789", 123456789.0, true, 123456789},
        {"9223372036854775807", 9223372036854775807.0, true, INT64_MAX},
        {"-9223372036854775808", -9223372036854775808.0, true, INT64_MIN},
        {"9223372036854775808", 9223372036854775808.0, false, 0},   // past int64: a double only
        {"1.5", 1.5, false, 0},
        {"-0.0", -0.0, false, 0},
        {"1e3", 1000.0, false, 0},
        {"1E+3", 1000.0, false, 0},
        {"1e-3", 0.001, false, 0},
        {"1e-12", 1e-12, false, 0},
        {"0.1", 0.1, false, 0},
        {"2.6592", 2.6592, false, 0},
        {"0.00392156862745098", 0.00392156862745098, false, 0},
        {"1.7976931348623157e308", 1.7976931348623157e308, false, 0},
        {"4.9e-324", 4.9e-324, false, 0},                   // smallest subnormal
        {"1e-400", 0.0, false, 0},                          // underflows to zero (as serde_json)
        // correctly rounded: halfway between two doubles rounds to even
        {"9007199254740993", 9007199254740992.0, true, 9007199254740993},
        {"2.2250738585072011e-308", 2.2250738585072011e-308, false, 0},
        {"0.30000000000000004", 0.30000000000000004, false, 0},
        {"123456789012345678901234567890", 1.2345678901234568e29, false, 0},
        // the edges of the exact path (a significand of at most 2^53, an exponent within +-22)
        // and what lies past them (kept as text, converted by strtod when read)
        {"1e22", 1e22, false, 0},
        {"1e23", 1e23, false, 0},
        {"9007199254740992.5", 9007199254740992.0, false, 0},
        {"9007199254740993.0", 9007199254740992.0, false, 0},
        {"900719925474099.5", 900719925474099.5, false, 0},   // (double)9007199254740995 / 10 is .625
        {"9007199254740995e-22", 9007199254740995e-22, false, 0},
        {"0.0000000000000000000001", 1e-22, false, 0},
        {"0.00000000000000000000001", 1e-23, false, 0},
        {"-12.345678901234567", -12.345678901234567, false, 0},
        {"-4.1406588554382324", -4.1406588554382324, false, 0},
        {"1e308", 1e308, false, 0},
        {"0.17976931348623157e309", 1.7976931348623157e308, false, 0},
        {"17976931348623157e292", 1.7976931348623157e308, false, 0},
        {"0e999999999999", 0.0, false, 0},
        {"-0e-5", -0.0, false, 0},
    };
    for (size_t k = 0; k < WE_ARRAY_LEN(cases); k++) {
        const we_json *v = ok(&a, cases[k].s);
        if (!v) continue;
        CHECKF(v->type == WE_JSON_NUMBER, "%s is a number", cases[k].s);
        double f = NAN;
        CHECKF(we_json_as_double(v, &f) && f == cases[k].f && signbit(f) == signbit(cases[k].f),
               "%s -> %.17g (want %.17g)", cases[k].s, f, cases[k].f);
        CHECKF(v->u.num.is_int == cases[k].is_int, "%s is_int", cases[k].s);
        if (cases[k].is_int) CHECKF(v->u.num.i == cases[k].i, "%s exact integer", cases[k].s);
        // what is not exact keeps its text, for readers that round their own way (serde_json)
        else if (v->u.num.text) CHECKF(strcmp(v->u.num.text, cases[k].s) == 0 && v->len == strlen(cases[k].s), "%s text", cases[k].s);
    }
    // exact ones need no text; 17 significant digits do
    CHECK(ok(&a, "2.6592")->u.num.text == NULL && ok(&a, "1e-12")->u.num.text == NULL);
    CHECK(ok(&a, "-12.345678901234567")->u.num.text != NULL && ok(&a, "1e23")->u.num.text != NULL);
    // a long literal (past the on-stack copy) still rounds correctly: 0.(590 zeros)1e590 = 0.1
    char long_num[700];
    size_t ln = 0;
    long_num[ln++] = '0'; long_num[ln++] = '.';
    for (int z = 0; z < 590; z++) long_num[ln++] = '0';
    ln += (size_t)snprintf(long_num + ln, sizeof long_num - ln, "1e590");
    const we_json *v = ok(&a, long_num);
    double d = 0;
    CHECKF(we_json_as_double(v, &d) && d == 0.1, "long literal -> %.17g", d);

    // as_int: exact integers, also when written as a float
    int64_t i = 0;
    CHECK(we_json_as_int(ok(&a, "512.0"), &i) && i == 512);
    CHECK(we_json_as_int(ok(&a, "1e3"), &i) && i == 1000);
    CHECK(!we_json_as_int(ok(&a, "1.5"), &i));
    CHECK(!we_json_as_int(ok(&a, "1e300"), &i));
    CHECK(we_json_as_double(ok(&a, "-2"), &d) && d == -2.0);

    // Python's extensions
    v = ok(&a, "[NaN, Infinity, -Infinity]");
    CHECK(v && isnan(we_json_at(v, 0)->u.num.f));
    CHECK(v && isinf(we_json_at(v, 1)->u.num.f) && we_json_at(v, 1)->u.num.f > 0);
    CHECK(v && isinf(we_json_at(v, 2)->u.num.f) && we_json_at(v, 2)->u.num.f < 0);
    CHECK(v && !we_json_as_int(we_json_at(v, 0), &i));

    bad("01", WEMBED_STATUS_BAD_FORMAT, "1:1", "leading zero");
    bad("-01", WEMBED_STATUS_BAD_FORMAT, "1:2", "leading zero");
    bad("-", WEMBED_STATUS_BAD_FORMAT, "1:2", "expected a digit");
    bad("+1", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value");
    bad(".5", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value");
    bad("1.", WEMBED_STATUS_BAD_FORMAT, "1:3", "after '.'");
    bad("1.e5", WEMBED_STATUS_BAD_FORMAT, "1:3", "after '.'");
    bad("1e", WEMBED_STATUS_BAD_FORMAT, "1:3", "exponent");
    bad("1e+", WEMBED_STATUS_BAD_FORMAT, "1:4", "exponent");
    bad("0x10", WEMBED_STATUS_BAD_FORMAT, "1:2", "after a number");
    bad("12a", WEMBED_STATUS_BAD_FORMAT, "1:3", "after a number");
    bad("[1 2]", WEMBED_STATUS_BAD_FORMAT, "1:4", "expected ',' or ']'");
    bad("1e400", WEMBED_STATUS_LIMIT, "1:1", "out of the range");
    bad("-1e400", WEMBED_STATUS_LIMIT, "1:1", "out of the range");
    bad("1.8e308", WEMBED_STATUS_LIMIT, "1:1", "out of the range");
    bad("[0, 0.18e309]", WEMBED_STATUS_LIMIT, "1:5", "out of the range");
    bad("1e99999999999999999999", WEMBED_STATUS_LIMIT, "1:1", "out of the range");
    bad("Inf", WEMBED_STATUS_BAD_FORMAT, "1:1", "Infinity");
    bad("-Infinit", WEMBED_STATUS_BAD_FORMAT, "1:1", "-Infinity");
    bad("nan", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value");
    we_arena_free(&a);
}

static void test_strings(void) {
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *v;
    size_t n = 0;

    v = ok(&a, "\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"");
    CHECK(v && strcmp(v->u.str, "a\"b\\c/d\be\ff\ng\rh\ti") == 0 && v->len == 17);
    // \u escapes: ASCII, 2- and 3-byte code points, NUL inside a string (len counts it)
    v = ok(&a, "\"\\u0041\\u00e9\\u20AC\\u0000z\"");
    CHECK(v && v->len == 1 + 2 + 3 + 1 + 1 && memcmp(v->u.str, "A\xC3\xA9\xE2\x82\xAC\0z", 8) == 0);
    CHECK(v && v->u.str[v->len] == 0);
    // a surrogate pair is one astral code point (U+1F600), upper and lower case hex
    v = ok(&a, "\"\\uD83D\\uDE00|\\ud83d\\ude00\"");
    CHECK(v && v->len == 9 && memcmp(v->u.str, "\xF0\x9F\x98\x80|\xF0\x9F\x98\x80", 9) == 0);
    // U+10FFFF, the last code point
    v = ok(&a, "\"\\uDBFF\\uDFFF\"");
    CHECK(v && v->len == 4 && memcmp(v->u.str, "\xF4\x8F\xBF\xBF", 4) == 0);
    // raw UTF-8 passes through unchanged, incl. a literal U+FFFD and 4-byte sequences
    const char *raw = "\"h\xC3\xA9llo \xE4\xB8\xAD\xE6\x96\x87 \xEF\xBF\xBD \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB\"";
    v = ok(&a, raw);
    CHECK(v && v->len == strlen(raw) - 2 && memcmp(v->u.str, raw + 1, v->len) == 0);
    CHECK(we_json_as_str(v, &n) && n == strlen(raw) - 2);
    // DEL (0x7f) needs no escape; keys are decoded too
    v = ok(&a, "{\"\\u006By\\u0000\": \"\x7f\"}");
    CHECK(v && v->u.members[0].key_len == 3 && memcmp(v->u.members[0].key, "ky\0", 3) == 0);

    // lone surrogates (serde_json refuses them; so do we)
    bad("\"\\uD800\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "lone high surrogate \\uD800");
    bad("\"\\uD800x\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "lone high surrogate");
    bad("\"\\uD800\\u0041\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "lone high surrogate");
    bad("\"\\uD800\\uD800\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "lone high surrogate");
    bad("\"\\uD800\\n\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "lone high surrogate");
    bad("\"ab\\uDC00\"", WEMBED_STATUS_BAD_FORMAT, "1:4", "lone low surrogate \\uDC00");
    bad("\"\\uDFFF\\uD800\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "lone low surrogate");
    // bad escapes
    bad("\"\\x41\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid escape");
    bad("\"\\'\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid escape");
    bad("\"\\u12\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "4 hex digits");
    bad("\"\\u12G4\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "4 hex digits");
    bad("\"\\U0041\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid escape");
    // unescaped control characters
    bad("\"a\nb\"", WEMBED_STATUS_BAD_FORMAT, "1:3", "control character 0x0A");
    bad("\"a\tb\"", WEMBED_STATUS_BAD_FORMAT, "1:3", "control character 0x09");
    bad_n("\"a\0b\"", 5, WEMBED_STATUS_BAD_FORMAT, "1:3", "control character 0x00");
    bad("\"\x1f\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "control character 0x1F");
    // unterminated
    bad("\"abc", WEMBED_STATUS_BAD_FORMAT, "1:1", "unterminated string");
    bad("\"abc\\", WEMBED_STATUS_BAD_FORMAT, "1:1", "unterminated string");
    bad("\"abc\\\"", WEMBED_STATUS_BAD_FORMAT, "1:1", "unterminated string");
    // invalid UTF-8: stray continuation, overlong, encoded surrogate, > U+10FFFF, truncated
    bad("\"\x80\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8 (byte 0x80)");
    bad("\"\xC0\xAF\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8 (byte 0xC0)");
    bad("\"\xE0\x80\xAF\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8");
    bad("\"\xED\xA0\x80\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8 (byte 0xED)");
    bad("\"\xF4\x90\x80\x80\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8");
    bad("\"\xF5\x80\x80\x80\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8");
    bad("\"\xE4\xB8\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8");
    bad("\"\xFF\"", WEMBED_STATUS_BAD_FORMAT, "1:2", "invalid UTF-8");
    // column counts code points: the bad escape comes after 3 two-byte characters
    bad("\"\xC3\xA9\xC3\xA9\xC3\xA9\\q\"", WEMBED_STATUS_BAD_FORMAT, "1:5", "invalid escape");
    // single quotes are not JSON
    bad("'a'", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value, found '''");
    we_arena_free(&a);
}

static void test_syntax_errors(void) {
    bad("", WEMBED_STATUS_BAD_FORMAT, "1:1", "unexpected end of input, expected a value");
    bad("   \n  ", WEMBED_STATUS_BAD_FORMAT, "2:3", "unexpected end of input");
    bad("[", WEMBED_STATUS_BAD_FORMAT, "1:2", "unexpected end of input");
    bad("[1", WEMBED_STATUS_BAD_FORMAT, "1:3", "expected ',' or ']'");
    bad("[1,", WEMBED_STATUS_BAD_FORMAT, "1:4", "unexpected end of input");
    bad("[1,]", WEMBED_STATUS_BAD_FORMAT, "1:4", "trailing comma before ']'");
    bad("{\"a\":1,}", WEMBED_STATUS_BAD_FORMAT, "1:8", "trailing comma before '}'");
    bad("[,1]", WEMBED_STATUS_BAD_FORMAT, "1:2", "expected a value, found ','");
    bad("{,}", WEMBED_STATUS_BAD_FORMAT, "1:2", "expected a string key or '}'");
    bad("{\"a\" 1}", WEMBED_STATUS_BAD_FORMAT, "1:6", "expected ':'");
    bad("{\"a\":}", WEMBED_STATUS_BAD_FORMAT, "1:6", "expected a value, found '}'");
    bad("{\"a\":1 \"b\":2}", WEMBED_STATUS_BAD_FORMAT, "1:8", "expected ',' or '}' after an object member");
    bad("{a:1}", WEMBED_STATUS_BAD_FORMAT, "1:2", "expected a string key or '}', found 'a'");
    bad("{1:1}", WEMBED_STATUS_BAD_FORMAT, "1:2", "string key");
    bad("{\"a\":1,2}", WEMBED_STATUS_BAD_FORMAT, "1:8", "expected a string key, found '2'");
    bad("[1]]", WEMBED_STATUS_BAD_FORMAT, "1:4", "after the JSON value");
    bad("{}{}", WEMBED_STATUS_BAD_FORMAT, "1:3", "after the JSON value");
    bad("1 2", WEMBED_STATUS_BAD_FORMAT, "1:3", "after the JSON value");
    bad("[}", WEMBED_STATUS_BAD_FORMAT, "1:2", "expected a value, found '}'");
    bad("{]", WEMBED_STATUS_BAD_FORMAT, "1:2", "expected a string key or '}', found ']'");
    bad("[1}", WEMBED_STATUS_BAD_FORMAT, "1:3", "expected ',' or ']'");
    bad("{\"a\":1]", WEMBED_STATUS_BAD_FORMAT, "1:7", "expected ',' or '}'");
    bad("tru", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value");
    bad("truex", WEMBED_STATUS_BAD_FORMAT, "1:5", "after a literal");
    bad("nul", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value");
    bad("True", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value, found 'T'");
    bad("[1] // comment", WEMBED_STATUS_BAD_FORMAT, "1:5", "after the JSON value");
    bad("/* c */ 1", WEMBED_STATUS_BAD_FORMAT, "1:1", "expected a value, found '/'");
    bad("\xC3\xA9", WEMBED_STATUS_BAD_FORMAT, "1:1", "found byte 0xC3");
    bad("[1,\f2]", WEMBED_STATUS_BAD_FORMAT, "1:4", "byte 0x0C");         // form feed is not whitespace
    bad("\xEF\xBB\xBF", WEMBED_STATUS_BAD_FORMAT, "1:2", "unexpected end of input");
    // multi-line positions
    bad("{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}", WEMBED_STATUS_BAD_FORMAT, "3:14", "expected a value, found ','");
    bad("{\r\n\"a\": tru\r\n}", WEMBED_STATUS_BAD_FORMAT, "2:6", "expected a value");
    // duplicate keys, small and big objects (the second path uses a hash set)
    bad("{\"a\":1,\"b\":2,\"a\":3}", WEMBED_STATUS_BAD_FORMAT, "1:19", "duplicate key \"a\"");
    bad("{\"x\":{\"a\":1,\"a\":1}}", WEMBED_STATUS_BAD_FORMAT, "1:18", "duplicate key \"a\"");
    bad("{\"a\\u0000\":1,\"a\\u0000\":1}", WEMBED_STATUS_BAD_FORMAT, NULL, "duplicate key");
    {
        char big[4096];
        size_t k = 0;
        k += (size_t)snprintf(big + k, sizeof big - k, "{");
        for (int i = 0; i < 100; i++) k += (size_t)snprintf(big + k, sizeof big - k, "\"k%d\":%d,", i, i);
        k += (size_t)snprintf(big + k, sizeof big - k, "\"k57\":0}");
        bad(big, WEMBED_STATUS_BAD_FORMAT, NULL, "duplicate key \"k57\"");
        k = 0;
        k += (size_t)snprintf(big + k, sizeof big - k, "{");
        for (int i = 0; i < 100; i++) k += (size_t)snprintf(big + k, sizeof big - k, "\"k%d\":%d,", i, i);
        k += (size_t)snprintf(big + k, sizeof big - k, "\"k100\":0}");
        we_arena a;
        we_arena_init(&a, 0);
        const we_json *v = ok(&a, big);
        int64_t i = 0;
        CHECK(v && v->len == 101 && we_json_as_int(we_json_get(v, "k99"), &i) && i == 99);
        we_arena_free(&a);
    }
    // keys that differ only after a NUL are different keys
    we_arena a;
    we_arena_init(&a, 0);
    CHECK(ok(&a, "{\"a\\u0000b\":1,\"a\\u0000c\":2}") != NULL);
    we_arena_free(&a);
}

static void test_limits(void) {
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *v;
    we_err err;
    we_json_limits lim = we_json_default_limits();
    CHECK(lim.max_bytes == (size_t)256 << 20 && lim.max_depth == 128);

    // depth: exactly max_depth levels pass, one more is refused
    char deep[1024];
    for (int d = 127; d <= 129; d++) {
        size_t k = 0;
        for (int i = 0; i < d; i++) deep[k++] = '[';
        for (int i = 0; i < d; i++) deep[k++] = ']';
        wembed_status rc = parse_n(&a, deep, k, NULL, &v, &err);
        if (d <= 128) CHECKF(rc == WEMBED_STATUS_OK, "depth %d: %s", d, err.msg);
        else CHECKF(rc == WEMBED_STATUS_LIMIT && strstr(err.msg, "JSON 1:129: nesting deeper than 128"), "depth %d: %s", d, err.msg);
    }
    // objects count as levels too
    {
        size_t k = 0;
        for (int i = 0; i < 129; i++) { memcpy(deep + k, "{\"a\":", 5); k += 5; }
        deep[k++] = '1';
        for (int i = 0; i < 129; i++) deep[k++] = '}';
        wembed_status rc = parse_n(&a, deep, k, NULL, &v, &err);
        CHECKF(rc == WEMBED_STATUS_LIMIT && strstr(err.msg, "max_depth"), "object depth: %s", err.msg);
    }
    // a deep document far past any recursion limit: refused cleanly, no stack overflow
    {
        size_t n = 1 << 20;
        char *huge = malloc(n);
        memset(huge, '[', n);
        wembed_status rc = parse_n(&a, huge, n, NULL, &v, &err);
        CHECK(rc == WEMBED_STATUS_LIMIT);
        we_json_limits l2 = lim;
        l2.max_depth = 1 << 21;   // even with the limit lifted, the parser does not recurse
        rc = parse_n(&a, huge, n, &l2, &v, &err);
        CHECKF(rc == WEMBED_STATUS_BAD_FORMAT && strstr(err.msg, "unexpected end of input"), "%s", err.msg);
        free(huge);
    }

    // max_bytes
    we_json_limits l = lim;
    l.max_bytes = 10;
    CHECK(parse_n(&a, "[1,2,3,4]", 9, &l, &v, &err) == WEMBED_STATUS_OK);
    CHECK(parse_n(&a, "[1,2,3,4,5]", 11, &l, &v, &err) == WEMBED_STATUS_LIMIT);
    CHECKF(strstr(err.msg, "11 bytes") && strstr(err.msg, "max_bytes"), "%s", err.msg);

    // max_nodes: [1,2,3] is 4 values
    l = lim;
    l.max_nodes = 4;
    CHECK(parse_n(&a, "[1,2,3]", 7, &l, &v, &err) == WEMBED_STATUS_OK);
    CHECK(parse_n(&a, "[1,2,3,4]", 9, &l, &v, &err) == WEMBED_STATUS_LIMIT);
    CHECKF(strstr(err.msg, "JSON 1:8: more than 4 values (max_nodes"), "%s", err.msg);
    CHECK(parse_n(&a, "{\"a\":{\"b\":[]}}", 14, &l, &v, &err) == WEMBED_STATUS_OK);

    // max_string counts decoded bytes
    l = lim;
    l.max_string = 4;
    CHECK(parse_n(&a, "\"abcd\"", 6, &l, &v, &err) == WEMBED_STATUS_OK);
    CHECK(parse_n(&a, "\"\\u0061\\u0062\\u0063\\u0064\"", 26, &l, &v, &err) == WEMBED_STATUS_OK);
    CHECK(parse_n(&a, "[\"abcde\"]", 9, &l, &v, &err) == WEMBED_STATUS_LIMIT);
    CHECKF(strstr(err.msg, "JSON 1:2: string of 5 bytes") && strstr(err.msg, "max_string"), "%s", err.msg);
    CHECK(parse_n(&a, "{\"abcde\":1}", 11, &l, &v, &err) == WEMBED_STATUS_LIMIT);

    // bad arguments
    CHECK(we_json_parse(NULL, "1", 1, NULL, &v, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(we_json_parse(&a, NULL, 1, NULL, &v, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(we_json_parse(&a, NULL, 0, NULL, &v, &err) == WEMBED_STATUS_BAD_FORMAT);
    // an input without a NUL terminator is read only to n
    CHECK(parse_n(&a, "[1]xxxx", 3, NULL, &v, &err) == WEMBED_STATUS_OK);
    CHECK(parse_n(&a, "123", 2, NULL, &v, &err) == WEMBED_STATUS_OK && v->u.num.i == 12);
    CHECK(parse_n(&a, "tru", 3, NULL, &v, &err) == WEMBED_STATUS_BAD_FORMAT);
    CHECK(parse_n(&a, "true", 3, NULL, &v, &err) == WEMBED_STATUS_BAD_FORMAT);
    we_arena_free(&a);
    CHECK_EQ_INT(we_alloc_live(), 0);
}

// Every allocation of a parse may fail: the status says so and nothing leaks.
static void test_alloc_fail(void) {
    // Big enough to grow the scratch stack, need several arena blocks, long numbers and a
    // hash set for the duplicate check.
    char doc[8192];
    size_t k = 0;
    k += (size_t)snprintf(doc + k, sizeof doc - k, "{\"long\": 0.");
    for (int i = 0; i < 300; i++) doc[k++] = '1';
    k += (size_t)snprintf(doc + k, sizeof doc - k, ", \"arr\": [");
    for (int i = 0; i < 200; i++) k += (size_t)snprintf(doc + k, sizeof doc - k, "%s{\"k\":\"v%d\"}", i ? "," : "", i);
    k += (size_t)snprintf(doc + k, sizeof doc - k, "]");
    for (int i = 0; i < 40; i++) k += (size_t)snprintf(doc + k, sizeof doc - k, ", \"m%d\": [%d]", i, i);
    k += (size_t)snprintf(doc + k, sizeof doc - k, "}");
    int64_t live0 = we_alloc_live();
    int n_ok = 0, n_fail = 0;
    for (int nth = 0; nth < 200; nth++) {
        we_arena a;
        we_arena_init(&a, 1024);
        const we_json *v = NULL;
        we_err err;
        we_alloc_fail_after(nth);
        wembed_status rc = we_json_parse(&a, doc, k, NULL, &v, &err);
        we_alloc_fail_after(-1);
        if (rc == WEMBED_STATUS_OK) {
            n_ok++;
            CHECK(v && v->len == 42 && we_json_at(we_json_get(v, "arr"), 199) != NULL);
        } else {
            n_fail++;
            CHECKF(rc == WEMBED_STATUS_ALLOC_FAILED && v == NULL, "nth %d: %s (%s)", nth, wembed_status_str(rc), err.msg);
        }
        we_arena_free(&a);
        CHECKF(we_alloc_live() == live0, "nth %d: leak", nth);
        if (rc == WEMBED_STATUS_OK) break;
    }
    CHECKF(n_ok == 1 && n_fail > 5, "alloc-fail sweep: %d failures then success", n_fail);
}

// The real files the engine reads parse, and the values come out right.
static void test_real_files(void) {
    static const char *files[] = {
        "fixtures/bert/config.json", "fixtures/bert/modules.json", "fixtures/bert/1_Pooling/config.json",
        "fixtures/nomic_bert/config.json", "fixtures/clip/config.json", "fixtures/clip/preprocessor_config.json",
        "fixtures/clip/manifest.json", "fixtures/bert/manifest.json",
    };
    for (size_t f = 0; f < WE_ARRAY_LEN(files); f++) {
        size_t n = 0;
        uint8_t *buf = we_test_read_file(we_test_data_path(files[f]), &n);
        CHECKF(buf != NULL, "read %s", files[f]);
        if (!buf) continue;
        we_arena a;
        we_arena_init(&a, 0);
        const we_json *v = NULL;
        we_err err;
        wembed_status rc = we_json_parse(&a, (const char *)buf, n, NULL, &v, &err);
        CHECKF(rc == WEMBED_STATUS_OK, "%s: %s", files[f], err.msg);
        if (strcmp(files[f], "fixtures/clip/config.json") == 0 && v) {
            int64_t i = 0;
            double d = 0;
            CHECK(we_json_as_int(we_json_get(we_json_get(v, "vision_config"), "patch_size"), &i) && i == 8);
            CHECK(we_json_as_double(we_json_get(v, "logit_scale_init_value"), &d) && d == 2.6592);
            CHECK(we_json_str_eq(we_json_get(v, "model_type"), "clip"));
        }
        if (strcmp(files[f], "fixtures/clip/preprocessor_config.json") == 0 && v) {
            double d = 0;
            CHECK(we_json_as_double(we_json_at(we_json_get(v, "image_std"), 2), &d) && d == 0.27577711);
        }
        if (strcmp(files[f], "fixtures/nomic_bert/config.json") == 0 && v) {
            CHECK(we_json_is(we_json_get(v, "rotary_scaling_factor"), WE_JSON_NULL));
            bool b = true;
            CHECK(we_json_as_bool(we_json_get(v, "mlp_fc1_bias"), &b) && !b);
        }
        we_arena_free(&a);
        free(buf);
    }
    // tokenizer.json-sized input: a 30k-key vocabulary object (hash-set duplicate check)
    size_t cap = 1 << 20, k = 0;
    char *doc = malloc(cap);
    k += (size_t)snprintf(doc + k, cap - k, "{\"model\":{\"vocab\":{");
    for (int i = 0; i < 30522; i++) k += (size_t)snprintf(doc + k, cap - k, "%s\"tok%d\":%d", i ? "," : "", i, i);
    k += (size_t)snprintf(doc + k, cap - k, "}}}");
    we_arena a;
    we_arena_init(&a, 0);
    const we_json *v = NULL;
    we_err err;
    CHECKF(we_json_parse(&a, doc, k, NULL, &v, &err) == WEMBED_STATUS_OK, "%s", err.msg);
    const we_json *vocab = we_json_get(we_json_get(v, "model"), "vocab");
    int64_t i = 0;
    CHECK(vocab && vocab->len == 30522 && we_json_as_int(we_json_get(vocab, "tok30521"), &i) && i == 30521);
    we_arena_free(&a);
    free(doc);
}

// The sinks: the items of the array or members of the object at a sink's path go to its function
// (each a tree valid during the call, a member with its key), in order, and nowhere else;
// everything else is the tree as without a sink.
typedef struct sink_log {
    char seen[512];
    size_t n;
    uint32_t next;            // the index the next item must have
    int fail_at;              // return an error at this item (-1: never)
} sink_log;

static wembed_status log_item(void *user, const char *key, uint32_t key_len, const we_json *item, uint32_t index, we_err *err) {
    sink_log *lg = user;
    CHECKF(index == lg->next, "item %u, want %u", index, lg->next);
    lg->next = index + 1;
    if ((int)index == lg->fail_at) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "item %u refused", index);
    if (key) lg->n += (size_t)snprintf(lg->seen + lg->n, sizeof lg->seen - lg->n, "%.*s=", (int)key_len, key);
    // what the item is: a string's text, a number, or a container's shape
    int64_t i = 0;
    const char *str;
    if ((str = we_json_as_str(item, NULL))) lg->n += (size_t)snprintf(lg->seen + lg->n, sizeof lg->seen - lg->n, "s:%s ", str);
    else if (we_json_as_int(item, &i)) lg->n += (size_t)snprintf(lg->seen + lg->n, sizeof lg->seen - lg->n, "i:%lld ", (long long)i);
    else if (we_json_is(item, WE_JSON_ARRAY))
        lg->n += (size_t)snprintf(lg->seen + lg->n, sizeof lg->seen - lg->n, "a%u:%s ", item->len,
                                  item->len ? (we_json_as_str(we_json_at(item, 0), NULL) ? "s" : "x") : "-");
    else if (we_json_is(item, WE_JSON_OBJECT))
        lg->n += (size_t)snprintf(lg->seen + lg->n, sizeof lg->seen - lg->n, "o:%s ", item->len ? item->u.members[0].key : "-");
    else lg->n += (size_t)snprintf(lg->seen + lg->n, sizeof lg->seen - lg->n, "? ");
    return WEMBED_STATUS_OK;
}

static wembed_status parse_sink(we_arena *a, const char *s, const we_json_sink *sink, const we_json **v, we_err *err) {
    we_err_clear(err);
    sink_log *lg = sink->user;
    lg->next = 0;
    lg->n = 0;
    lg->seen[0] = 0;
    return we_json_parse_sink(a, s, strlen(s), NULL, sink, 1, v, err);
}

static void test_sink(void) {
    static const char *const path[] = { "model", "vocab" };
    const char *doc = "{\"vocab\": [9], \"model\": {\"type\": \"Unigram\", \"x\": {\"vocab\": [8]},"
                      " \"vocab\": [[\"\u2581a\", -1.5], \"s\", 7, {\"k\": [3, [4]]}, [], [[\"deep\"]], -12.345678901234567],"
                      " \"after\": [5, 6]}, \"vocab2\": {\"model\": {\"vocab\": [1]}}}";
    we_arena a;
    we_arena_init(&a, 0);
    sink_log lg;
    memset(&lg, 0, sizeof lg);
    lg.fail_at = -1;
    we_json_sink sink = { path, 2, log_item, &lg };
    const we_json *v = NULL;
    we_err err;
    CHECKF(we_json_parse_sink(&a, doc, strlen(doc), NULL, &sink, 1, &v, &err) == WEMBED_STATUS_OK, "%s", err.msg);
    CHECKF(strcmp(lg.seen, "a2:s s:s i:7 o:k a0:- a1:x ? ") == 0, "items seen: %s", lg.seen);
    const we_json *vocab = we_json_get(we_json_get(v, "model"), "vocab");
    CHECK(we_json_is(vocab, WE_JSON_ARRAY) && vocab->len == 7 && vocab->u.items == NULL && we_json_at(vocab, 0) == NULL &&
          we_json_at(vocab, 6) == NULL);
    int64_t i = 0;
    // arrays at other paths are in the tree as usual, the members after the sink's too
    CHECK(we_json_as_int(we_json_at(we_json_get(v, "vocab"), 0), &i) && i == 9);
    CHECK(we_json_as_int(we_json_at(we_json_get(we_json_get(we_json_get(v, "model"), "x"), "vocab"), 0), &i) && i == 8);
    CHECK(we_json_as_int(we_json_at(we_json_get(we_json_get(v, "model"), "after"), 1), &i) && i == 6);
    CHECK(we_json_as_int(we_json_at(we_json_get(we_json_get(we_json_get(v, "vocab2"), "model"), "vocab"), 0), &i) && i == 1);
    CHECK(we_json_str_eq(we_json_get(we_json_get(v, "model"), "type"), "Unigram"));
    we_arena_free(&a);

    // An object at the path is handed over member by member, with the keys (a key repeated is
    // the function's to see); an empty array is handed over with no items.
    memset(&lg, 0, sizeof lg);
    lg.fail_at = -1;
    CHECK(parse_sink(&a, "{\"model\": {\"vocab\": {\"a\": 1, \"b\u00e9\": [2], \"\": {\"c\": 3}, \"a\": 4}}}", &sink, &v, &err) == WEMBED_STATUS_OK);
    CHECKF(strcmp(lg.seen, "a=i:1 b\xc3\xa9=a1:x =o:c a=i:4 ") == 0, "members seen: %s", lg.seen);
    const we_json *obj = we_json_get(we_json_get(v, "model"), "vocab");
    CHECK(we_json_is(obj, WE_JSON_OBJECT) && obj->len == 4 && obj->u.members == NULL && we_json_get(obj, "a") == NULL);
    memset(&lg, 0, sizeof lg);
    lg.fail_at = -1;
    CHECK(parse_sink(&a, "{\"model\": {\"vocab\": []}}", &sink, &v, &err) == WEMBED_STATUS_OK &&
          lg.next == 0 && we_json_get(we_json_get(v, "model"), "vocab")->len == 0);
    we_arena_free(&a);

    // Two sinks, each at its path, in either order; a container of the sink's path inside the
    // other sink's container goes to the outer one.
    {
        static const char *const mpath[] = { "model", "merges" };
        sink_log lm;
        memset(&lg, 0, sizeof lg);
        memset(&lm, 0, sizeof lm);
        lg.fail_at = lm.fail_at = -1;
        const we_json_sink two[] = { { path, 2, log_item, &lg }, { mpath, 2, log_item, &lm } };
        const char *d2 = "{\"model\": {\"merges\": [\"a b\", [\"c\", \"d\"]], \"vocab\": {\"x\": {\"model\": {\"merges\": [1]}}, \"y\": 2}}}";
        CHECKF(we_json_parse_sink(&a, d2, strlen(d2), NULL, two, 2, &v, &err) == WEMBED_STATUS_OK, "%s", err.msg);
        CHECKF(strcmp(lg.seen, "x=o:model y=i:2 ") == 0, "vocab seen: %s", lg.seen);
        CHECKF(strcmp(lm.seen, "s:a b a2:s ") == 0, "merges seen: %s", lm.seen);
        CHECK(we_json_get(we_json_get(v, "model"), "merges")->len == 2 && we_json_get(we_json_get(v, "model"), "vocab")->len == 2);
        we_arena_free(&a);
        const we_json_sink bad = { NULL, 2, log_item, &lg };
        CHECK(we_json_parse_sink(&a, d2, strlen(d2), NULL, &bad, 1, &v, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
        CHECK(we_json_parse_sink(&a, d2, strlen(d2), NULL, NULL, 1, &v, &err) == WEMBED_STATUS_INVALID_ARGUMENT);
        we_arena_free(&a);
    }

    // The function's refusal ends the parse with its status and message; syntax errors inside
    // the array are still errors with their position.
    memset(&lg, 0, sizeof lg);
    lg.fail_at = 1;
    we_err_clear(&err);
    CHECK(parse_sink(&a, "{\"model\": {\"vocab\": [1, 2, 3]}}", &sink, &v, &err) == WEMBED_STATUS_BAD_FORMAT &&
          v == NULL && strcmp(err.msg, "item 1 refused") == 0 && lg.next == 2);
    memset(&lg, 0, sizeof lg);
    lg.fail_at = -1;
    CHECK(parse_sink(&a, "{\"model\": {\"vocab\": [1, [2,]]}}", &sink, &v, &err) == WEMBED_STATUS_BAD_FORMAT &&
          strstr(err.msg, "JSON 1:28: trailing comma") != NULL);
    CHECK(parse_sink(&a, "{\"model\": {\"vocab\": [1, \"\\ud800\"]}}", &sink, &v, &err) == WEMBED_STATUS_BAD_FORMAT &&
          strstr(err.msg, "lone high surrogate") != NULL);
    we_arena_free(&a);
    CHECK_EQ_INT(we_alloc_live(), 0);
}

int main(void) {
    test_values();
    test_numbers();
    test_strings();
    test_syntax_errors();
    test_limits();
    test_alloc_fail();
    test_real_files();
    test_sink();
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-json");
}
