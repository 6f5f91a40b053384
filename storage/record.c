/*
 * storage/record.c - the on-disk and on-wire encoding of a store_record,
 * version order, liveness, and the growable store_buf.
 *
 * Encoding (all integers little-endian, independent of the host):
 *
 *   offset size field
 *   0      1    head: bits 7..4 format (1), bit 3 has-expiry,
 *                     bits 2..0 STORE_F_* flags
 *   1      1    type (enum store_type)
 *   2      8    version (hybrid logical clock)
 *   10     4    node (writer's node id hash)
 *   14     8    expire_ms, present only when has-expiry is set
 *   14/22  ...  value bytes, up to the end of the encoding
 *
 * A record without expiry costs 14 bytes of header. The value length is
 * implied by the total length, so the encoding must be stored with its
 * exact length (RocksDB values and peer bulk strings are).
 */
#include "store.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define REC_FORMAT        1u     /* current encoding format */
#define REC_HEAD_EXPIRY   0x08u  /* expire_ms field follows node */
#define REC_HEAD_FLAGS    0x07u  /* STORE_F_* bits that fit the head */
#define REC_FIXED_LEN     14u    /* head, type, version, node */
#define REC_EXPIRY_LEN    8u

static void
put_u32(char *p, uint32_t v)
{
    unsigned char *u = (unsigned char *)p;

    u[0] = (unsigned char)v;
    u[1] = (unsigned char)(v >> 8);
    u[2] = (unsigned char)(v >> 16);
    u[3] = (unsigned char)(v >> 24);
}

static void
put_u64(char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get_u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
           (uint32_t)u[3] << 24;
}

static uint64_t
get_u64(const char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/*
 * Bytes store_record_encode() will write for rec: 14, plus 8 when the
 * record has an expiry, plus the value length.
 */
size_t
store_record_encoded_len(const struct store_record *rec)
{
    return REC_FIXED_LEN + (rec->expire_ms != 0 ? REC_EXPIRY_LEN : 0) +
           rec->value.len;
}

/*
 * Encode rec into out, which must hold store_record_encoded_len(rec)
 * bytes. rec->flags must only use the STORE_F_* bits (a caller bug
 * otherwise). Returns the number of bytes written.
 */
size_t
store_record_encode(const struct store_record *rec, char *out)
{
    unsigned head;
    size_t off;

    assert((rec->flags & ~REC_HEAD_FLAGS) == 0);
    head = REC_FORMAT << 4 | (rec->flags & REC_HEAD_FLAGS);
    if (rec->expire_ms != 0) {
        head |= REC_HEAD_EXPIRY;
    }
    out[0] = (char)head;
    out[1] = (char)rec->type;
    put_u64(out + 2, rec->version);
    put_u32(out + 10, rec->node);
    off = REC_FIXED_LEN;
    if (rec->expire_ms != 0) {
        put_u64(out + off, (uint64_t)rec->expire_ms);
        off += REC_EXPIRY_LEN;
    }
    if (rec->value.len > 0) {
        memcpy(out + off, rec->value.ptr, rec->value.len);
    }
    return off + rec->value.len;
}

/*
 * Decode len bytes at p into rec; rec->value points into p and stays valid
 * as long as p does. Returns RK_OK, or RK_EPROTO when the bytes are too
 * short, of an unknown format, or carry an expiry field holding 0.
 */
int
store_record_decode(const char *p, size_t len, struct store_record *rec)
{
    unsigned head;
    size_t off;

    if (len < REC_FIXED_LEN) {
        return RK_EPROTO;
    }
    head = (unsigned char)p[0];
    if (head >> 4 != REC_FORMAT) {
        return RK_EPROTO;
    }
    rec->flags = (uint8_t)(head & REC_HEAD_FLAGS);
    rec->type = (uint8_t)p[1];
    rec->version = get_u64(p + 2);
    rec->node = get_u32(p + 10);
    rec->expire_ms = 0;
    off = REC_FIXED_LEN;
    if (head & REC_HEAD_EXPIRY) {
        if (len < REC_FIXED_LEN + REC_EXPIRY_LEN) {
            return RK_EPROTO;
        }
        rec->expire_ms = (int64_t)get_u64(p + off);
        if (rec->expire_ms == 0) {
            return RK_EPROTO;
        }
        off += REC_EXPIRY_LEN;
    }
    rec->value.ptr = p + off;
    rec->value.len = len - off;
    return RK_OK;
}

/*
 * Version order: -1 when a is older than b, 1 when newer, 0 when both
 * carry the same version and node (the same write).
 */
int
store_record_cmp(const struct store_record *a, const struct store_record *b)
{
    if (a->version != b->version) {
        return a->version < b->version ? -1 : 1;
    }
    if (a->node != b->node) {
        return a->node < b->node ? -1 : 1;
    }
    return 0;
}

/*
 * 1 when rec holds a value at now_ms: not a tombstone and either without
 * expiry or with a deadline still in the future. 0 otherwise.
 */
int
store_record_live(const struct store_record *rec, int64_t now_ms)
{
    if (rec->flags & STORE_F_TOMBSTONE) {
        return 0;
    }
    return rec->expire_ms == 0 || rec->expire_ms > now_ms;
}

/* Empty buffer; no allocation until the first store_buf_reserve(). */
void
store_buf_init(struct store_buf *b)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Free the buffer's memory and leave it empty (reusable). */
void
store_buf_deinit(struct store_buf *b)
{
    free(b->ptr);
    store_buf_init(b);
}

/*
 * Make b->cap at least cap (contents up to b->len kept). Grows
 * geometrically so a reused buffer stops allocating. RK_OK or RK_ENOMEM
 * (b unchanged).
 */
int
store_buf_reserve(struct store_buf *b, size_t cap)
{
    size_t ncap;
    char *p;

    if (cap <= b->cap) {
        return RK_OK;
    }
    ncap = b->cap < 64 ? 64 : b->cap;
    while (ncap < cap) {
        if (ncap > SIZE_MAX / 2) {
            ncap = cap;
            break;
        }
        ncap *= 2;
    }
    p = realloc(b->ptr, ncap);
    if (p == NULL) {
        return RK_ENOMEM;
    }
    b->ptr = p;
    b->cap = ncap;
    return RK_OK;
}
