/* Workload for libember's robustness tests: the host's output and exit status must be the
 * same with and without LD_PRELOAD=libember.so.
 *   agent_chaos fork   threads burn CPU and allocate while the main thread forks a child
 *                      that allocates and exits 5 without exec, and a child that execs
 *                      `agent_chaos leaf`; prints what it saw, exits 3
 *   agent_chaos exit   threads allocate and burn CPU while main calls exit(7) mid-sampling
 *   agent_chaos leaf   prints "leaf" and exits 4
 *   agent_chaos busy N burns N ms of CPU allocating, prints "busy", exits 0 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;
static volatile int stop;

static double cpu_ms(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) static void burn_alloc(double ms)
{
    double t0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
    while (cpu_ms(CLOCK_THREAD_CPUTIME_ID) - t0 < ms && !stop) {
        for (int i = 0; i < 200; i++) {
            char *p = malloc(64 + (size_t)(i * 97) % 4000);
            p[0] = (char)i;
            sink += (uint64_t)p[0];
            free(p);
        }
    }
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!stop)
        burn_alloc(5);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "fork";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "leaf")) {
        printf("leaf\n");
        return 4;
    }
    if (!strcmp(mode, "busy")) {
        burn_alloc(argc > 2 ? atof(argv[2]) : 200);
        printf("busy\n");
        return 0;
    }
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, spinner, NULL);
    burn_alloc(150);
    if (!strcmp(mode, "exit")) {
        printf("exiting\n");
        exit(7); /* the spinners are still running and sampled */
    }
    for (int round = 0; round < 5; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            burn_alloc(30); /* the child has no profiler threads: it must not hang */
            pthread_t t;
            pthread_create(&t, NULL, spinner, NULL);
            stop = 1;
            pthread_join(t, NULL);
            exit(5);
        }
        int st;
        waitpid(pid, &st, 0);
        printf("fork child %d: exit %d\n", round, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        execl(argv[0], argv[0], "leaf", (char *)NULL);
        _exit(99);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("exec child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    stop = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    printf("done\n");
    return 3;
}
