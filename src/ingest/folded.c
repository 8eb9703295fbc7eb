/* Text and legacy binary stack formats of /ingest (PROTOCOLS.md §1.4): folded
 * (`a;b;c 12`), lines (one stack per line, each counted once), and the pre-1.0 SDKs' `tree`
 * and `trie` serialisations. All of them produce root-first frame runs in a batch. */
#include "ingest/ingest.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "ingest/ingest_int.h"

#define MAX_DEPTH 4096

/* Values are sample counts, so overflow is clamped rather than reported. */
int64_t ingest__scale(int64_t v, int64_t mul, int64_t div)
{
    if (mul == div)
        return v;
    __int128 r = (__int128)v * mul;
    r = (r + div / 2) / div;
    if (r > INT64_MAX)
        return INT64_MAX;
    return (int64_t)r;
}

/* Splits line[0..len) on ';' into batch string ids and adds the stack. */
static uint32_t add_path(batch_t *b, const char *s, size_t len, uint32_t *ids)
{
    uint32_t depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ';') {
            if (depth < MAX_DEPTH)
                ids[depth++] = strtab_intern(&b->strs, s + start, i - start);
            start = i + 1;
        }
    }
    return batch_add_stack(b, ids, depth);
}

int folded_parse(batch_t *b, batch_profile_t *p, const uint8_t *body, size_t len, bool lines,
                 int64_t mul, int64_t div, err_t *err)
{
    uint32_t *ids = xmalloc(MAX_DEPTH * sizeof(*ids));
    const char *s = (const char *)body;
    size_t lineno = 0;
    int rc = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - s) : len;
        size_t l = end - pos;
        const char *line = s + pos;
        pos = end + 1;
        lineno++;
        if (l && line[l - 1] == '\r')
            l--;
        if (l == 0)
            continue;
        if (lines) {
            batch_add_sample(b, p, add_path(b, line, l, ids), ingest__scale(1, mul, div));
            continue;
        }
        const char *sp = NULL;
        for (size_t i = l; i > 0; i--)
            if (line[i - 1] == ' ') {
                sp = line + i - 1;
                break;
            }
        if (!sp)
            continue; /* Pyroscope skips lines without a count */
        const char *num = sp + 1;
        size_t nlen = l - (size_t)(num - line);
        int64_t v = 0;
        if (nlen == 0 || nlen > 18) {
            rc = err_set(err, EMB_ECORRUPT, "line %zu: invalid sample count \"%.*s\"", lineno,
                         (int)(nlen > 32 ? 32 : nlen), num);
            break;
        }
        for (size_t i = 0; i < nlen; i++) {
            if (num[i] < '0' || num[i] > '9') {
                rc = err_set(err, EMB_ECORRUPT, "line %zu: invalid sample count \"%.*s\"",
                             lineno, (int)(nlen > 32 ? 32 : nlen), num);
                goto out;
            }
            v = v * 10 + (num[i] - '0');
        }
        size_t plen = (size_t)(sp - line);
        while (plen && line[plen - 1] == ' ')
            plen--;
        if (v == 0)
            continue;
        batch_add_sample(b, p, add_path(b, line, plen, ids), ingest__scale(v, mul, div));
    }
out:
    free(ids);
    return rc;
}

static int read_uvarint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t c = p[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* tree: node = name, self, child count; names are frames. trie: names are suffixes of the
 * `;`-joined key; a node with value > 0 is a stack. Both pre-order; iterative with an explicit
 * stack of remaining-children counters so hostile depth cannot blow the C stack. */
int tree_parse(batch_t *b, batch_profile_t *p, const uint8_t *body, size_t len, bool trie,
               int64_t mul, int64_t div, err_t *err)
{
    int rc = 0;
    size_t pos = 0;
    uint64_t *remaining = xmalloc(MAX_DEPTH * sizeof(*remaining));
    size_t *keylen = xmalloc(MAX_DEPTH * sizeof(*keylen));
    uint32_t *ids = xmalloc(MAX_DEPTH * sizeof(*ids));
    buf_t key = BUF_INIT;
    size_t depth = 0; /* number of open ancestors */
    bool first = true, skip_root = false;
    while (first || depth > 0) {
        uint64_t nlen, val, nchild;
        if (read_uvarint(body, len, &pos, &nlen) || nlen > len - pos) {
            rc = err_set(err, EMB_ECORRUPT, "%s: truncated node name at byte %zu",
                         trie ? "trie" : "tree", pos);
            goto out;
        }
        const char *name = (const char *)body + pos;
        pos += nlen;
        if (read_uvarint(body, len, &pos, &val) || read_uvarint(body, len, &pos, &nchild)) {
            rc = err_set(err, EMB_ECORRUPT, "%s: truncated node at byte %zu",
                         trie ? "trie" : "tree", pos);
            goto out;
        }
        if (val > INT64_MAX) {
            rc = err_set(err, EMB_ECORRUPT, "%s: value out of range at byte %zu",
                         trie ? "trie" : "tree", pos);
            goto out;
        }
        /* A tree's root is usually the unnamed "total" node, which is not a frame. */
        if (first)
            skip_root = nlen == 0;
        first = false;
        size_t level = depth; /* open ancestors = this node's depth */
        if (level >= MAX_DEPTH) {
            rc = err_set(err, EMB_ECORRUPT, "%s: deeper than %d frames",
                         trie ? "trie" : "tree", MAX_DEPTH);
            goto out;
        }
        if (trie) {
            size_t base = depth ? keylen[depth - 1] : 0;
            if (key.data)
                buf_setlen(&key, base);
            if (nlen && buf_append(&key, name, nlen)) {
                rc = err_set(err, EMB_ECORRUPT, "trie: key too long");
                goto out;
            }
            if (val > 0 && key.len) {
                uint32_t sid = add_path(b, key.data, key.len, ids);
                batch_add_sample(b, p, sid, ingest__scale((int64_t)val, mul, div));
            }
        } else {
            ids[level] = strtab_intern(&b->strs, name, nlen);
            uint32_t d = (uint32_t)level + 1 - (skip_root ? 1 : 0);
            if (val > 0 && d > 0) {
                uint32_t sid = batch_add_stack(b, ids + (skip_root ? 1 : 0), d);
                batch_add_sample(b, p, sid, ingest__scale((int64_t)val, mul, div));
            }
        }
        if (nchild > 0) {
            if (nchild > len) {
                rc = err_set(err, EMB_ECORRUPT, "%s: child count %llu exceeds input",
                             trie ? "trie" : "tree", (unsigned long long)nchild);
                goto out;
            }
            remaining[depth] = nchild;
            keylen[depth] = key.len;
            depth++;
        } else {
            while (depth > 0 && --remaining[depth - 1] == 0)
                depth--;
        }
    }
out:
    buf_release(&key);
    free(remaining);
    free(keylen);
    free(ids);
    return rc;
}
