/* profenc.c — pprof (profile.proto) writer and gzip (see profenc.h).
 *
 * Field numbers (PROTOCOLS.md §7): Profile sample_type 1, sample 2, mapping 3, location 4,
 * function 5, string_table 6, time_nanos 9, duration_nanos 10, period_type 11, period 12;
 * Sample location_id 1 (packed), value 2 (packed), label 3; Label key 1, str 2; ValueType
 * type 1, unit 2; Mapping id 1, memory_start 2, memory_limit 3, file_offset 4, filename 5,
 * build_id 6, has_functions 7; Location id 1, mapping_id 2, address 3, line 4; Line
 * function_id 1; Function id 1, name 2, system_name 3.
 */
#include "agent/profenc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ember.h"

static bool reserve(pbuf_t *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void pbuf_varint(pbuf_t *b, uint64_t v)
{
    if (!reserve(b, 10))
        return;
    while (v >= 0x80) {
        b->p[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (uint8_t)v;
}

void pbuf_uint_field(pbuf_t *b, uint32_t field, uint64_t v)
{
    if (!v)
        return;
    pbuf_varint(b, (uint64_t)field << 3);
    pbuf_varint(b, v);
}

void pbuf_bytes_field(pbuf_t *b, uint32_t field, const void *data, size_t len)
{
    pbuf_varint(b, ((uint64_t)field << 3) | 2);
    pbuf_varint(b, len);
    if (len && reserve(b, len)) {
        memcpy(b->p + b->len, data, len);
        b->len += len;
    }
}

void pbuf_release(pbuf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* Appends tmp as a length-delimited field of out and empties tmp. */
static void flush_tmp(profenc_t *p, pbuf_t *out, uint32_t field)
{
    if (p->tmp.oom)
        out->oom = true;
    pbuf_bytes_field(out, field, p->tmp.p, p->tmp.len);
    p->tmp.len = 0;
}

static uint64_t hash_str(const char *s, uint64_t seed)
{
    uint64_t h = 1469598103934665603ull ^ seed;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The string table id of s, adding it when new. */
static uint64_t str_id(profenc_t *p, const char *s)
{
    for (uint64_t seed = 0;; seed++) {
        uint64_t h = hash_str(s, seed), id;
        if (!u64map_get(&p->str_ids, h, &id))
            break;
        if (!strcmp(p->str_list[id], s))
            return id;
    }
    if (p->nstrs == p->cap_strs) {
        size_t cap = p->cap_strs ? p->cap_strs * 2 : 64;
        char **l = realloc(p->str_list, cap * sizeof(*l));
        if (!l) {
            p->out.oom = true;
            return 0;
        }
        p->str_list = l;
        p->cap_strs = cap;
    }
    char *copy = strdup(s);
    if (!copy) {
        p->out.oom = true;
        return 0;
    }
    uint64_t seed = 0, h;
    while (u64map_get(&p->str_ids, h = hash_str(s, seed), NULL))
        seed++;
    if (u64map_put(&p->str_ids, h, p->nstrs)) {
        free(copy);
        p->out.oom = true;
        return 0;
    }
    p->str_list[p->nstrs] = copy;
    pbuf_bytes_field(&p->strs, 6, s, strlen(s));
    return p->nstrs++;
}

static uint64_t mapping_id(profenc_t *p, long mod);

void profenc_init(profenc_t *p, symbols_t *syms)
{
    memset(p, 0, sizeof(*p));
    p->syms = syms;
    p->next_loc = p->next_func = p->next_map = 1;
    str_id(p, ""); /* string_table[0] must be "" */
    /* pprof takes mapping 1 for the main binary: the program itself comes first in
     * dl_iterate_phdr order, so give it id 1 before any sample names the vdso or libc */
    if (syms && syms->n > 0)
        mapping_id(p, 0);
}

static void value_type(profenc_t *p, uint32_t field, const char *type, const char *unit)
{
    uint64_t t = str_id(p, type), u = str_id(p, unit);
    pbuf_uint_field(&p->tmp, 1, t);
    pbuf_uint_field(&p->tmp, 2, u);
    flush_tmp(p, &p->out, field);
}

void profenc_sample_type(profenc_t *p, const char *type, const char *unit)
{
    value_type(p, 1, type, unit);
}

void profenc_period(profenc_t *p, const char *type, const char *unit, int64_t period)
{
    value_type(p, 11, type, unit);
    pbuf_uint_field(&p->out, 12, (uint64_t)period);
}

void profenc_time(profenc_t *p, int64_t time_ns, int64_t duration_ns)
{
    pbuf_uint_field(&p->out, 9, (uint64_t)time_ns);
    pbuf_uint_field(&p->out, 10, (uint64_t)duration_ns);
}

static uint64_t mapping_id(profenc_t *p, long mod)
{
    if (mod < 0)
        return 0;
    uint64_t id;
    if (u64map_get(&p->maps, (uint64_t)mod + 1, &id))
        return id;
    symbols_load(p->syms, mod);
    const symbols_mod_t *m = &p->syms->mods[mod];
    uint64_t file = str_id(p, m->path), bid = str_id(p, m->build_id);
    id = p->next_map++;
    pbuf_uint_field(&p->tmp, 1, id);
    pbuf_uint_field(&p->tmp, 2, m->start);
    pbuf_uint_field(&p->tmp, 3, m->limit);
    pbuf_uint_field(&p->tmp, 4, m->file_offset);
    pbuf_uint_field(&p->tmp, 5, file);
    pbuf_uint_field(&p->tmp, 6, bid);
    pbuf_uint_field(&p->tmp, 7, m->elf.nfns > 0);
    flush_tmp(p, &p->out, 3);
    if (u64map_put(&p->maps, (uint64_t)mod + 1, id))
        p->out.oom = true;
    return id;
}

static uint64_t function_id(profenc_t *p, const char *name)
{
    uint64_t sid = str_id(p, name), id;
    if (u64map_get(&p->funcs, sid, &id))
        return id;
    id = p->next_func++;
    pbuf_uint_field(&p->tmp, 1, id);
    pbuf_uint_field(&p->tmp, 2, sid);
    pbuf_uint_field(&p->tmp, 3, sid);
    flush_tmp(p, &p->out, 5);
    if (u64map_put(&p->funcs, sid, id))
        p->out.oom = true;
    return id;
}

static uint64_t location_id(profenc_t *p, uint64_t addr, bool is_pc)
{
    uint64_t key = addr * 2 + (is_pc ? 1 : 0), id;
    if (u64map_get(&p->locs, key, &id))
        return id;
    uint64_t lookup = is_pc || addr == 0 ? addr : addr - 1;
    long mod = p->syms ? symbols_find(p->syms, lookup) : -1;
    char name[1024];
    if (p->syms)
        symbols_name(p->syms, mod, lookup, name, sizeof(name));
    else
        snprintf(name, sizeof(name), "0x%llx", (unsigned long long)addr);
    uint64_t mid = mapping_id(p, mod);
    uint64_t fid = function_id(p, name);
    id = p->next_loc++;
    pbuf_uint_field(&p->tmp, 1, id);
    pbuf_uint_field(&p->tmp, 2, mid);
    pbuf_uint_field(&p->tmp, 3, addr);
    /* Line {function_id}: written by hand, it is the one nested message inside tmp */
    uint8_t line[12];
    size_t ln = 0;
    line[ln++] = 1 << 3;
    for (uint64_t v = fid; ; v >>= 7) {
        line[ln++] = (uint8_t)(v >= 0x80 ? (v | 0x80) : v);
        if (v < 0x80)
            break;
    }
    pbuf_bytes_field(&p->tmp, 4, line, ln);
    flush_tmp(p, &p->out, 4);
    if (u64map_put(&p->locs, key, id))
        p->out.oom = true;
    return id;
}

void profenc_sample(profenc_t *p, const uint64_t *frames, size_t n, bool leaf_pc,
                    const int64_t *vals, size_t nvals, const conf_tag_t *labels, size_t nlabels)
{
    uint64_t ids[256];
    if (n > 256)
        n = 256;
    for (size_t i = 0; i < n; i++)
        ids[i] = location_id(p, frames[i], leaf_pc && i == 0);
    uint64_t lk[32], lv[32];
    if (nlabels > 32)
        nlabels = 32;
    for (size_t i = 0; i < nlabels; i++) {
        lk[i] = str_id(p, labels[i].key);
        lv[i] = str_id(p, labels[i].value);
    }
    /* tmp is free here: every nested message above was flushed */
    pbuf_t packed = {0};
    for (size_t i = 0; i < n; i++)
        pbuf_varint(&packed, ids[i]);
    pbuf_bytes_field(&p->tmp, 1, packed.p, packed.len);
    packed.len = 0;
    for (size_t i = 0; i < nvals; i++)
        pbuf_varint(&packed, (uint64_t)vals[i]);
    pbuf_bytes_field(&p->tmp, 2, packed.p, packed.len);
    if (packed.oom)
        p->out.oom = true;
    pbuf_release(&packed);
    for (size_t i = 0; i < nlabels; i++) {
        uint8_t lab[24];
        size_t ln = 0;
        uint64_t parts[2] = {lk[i], lv[i]};
        for (int f = 0; f < 2; f++) {
            lab[ln++] = (uint8_t)((f + 1) << 3);
            for (uint64_t v = parts[f]; ; v >>= 7) {
                lab[ln++] = (uint8_t)(v >= 0x80 ? (v | 0x80) : v);
                if (v < 0x80)
                    break;
            }
        }
        pbuf_bytes_field(&p->tmp, 3, lab, ln);
    }
    flush_tmp(p, &p->out, 2);
}

int profenc_gzip(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return EMBER_ENOMEM;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return EMBER_ENOMEM;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return EMBER_ENOMEM;
    }
    *out = buf;
    *out_len = cap - z.avail_out;
    return 0;
}

int profenc_finish(profenc_t *p, uint8_t **data, size_t *len)
{
    int rc = EMBER_ENOMEM;
    *data = NULL;
    *len = 0;
    if (!p->out.oom && !p->strs.oom && !p->tmp.oom && reserve(&p->out, p->strs.len)) {
        memcpy(p->out.p + p->out.len, p->strs.p, p->strs.len);
        p->out.len += p->strs.len;
        rc = profenc_gzip(p->out.p, p->out.len, data, len);
    }
    profenc_release(p);
    return rc;
}

void profenc_release(profenc_t *p)
{
    pbuf_release(&p->out);
    pbuf_release(&p->strs);
    pbuf_release(&p->tmp);
    for (size_t i = 0; i < p->nstrs; i++)
        free(p->str_list[i]);
    free(p->str_list);
    p->str_list = NULL;
    p->nstrs = p->cap_strs = 0;
    u64map_release(&p->str_ids);
    u64map_release(&p->locs);
    u64map_release(&p->funcs);
    u64map_release(&p->maps);
}
