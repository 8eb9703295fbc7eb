/* Workload with a known allocation pattern for libember's allocation profile (run with
 * LD_PRELOAD, not linked): `rounds` rounds over 5 sizes; every 8th block is kept to the end
 * (in use at exit), the rest freed at once, through malloc, calloc, realloc and
 * posix_memalign. Prints the truth as "truth alloc_objects=.. alloc_space=.. inuse_objects=..
 * inuse_space=..", counting what each call asked for (a realloc counts as a new block of its
 * new size, the old one freed). keep_blocks() and churn() are the two allocating functions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t sizes[] = {24, 200, 1500, 9000, 60000};
static uint64_t a_obj, a_space, i_obj, i_space;
static void **kept;
static size_t nkept;

__attribute__((noinline)) static void *keep_blocks(size_t i, size_t n)
{
    void *p;
    switch (i % 3) {
    case 0: p = malloc(n); break;
    case 1: p = calloc(1, n); break;
    default: if (posix_memalign(&p, 64, n)) p = NULL; break;
    }
    memset(p, 1, 8);
    kept[nkept++] = p;
    a_obj++;
    a_space += n;
    i_obj++;
    i_space += n;
    return p;
}

__attribute__((noinline)) static void churn(size_t i, size_t n)
{
    char *p = malloc(n / 2 + 1);
    p[0] = (char)i;
    a_obj++;
    a_space += n / 2 + 1;
    p = realloc(p, n); /* a free of the first block and a new one of n bytes */
    p[n - 1] = 1;
    a_obj++;
    a_space += n;
    free(p);
}

int main(int argc, char **argv)
{
    size_t rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 4000;
    kept = malloc(rounds * 5 * sizeof(*kept) / 8 + 16);
    size_t k = 0;
    for (size_t r = 0; r < rounds; r++)
        for (size_t s = 0; s < 5; s++, k++) {
            if (k % 8 == 0)
                keep_blocks(k, sizes[s]);
            else
                churn(k, sizes[s]);
        }
    printf("truth alloc_objects=%llu alloc_space=%llu inuse_objects=%llu inuse_space=%llu\n",
           (unsigned long long)a_obj, (unsigned long long)a_space, (unsigned long long)i_obj,
           (unsigned long long)i_space);
    return 0; /* the kept blocks stay allocated: they are the in-use profile at exit */
}
