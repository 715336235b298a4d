/* crc32c.c — CRC-32C, hardware (SSE4.2 crc32 instruction) with a byte-table fallback. */
#include "crc32c.h"

#include <stdbool.h>
#include <string.h>

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t table[256];
static bool table_ready;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
    __atomic_store_n(&table_ready, true, __ATOMIC_RELEASE);
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
    /* Racing initialisations write identical values: harmless. */
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
        table_init();
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* The crc32 instruction has a latency of three cycles and a throughput of one: one dependency
 * chain runs at a third of its speed.  So long buffers go in strides of three blocks whose CRCs
 * are computed side by side and then joined: the CRC register is linear, so feeding block B after
 * register r gives shift(r) ^ crc(B from 0), where shift(r) is r fed BLOCK zero bytes — a linear
 * map, applied from four byte tables made once from its 32 basis vectors. */
#define BLOCK 2048
static uint32_t shift_tab[4][256];
static bool shift_ready;

__attribute__((target("sse4.2"))) static uint32_t crc_zeros(uint32_t crc, size_t n)
{
    uint64_t c = crc;
    for (; n >= 8; n -= 8)
        c = __builtin_ia32_crc32di(c, 0);
    return (uint32_t)c;
}

/* Before main() (and before any thread of a traced program), so the tables are never written
 * while read. */
__attribute__((constructor)) static void shift_init(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.2"))
        return;
    uint32_t basis[32];
    for (int i = 0; i < 32; i++)
        basis[i] = crc_zeros(1u << i, BLOCK);
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int j = 0; j < 8; j++)
                if (b >> j & 1)
                    v ^= basis[8 * k + j];
            shift_tab[k][b] = v;
        }
    shift_ready = true;
}

static inline uint32_t shift(uint32_t r)
{
    return shift_tab[0][r & 0xff] ^ shift_tab[1][r >> 8 & 0xff] ^ shift_tab[2][r >> 16 & 0xff] ^ shift_tab[3][r >> 24];
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
                                                          size_t len)
{
    uint64_t c = crc;
    for (; shift_ready && len >= 3 * BLOCK; len -= 3 * BLOCK, p += 3 * BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        for (size_t i = 0; i < BLOCK; i += 8) {
            c = __builtin_ia32_crc32di(c, load64(p + i));
            c1 = __builtin_ia32_crc32di(c1, load64(p + BLOCK + i));
            c2 = __builtin_ia32_crc32di(c2, load64(p + 2 * BLOCK + i));
        }
        c = shift(shift((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
    }
    for (; len >= 8; len -= 8, p += 8)
        c = __builtin_ia32_crc32di(c, load64(p));
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t ngr_crc32c(uint32_t crc, const void *buf, size_t len)
{
    crc = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc_hw(crc, buf, len);
#endif
    return ~crc_soft(crc, buf, len);
}
