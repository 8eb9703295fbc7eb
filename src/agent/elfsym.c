/* elfsym.c — bounds-checked ELF64 symbol, build-id and segment reader (see elfsym.h).
 *
 * Only what symbolization needs: section headers → the symbol table and its string table,
 * note sections/segments → the build id, program headers → the executable segment. Every
 * (offset, size) pair is checked with `span_ok` before the bytes are read.
 */
#include "agent/elfsym.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"

static bool span_ok(size_t len, uint64_t off, uint64_t size)
{
    return off <= len && size <= len - off;
}

size_t elfsym_note_build_id(const uint8_t *p, size_t len, uint8_t *out, size_t max)
{
    size_t off = 0;
    while (off + 12 <= len) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        memcpy(&type, p + off + 8, 4);
        off += 12;
        uint64_t name_pad = ((uint64_t)namesz + 3) & ~(uint64_t)3;
        uint64_t desc_pad = ((uint64_t)descsz + 3) & ~(uint64_t)3;
        if (!span_ok(len, off, name_pad) || !span_ok(len, off + name_pad, desc_pad))
            return 0;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p + off, "GNU", 4) &&
            descsz > 0) {
            size_t n = descsz < max ? descsz : max;
            memcpy(out, p + off + name_pad, n);
            return n;
        }
        off += name_pad + desc_pad;
    }
    return 0;
}

static int cmp_fn(const void *a, const void *b)
{
    const elfsym_fn_t *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    /* at one address prefer the sized, then the global-looking (shorter) name: stable */
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Reads the symbols of section `si` (SYMTAB or DYNSYM) into e->fns. */
static int read_syms(elfsym_t *e, const uint8_t *d, size_t len, const Elf64_Shdr *sh,
                     size_t shnum, size_t si)
{
    const Elf64_Shdr *s = &sh[si];
    if (s->sh_entsize != sizeof(Elf64_Sym) || s->sh_link >= shnum ||
        !span_ok(len, s->sh_offset, s->sh_size))
        return 0;
    const Elf64_Shdr *str = &sh[s->sh_link];
    if (str->sh_type != SHT_STRTAB || !span_ok(len, str->sh_offset, str->sh_size) ||
        str->sh_size == 0)
        return 0;
    const char *strs = (const char *)d + str->sh_offset;
    size_t strs_len = str->sh_size;
    size_t n = s->sh_size / sizeof(Elf64_Sym);
    if (n > 50u * 1000 * 1000)
        return 0;
    elfsym_fn_t *fns = malloc((n ? n : 1) * sizeof(*fns));
    if (!fns)
        return EMBER_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        Elf64_Sym sym;
        memcpy(&sym, d + s->sh_offset + i * sizeof(Elf64_Sym), sizeof(sym));
        int type = ELF64_ST_TYPE(sym.st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
            sym.st_value == 0 || sym.st_name >= strs_len)
            continue;
        const char *name = strs + sym.st_name;
        if (!memchr(name, 0, strs_len - sym.st_name) || !*name)
            continue;
        fns[k].addr = sym.st_value;
        fns[k].size = sym.st_size;
        fns[k].name = name;
        k++;
    }
    qsort(fns, k, sizeof(*fns), cmp_fn);
    /* drop aliases: keep the first (preferred) name at each address */
    size_t w = 0;
    for (size_t i = 0; i < k; i++)
        if (w == 0 || fns[w - 1].addr != fns[i].addr)
            fns[w++] = fns[i];
    e->fns = fns;
    e->nfns = w;
    return 0;
}

/* .eh_frame_hdr (PT_GNU_EH_FRAME): version 1, three encodings, the encoded eh_frame
 * pointer and FDE count, then a table sorted by initial location. Only the table encoding
 * every toolchain emits is read: DW_EH_PE_datarel | DW_EH_PE_sdata4 (0x3b), 8 bytes an entry,
 * relative to the header's own address. */
static void read_eh_hdr(elfsym_t *e, const uint8_t *d, size_t len, uint64_t off, uint64_t size,
                        uint64_t vaddr)
{
    if (!span_ok(len, off, size) || size < 4 || d[off] != 1 || d[off + 3] != 0x3b)
        return;
    size_t ptr_size;
    switch (d[off + 1] & 0x0f) { /* eh_frame_ptr encoding: its size */
    case 0x02: case 0x0a: ptr_size = 2; break;
    case 0x03: case 0x0b: ptr_size = 4; break;
    case 0x04: case 0x0c: ptr_size = 8; break;
    default: return;
    }
    if (d[off + 2] != 0x03 || size < 4 + ptr_size + 4) /* fde_count: udata4 */
        return;
    uint32_t count;
    memcpy(&count, d + off + 4 + ptr_size, 4);
    uint64_t table = off + 4 + ptr_size + 4;
    if (!span_ok(len, table, (uint64_t)count * 8) || table + (uint64_t)count * 8 > off + size)
        return;
    e->eh_table = d + table;
    e->eh_count = count;
    e->eh_vaddr = vaddr;
}

bool elfsym_func_start(const elfsym_t *e, uint64_t vaddr, uint64_t *start)
{
    size_t lo = 0, hi = e->eh_count;
    while (lo < hi) { /* first entry starting after vaddr */
        size_t mid = lo + (hi - lo) / 2;
        int32_t loc;
        memcpy(&loc, e->eh_table + mid * 8, 4);
        if (e->eh_vaddr + (uint64_t)(int64_t)loc <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    int32_t loc;
    memcpy(&loc, e->eh_table + (lo - 1) * 8, 4);
    *start = e->eh_vaddr + (uint64_t)(int64_t)loc;
    return vaddr - *start < (1u << 20); /* no FDE covers gaps that large */
}

int elfsym_parse(elfsym_t *e, const uint8_t *d, size_t len)
{
    memset(e, 0, sizeof(*e));
    if (len < sizeof(Elf64_Ehdr) || memcmp(d, ELFMAG, SELFMAG) || d[EI_CLASS] != ELFCLASS64 ||
        d[EI_DATA] != ELFDATA2LSB)
        return EMBER_EINVAL;
    Elf64_Ehdr eh;
    memcpy(&eh, d, sizeof(eh));

    /* program headers: executable segment and build id from PT_NOTE */
    if (eh.e_phentsize == sizeof(Elf64_Phdr) &&
        span_ok(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))) {
        for (size_t i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
            if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && !e->has_exec) {
                e->has_exec = true;
                e->exec_vaddr = ph.p_vaddr;
                e->exec_offset = ph.p_offset;
            }
            if (ph.p_type == PT_GNU_EH_FRAME && !e->eh_table)
                read_eh_hdr(e, d, len, ph.p_offset, ph.p_filesz, ph.p_vaddr);
            if (ph.p_type == PT_NOTE && !e->build_id_len &&
                span_ok(len, ph.p_offset, ph.p_filesz))
                e->build_id_len = elfsym_note_build_id(d + ph.p_offset, ph.p_filesz,
                                                       e->build_id, sizeof(e->build_id));
        }
    }

    /* section headers: symbols, and notes when no PT_NOTE carried the build id */
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
        !span_ok(len, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)))
        return 0; /* stripped of section headers: no names, still a valid file */
    size_t shnum = eh.e_shnum;
    Elf64_Shdr *sh = malloc(shnum * sizeof(*sh));
    if (!sh)
        return EMBER_ENOMEM;
    memcpy(sh, d + eh.e_shoff, shnum * sizeof(*sh));
    size_t symtab = 0, dynsym = 0;
    for (size_t i = 1; i < shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB && !symtab)
            symtab = i;
        else if (sh[i].sh_type == SHT_DYNSYM && !dynsym)
            dynsym = i;
        else if (sh[i].sh_type == SHT_NOTE && !e->build_id_len &&
                 span_ok(len, sh[i].sh_offset, sh[i].sh_size))
            e->build_id_len = elfsym_note_build_id(d + sh[i].sh_offset, sh[i].sh_size,
                                                   e->build_id, sizeof(e->build_id));
    }
    int rc = 0;
    if (symtab)
        rc = read_syms(e, d, len, sh, shnum, symtab);
    if (!rc && e->nfns > 0)
        e->from_symtab = true;
    if (!rc && e->nfns == 0 && dynsym) {
        free(e->fns);
        e->fns = NULL;
        rc = read_syms(e, d, len, sh, shnum, dynsym);
    }
    free(sh);
    if (rc)
        elfsym_release(e);
    return rc;
}

const char *elfsym_lookup(const elfsym_t *e, uint64_t vaddr, uint64_t *start)
{
    size_t lo = 0, hi = e->nfns;
    while (lo < hi) { /* first symbol with addr > vaddr */
        size_t mid = lo + (hi - lo) / 2;
        if (e->fns[mid].addr <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const elfsym_fn_t *f = &e->fns[lo - 1];
    /* a sized symbol must contain the address; an unsized one (hand-written asm) reaches up
     * to the next symbol, but not absurdly far */
    if (f->size ? vaddr - f->addr >= f->size : vaddr - f->addr > (1u << 20))
        return NULL;
    if (start)
        *start = f->addr;
    return f->name;
}

void elfsym_release(elfsym_t *e)
{
    free(e->fns);
    e->fns = NULL;
    e->nfns = 0;
    e->eh_table = NULL;
    e->eh_count = 0;
}
