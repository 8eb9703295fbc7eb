/* ember.h — the public API of libember, Ember's in-process profiler for C and C++ programs.
 *
 * libember samples the CPU time of every thread (per-thread CPU-time timers, frame-pointer
 * unwinding) and, optionally, allocations (sampled by bytes through malloc interposition),
 * attributes samples to the tags pushed on the sampling thread, and uploads a gzipped pprof
 * to an Ember or Pyroscope server every upload interval from its own threads: the host
 * program never blocks on the network. It is used either linked in (this header) or with
 * `LD_PRELOAD=libember.so` and the EMBER_* environment variables (docs/AGENT.md), which need
 * no change to the program at all.
 *
 * Thread-safety: every function may be called from any thread. ember_tag_push/pop act on the
 * calling thread only. Nothing here may be called from a signal handler.
 * Errors: functions return 0 or a negative EMBER_E* code; ember_strerror() names it.
 */
#ifndef EMBER_H
#define EMBER_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define EMBER_API __attribute__((visibility("default")))
#else
#define EMBER_API
#endif

/** Error codes (stable numbers). */
#define EMBER_OK 0
#define EMBER_EINVAL (-1)     /**< a configuration value is invalid */
#define EMBER_EBUSY (-2)      /**< the profiler is already running */
#define EMBER_ENOMEM (-3)     /**< out of memory */
#define EMBER_ESYS (-4)       /**< a system call failed (timer, thread, signal) */
#define EMBER_ENOTRUNNING (-5) /**< the profiler is not running */
#define EMBER_ELIMIT (-6)     /**< a fixed limit was reached (tag depth, distinct tag sets) */

/** Profile types, OR-ed into ember_config.profile_types. */
#define EMBER_PROFILE_CPU 1u   /**< CPU time of every thread */
#define EMBER_PROFILE_ALLOC 2u /**< sampled allocations: alloc/inuse objects and bytes */

/** The version of struct ember_config this header describes (set by ember_config_init). */
#define EMBER_CONFIG_VERSION 1

/** Profiler configuration. Fill it with ember_config_init() first, then set what you need;
 * strings are copied by ember_start(), so they need not outlive the call. */
typedef struct ember_config {
    int version;                  /**< EMBER_CONFIG_VERSION */
    const char *server_address;   /**< "http://host:port[/prefix]"; default http://localhost:4040 */
    const char *application_name; /**< service name, runes [A-Za-z0-9_.-/]; required */
    const char *tags;             /**< static tags "k=v,k=v" added to every sample; may be NULL */
    int sample_rate_hz;           /**< CPU samples per second of CPU time per thread; default 100 */
    int upload_interval_s;        /**< seconds between uploads; default 15 */
    unsigned profile_types;       /**< EMBER_PROFILE_* bits; default EMBER_PROFILE_CPU */
    long alloc_sample_bytes;      /**< mean bytes between allocation samples; default 524288 */
    const char *tenant_id;        /**< sent as X-Scope-OrgID when set */
    const char *auth_token;       /**< sent as "Authorization: Bearer <token>" when set */
    const char *basic_auth_user;  /**< with basic_auth_password: "Authorization: Basic ..." */
    const char *basic_auth_password;
    const char *output_path;      /**< when set, no upload: the profiles of the whole run are
                                       written there (gzipped pprof) by ember_stop() */
} ember_config_t;

/** Fills *cfg with the defaults above and version = EMBER_CONFIG_VERSION.
 * @param cfg the structure to fill (caller-owned) */
EMBER_API void ember_config_init(ember_config_t *cfg);

/** Starts profiling the whole process: arms a CPU timer in every existing thread and in every
 * thread created later (through pthread_create), starts the collector and upload threads.
 * @param cfg the configuration; copied
 * @return 0, EMBER_EINVAL (a bad value; nothing started), EMBER_EBUSY (already running,
 *         e.g. started from the environment by LD_PRELOAD), EMBER_ESYS, EMBER_ENOMEM */
EMBER_API int ember_start(const ember_config_t *cfg);

/** Stops sampling, uploads (or writes) what was collected since the last upload, waiting at
 * most a few seconds for the server, and joins libember's threads. Called automatically at
 * exit when the profiler was started from the environment.
 * @return 0 or EMBER_ENOTRUNNING */
EMBER_API int ember_stop(void);

/** Uploads what was collected so far now, without waiting for the interval, and returns once
 * the profile is queued for upload (not once it is sent).
 * @return 0 or EMBER_ENOTRUNNING */
EMBER_API int ember_flush(void);

/** Pushes the tag key=value on the calling thread's tag stack: the samples taken on this
 * thread until the matching ember_tag_pop() carry it (and all tags below it). An inner push
 * of the same key hides the outer value. Works whether or not the profiler is running.
 * @param key tag name, [A-Za-z0-9_.]+, at most 63 bytes
 * @param value tag value, at most 127 bytes, without ',' '{' '}' '=' (the /ingest syntax)
 * @return 0, EMBER_EINVAL, EMBER_ELIMIT (too many distinct tag sets in the process) */
EMBER_API int ember_tag_push(const char *key, const char *value);

/** Pops the innermost tag of the calling thread; a no-op on an empty stack. */
EMBER_API void ember_tag_pop(void);

/** A static English name of an EMBER_E* code ("invalid argument", ...). */
EMBER_API const char *ember_strerror(int code);

/* Scoped tags: the tag is popped when the enclosing block is left (GCC/Clang cleanup
 * attribute), also through break/return:
 *     { EMBER_TAG_SCOPE("request", "checkout"); handle(); }                                 */
#if defined(__GNUC__) && !defined(__cplusplus)
static inline void ember__tag_scope_end(int *pushed)
{
    if (*pushed == 0)
        ember_tag_pop();
}
#define EMBER__CAT2(a, b) a##b
#define EMBER__CAT(a, b) EMBER__CAT2(a, b)
#define EMBER_TAG_SCOPE(key, value)                                                            \
    int EMBER__CAT(ember__tag_scope_, __LINE__) __attribute__((cleanup(ember__tag_scope_end))) = \
        ember_tag_push((key), (value))
#endif

#ifdef __cplusplus
} /* extern "C" */

namespace ember {
/** RAII form of ember_tag_push/pop:  { ember::TagScope t("request", "checkout"); ... } */
class TagScope {
  public:
    TagScope(const char *key, const char *value) : pushed_(ember_tag_push(key, value) == 0) {}
    ~TagScope()
    {
        if (pushed_)
            ember_tag_pop();
    }
    TagScope(const TagScope &) = delete;
    TagScope &operator=(const TagScope &) = delete;

  private:
    bool pushed_;
};
} /* namespace ember */
#define EMBER_TAG_SCOPE(key, value)                                                            \
    ::ember::TagScope EMBER__CXX_CAT(ember__tag_scope_, __LINE__)((key), (value))
#define EMBER__CXX_CAT2(a, b) a##b
#define EMBER__CXX_CAT(a, b) EMBER__CXX_CAT2(a, b)
#endif

#endif /* EMBER_H */
