/* libmicrohttpd glue: collects the body (bounded by body_limit), builds an api_req_t and
 * hands it to routes.c, then queues the response. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/log.h"
#include "base/mem.h"

typedef struct conn_ctx {
    buf_t body;
    bool too_big;
} conn_ctx_t;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    api_req_t *r = cls;
    if (r->nargs < API_MAX_ARGS) {
        r->args[r->nargs].key = key;
        r->args[r->nargs].value = value ? value : "";
        r->nargs++;
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    api_t *a = cls;
    conn_ctx_t *c = *con_cls;
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        buf_init(&c->body, a->opt.body_limit);
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!c->too_big && buf_append(&c->body, upload_data, *upload_data_size))
            c->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    api_req_t req;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.body = (const uint8_t *)c->body.data;
    req.body_len = c->body.len;
    req.body_too_big = c->too_big;
    req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    req.tenant_header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Scope-OrgID");
    req.content_encoding =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
    req.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    req.accept_encoding = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
    req.if_none_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &req);
    api_resp_t resp;
    memset(&resp, 0, sizeof(resp));
    buf_init(&resp.body, 512u << 20);
    api__dispatch(a, &req, &resp);
    size_t len;
    char *data = buf_detach(&resp.body, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", resp.content_type ? resp.content_type
                                                                 : "application/json");
    if (resp.status >= 400)
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp.allow)
        MHD_add_response_header(r, "Allow", resp.allow);
    if (resp.content_encoding)
        MHD_add_response_header(r, "Content-Encoding", resp.content_encoding);
    if (resp.etag)
        MHD_add_response_header(r, "ETag", resp.etag);
    if (resp.cache_control)
        MHD_add_response_header(r, "Cache-Control", resp.cache_control);
    if (resp.vary)
        MHD_add_response_header(r, "Vary", resp.vary);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp.status, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_ctx_t *c = *con_cls;
    if (c) {
        buf_release(&c->body);
        free(c);
        *con_cls = NULL;
    }
}

int api__http_start(api_t *a, err_t *err)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)a->opt.port);
    if (a->opt.listen_address && *a->opt.listen_address) {
        if (inet_pton(AF_INET, a->opt.listen_address, &sa.sin_addr) != 1)
            return err_set(err, EMB_EINVAL, "server.http_listen_address: \"%s\" is not an IPv4 "
                           "address", a->opt.listen_address);
    } else {
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
    }
    unsigned threads = a->opt.threads > 0 ? (unsigned)a->opt.threads : 16;
    a->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, a, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)4096, MHD_OPTION_END);
    if (!a->daemon)
        return err_set(err, EMB_EIO, "cannot listen on %s:%d (port in use?)",
                       a->opt.listen_address && *a->opt.listen_address ? a->opt.listen_address
                                                                          : "0.0.0.0",
                       a->opt.port);
    log_info("http: listening on %s:%d with %u threads",
             a->opt.listen_address && *a->opt.listen_address ? a->opt.listen_address : "0.0.0.0",
             a->opt.port, threads);
    return 0;
}

void api__http_stop(api_t *a)
{
    if (a->daemon)
        MHD_stop_daemon(a->daemon);
    a->daemon = NULL;
}
