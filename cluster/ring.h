/*
 * cluster/ring.h - keys to slots (and, later, slots to replicas).
 *
 * A key's slot is CRC16(key) mod 16384, where only the part inside the first
 * non-empty {hash tag} is hashed, exactly as Redis Cluster does, so keys that
 * share a tag share a slot and a replica set.
 */
#ifndef RING_H
#define RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_SLOTS 16384

/* CRC16-CCITT (XModem), the checksum Redis Cluster uses. */
uint16_t ring_crc16(const char *buf, size_t len);

/* Slot of a key, honouring {hash tags}. */
uint16_t ring_key_slot(const char *key, size_t len);

#endif /* RING_H */
