/* Fuzz target: libember's ELF reader (elfsym_parse: section and program headers, .symtab /
 * .dynsym, string tables, NT_GNU_BUILD_ID notes) on untrusted bytes. Invariants on success:
 * symbols sorted by address with names NUL-terminated inside the input, every symbol's own
 * address resolves to a name, and the build id fits its buffer. The note parser alone is
 * also run over the whole input. Seeds are real gcc-built executables and libraries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/elfsym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy: names must point into the bytes we pass, nowhere else */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    uint8_t id[64];
    if (elfsym_note_build_id(buf, size, id, sizeof(id)) > sizeof(id))
        abort();
    elfsym_t e;
    if (elfsym_parse(&e, buf, size) == 0) {
        if (e.build_id_len > sizeof(e.build_id))
            abort();
        for (size_t i = 0; i < e.nfns; i++) {
            const char *n = e.fns[i].name;
            if (n < (const char *)buf || n >= (const char *)buf + size ||
                !memchr(n, 0, (size_t)((const char *)buf + size - n)))
                abort();
            if (i && e.fns[i - 1].addr >= e.fns[i].addr)
                abort();
            uint64_t start = 0;
            const char *got = elfsym_lookup(&e, e.fns[i].addr, &start);
            if (!got || start != e.fns[i].addr)
                abort();
        }
        for (size_t i = 0; i < e.eh_count && i < 64; i++) { /* every FDE start is found */
            int32_t loc;
            memcpy(&loc, e.eh_table + i * 8, 4);
            uint64_t at = e.eh_vaddr + (uint64_t)(int64_t)loc, start = 0;
            if (elfsym_func_start(&e, at, &start) && start > at)
                abort();
        }
        uint64_t st;
        (void)elfsym_func_start(&e, 0, &st);
        (void)elfsym_func_start(&e, UINT64_MAX, &st);
        (void)elfsym_lookup(&e, 0, NULL);
        (void)elfsym_lookup(&e, UINT64_MAX, NULL);
        elfsym_release(&e);
    } else if (e.fns || e.nfns) {
        abort(); /* a failed parse leaves nothing behind */
    }
    free(buf);
    return 0;
}
