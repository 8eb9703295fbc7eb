/* Label selector parser and matcher (PromQL rules, see query/selector.h).
 *
 * Data flow: the API layer hands the `query` / `label_selector` text to selector_parse; the
 * query engine then calls selector_match per series. Parsing is a single left-to-right pass
 * with one byte of lookahead; every error names the byte offset where it was detected.
 *
 * Invariant: a parsed selector is immutable and safe to share between query threads, so
 * matcher_match must never write to the matcher. Regex matching therefore builds its PCRE2
 * match data per call, in a small stack arena (no malloc on the common JIT path).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "query/selector.h"

#include <pcre2.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/utf8.h"

/* Regexes follow Prometheus: `^(?s:re)$` under Go RE2. Anchoring uses flags rather than text
 * so a pattern such as `a)|(b` cannot escape the wrapper; DOLLAR_ENDONLY makes `$` mean the
 * end of text as in Go; no UCP, so \d \w \b stay ASCII as in Go; \C is refused. */
#define SEL_RE_OPTS                                                                           \
    (PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY |   \
     PCRE2_NEVER_BACKSLASH_C)

/* Backtracking bounds, so a hostile pattern costs milliseconds, not minutes, per series.
 * RE2 is linear; PCRE2 is not. Hitting a limit counts as "the regex did not match". */
#define SEL_MATCH_LIMIT 1000000u
#define SEL_HEAP_LIMIT_KIB 65536u

/* ---- lexing helpers ------------------------------------------------------------------ */

typedef struct lexer {
    const char *s;
    size_t len;
    size_t pos;
    err_t *err;
} lexer_t;

/* PromQL's whitespace set. */
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '.'; }

/* Profile type ids (`a:b:c:d:e`, parts may be empty) and legacy app names. */
static bool is_metric_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == ':' || c == '.' || c == '-' || c == '/';
}

static bool is_quote(char c) { return c == '"' || c == '\'' || c == '`'; }

static void skip_ws(lexer_t *lx)
{
    while (lx->pos < lx->len && is_space(lx->s[lx->pos]))
        lx->pos++;
}

static bool at_end(const lexer_t *lx) { return lx->pos >= lx->len; }

static char peek(const lexer_t *lx) { return lx->pos < lx->len ? lx->s[lx->pos] : '\0'; }

/* Describes byte c for an error message: `'x'` when printable, else `byte 0xNN`. */
static const char *describe(char *tmp, size_t cap, char c)
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7F)
        snprintf(tmp, cap, "'%c'", c);
    else
        snprintf(tmp, cap, "byte 0x%02x", u);
    return tmp;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the escape after a backslash at lx->pos (which points at the backslash) into o.
 * Go rules: \a \b \f \n \r \t \v \\, the opening quote, \NNN octal (<= 255), \xNN (a raw
 * byte), \uNNNN and \UNNNNNNNN (a code point, no surrogates). OUT: *olen bytes written. */
static int lex_escape(lexer_t *lx, char quote, size_t qstart, char *o, size_t *olen)
{
    size_t at = lx->pos;
    lx->pos++;
    if (at_end(lx))
        return err_set(lx->err, EMB_EINVAL,
                       "selector: unterminated quoted string starting at offset %zu", qstart);
    char e = lx->s[lx->pos++];
    const char *simple = "a\ab\bf\fn\nr\rt\tv\v\\\\";
    for (const char *p = simple; *p; p += 2) {
        if (e == p[0]) {
            o[0] = p[1];
            *olen = 1;
            return 0;
        }
    }
    if (e == quote) {
        o[0] = e;
        *olen = 1;
        return 0;
    }
    int digits, base;
    uint32_t max;
    switch (e) {
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        lx->pos--; /* the first digit is part of the number */
        digits = 3, base = 8, max = 255;
        break;
    case 'x':
        digits = 2, base = 16, max = 255;
        break;
    case 'u':
        digits = 4, base = 16, max = 0x10FFFF;
        break;
    case 'U':
        digits = 8, base = 16, max = 0x10FFFF;
        break;
    default: {
        char tmp[16];
        return err_set(lx->err, EMB_EINVAL, "selector: unknown escape sequence \\%s at offset %zu",
                       describe(tmp, sizeof(tmp), e), at);
    }
    }
    uint32_t v = 0;
    for (int i = 0; i < digits; i++) {
        int d = at_end(lx) ? -1 : hexval(lx->s[lx->pos]);
        if (d < 0 || d >= base)
            return err_set(lx->err, EMB_EINVAL,
                           "selector: invalid escape sequence at offset %zu", at);
        v = v * (uint32_t)base + (uint32_t)d;
        lx->pos++;
    }
    if (v > max || (v >= 0xD800 && v < 0xE000))
        return err_set(lx->err, EMB_EINVAL,
                       "selector: escape sequence at offset %zu is not a valid code point", at);
    if (v == 0)
        return err_set(lx->err, EMB_EINVAL,
                       "selector: NUL escape at offset %zu is not allowed", at);
    if (e == 'u' || e == 'U') {
        *olen = utf8_encode(o, v);
    } else {
        o[0] = (char)v; /* \x and octal give a raw byte, as in Go */
        *olen = 1;
    }
    return 0;
}

/* Lexes the quoted string starting at lx->pos (a quote character) and unescapes it.
 * Double and single quotes take Go escapes and may not span lines; back quotes are raw
 * (carriage returns dropped, as Go does). Source text must be valid UTF-8 (Prometheus).
 * OUT: *out (owned, NUL-terminated), *out_len. */
static int lex_string(lexer_t *lx, char **out, size_t *out_len)
{
    size_t start = lx->pos;
    char q = lx->s[lx->pos++];
    /* The unescaped text is never longer than its source, which ends at the closing quote
     * (or where the error will be reported): size the copy by that, not by the rest of the
     * input, or a long selector with many strings would allocate quadratically. */
    size_t end = lx->pos;
    while (end < lx->len && lx->s[end] != q && (q == '`' || lx->s[end] != '\n'))
        end += (q != '`' && lx->s[end] == '\\' && end + 1 < lx->len) ? 2 : 1;
    char *o = xmalloc(end - lx->pos + 1);
    size_t n = 0;
    int rc = 0;
    for (;;) {
        if (at_end(lx) || (q != '`' && lx->s[lx->pos] == '\n')) {
            rc = err_set(lx->err, EMB_EINVAL,
                         "selector: unterminated %s string starting at offset %zu",
                         q == '`' ? "raw" : "quoted", start);
            goto out;
        }
        char c = lx->s[lx->pos];
        if (c == q) {
            lx->pos++;
            break;
        }
        if (c == '\\' && q != '`') {
            size_t k = 0;
            rc = lex_escape(lx, q, start, o + n, &k);
            if (rc)
                goto out;
            n += k;
            continue;
        }
        if (c == '\0') {
            rc = err_set(lx->err, EMB_EINVAL, "selector: NUL byte at offset %zu", lx->pos);
            goto out;
        }
        size_t k = utf8_decode(lx->s + lx->pos, lx->len - lx->pos, NULL);
        if (k == 0) {
            rc = err_set(lx->err, EMB_EINVAL, "selector: invalid UTF-8 at offset %zu", lx->pos);
            goto out;
        }
        if (!(q == '`' && c == '\r')) {
            memcpy(o + n, lx->s + lx->pos, k);
            n += k;
        }
        lx->pos += k;
    }
out:
    if (rc) {
        free(o);
        return rc;
    }
    o[n] = '\0';
    *out = o;
    *out_len = n;
    return 0;
}

/* ---- matchers -------------------------------------------------------------------------- */

static int compile_re(matcher_t *m, size_t off, err_t *err)
{
    int ec = 0;
    PCRE2_SIZE eo = 0;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)m->value, strlen(m->value), SEL_RE_OPTS, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", ec);
        return err_set(err, EMB_EINVAL,
                       "selector: invalid regex for label %s at offset %zu: %s "
                       "at pattern offset %zu",
                       m->name, off, (const char *)msg, (size_t)eo);
    }
    /* JIT is an optimisation: without it pcre2_match interprets, with the same results. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    m->re = re;
    return 0;
}

static void matcher_release(matcher_t *m)
{
    free(m->name);
    free(m->value);
    pcre2_code_free(m->re);
    pcre2_match_data_free(m->md);
    memset(m, 0, sizeof(*m));
}

/* Takes name and value (freed on failure too). off is the value's offset, for messages. */
static int push_matcher(selector_t *sel, char *name, match_op_t op, char *value, size_t off,
                        err_t *err)
{
    matcher_t m = {.name = name, .value = value, .op = op, .re = NULL, .md = NULL};
    if (op == MATCH_RE || op == MATCH_NRE) {
        int rc = compile_re(&m, off, err);
        if (rc) {
            matcher_release(&m);
            return rc;
        }
    }
    sel->m = xrealloc(sel->m, (sel->n + 1) * sizeof(*sel->m));
    sel->m[sel->n++] = m;
    return 0;
}

/* ---- parser ---------------------------------------------------------------------------- */

/* One item inside braces: `name op "value"` or a bare quoted metric name (`{"m", a="b"}`). */
static int parse_item(selector_t *sel, lexer_t *lx)
{
    char *name = NULL, *value = NULL;
    size_t nlen = 0, vlen = 0;
    size_t name_at = lx->pos;
    char tmp[16];
    int rc = 0;
    char c = peek(lx);

    if (is_quote(c)) {
        rc = lex_string(lx, &name, &nlen);
        if (rc)
            goto out;
        skip_ws(lx);
        if (at_end(lx) || peek(lx) == ',' || peek(lx) == '}') {
            /* Prometheus 3: a lone string is the metric name. */
            if (sel->metric) {
                rc = err_set(lx->err, EMB_EINVAL,
                             "selector: metric name given twice (offset %zu)", name_at);
                goto out;
            }
            if (nlen == 0 || !utf8_valid(name, nlen)) {
                rc = err_set(lx->err, EMB_EINVAL,
                             "selector: %s metric name at offset %zu", nlen ? "invalid" : "empty",
                             name_at);
                goto out;
            }
            sel->metric = name;
            name = NULL;
            goto out;
        }
    } else if (is_alpha(c)) {
        while (!at_end(lx) && is_name_char(peek(lx)))
            lx->pos++;
        nlen = lx->pos - name_at;
        name = xstrndup(lx->s + name_at, nlen);
        skip_ws(lx);
    } else if (at_end(lx)) {
        rc = err_set(lx->err, EMB_EINVAL, "selector: missing '}' at offset %zu", lx->pos);
        goto out;
    } else {
        rc = err_set(lx->err, EMB_EINVAL, "selector: expected label name at offset %zu, got %s",
                     lx->pos, describe(tmp, sizeof(tmp), c));
        goto out;
    }
    if (nlen == 0) {
        rc = err_set(lx->err, EMB_EINVAL, "selector: empty label name at offset %zu", name_at);
        goto out;
    }
    if (!utf8_valid(name, nlen)) {
        rc = err_set(lx->err, EMB_EINVAL, "selector: label name at offset %zu is not valid UTF-8",
                     name_at);
        goto out;
    }

    match_op_t op;
    size_t op_at = lx->pos;
    char c0 = peek(lx);
    char c1 = lx->pos + 1 < lx->len ? lx->s[lx->pos + 1] : '\0';
    if (c0 == '=' && c1 == '~') {
        op = MATCH_RE, lx->pos += 2;
    } else if (c0 == '=') {
        op = MATCH_EQ, lx->pos += 1;
    } else if (c0 == '!' && c1 == '=') {
        op = MATCH_NEQ, lx->pos += 2;
    } else if (c0 == '!' && c1 == '~') {
        op = MATCH_NRE, lx->pos += 2;
    } else {
        rc = err_set(lx->err, EMB_EINVAL,
                     "selector: expected =, !=, =~ or !~ after label %s at offset %zu", name,
                     op_at);
        goto out;
    }
    skip_ws(lx);
    size_t value_at = lx->pos;
    if (!is_quote(peek(lx))) {
        rc = err_set(lx->err, EMB_EINVAL,
                     "selector: expected quoted string after label %s at offset %zu", name,
                     value_at);
        goto out;
    }
    rc = lex_string(lx, &value, &vlen);
    if (rc)
        goto out;
    rc = push_matcher(sel, name, op, value, value_at, lx->err);
    name = value = NULL; /* taken */
out:
    free(name);
    free(value);
    return rc;
}

int selector_parse(selector_t *out, const char *s, size_t len, err_t *err)
{
    memset(out, 0, sizeof(*out));
    lexer_t lx = {.s = s ? s : "", .len = s ? len : 0, .pos = 0, .err = err};
    char tmp[16];
    int rc = 0;

    skip_ws(&lx);
    size_t mstart = lx.pos;
    while (!at_end(&lx) && is_metric_char(peek(&lx)))
        lx.pos++;
    if (lx.pos > mstart)
        out->metric = xstrndup(s + mstart, lx.pos - mstart);
    skip_ws(&lx);
    if (at_end(&lx)) {
        if (!out->metric)
            rc = err_set(err, EMB_EINVAL, "selector: empty selector");
        goto out;
    }
    if (peek(&lx) != '{') {
        rc = err_set(err, EMB_EINVAL, "selector: unexpected %s at offset %zu%s",
                     describe(tmp, sizeof(tmp), peek(&lx)), lx.pos,
                     out->metric ? " after metric name" : "");
        goto out;
    }
    lx.pos++;

    for (;;) {
        skip_ws(&lx);
        if (peek(&lx) == '}') {
            lx.pos++;
            break;
        }
        rc = parse_item(out, &lx);
        if (rc)
            goto out;
        skip_ws(&lx);
        if (at_end(&lx)) {
            rc = err_set(err, EMB_EINVAL, "selector: missing '}' at offset %zu", lx.pos);
            goto out;
        }
        char c = peek(&lx);
        lx.pos++;
        if (c == '}')
            break;
        if (c != ',') {
            rc = err_set(err, EMB_EINVAL, "selector: expected ',' or '}' at offset %zu, got %s",
                         lx.pos - 1, describe(tmp, sizeof(tmp), c));
            goto out;
        }
    }

    skip_ws(&lx);
    if (!at_end(&lx))
        rc = err_set(err, EMB_EINVAL, "selector: unexpected %s at offset %zu after '}'",
                     describe(tmp, sizeof(tmp), peek(&lx)), lx.pos);
out:
    if (rc)
        selector_release(out);
    return rc;
}

void selector_release(selector_t *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        matcher_release(&sel->m[i]);
    free(sel->m);
    free(sel->metric);
    memset(sel, 0, sizeof(*sel));
}

int selector_add(selector_t *sel, const char *name, match_op_t op, const char *value, err_t *err)
{
    if (!name || !*name)
        return err_set(err, EMB_EINVAL, "selector: empty label name");
    if (!value)
        return err_set(err, EMB_EINVAL, "selector: label %s: missing value", name);
    if (op != MATCH_EQ && op != MATCH_NEQ && op != MATCH_RE && op != MATCH_NRE)
        return err_set(err, EMB_EINVAL, "selector: label %s: bad match operator %d", name, (int)op);
    return push_matcher(sel, xstrdup(name), op, xstrdup(value), 0, err);
}

/* ---- matching ---------------------------------------------------------------------------- */

/* A bump allocator on the caller's stack for one pcre2_match call: the general context, the
 * match context and a one-pair match data block fit in it, so the JIT path never mallocs.
 * Larger requests (the interpreter's backtracking frames) fall through to malloc. */
typedef struct stack_arena {
    alignas(max_align_t) unsigned char buf[1024];
    size_t used;
} stack_arena_t;

static void *arena_malloc(PCRE2_SIZE n, void *data)
{
    stack_arena_t *a = data;
    size_t al = alignof(max_align_t);
    size_t need = (n + al - 1) / al * al;
    if (need >= n && need <= sizeof(a->buf) - a->used) {
        void *p = a->buf + a->used;
        a->used += need;
        return p;
    }
    return malloc(n);
}

static void arena_free(void *p, void *data)
{
    stack_arena_t *a = data;
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->buf;
    if (u >= b && u < b + sizeof(a->buf))
        return;
    free(p);
}

static bool is_utf_error(int rc)
{
    return rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21;
}

/* True if re matches all of v. Errors (limits, no memory) count as no match. */
static bool re_full_match(const pcre2_code *re, const char *v)
{
    stack_arena_t arena;
    arena.used = 0;
    pcre2_general_context *gc = pcre2_general_context_create(arena_malloc, arena_free, &arena);
    pcre2_match_context *mc = NULL;
    pcre2_match_data *md = NULL;
    char *fixed = NULL;
    bool ok = false;
    if (!gc)
        goto out;
    mc = pcre2_match_context_create(gc);
    md = pcre2_match_data_create(1, gc);
    if (!mc || !md)
        goto out;
    pcre2_set_match_limit(mc, SEL_MATCH_LIMIT);
    pcre2_set_heap_limit(mc, SEL_HEAP_LIMIT_KIB);

    PCRE2_SPTR subj = (PCRE2_SPTR)v;
    size_t n = strlen(v);
    int rc = pcre2_match(re, subj, n, 0, 0, md, mc);
    if (is_utf_error(rc)) {
        fixed = utf8_sanitize_dup(v, n, &n);
        subj = (PCRE2_SPTR)fixed;
        rc = pcre2_match(re, subj, n, 0, 0, md, mc);
    }
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* the interpreter keeps its frames on the heap */
        rc = pcre2_match(re, subj, n, 0, PCRE2_NO_JIT, md, mc);
    ok = rc >= 0; /* 0 = matched, ovector too small for the groups: fine */
out:
    free(fixed);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_general_context_free(gc);
    return ok;
}

bool matcher_match(const matcher_t *m, const char *value)
{
    const char *v = value ? value : "";
    switch (m->op) {
    case MATCH_EQ:
        return strcmp(v, m->value) == 0;
    case MATCH_NEQ:
        return strcmp(v, m->value) != 0;
    case MATCH_RE:
        return re_full_match(m->re, v);
    case MATCH_NRE:
        return !re_full_match(m->re, v);
    }
    return false;
}

bool selector_match(const selector_t *sel, const labels_t *l)
{
    for (size_t i = 0; i < sel->n; i++)
        if (!matcher_match(&sel->m[i], labels_get(l, sel->m[i].name)))
            return false;
    return true;
}
