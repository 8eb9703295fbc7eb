/* Serves the embedded web UI (see ui.h). Every asset is answered with its ETag and
 * "Cache-Control: no-cache": the names carry no content hash, so browsers must revalidate,
 * and a 304 costs one round trip and no body. Bodies are copied into the response buffer
 * because the HTTP layer owns (and frees) every response body; the largest asset is ~100 kB. */
#include <string.h>
#include <strings.h>

#include "api/ui.h"

/* True when the comma-separated header value lists token (case-insensitive), ignoring
 * parameters such as ";q=0.8" and the weak-validator prefix W/ (If-None-Match compares
 * weakly). A q=0 refusal is rare enough for a gzip-capable asset to ignore. */
static bool header_has(const char *value, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = value; p && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!strncmp(p, "W/", 2))
            p += 2;
        if (!strncasecmp(p, token, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ';' ||
                                          p[n] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

static const ui_asset_t *find(const char *path)
{
    for (size_t i = 0; i < UI_NASSETS; i++)
        if (!strcmp(UI_ASSETS[i].path, path))
            return &UI_ASSETS[i];
    return NULL;
}

/* Paths the SPA fallback must never swallow: an API client that happens to send
 * Accept: text/html must still get the API's 404, not a page. */
static bool is_api_path(const char *path)
{
    static const char *const PREFIXES[] = {"/api/", "/assets/", "/pyroscope/", "/querier.",
                                           "/push.", "/render", "/ingest", "/label"};
    for (size_t i = 0; i < sizeof(PREFIXES) / sizeof(PREFIXES[0]); i++)
        if (!strncmp(path, PREFIXES[i], strlen(PREFIXES[i])))
            return true;
    return false;
}

bool ui_serve(const api_req_t *req, api_resp_t *resp)
{
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
        return false;
    const ui_asset_t *a = find(req->path);
    if (!a && !is_api_path(req->path) && header_has(req->accept, "text/html"))
        a = find("/");
    if (!a)
        return false;
    resp->content_type = a->content_type;
    resp->etag = a->etag;
    resp->cache_control = "no-cache";
    resp->vary = "Accept-Encoding";
    if (req->if_none_match && (header_has(req->if_none_match, a->etag) ||
                               !strcmp(req->if_none_match, "*"))) {
        resp->status = 304;
        return true;
    }
    const unsigned char *body = a->data;
    size_t len = a->len;
    if (a->gz && header_has(req->accept_encoding, "gzip")) {
        body = a->gz;
        len = a->gz_len;
        resp->content_encoding = "gzip";
    }
    buf_reset(&resp->body);
    if (buf_append(&resp->body, body, len)) {
        api__reply_error(resp, 500, "out of memory for a UI asset");
        return true;
    }
    resp->status = 200;
    return true;
}
