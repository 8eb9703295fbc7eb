// C++ workload for libember (tests/integration/test_agent_e2e.py): operator new/delete
// interposition, C++ symbol demangling, and ember::TagScope. work::Hot::spin burns CPU
// under the tag lang=cxx; work::Widget::build allocates with new[] and keeps every 4th
// array. Usage: agent_cxx_work [rounds]. Prints "cxx done <kept bytes>", exits 0.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ember.h"

namespace work {

static volatile uint64_t sink;

struct Hot {
    __attribute__((noinline)) static uint64_t spin(uint64_t n)
    {
        uint64_t x = n ^ sink;
        for (uint64_t i = 0; i < n; i++)
            x = x * 2862933555777941757ull + 3037000493ull;
        return x;
    }
};

struct Widget {
    std::vector<int *> kept;
    uint64_t kept_bytes = 0;

    __attribute__((noinline)) void build(int i)
    {
        size_t n = 1000 + (size_t)(i % 7) * 500;
        int *a = new int[n];
        a[0] = i;
        if (i % 4 == 0) {
            kept.push_back(a);
            kept_bytes += n * sizeof(int);
        } else {
            delete[] a;
        }
    }
};

} // namespace work

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? std::atoi(argv[1]) : 20000;
    work::Widget w;
    w.kept.reserve((size_t)rounds / 4 + 1);
    for (int i = 0; i < rounds; i++) {
        w.build(i);
        ember::TagScope t("lang", "cxx");
        work::sink += work::Hot::spin(20000);
    }
    std::printf("cxx done %llu\n", (unsigned long long)w.kept_bytes);
    return 0;
}
