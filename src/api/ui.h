/* The web UI's HTTP side: serves the static assets that scripts/embed_assets.py compiled into
 * the binary from ui/ (index.html, app.js, app.css), so `ember server` needs no web server and
 * no files on disk. The asset table is generated at build time (ui_assets.c in the build
 * directory); it is read-only data, shared by every HTTP thread without locks. */
#ifndef EMBER_API_UI_H
#define EMBER_API_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api_int.h"

typedef struct ui_asset {
    const char *path;         /* URL path, e.g. "/assets/app.js"; "/" is index.html */
    const char *content_type; /* with charset for text */
    const char *etag;         /* strong, quoted: a hash of the uncompressed bytes */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip of data, or NULL when it would not be smaller */
    size_t gz_len;
} ui_asset_t;

/* Defined by the generated ui_assets.c. */
extern const ui_asset_t UI_ASSETS[];
extern const size_t UI_NASSETS;

/* Answers a GET/HEAD for the UI: "/" and the asset paths, and, as a single-page-app
 * fallback, any other path whose request accepts text/html (a bookmarked view such as
 * "/diff"), which gets index.html. Revalidation by If-None-Match gets a 304; gzip is sent when
 * the client accepts it. Returns false (resp untouched) when the request is not the UI's, so
 * the caller answers 404. Thread-safe. */
bool ui_serve(const api_req_t *req, api_resp_t *resp);

#endif
