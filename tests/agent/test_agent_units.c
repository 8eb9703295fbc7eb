/* Unit tests of libember's modules that interpose nothing (src/agent: conf, u64map, agg,
 * ring, tags, elfsym, symbols, profenc, upload), so they also run under ASan+UBSan, where
 * libember.so itself is not built. Behaviour names follow tests/unit (Criterion). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/agg.h"
#include "agent/conf.h"
#include "agent/elfsym.h"
#include "agent/profenc.h"
#include "agent/ring.h"
#include "agent/symbols.h"
#include "agent/tags.h"
#include "agent/u64map.h"
#include "agent/upload.h"

/* ---- conf ---- */

static const char *table_get(const char *name, void *arg)
{
    const char **kv = arg;
    for (; *kv; kv += 2)
        if (!strcmp(kv[0], name))
            return kv[1];
    return NULL;
}

Test(conf, ember_spelling_wins_over_pyroscope_and_parses_everything)
{
    const char *env[] = {"EMBER_APPLICATION_NAME", "app.x", "PYROSCOPE_APPLICATION_NAME", "other",
                         "PYROSCOPE_SERVER_ADDRESS", "ember.local:4100/pyro/",
                         "EMBER_TAGS", " env = prod ,,region=eu,", "EMBER_SAMPLE_RATE", "250",
                         "PYROSCOPE_UPLOAD_INTERVAL", "5", "EMBER_PROFILE_TYPES", "alloc, cpu",
                         NULL};
    conf_t c;
    char msg[200];
    conf_defaults(&c);
    cr_assert(conf_env_wanted(table_get, env));
    cr_assert_eq(conf_from_env(&c, table_get, env, msg, sizeof(msg)), 0, "%s", msg);
    cr_assert_str_eq(c.app, "app.x");
    cr_assert_str_eq(c.host, "ember.local");
    cr_assert_str_eq(c.port, "4100");
    cr_assert_str_eq(c.path_prefix, "/pyro");
    cr_assert_eq(c.ntags, 2);
    cr_assert_str_eq(c.tags[0].key, "env");
    cr_assert_str_eq(c.tags[0].value, "prod");
    cr_assert_str_eq(c.tags[1].key, "region");
    cr_assert_eq(c.rate_hz, 250);
    cr_assert_eq(c.interval_s, 5);
    cr_assert_eq(c.types, EMBER_PROFILE_CPU | EMBER_PROFILE_ALLOC);
}

Test(conf, bad_values_name_their_variable)
{
    struct { const char *k, *v, *needle; } cases[] = {
        {"EMBER_SAMPLE_RATE", "0", "EMBER_SAMPLE_RATE"},
        {"EMBER_SAMPLE_RATE", "12x", "EMBER_SAMPLE_RATE"},
        {"PYROSCOPE_UPLOAD_INTERVAL", "-1", "PYROSCOPE_UPLOAD_INTERVAL"},
        {"EMBER_TAGS", "a=1,a=2", "twice"},
        {"EMBER_TAGS", "novalue", "key=value"},
        {"EMBER_TAGS", "k=v}", "bad value"},
        {"EMBER_PROFILE_TYPES", "wall", "wall"},
        {"EMBER_SERVER_ADDRESS", "https://h", "https"},
        {"EMBER_SERVER_ADDRESS", "http://h:70000", "port"},
        {"EMBER_SERVER_ADDRESS", "ftp://h", "http://"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *env[] = {"EMBER_APPLICATION_NAME", "app", cases[i].k, cases[i].v, NULL};
        conf_t c;
        char msg[200] = "";
        conf_defaults(&c);
        cr_assert_eq(conf_from_env(&c, table_get, env, msg, sizeof(msg)), EMBER_EINVAL,
                     "%s=%s accepted", cases[i].k, cases[i].v);
        cr_assert(strstr(msg, cases[i].needle), "%s=%s: message %s", cases[i].k, cases[i].v,
                  msg);
    }
}

Test(conf, public_config_is_checked_and_copied)
{
    ember_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    conf_t c;
    char msg[200];
    cr_assert_eq(conf_from_public(&c, &cfg, msg, sizeof(msg)), EMBER_EINVAL);
    cfg.version = EMBER_CONFIG_VERSION;
    cfg.application_name = "svc";
    cfg.sample_rate_hz = 100;
    cfg.upload_interval_s = 15;
    cfg.profile_types = EMBER_PROFILE_CPU;
    cfg.alloc_sample_bytes = 1024;
    cfg.server_address = "http://127.0.0.1:4040";
    cfg.basic_auth_user = "u";
    cr_assert_eq(conf_from_public(&c, &cfg, msg, sizeof(msg)), EMBER_EINVAL); /* no password */
    cfg.basic_auth_password = "p";
    cr_assert_eq(conf_from_public(&c, &cfg, msg, sizeof(msg)), 0, "%s", msg);
    cr_assert_str_eq(c.port, "4040");
    cr_assert_eq(c.alloc_bytes, 1024);
}

/* ---- u64map, agg ---- */

Test(u64map, matches_a_reference_under_churn)
{
    enum { N = 5000 };
    static uint64_t ref[N]; /* 0 = absent, else value + 1 */
    u64map_t m = U64MAP_INIT;
    uint64_t x = 1;
    for (int step = 0; step < 200000; step++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t k = (x >> 33) % N, v;
        if ((x >> 20) & 1) {
            cr_assert_eq(u64map_put(&m, k * 4096, step), 0);
            ref[k] = (uint64_t)step + 1;
        } else {
            cr_assert_eq(u64map_del(&m, k * 4096), ref[k] != 0);
            ref[k] = 0;
        }
        if (step % 997 == 0)
            for (uint64_t j = 0; j < N; j++)
                cr_assert_eq(u64map_get(&m, j * 4096, &v), ref[j] != 0) ;
    }
    size_t n = 0;
    for (uint64_t j = 0; j < N; j++) {
        uint64_t v;
        if (ref[j]) {
            n++;
            cr_assert(u64map_get(&m, j * 4096, &v));
            cr_assert_eq(v, ref[j] - 1);
        }
    }
    cr_assert_eq(m.n, n);
    u64map_release(&m);
}

Test(agg, same_stack_and_tags_share_an_id_and_the_cap_holds)
{
    agg_t a;
    agg_init(&a, 3);
    uint64_t f1[] = {1, 2, 3}, f2[] = {1, 2, 4};
    uint32_t id1, id2, id3, id4;
    cr_assert_eq(agg_add(&a, 0, 0, f1, 3, &id1), 0);
    cr_assert_eq(agg_add(&a, 0, 0, f2, 3, &id2), 0);
    cr_assert_eq(agg_add(&a, 7, 0, f1, 3, &id3), 0); /* other tag set: another stack */
    cr_assert_eq(agg_add(&a, 0, 0, f1, 3, &id4), 0);
    cr_assert_eq(id1, id4);
    cr_assert_neq(id1, id2);
    cr_assert_neq(id1, id3);
    cr_assert_eq(agg_add(&a, 0, 0, f1, 2, &id4), EMBER_ELIMIT);
    cr_assert_eq(a.dropped, 1);
    agg_reset(&a);
    cr_assert_eq(agg_add(&a, 0, 0, f2, 3, &id4), 0);
    cr_assert_eq(id4, 0);
    agg_release(&a);
}

/* ---- ring, tags ---- */

Test(ring, fifo_then_full_then_reused_after_consume)
{
    ring_t r;
    cr_assert_eq(ring_init(&r, 3), 0); /* 8 slots */
    uint64_t pos;
    for (int i = 0; i < 8; i++) {
        ring_rec_t *rec = ring_claim(&r, &pos);
        cr_assert_not_null(rec);
        rec->size = (uint64_t)i;
        ring_publish(&r, rec, pos);
    }
    cr_assert_null(ring_claim(&r, &pos));
    cr_assert_eq(atomic_load(&r.dropped), 1);
    for (int lap = 0; lap < 3; lap++)
        for (int i = 0; i < 8; i++) {
            ring_rec_t *rec = ring_peek(&r);
            cr_assert_not_null(rec);
            cr_assert_eq(rec->size, (uint64_t)(lap * 8 + i));
            ring_consume(&r, rec);
            rec = ring_claim(&r, &pos);
            cr_assert_not_null(rec);
            rec->size = (uint64_t)((lap + 1) * 8 + i);
            ring_publish(&r, rec, pos);
        }
    /* a claimed but unpublished slot stops the consumer there */
    for (int i = 0; i < 8; i++)
        ring_consume(&r, ring_peek(&r));
    ring_rec_t *a = ring_claim(&r, &pos);
    uint64_t pa = pos;
    ring_rec_t *b = ring_claim(&r, &pos);
    ring_publish(&r, b, pos);
    cr_assert_null(ring_peek(&r));
    ring_publish(&r, a, pa);
    cr_assert_eq(ring_peek(&r), a);
}

Test(tags, push_pop_and_inner_values_win)
{
    cr_assert_eq(tags_current(), 0);
    cr_assert_eq(tags_push("bad key", "v"), EMBER_EINVAL);
    cr_assert_eq(tags_push("k", "a=b"), EMBER_EINVAL);
    cr_assert_eq(tags_push("k", "outer"), 0);
    uint32_t outer = tags_current();
    cr_assert_eq(tags_push("j", "1"), 0);
    cr_assert_eq(tags_push("k", "inner"), 0);
    conf_tag_t t[8];
    size_t n = tags_get(tags_current(), t, 8);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(t[0].key, "k");
    cr_assert_str_eq(t[0].value, "inner");
    cr_assert_str_eq(t[1].key, "j");
    tags_pop();
    tags_pop();
    cr_assert_eq(tags_current(), outer);
    cr_assert_eq(tags_push("j", "1"), 0); /* interned: the same set as before */
    tags_pop();
    tags_pop();
    tags_pop(); /* empty: no-op */
    cr_assert_eq(tags_current(), 0);
    cr_assert_eq(tags_get(0, t, 8), 0);
}

/* ---- elfsym, symbols, profenc ---- */

__attribute__((noinline, used)) int agent_units_marker_function(int x)
{
    return x * 7 + 1;
}

Test(symbols, own_function_has_its_name_and_the_program_a_build_id)
{
    symbols_t s = SYMBOLS_INIT;
    cr_assert_eq(symbols_refresh(&s), 0);
    uint64_t addr = (uint64_t)(uintptr_t)&agent_units_marker_function + 3;
    long mod = symbols_find(&s, addr);
    cr_assert_geq(mod, 0);
    char name[256];
    symbols_name(&s, mod, addr, name, sizeof(name));
    cr_assert_str_eq(name, "agent_units_marker_function");
    cr_assert_eq(strlen(s.mods[mod].build_id), 40, "build id %s", s.mods[mod].build_id);
    cr_assert(s.mods[mod].elf.from_symtab);
    symbols_name(&s, -1, 0x1234, name, sizeof(name));
    cr_assert_str_eq(name, "0x1234");
    symbols_release(&s);
}

Test(elfsym, rejects_what_is_not_elf64_and_survives_truncation)
{
    elfsym_t e;
    uint8_t junk[100] = {0x7f, 'E', 'L', 'F', 1};
    cr_assert_eq(elfsym_parse(&e, junk, sizeof(junk)), EMBER_EINVAL);
    FILE *f = fopen("/proc/self/exe", "rb");
    cr_assert_not_null(f);
    static uint8_t buf[1 << 22];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    cr_assert_eq(elfsym_parse(&e, buf, n), 0);
    cr_assert_gt(e.nfns, 10);
    cr_assert_eq(e.build_id_len, 20);
    /* the unwind tables know where our marker function starts, as the symbols do */
    uint64_t sym_start = 0, eh_start = 0;
    uint64_t inside = 0;
    for (size_t i = 0; i < e.nfns; i++)
        if (!strcmp(e.fns[i].name, "agent_units_marker_function"))
            inside = e.fns[i].addr + 2;
    cr_assert_neq(inside, 0);
    cr_assert_not_null(elfsym_lookup(&e, inside, &sym_start));
    cr_assert_gt(e.eh_count, 10);
    cr_assert(elfsym_func_start(&e, inside, &eh_start));
    cr_assert_eq(eh_start, sym_start);
    elfsym_release(&e);
    for (size_t cut = 64; cut < n; cut = cut * 3 / 2) { /* any prefix: no crash */
        if (elfsym_parse(&e, buf, cut) == 0)
            elfsym_release(&e);
    }
}

/* the gunzipped protobuf of a finished profile */
static size_t gunzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    cr_assert_eq(inflateInit2(&z, 31), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    inflateEnd(&z);
    return cap - z.avail_out;
}

static bool contains(const uint8_t *p, size_t n, const char *s)
{
    return memmem(p, n, s, strlen(s)) != NULL;
}

Test(profenc, writes_gzipped_pprof_with_names_labels_and_mapping)
{
    symbols_t s = SYMBOLS_INIT;
    symbols_refresh(&s);
    profenc_t p;
    profenc_init(&p, &s);
    profenc_sample_type(&p, "samples", "count");
    profenc_period(&p, "cpu", "nanoseconds", 10000000);
    profenc_time(&p, 1700000000000000000, 15000000000);
    uint64_t frames[] = {(uint64_t)(uintptr_t)&agent_units_marker_function + 2};
    int64_t vals[] = {42};
    conf_tag_t lab = {"endpoint", "checkout"};
    profenc_sample(&p, frames, 1, true, vals, 1, &lab, 1);
    profenc_sample(&p, frames, 1, true, vals, 1, NULL, 0);
    uint8_t *gz;
    size_t len;
    cr_assert_eq(profenc_finish(&p, &gz, &len), 0);
    cr_assert(len > 20 && gz[0] == 0x1f && gz[1] == 0x8b);
    static uint8_t raw[1 << 20];
    size_t n = gunzip(gz, len, raw, sizeof(raw));
    cr_assert(contains(raw, n, "agent_units_marker_function"));
    cr_assert(contains(raw, n, "endpoint") && contains(raw, n, "checkout"));
    cr_assert(contains(raw, n, "test_agent_units")); /* mapping 1: the program's path */
    /* Sample: field 2, location ids packed (1 => the one location), value 42 */
    static const uint8_t sample[] = {0x0a, 0x01, 0x01, 0x12, 0x01, 42};
    cr_assert(memmem(raw, n, sample, sizeof(sample)) != NULL);
    free(gz);
    symbols_release(&s);
}

/* ---- upload ---- */

static int real_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    return pthread_create(t, NULL, fn, arg);
}

Test(upload, queue_stays_bounded_when_the_server_is_down)
{
    conf_t c;
    char msg[200];
    conf_defaults(&c);
    memcpy(c.app, "a", 2);
    memcpy(c.server, "http://127.0.0.1:1", 19); /* nothing listens on port 1 */
    cr_assert_eq(conf_finish(&c, msg, sizeof(msg)), 0, "%s", msg);
    upload_t *u;
    cr_assert_eq(upload_new(&u, &c, real_create, NULL), 0);
    for (int i = 0; i < UPLOAD_MAX_ITEMS + 10; i++)
        upload_push(u, "/ingest?name=a", calloc(1, 1000), 1000);
    upload_stats_t st = upload_stats(u);
    cr_assert_geq(st.dropped, 9);
    cr_assert_eq(st.sent, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    upload_stop(u, 3000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 3, "stop waited out the backoff");
}

Test(upload, urlencode_keeps_unreserved_and_escapes_the_rest)
{
    char out[64];
    cr_assert(upload_urlencode(out, sizeof(out), "app{k=v,x=y z}"));
    cr_assert_str_eq(out, "app%7Bk%3Dv%2Cx%3Dy%20z%7D");
    cr_assert_not(upload_urlencode(out, 4, "abcd"));
}
