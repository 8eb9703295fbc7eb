/* elfsym.h — a bounds-checked reader of ELF64 files in memory: function symbols (.symtab
 * when present, else .dynsym), the GNU build id (NT_GNU_BUILD_ID), and the first executable
 * PT_LOAD segment. It lets libember name functions in-process, so the server shows names
 * without debug files.
 *
 * The input is untrusted bytes (any file a program maps; fuzzed by fuzz_agent_elf): every
 * offset and size is checked against the buffer before use, and a malformed part is skipped
 * rather than failing the whole file where that is safe.
 * Memory: elfsym_t borrows the bytes (names point into them) and owns its symbol array.
 */
#ifndef AGENT_ELFSYM_H
#define AGENT_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct elfsym_fn {
    uint64_t addr; /* st_value: link-time virtual address */
    uint64_t size;
    const char *name; /* borrowed from the ELF bytes, NUL-terminated inside them */
} elfsym_fn_t;

typedef struct elfsym {
    elfsym_fn_t *fns; /* owned, sorted by addr */
    size_t nfns;
    uint8_t build_id[64];
    size_t build_id_len;      /* 0 when absent */
    bool has_exec;            /* an executable PT_LOAD was found */
    uint64_t exec_vaddr;      /* its p_vaddr */
    uint64_t exec_offset;     /* its p_offset */
    bool from_symtab;         /* names came from .symtab (else .dynsym) */
    const uint8_t *eh_table;  /* .eh_frame_hdr search table (borrowed), or NULL */
    size_t eh_count;          /* its entries: int32 initial location, int32 FDE */
    uint64_t eh_vaddr;        /* link-time address the entries are relative to */
} elfsym_t;

/* Parses data[0..len). Returns 0, EMBER_EINVAL (not a little-endian ELF64 file) or
 * EMBER_ENOMEM; on error *out is empty. OUT: *out (release with elfsym_release). */
int elfsym_parse(elfsym_t *out, const uint8_t *data, size_t len);

/* The function containing link-time address vaddr, or NULL. OUT: *start (its address). */
const char *elfsym_lookup(const elfsym_t *e, uint64_t vaddr, uint64_t *start);

/* The start of the function containing vaddr according to the unwind tables
 * (.eh_frame_hdr), which also cover static functions a stripped library has no symbol for:
 * it lets unnamed frames be grouped per function. False when unknown. OUT: *start. */
bool elfsym_func_start(const elfsym_t *e, uint64_t vaddr, uint64_t *start);

/* Finds NT_GNU_BUILD_ID in a note segment or section notes[0..len); copies at most max bytes
 * of it to out and returns its length, or 0. */
size_t elfsym_note_build_id(const uint8_t *notes, size_t len, uint8_t *out, size_t max);

/* Frees the symbol array; *e is empty afterwards. Idempotent. */
void elfsym_release(elfsym_t *e);

#endif
