/* Leveled logfmt logging to stderr. The level is a process setting chosen once at startup by
 * server/ (log_set_level) before threads start; reads afterwards are racy-free because it is
 * never written again. */
#ifndef EMBER_BASE_LOG_H
#define EMBER_BASE_LOG_H

enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Parses "debug|info|warn|error" (also "warning"); returns -1 if unknown. */
int log_level_parse(const char *s);
void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
