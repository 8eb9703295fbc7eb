/* err_t helpers: formatting the message and naming codes. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(err_t *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

int err_prefix(err_t *err, const char *fmt, ...)
{
    if (!err)
        return EMB_EINVAL;
    char old[ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    /* Truncation is fine: the message is for humans and bounded on purpose. */
    if (n >= 0 && (size_t)n < sizeof(err->msg) - 2) {
        size_t room = sizeof(err->msg) - (size_t)n;
        err->msg[n] = ':';
        err->msg[n + 1] = ' ';
        size_t ol = strnlen(old, sizeof(old) - 1);
        if (ol > room - 3)
            ol = room - 3;
        memcpy(err->msg + n + 2, old, ol);
        err->msg[n + 2 + ol] = 0;
    }
    return err->code;
}

const char *err_name(int code)
{
    switch (code) {
    case EMB_OK: return "ok";
    case EMB_EINVAL: return "invalid";
    case EMB_ETOOBIG: return "too_big";
    case EMB_ENOTFOUND: return "not_found";
    case EMB_ELIMIT: return "limit";
    case EMB_EIO: return "io";
    case EMB_ECORRUPT: return "corrupt";
    case EMB_ENOMEM: return "no_memory";
    case EMB_EUNAVAIL: return "unavailable";
    case EMB_EUNSUPPORTED: return "unsupported";
    }
    return "unknown";
}
