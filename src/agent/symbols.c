/* symbols.c — module list, build ids and in-process symbolization (see symbols.h).
 *
 * The file of each module is mmap'ed read-only and parsed by elfsym; its symbols stay
 * borrowed from that mapping for the life of the process. Build ids are read from the
 * module's PT_NOTE in memory (what is loaded is what ran), falling back to the file.
 */
#include "agent/symbols.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ember.h"

static void hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

static void load_file(symbols_mod_t *m)
{
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            m->map = p;
            m->map_len = (size_t)st.st_size;
            if (elfsym_parse(&m->elf, p, m->map_len) != 0)
                memset(&m->elf, 0, sizeof(m->elf));
        }
    }
    close(fd);
}

struct iter {
    symbols_t *s;
    int rc;
};

static int on_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct iter *it = arg;
    symbols_t *s = it->s;
    const ElfW(Phdr) *exec = NULL;
    uint8_t bid[64];
    size_t bid_len = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && !exec)
            exec = ph;
        if (ph->p_type == PT_NOTE && !bid_len)
            bid_len = elfsym_note_build_id((const uint8_t *)(info->dlpi_addr + ph->p_vaddr),
                                           ph->p_memsz, bid, sizeof(bid));
    }
    if (!exec)
        return 0;
    uint64_t start = info->dlpi_addr + exec->p_vaddr;
    for (size_t i = 0; i < s->n; i++)
        if (s->mods[i].start == start)
            return 0; /* known */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        symbols_mod_t *mods = realloc(s->mods, cap * sizeof(*mods));
        if (!mods) {
            it->rc = EMBER_ENOMEM;
            return 1;
        }
        s->mods = mods;
        s->cap = cap;
    }
    symbols_mod_t *m = &s->mods[s->n];
    memset(m, 0, sizeof(*m));
    m->start = start;
    m->limit = start + exec->p_memsz;
    m->file_offset = exec->p_offset;
    m->bias = info->dlpi_addr;
    const char *name = info->dlpi_name;
    if (!name || !*name) { /* the main program */
        ssize_t n = readlink("/proc/self/exe", m->path, sizeof(m->path) - 1);
        m->path[n > 0 ? n : 0] = 0;
    } else {
        snprintf(m->path, sizeof(m->path), "%s", name);
    }
    hex(m->build_id, bid, bid_len);
    s->n++;
    return 0;
}

int symbols_refresh(symbols_t *s)
{
    struct iter it = {s, 0};
    dl_iterate_phdr(on_module, &it);
    if (!s->demangle) /* only when the program has libstdc++: plain C programs need none */
        s->demangle = (void *(*)(const char *, char *, size_t *, int *))dlsym(
            RTLD_DEFAULT, "__cxa_demangle");
    return it.rc;
}

void symbols_load(symbols_t *s, long mod)
{
    if (mod < 0 || (size_t)mod >= s->n || s->mods[mod].loaded)
        return;
    symbols_mod_t *m = &s->mods[mod];
    m->loaded = 1;
    if (m->path[0] == '/')
        load_file(m);
    if (!m->build_id[0] && m->elf.build_id_len) /* no note in memory: the file's */
        hex(m->build_id, m->elf.build_id, m->elf.build_id_len);
}

long symbols_find(const symbols_t *s, uint64_t addr)
{
    for (size_t i = 0; i < s->n; i++)
        if (addr >= s->mods[i].start && addr < s->mods[i].limit)
            return (long)i;
    return -1;
}

void symbols_name(symbols_t *s, long mod, uint64_t addr, char *buf, size_t size)
{
    if (mod < 0) {
        snprintf(buf, size, "0x%llx", (unsigned long long)addr);
        return;
    }
    symbols_load(s, mod);
    symbols_mod_t *m = &s->mods[mod];
    const char *name = elfsym_lookup(&m->elf, addr - m->bias, NULL);
    if (!name) {
        /* no symbol (a static function of a stripped library): name it by the start of
         * its function from the unwind tables, so its samples stay together */
        uint64_t start;
        uint64_t at = elfsym_func_start(&m->elf, addr - m->bias, &start) ? start + m->bias : addr;
        const char *base = strrchr(m->path, '/');
        snprintf(buf, size, "%s+0x%llx", base ? base + 1 : m->path,
                 (unsigned long long)(at - m->start + m->file_offset));
        return;
    }
    if (s->demangle && name[0] == '_' && name[1] == 'Z') {
        int status = -1;
        char *d = s->demangle(name, NULL, NULL, &status);
        if (d && status == 0) {
            snprintf(buf, size, "%s", d);
            free(d);
            return;
        }
        free(d);
    }
    snprintf(buf, size, "%s", name);
}

void symbols_release(symbols_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        elfsym_release(&s->mods[i].elf);
        if (s->mods[i].map)
            munmap(s->mods[i].map, s->mods[i].map_len);
    }
    free(s->mods);
    memset(s, 0, sizeof(*s));
}
