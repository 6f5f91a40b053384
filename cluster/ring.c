/*
 * cluster/ring.c - key to slot mapping (CRC16 with Redis hash tags).
 */
#include "ring.h"

/* Table for CRC16-CCITT, polynomial 0x1021, built at first use. */
static uint16_t crc16_table[256];
static int crc16_ready;

static void
crc16_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint16_t crc = (uint16_t)(i << 8);
        for (int b = 0; b < 8; b++) {
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
                                 : (uint16_t)(crc << 1);
        }
        crc16_table[i] = crc;
    }
    __atomic_store_n(&crc16_ready, 1, __ATOMIC_RELEASE);
}

uint16_t
ring_crc16(const char *buf, size_t len)
{
    if (!__atomic_load_n(&crc16_ready, __ATOMIC_ACQUIRE)) {
        /* Every thread computes identical bytes: a benign race. */
        crc16_init();
    }
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc = (uint16_t)((crc << 8) ^
                         crc16_table[((crc >> 8) ^ (uint8_t)buf[i]) & 0xff]);
    }
    return crc;
}

uint16_t
ring_key_slot(const char *key, size_t len)
{
    size_t open;

    for (open = 0; open < len; open++) {
        if (key[open] == '{') {
            break;
        }
    }
    if (open < len) {
        for (size_t close = open + 1; close < len; close++) {
            if (key[close] == '}') {
                if (close > open + 1) {
                    return ring_crc16(key + open + 1, close - open - 1) &
                           (RING_SLOTS - 1);
                }
                break;
            }
        }
    }
    return ring_crc16(key, len) & (RING_SLOTS - 1);
}
