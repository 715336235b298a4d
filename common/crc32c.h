/* crc32c.h — CRC-32C (Castagnoli), the checksum of sealed trace chunks. */
#ifndef NGR_CRC32C_H
#define NGR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0..len), continuing from crc (pass 0 to start).  Uses the SSE4.2 instruction
 * when the CPU has it, a table otherwise; both give the same result. */
uint32_t ngr_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
