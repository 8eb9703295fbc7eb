/* symbols.h — the loaded modules of this process (dl_iterate_phdr) with their executable
 * address ranges, build ids and ELF function symbols, and address → function name lookups
 * for the pprof encoder. Collector thread only (not thread-safe, allocates).
 *
 * Modules are added as they appear (symbols_refresh before each encode) and never removed:
 * an address sampled before a dlclose still resolves against the mapping it had.
 */
#ifndef AGENT_SYMBOLS_H
#define AGENT_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/elfsym.h"

typedef struct symbols_mod {
    uint64_t start, limit; /* executable range in memory */
    uint64_t file_offset;  /* file offset of start */
    uint64_t bias;         /* load bias: link-time address = runtime address - bias */
    char path[512];
    char build_id[129];    /* lower-case hex, "" when absent */
    elfsym_t elf;          /* empty until symbols_load(), or when the file cannot be read */
    int loaded;            /* symbols_load() ran */
    void *map;             /* the file's bytes (mmap), owned */
    size_t map_len;
} symbols_mod_t;

typedef struct symbols {
    symbols_mod_t *mods; /* owned */
    size_t n, cap;
    void *(*demangle)(const char *, char *, size_t *, int *); /* __cxa_demangle or NULL */
} symbols_t;

#define SYMBOLS_INIT {NULL, 0, 0, NULL}

/* Adds the modules loaded since the last call. Returns 0 or EMBER_ENOMEM. */
int symbols_refresh(symbols_t *s);

/* Reads module mod's ELF file (mmap) and symbols, once; modules no sample refers to are
 * never read, which keeps start-up and short runs cheap. */
void symbols_load(symbols_t *s, long mod);

/* The index of the module containing addr, or -1. */
long symbols_find(const symbols_t *s, uint64_t addr);

/* Writes the name of the function at addr (module index mod, or -1) into buf: the symbol,
 * demangled when it is a C++ name and libstdc++ is loaded, else "<module>+0x<offset>". */
void symbols_name(symbols_t *s, long mod, uint64_t addr, char *buf, size_t size);

/* Unmaps and frees everything. */
void symbols_release(symbols_t *s);

#endif
