/* upload.c — uploader thread, bounded queue and a minimal HTTP/1.1 POST client (upload.h).
 *
 * One request per connection (Connection: close): uploads happen every 15 s, so keep-alive
 * would save nothing worth its state. Every socket operation is bounded by a deadline via
 * poll(), and MSG_NOSIGNAL keeps a closed connection from raising SIGPIPE in the host.
 */
#include "agent/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


typedef struct item {
    char *target;
    uint8_t *body;
    size_t len;
} item_t;

struct upload {
    conf_t conf;
    char auth[700]; /* "Authorization: ...\r\n" or "" */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item_t q[UPLOAD_MAX_ITEMS];
    size_t head, n, bytes;
    int stopping;
    int64_t deadline_ns;
    upload_stats_t st;
    void (*thread_init)(void);
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool upload_urlencode(char *out, size_t size, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~';
        if (n + (plain ? 1 : 3) >= size)
            return false;
        if (plain) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hexd[c >> 4];
            out[n++] = hexd[c & 15];
        }
    }
    if (n >= size)
        return false;
    out[n] = 0;
    return true;
}

static void base64(char *out, const char *in, size_t len)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? t[v & 63] : '=';
    }
    out[o] = 0;
}

/* Waits until fd is ready for events or the deadline passes. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = (deadline - now_ns()) / 1000000;
        if (left <= 0)
            return false;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

static int dial(const conf_t *c, int64_t deadline)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(c->host, c->port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline)) {
            int err = 0;
            socklen_t el = sizeof(err);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
                break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static bool send_all(int fd, const void *p, size_t n, int64_t deadline)
{
    const char *s = p;
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w > 0) {
            s += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, deadline))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* POSTs one item; returns the HTTP status, or -1 when there was no answer. */
static int post(upload_t *u, const item_t *it, int64_t deadline)
{
    const conf_t *c = &u->conf;
    int fd = dial(c, deadline);
    if (fd < 0)
        return -1;
    size_t head_size = strlen(it->target) + 2048; /* the target can be ~12 KiB of tags */
    char *head = malloc(head_size);
    if (!head) {
        close(fd);
        return -1;
    }
    int hn = snprintf(head, head_size,
                      "POST %s%s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: libember/0.1\r\n"
                      "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                      "%s%s%s%sConnection: close\r\n\r\n",
                      c->path_prefix, it->target, c->host, c->port, it->len,
                      c->tenant[0] ? "X-Scope-OrgID: " : "", c->tenant,
                      c->tenant[0] ? "\r\n" : "", u->auth);
    int status = -1;
    if (hn > 0 && (size_t)hn < head_size && send_all(fd, head, (size_t)hn, deadline) &&
        send_all(fd, it->body, it->len, deadline)) {
        char resp[512];
        size_t got = 0;
        while (got < sizeof(resp) - 1) {
            ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
            if (r > 0) {
                got += (size_t)r;
                resp[got] = 0;
                if (strstr(resp, "\r\n"))
                    break;
            } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!wait_fd(fd, POLLIN, deadline))
                    break;
            } else {
                break;
            }
        }
        resp[got] = 0;
        int st;
        if (sscanf(resp, "HTTP/1.%*d %d", &st) == 1)
            status = st;
    }
    free(head);
    close(fd);
    return status;
}

static void pop_front(upload_t *u)
{
    item_t *it = &u->q[u->head];
    u->bytes -= it->len;
    free(it->target);
    free(it->body);
    u->head = (u->head + 1) % UPLOAD_MAX_ITEMS;
    u->n--;
}

static void *run(void *arg)
{
    upload_t *u = arg;
    if (u->thread_init)
        u->thread_init();
    int64_t backoff = 1000000000LL, next_try = 0;
    pthread_mutex_lock(&u->mu);
    for (;;) {
        int64_t now = now_ns();
        /* stopping: one more try for what is queued, but never a backoff wait — a server
         * that just failed must not hold up the host program's exit */
        if (u->stopping && (u->n == 0 || now >= u->deadline_ns || now < next_try))
            break;
        if (u->n == 0 || now < next_try) {
            int64_t until = u->n == 0 ? now + 1000000000LL : next_try;
            if (u->stopping && until > u->deadline_ns)
                until = u->deadline_ns;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t rt = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (until - now);
            ts.tv_sec = rt / 1000000000;
            ts.tv_nsec = rt % 1000000000;
            pthread_cond_timedwait(&u->cv, &u->mu, &ts);
            continue;
        }
        /* take the head out of the queue while it is in flight, so a push that finds
         * the queue full can never free the body being sent */
        item_t it = u->q[u->head];
        u->head = (u->head + 1) % UPLOAD_MAX_ITEMS;
        u->n--;
        u->bytes -= it.len;
        int64_t deadline = now + 10000000000LL;
        if (u->stopping && deadline > u->deadline_ns)
            deadline = u->deadline_ns;
        pthread_mutex_unlock(&u->mu);
        int status = post(u, &it, deadline);
        pthread_mutex_lock(&u->mu);
        bool sent = status >= 200 && status < 300;
        bool retry = status < 0 || status == 408 || status == 429 || status >= 500;
        if (sent || !retry) {
            if (sent)
                u->st.sent++;
            else
                u->st.rejected++;
            free(it.target);
            free(it.body);
            backoff = 1000000000LL;
            next_try = 0;
        } else {
            u->st.failed_attempts++;
            if (u->n < UPLOAD_MAX_ITEMS) { /* back at the front: it is the oldest */
                u->head = (u->head + UPLOAD_MAX_ITEMS - 1) % UPLOAD_MAX_ITEMS;
                u->q[u->head] = it;
                u->n++;
                u->bytes += it.len;
            } else {
                u->st.dropped++;
                free(it.target);
                free(it.body);
            }
            next_try = now_ns() + backoff;
            backoff = backoff * 2 > 60000000000LL ? 60000000000LL : backoff * 2;
        }
    }
    while (u->n) {
        u->st.dropped++;
        pop_front(u);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

int upload_new(upload_t **out, const conf_t *c,
               int (*create_thread)(pthread_t *, void *(*)(void *), void *),
               void (*thread_init)(void))
{
    upload_t *u = calloc(1, sizeof(*u));
    if (!u)
        return EMBER_ENOMEM;
    u->conf = *c;
    u->thread_init = thread_init;
    if (c->token[0]) {
        snprintf(u->auth, sizeof(u->auth), "Authorization: Bearer %s\r\n", c->token);
    } else if (c->basic_user[0]) {
        char plain[260], enc[360];
        int n = snprintf(plain, sizeof(plain), "%s:%s", c->basic_user, c->basic_pass);
        base64(enc, plain, n > 0 ? (size_t)n : 0);
        snprintf(u->auth, sizeof(u->auth), "Authorization: Basic %s\r\n", enc);
    }
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    if (create_thread(&u->th, run, u) != 0) {
        pthread_mutex_destroy(&u->mu);
        pthread_cond_destroy(&u->cv);
        free(u);
        return EMBER_ESYS;
    }
    *out = u;
    return 0;
}

void upload_push(upload_t *u, const char *target, uint8_t *body, size_t len)
{
    char *t = strdup(target);
    if (!t) {
        free(body);
        return;
    }
    pthread_mutex_lock(&u->mu);
    while (u->n == UPLOAD_MAX_ITEMS || (u->n > 0 && u->bytes + len > UPLOAD_MAX_BYTES)) {
        u->st.dropped++;
        pop_front(u); /* the oldest goes: recent data is worth more */
    }
    size_t tail = (u->head + u->n) % UPLOAD_MAX_ITEMS;
    u->q[tail] = (item_t){t, body, len};
    u->n++;
    u->bytes += len;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

void upload_stop(upload_t *u, int deadline_ms)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->mu);
    u->stopping = 1;
    u->deadline_ns = now_ns() + (int64_t)deadline_ms * 1000000;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->th, NULL);
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    free(u);
}

upload_stats_t upload_stats(upload_t *u)
{
    pthread_mutex_lock(&u->mu);
    upload_stats_t s = u->st;
    pthread_mutex_unlock(&u->mu);
    return s;
}
