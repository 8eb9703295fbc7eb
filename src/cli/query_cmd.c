/* `ember query`: talks to a server over plain HTTP (the legacy routes, which Pyroscope also
 * serves under /pyroscope/...), prints a top table or writes pprof / collapsed files.
 *
 *   ember query merge  --query Q [--from now-1h] [--until now] [--top 20]
 *                      [--output out.pb.gz | --output out.txt --format collapsed]
 *   ember query series --query Q [--from ...] [--until ...]     (timeline totals per step)
 *   ember query labels [--query Q] [--label NAME]
 *   ember query diff   --left-query Q --right-query Q [--left-from ..] [--left-until ..]
 *                      [--right-from ..] [--right-until ..] [--top 20]
 * Common: --server http://localhost:4040 (env EMBER_SERVER), --tenant ID (X-Scope-OrgID).
 */
#include "cli/query_cmd.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"

typedef struct opts {
    const char *server, *tenant, *query, *from, *until, *output, *format, *label;
    const char *lq, *rq, *lf, *lu, *rf, *ru;
    int top;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f, "Usage: ember query <merge|series|labels|diff> [flags]\n"
               "  --server URL        server address (default $EMBER_SERVER or http://localhost:4040)\n"
               "  --tenant ID         X-Scope-OrgID header\n"
               "  --query Q           selector, e.g. 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=\"app\"}' or 'app.cpu{env=\"prod\"}'\n"
               "  --from T --until T  time range (now-1h, unix seconds/ms/ns; default now-1h..now)\n"
               "  --top N             rows of the top table (default 20)\n"
               "  --output FILE       merge: write the profile (pprof, or collapsed with --format collapsed)\n"
               "  --label NAME        labels: list the values of NAME instead of label names\n"
               "  --left-query/--right-query, --left-from/--left-until/--right-from/--right-until  diff\n");
}

static int url_escape(buf_t *b, const char *s)
{
    int rc = 0;
    for (; rc == 0 && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c))
            rc = buf_putc(b, (char)c);
        else
            rc = buf_printf(b, "%%%02X", c);
    }
    return rc;
}

static int add_param(buf_t *b, const char *k, const char *v)
{
    if (!v)
        return 0;
    int rc = buf_printf(b, "%s%s=", strchr(b->data ? b->data : "", '?') ? "&" : "?", k);
    return rc ? rc : url_escape(b, v);
}

/* GET server+target; the body goes to out. Returns the HTTP status or -1. */
static int http_get(const opts_t *o, const char *target, buf_t *out)
{
    const char *u = o->server;
    if (strncmp(u, "http://", 7) != 0) {
        fprintf(stderr, "ember query: only http:// servers are supported (%s)\n", u);
        return -1;
    }
    u += 7;
    char host[256], port[16] = "80";
    size_t hl = strcspn(u, ":/");
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, u, hl);
    host[hl] = 0;
    if (u[hl] == ':') {
        size_t pl = strcspn(u + hl + 1, "/");
        if (pl >= sizeof(port))
            return -1;
        memcpy(port, u + hl + 1, pl);
        port[pl] = 0;
    }
    struct addrinfo hints = {0}, *ai;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "ember query: cannot resolve %s\n", host);
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        fprintf(stderr, "ember query: cannot connect to %s\n", o->server);
        return -1;
    }
    buf_t req = BUF_INIT;
    int rc = buf_printf(&req, "GET %s HTTP/1.0\r\nHost: %s\r\nAccept-Encoding: identity\r\n", target,
                        host);
    if (rc == 0 && o->tenant)
        rc = buf_printf(&req, "X-Scope-OrgID: %s\r\n", o->tenant);
    if (rc == 0)
        rc = buf_puts(&req, "\r\n");
    if (rc || write(fd, req.data, req.len) != (ssize_t)req.len) {
        buf_release(&req);
        close(fd);
        return -1;
    }
    buf_release(&req);
    buf_t in = BUF_INIT;
    for (;;) {
        char *t = buf_reserve(&in, 65536);
        ssize_t n = t ? read(fd, t, 65536) : -1;
        if (n <= 0)
            break;
        buf_setlen(&in, in.len + (size_t)n);
    }
    close(fd);
    char *hend = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
    if (!hend) {
        buf_release(&in);
        fprintf(stderr, "ember query: malformed response\n");
        return -1;
    }
    int status = (int)strtol(in.data + 9, NULL, 10);
    size_t off = (size_t)(hend - in.data) + 4;
    rc = buf_append(out, in.data + off, in.len - off);
    buf_release(&in);
    return rc ? -1 : status;
}

static int fail_status(int status, const buf_t *body)
{
    if (status < 0)
        return 1;
    fprintf(stderr, "ember query: server answered %d: %.*s\n", status,
            (int)(body->len > 500 ? 500 : body->len), body->data ? body->data : "");
    return 1;
}

typedef struct fnrow {
    char *name;
    long long self, total;
} fnrow_t;

static int cmp_row(const void *a, const void *b)
{
    long long x = ((const fnrow_t *)a)->self, y = ((const fnrow_t *)b)->self;
    return (x < y) - (x > y);
}

/* Top table from collapsed text: self per leaf, total per function once per stack. */
static void print_top(const char *text, int top)
{
    fnrow_t *rows = NULL;
    size_t n = 0, cap = 0;
    long long grand = 0;
    char **seen = NULL;
    size_t nseen = 0, capseen = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *sp = NULL;
        for (size_t i = len; i > 0; i--)
            if (line[i - 1] == ' ') {
                sp = line + i - 1;
                break;
            }
        if (sp) {
            long long v = strtoll(sp + 1, NULL, 10);
            grand += v;
            nseen = 0;
            const char *f = line;
            while (f < sp) {
                const char *e = memchr(f, ';', (size_t)(sp - f));
                if (!e)
                    e = sp;
                char *name = xstrndup(f, (size_t)(e - f));
                size_t r;
                for (r = 0; r < n; r++)
                    if (!strcmp(rows[r].name, name))
                        break;
                if (r == n) {
                    xgrow(&rows, &cap, n + 1, sizeof(*rows));
                    rows[n++] = (fnrow_t){xstrdup(name), 0, 0};
                }
                bool dup = false;
                for (size_t k = 0; k < nseen; k++)
                    dup |= !strcmp(seen[k], name);
                if (!dup) {
                    rows[r].total += v;
                    xgrow(&seen, &capseen, nseen + 1, sizeof(*seen));
                    seen[nseen++] = rows[r].name;
                }
                if (e == sp)
                    rows[r].self += v;
                free(name);
                f = e + 1;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (n) /* rows is NULL for an empty profile */
        qsort(rows, n, sizeof(*rows), cmp_row);
    printf("%14s %7s %14s %7s  %s\n", "self", "self%", "total", "total%", "function");
    for (size_t i = 0; i < n && (int)i < top; i++)
        printf("%14lld %6.2f%% %14lld %6.2f%%  %s\n", rows[i].self,
               grand ? 100.0 * (double)rows[i].self / (double)grand : 0, rows[i].total,
               grand ? 100.0 * (double)rows[i].total / (double)grand : 0, rows[i].name);
    printf("total %lld\n", grand);
    for (size_t i = 0; i < n; i++)
        free(rows[i].name);
    free(rows);
    free(seen);
}

static int cmd_merge(const opts_t *o)
{
    bool collapsed = o->format && !strcmp(o->format, "collapsed");
    bool pprof = o->output && !collapsed;
    buf_t t = BUF_INIT, body = BUF_INIT;
    int rc = buf_puts(&t, "/render");
    if (rc == 0) rc = add_param(&t, "query", o->query);
    if (rc == 0) rc = add_param(&t, "from", o->from);
    if (rc == 0) rc = add_param(&t, "until", o->until);
    if (rc == 0) rc = add_param(&t, "format", pprof ? "pprof" : "collapsed");
    int status = rc ? -1 : http_get(o, t.data, &body);
    int code = 0;
    if (status != 200) {
        code = fail_status(status, &body);
    } else if (o->output) {
        FILE *f = fopen(o->output, "wb");
        if (!f || fwrite(body.data ? body.data : "", 1, body.len, f) != body.len) {
            fprintf(stderr, "ember query: cannot write %s\n", o->output);
            code = 1;
        } else {
            fprintf(stderr, "wrote %zu bytes to %s\n", body.len, o->output);
        }
        if (f)
            fclose(f);
    } else {
        print_top(body.data ? body.data : "", o->top);
    }
    buf_release(&t);
    buf_release(&body);
    return code;
}

static int cmd_series(const opts_t *o)
{
    buf_t t = BUF_INIT, body = BUF_INIT;
    int rc = buf_puts(&t, "/render");
    if (rc == 0) rc = add_param(&t, "query", o->query);
    if (rc == 0) rc = add_param(&t, "from", o->from);
    if (rc == 0) rc = add_param(&t, "until", o->until);
    if (rc == 0) rc = add_param(&t, "format", "json");
    int status = rc ? -1 : http_get(o, t.data, &body);
    int code = 0;
    json_t *js = status == 200 ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    json_t *tl = json_object_get(js, "timeline");
    if (!tl) {
        code = status == 200 ? (fprintf(stderr, "ember query: no timeline in answer\n"), 1)
                             : fail_status(status, &body);
    } else {
        long long start = json_integer_value(json_object_get(tl, "startTime"));
        long long step = json_integer_value(json_object_get(tl, "durationDelta"));
        json_t *samples = json_object_get(tl, "samples");
        size_t i;
        json_t *v;
        printf("%-12s %s\n", "time", "value");
        json_array_foreach(samples, i, v) {
            if (json_integer_value(v))
                printf("%-12lld %lld\n", start + (long long)i * step, json_integer_value(v));
        }
    }
    json_decref(js);
    buf_release(&t);
    buf_release(&body);
    return code;
}

static int cmd_labels(const opts_t *o)
{
    buf_t t = BUF_INIT, body = BUF_INIT;
    int rc = buf_puts(&t, o->label ? "/label-values" : "/labels");
    if (rc == 0) rc = add_param(&t, "label", o->label);
    if (rc == 0) rc = add_param(&t, "query", o->query);
    if (rc == 0) rc = add_param(&t, "from", o->from);
    if (rc == 0) rc = add_param(&t, "until", o->until);
    int status = rc ? -1 : http_get(o, t.data, &body);
    int code = 0;
    json_t *js = status == 200 ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    if (!json_is_array(js)) {
        code = fail_status(status, &body);
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(js, i, v) printf("%s\n", json_string_value(v));
    }
    json_decref(js);
    buf_release(&t);
    buf_release(&body);
    return code;
}

static int cmd_diff(const opts_t *o)
{
    buf_t t = BUF_INIT, body = BUF_INIT;
    char top[16];
    snprintf(top, sizeof(top), "%d", o->top);
    int rc = buf_puts(&t, "/api/diff/top");
    if (rc == 0) rc = add_param(&t, "leftQuery", o->lq);
    if (rc == 0) rc = add_param(&t, "rightQuery", o->rq);
    if (rc == 0) rc = add_param(&t, "leftFrom", o->lf);
    if (rc == 0) rc = add_param(&t, "leftUntil", o->lu);
    if (rc == 0) rc = add_param(&t, "rightFrom", o->rf);
    if (rc == 0) rc = add_param(&t, "rightUntil", o->ru);
    if (rc == 0) rc = add_param(&t, "limit", top);
    int status = rc ? -1 : http_get(o, t.data, &body);
    int code = 0;
    json_t *js = status == 200 ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    json_t *fns = json_object_get(js, "functions");
    if (!json_is_array(fns)) {
        code = fail_status(status, &body);
    } else {
        printf("left total %lld, right total %lld\n",
               json_integer_value(json_object_get(js, "leftTicks")),
               json_integer_value(json_object_get(js, "rightTicks")));
        printf("%9s %9s %9s  %9s %9s %9s  %s\n", "self% L", "self% R", "change", "total% L",
               "total% R", "change", "function");
        size_t i;
        json_t *f;
        json_array_foreach(fns, i, f) {
#define D(k) (100.0 * json_real_value(json_object_get(f, k)))
            printf("%8.2f%% %8.2f%% %+8.2f%%  %8.2f%% %8.2f%% %+8.2f%%  %s\n", D("leftSelfShare"),
                   D("rightSelfShare"), D("selfShareChange"), D("leftTotalShare"),
                   D("rightTotalShare"), D("totalShareChange"),
                   json_string_value(json_object_get(f, "name")));
#undef D
        }
    }
    json_decref(js);
    buf_release(&t);
    buf_release(&body);
    return code;
}

int query_cmd_main(int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    opts_t o = {0};
    o.server = getenv("EMBER_SERVER") ? getenv("EMBER_SERVER") : "http://localhost:4040";
    o.from = "now-1h";
    o.until = "now";
    o.top = 20;
    struct { const char *flag; const char **dst; } flags[] = {
        {"--server", &o.server}, {"--tenant", &o.tenant}, {"--query", &o.query},
        {"--from", &o.from}, {"--until", &o.until}, {"--output", &o.output},
        {"--format", &o.format}, {"--label", &o.label}, {"--left-query", &o.lq},
        {"--right-query", &o.rq}, {"--left-from", &o.lf}, {"--left-until", &o.lu},
        {"--right-from", &o.rf}, {"--right-until", &o.ru},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        if (!val) {
            fprintf(stderr, "ember query: %s needs a value\n", a);
            return 2;
        }
        bool known = false;
        for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
            if (strlen(flags[k].flag) == klen && !strncmp(flags[k].flag, a, klen)) {
                *flags[k].dst = val;
                known = true;
            }
        if (klen == 5 && !strncmp(a, "--top", 5)) {
            o.top = (int)strtol(val, NULL, 10);
            known = o.top > 0;
        }
        if (!known) {
            fprintf(stderr, "ember query: unknown or bad flag %s\n", a);
            return 2;
        }
    }
    const char *cmd = argv[0];
    if (!strcmp(cmd, "merge") || !strcmp(cmd, "series")) {
        if (!o.query) {
            fprintf(stderr, "ember query %s: --query is required\n", cmd);
            return 2;
        }
        return !strcmp(cmd, "merge") ? cmd_merge(&o) : cmd_series(&o);
    }
    if (!strcmp(cmd, "labels"))
        return cmd_labels(&o);
    if (!strcmp(cmd, "diff")) {
        if (!o.lq || !o.rq) {
            fprintf(stderr, "ember query diff: --left-query and --right-query are required\n");
            return 2;
        }
        return cmd_diff(&o);
    }
    fprintf(stderr, "ember query: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
