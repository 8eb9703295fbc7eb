/* record_cmd.c — `ember record [-o FILE | --server URL --name APP] -- CMD ARGS`.
 *
 * Profiles one command with libember through LD_PRELOAD: libember.so is looked up next to
 * the ember binary (found through /proc/self/exe: the build dir, src/agent/ below it, or
 * ../lib when installed), the command runs as our child with the EMBER_* variables set, and
 * its exit status becomes ours. In file mode EMBER_OUTPUT_PID pins the output to the child
 * itself, so processes it starts (which inherit LD_PRELOAD) do not overwrite the file.
 */
#include "cli/record_cmd.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ember record [flags] -- CMD [ARGS...]\n\n"
            "Runs CMD with libember preloaded and writes its profile (gzipped pprof, which\n"
            "`go tool pprof` reads) or pushes it to a server.\n\n"
            "  -o FILE           write the CPU profile here (default ember.pb.gz); with --alloc\n"
            "                    the allocation profile goes to FILE with .alloc.pb.gz\n"
            "  --server URL      push to this server instead (http://host:port)\n"
            "  --name APP        application name when pushing (default: CMD's basename)\n"
            "  --tags k=v,...    static tags when pushing\n"
            "  --rate HZ         CPU samples per second (default 100)\n"
            "  --interval S      upload interval in seconds when pushing (default 15)\n"
            "  --alloc           also profile allocations (--alloc-only: only allocations)\n"
            "  --lib PATH        libember.so to preload (default: next to ember)\n");
}

/* libember.so next to the ember executable; out gets the path. */
static int find_lib(char *out, size_t size)
{
    const char *env = getenv("EMBER_LIB");
    if (env && *env) {
        snprintf(out, size, "%s", env);
        return access(out, R_OK);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    static const char *const rel[] = {"libember.so", "src/agent/libember.so",
                                      "../lib/libember.so", "../lib/x86_64-linux-gnu/libember.so"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        int n2 = snprintf(out, size, "%s/%s", exe, rel[i]);
        if (n2 > 0 && (size_t)n2 < size && access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

int record_cmd_main(int argc, char **argv)
{
    const char *out = NULL, *server = NULL, *name = NULL, *tags = NULL, *rate = NULL,
               *interval = NULL, *lib_arg = NULL, *types = "cpu";
    int i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--alloc")) {
            types = "cpu,alloc";
            continue;
        } else if (!strcmp(a, "--alloc-only")) {
            types = "alloc";
            continue;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            dst = &out;
        } else if (!strcmp(a, "--server")) {
            dst = &server;
        } else if (!strcmp(a, "--name")) {
            dst = &name;
        } else if (!strcmp(a, "--tags")) {
            dst = &tags;
        } else if (!strcmp(a, "--rate")) {
            dst = &rate;
        } else if (!strcmp(a, "--interval")) {
            dst = &interval;
        } else if (!strcmp(a, "--lib")) {
            dst = &lib_arg;
        } else if (a[0] != '-') {
            break; /* the command, without "--" */
        } else {
            fprintf(stderr, "ember record: unknown flag %s\n\n", a);
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "ember record: %s needs a value\n", a);
            return 2;
        }
        *dst = argv[++i];
    }
    if (i >= argc) {
        fprintf(stderr, "ember record: no command given\n\n");
        usage(stderr);
        return 2;
    }
    if (out && server) {
        fprintf(stderr, "ember record: -o and --server exclude each other\n");
        return 2;
    }
    char lib[PATH_MAX];
    if (lib_arg)
        snprintf(lib, sizeof(lib), "%s", lib_arg);
    if (lib_arg ? access(lib, R_OK) != 0 : find_lib(lib, sizeof(lib)) != 0) {
        fprintf(stderr, "ember record: libember.so not found next to the ember binary "
                        "(set EMBER_LIB or --lib)\n");
        return 1;
    }
    if (!server && !out)
        out = "ember.pb.gz";
    char **cmd = argv + i;
    if (!name) {
        const char *base = strrchr(cmd[0], '/');
        name = base ? base + 1 : cmd[0];
    }

    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ember record: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        char preload[PATH_MAX * 2 + 2];
        const char *old = getenv("LD_PRELOAD");
        snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "",
                 old ? old : "");
        setenv("LD_PRELOAD", preload, 1);
        setenv("EMBER_PROFILE_TYPES", types, 1);
        if (rate)
            setenv("EMBER_SAMPLE_RATE", rate, 1);
        if (server) {
            setenv("EMBER_SERVER_ADDRESS", server, 1);
            setenv("EMBER_APPLICATION_NAME", name, 1);
            if (tags)
                setenv("EMBER_TAGS", tags, 1);
            if (interval)
                setenv("EMBER_UPLOAD_INTERVAL", interval, 1);
            unsetenv("EMBER_OUTPUT");
        } else {
            char abs[PATH_MAX], pidbuf[32];
            if (out[0] != '/' && getcwd(abs, sizeof(abs)))
                snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "/%s", out);
            else
                snprintf(abs, sizeof(abs), "%s", out);
            setenv("EMBER_OUTPUT", abs, 1);
            snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
            setenv("EMBER_OUTPUT_PID", pidbuf, 1);
            setenv("EMBER_APPLICATION_NAME", name, 1);
        }
        execvp(cmd[0], cmd);
        fprintf(stderr, "ember record: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    /* the terminal's ^C reaches the child too; we only wait for it */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "ember record: waitpid: %s\n", strerror(errno));
            return 1;
        }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out) {
        struct stat st;
        if (stat(out, &st) == 0)
            fprintf(stderr, "ember record: wrote %s (%lld bytes)\n", out, (long long)st.st_size);
        else
            fprintf(stderr, "ember record: %s was not written (did the command exit through "
                            "_exit or a signal?)\n", out);
    }
    return rc;
}
