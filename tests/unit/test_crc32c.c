/* test_crc32c.c — ngr_crc32c (hardware strides joined by shift tables, or the byte table) against
 * a bit-at-a-time reference, over lengths around every stride boundary and odd alignments. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "crc32c.h"

static uint32_t reference(uint32_t crc, const unsigned char *p, size_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

Test(crc32c, check_value)
{
    cr_expect_eq(ngr_crc32c(0, "123456789", 9), 0xe3069283u); /* the catalogue's check value */
    cr_expect_eq(ngr_crc32c(0, "", 0), 0u);
}

Test(crc32c, matches_reference_at_every_boundary)
{
    enum { MAX = 3 * 2048 * 4 + 100 };
    unsigned char *buf = malloc(MAX + 8);
    cr_assert(buf);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < MAX + 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    size_t lens[] = {1, 7, 8, 9, 2047, 2048, 6143, 6144, 6145, 6152, 12288, 12289, 18431, 18432, 24576,
                     24583, MAX, 65472};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        size_t n = lens[i] <= MAX ? lens[i] : MAX;
        for (size_t align = 0; align < 3; align++) {
            uint32_t want = reference(0, buf + align, n), got = ngr_crc32c(0, buf + align, n);
            cr_expect_eq(got, want, "len %zu align %zu: %08x, want %08x", n, align, got, want);
        }
        /* continuing from a previous CRC */
        cr_expect_eq(ngr_crc32c(0x12345678u, buf, n), reference(0x12345678u, buf, n), "len %zu continued", n);
    }
    free(buf);
}
