/*
 * server/coord_rw.c - the coordinator's quorum phases: reading each key
 * of an op from its replicas until R answered (the local replica
 * directly, a failed read asking the next replica, a slow one all of
 * them), running the op's apply with the newest records and writing the
 * new ones to every replica until W acked, read repair of the replicas
 * that answered stale or not at all, and durable hints for the replicas
 * that missed a write (replayed by handoff.c).
 *
 * coord_run() (coord.c) starts the reads and, once they are done, fills
 * the kv op's keys and applies and writes. The answers come back through
 * coord.c's reply dispatch, which feeds them to cluster/quorum.c's state
 * and reports failures with coord_req_failed(); coord_op_progress() then
 * checks coord_reads_state() / coord_writes_state() and sends the repairs
 * and hints each event uncovered. Shared declarations: coord_internal.h.
 */
#include "coord_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conn.h"
#include "kv.h"
#include "link.h"
#include "peer.h"
#include "reply.h"
#include "ring.h"
#include "srv.h"
#include "store.h"
#include "worker.h"

/* ---- peer requests ----------------------------------------------------- */

/* Report that replica idx of key k failed a request of this kind. */
void
coord_req_failed(struct coord_op *op, struct coord_key *k, uint16_t idx,
                 int kind)
{
    switch (kind) {
    case REQ_READ:
        quorum_read_fail(&k->rd, idx);
        k->rfailed++;
        break;
    case REQ_REPAIR:
        quorum_read_repair_fail(&k->rd, idx);
        break;
    default:
        quorum_write_fail(&k->wr, idx);
        break;
    }
    (void)op;
}

/* Send one request to replica idx; a refused send is a failure at once. */
static void
req_send(struct coord_op *op, size_t ki, uint16_t idx, int kind)
{
    struct coord *co = op->w->coord;
    struct coord_key *k = &op->keys[ki];
    struct rk_slice argv[5];
    char clock[SRV_CLOCK_TEXT];
    char slot[8];
    int argc;

    snprintf(slot, sizeof(slot), "%u", (unsigned)k->slot);
    argv[1] = srv_clock_text(op->w->srv, clock);
    argv[2] = (struct rk_slice){ slot, strlen(slot) };
    argv[3] = (struct rk_slice){ k->key, k->klen };
    if (kind == REQ_READ) {
        argv[0] = (struct rk_slice){ "RKGET", 5 };
        argc = 4;
    } else {
        struct rk_slice enc;

        argv[0] = (struct rk_slice){ "RKPUT", 5 };
        if (kind == REQ_WRITE) {
            enc = (struct rk_slice){ k->enc, k->enclen };
        } else if (quorum_read_result(&k->rd, NULL, &enc) != 1) {
            coord_req_failed(op, k, idx, kind);
            return;
        }
        argv[4] = enc;
        argc = 5;
    }
    if (coord_op_send(op, link_get(op->w, srv_topology_addr(op->topo, idx)),
                      argc, argv, ki, idx, kind) != RK_OK) {
        co->stats.peer_failures++;
        coord_req_failed(op, k, idx, kind);
    }
}

/* ---- the local replica ------------------------------------------------- */

static void
local_read(struct coord_op *op, struct coord_key *k)
{
    struct srv *s = op->w->srv;
    struct store_buf *buf = worker_bufs(op->w, 1);
    struct store_record rec;
    int r = buf != NULL ? store_get(s->store, k->slot, k->key, k->klen, buf,
                                    &rec)
                        : RK_ENOMEM;

    if (r < 0 || quorum_read_answer(&k->rd, (uint16_t)op->self, r == 1,
                                    r == 1 ? &rec : NULL) < 0) {
        quorum_read_fail(&k->rd, (uint16_t)op->self);
        k->rfailed++;
    }
}

/* Write the encoded record enc locally; RK_OK when it is stored. */
static int
local_write(struct coord_op *op, struct coord_key *k, const char *enc,
            size_t len)
{
    struct store_record rec;

    if (store_record_decode(enc, len, &rec) != RK_OK) {
        return RK_ERR;
    }
    return kv_apply_record(op->w, k->slot, k->key, k->klen, &rec);
}

/* ---- read repair and hints --------------------------------------------- */

void
coord_send_repairs(struct coord_op *op)
{
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *k = &op->keys[i];
        uint16_t idx[QUORUM_MAX_REPLICAS];
        size_t n;

        if (!k->rd_init) {
            continue;
        }
        n = quorum_read_take_repairs(&k->rd, idx, QUORUM_MAX_REPLICAS);
        for (size_t j = 0; j < n; j++) {
            if ((int)idx[j] == op->self) {
                struct rk_slice enc;

                if (quorum_read_result(&k->rd, NULL, &enc) == 1 &&
                    local_write(op, k, enc.ptr, enc.len) == RK_OK) {
                    quorum_read_repair_ack(&k->rd, idx[j]);
                } else {
                    quorum_read_repair_fail(&k->rd, idx[j]);
                }
            } else {
                req_send(op, i, idx[j], REQ_REPAIR);
            }
        }
    }
}

void
coord_store_hints(struct coord_op *op)
{
    struct srv *s = op->w->srv;
    struct coord *co = op->w->coord;

    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *k = &op->keys[i];
        uint16_t idx[QUORUM_MAX_REPLICAS];
        struct store_record rec;
        size_t n;

        if (!k->wr_init) {
            continue;
        }
        n = quorum_write_take_hints(&k->wr, idx, QUORUM_MAX_REPLICAS);
        if (n == 0) {
            continue;
        }
        if (store_record_decode(k->enc, k->enclen, &rec) != RK_OK) {
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            const char *id = ring_member_id(op->ring, idx[j]);

            /* A sloppy quorum counts the hint as an ack: it must be on
             * disk before the client is answered. Otherwise the quorum
             * holds the write and the hint is a shortcut: it rides on
             * the group commit's sync. */
            int sloppy = atomic_load(&s->sloppy_quorum);
            uint64_t seq = 0;
            int rc = sloppy ? store_hint_put(s->store, id, strlen(id),
                                             k->slot, k->key, k->klen, &rec,
                                             srv_mstime())
                            : store_hint_put_lazy(s->store, id, strlen(id),
                                                  k->slot, k->key, k->klen,
                                                  &rec, srv_mstime(), &seq);

            if (seq > op->w->commit_seq) {
                op->w->commit_seq = seq;
            }

            if (rc == RK_OK) {
                co->stats.hints_stored++;
                quorum_write_hinted(&k->wr, idx[j]);
            } else {
                co->stats.hints_failed++;
                quorum_write_hint_fail(&k->wr, idx[j]);
            }
        }
    }
}

/* ---- phases ------------------------------------------------------------ */

/* Combined state of every key's read (or write): any failure fails. */
enum quorum_state
coord_reads_state(struct coord_op *op, size_t *failed)
{
    enum quorum_state st = QUORUM_DONE_OK;

    for (size_t i = 0; i < op->nkeys; i++) {
        enum quorum_state k = quorum_read_state(&op->keys[i].rd);

        if (k == QUORUM_DONE_FAIL) {
            *failed = i;
            return k;
        }
        if (k != QUORUM_DONE_OK) {
            st = QUORUM_PENDING;
        }
    }
    return st;
}

enum quorum_state
coord_writes_state(struct coord_op *op, size_t *failed)
{
    enum quorum_state st = QUORUM_DONE_OK;

    for (size_t i = 0; i < op->nkeys; i++) {
        enum quorum_state k;

        if (!op->keys[i].wr_init) {
            continue;
        }
        k = quorum_write_state(&op->keys[i].wr);
        if (k == QUORUM_DONE_FAIL) {
            *failed = i;
            return k;
        }
        if (k != QUORUM_DONE_OK) {
            st = QUORUM_PENDING;
        }
    }
    return st;
}

/*
 * Ask replicas of key ki to read until R (all: N) are answering or
 * answered: this node first (it answers at once), then the others in
 * preference order. A failed read asks the next replica, and a read still
 * waiting after request-timeout / COORD_SPECULATE_DIV asks all of them
 * (Cassandra asks R likewise, and more on its speculative retry).
 */
void
coord_ensure_reads(struct coord_op *op, size_t ki, int all)
{
    struct coord_key *k = &op->keys[ki];
    unsigned want = all ? k->n : coord_level_count(op->rlevel, k->n);

    while (k->asked < k->n && k->asked - k->rfailed < want) {
        uint16_t idx = k->order[k->asked++];

        if ((int)idx == op->self) {
            local_read(op, k);
        } else {
            req_send(op, ki, idx, REQ_READ);
        }
    }
}

void
coord_start_reads(struct coord_op *op)
{
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *k = &op->keys[i];
        unsigned r = coord_level_count(op->rlevel, k->n);
        unsigned m = 0;

        if (quorum_read_init(&k->rd, k->pref, k->n, r, op->deadline_ms,
                             &op->w->coord->stats.q) != RK_OK) {
            continue;
        }
        k->rd_init = 1;
        /* This node first, then the replicas in list order, those the
         * failure detector does not hold ALIVE (SUSPECT or DOWN) last:
         * they are asked only when the others cannot make the quorum.
         * Only the order changes, so nodes need not agree on it. */
        for (unsigned j = 0; j < k->n; j++) {
            if ((int)k->pref[j] == op->self) {
                k->order[m++] = k->pref[j];
            }
        }
        for (int late = 0; late <= 1; late++) {
            for (unsigned j = 0; j < k->n; j++) {
                if ((int)k->pref[j] != op->self &&
                    (srv_topology_liveness(op->topo, k->pref[j]) !=
                     GOSSIP_ALIVE) == late) {
                    k->order[m++] = k->pref[j];
                }
            }
        }
        coord_ensure_reads(op, i, 0);
    }
    coord_send_repairs(op);
}

/* Fill the kv op's keys from the read results. */
void
coord_fill_keys(struct coord_op *op, struct kv_op *kop)
{
    for (size_t i = 0; i < kop->nkeys && i < op->nkeys; i++) {
        struct kv_key *k = &kop->keys[i];
        struct coord_key *ck = &op->keys[i];

        k->exists = 0;
        if (ck->rd_init && quorum_read_result(&ck->rd, &k->old, NULL) == 1) {
            k->exists = store_record_live(&k->old, kop->now_ms);
        }
        if (!(kop->flags & KV_WRITE)) {
            kv_count_lookup(op->w, k->exists);
        }
    }
}

/*
 * Run apply and start the writes it asked for. The reply apply writes
 * goes to x->out; it is replaced by an error when a write quorum fails.
 * Returns what kv_run() returns.
 */
int
coord_apply_and_write(struct coord_op *op, struct kv_op *kop)
{
    struct cmd_ctx *x = kop->x;
    struct srv *s = x->srv;
    size_t mark = x->out->len;
    size_t nwrites = 0;
    size_t failed = 0;
    enum quorum_state st;
    char msg[160];

    op->phase = PH_WRITE;
    kop->apply(kop);
    for (size_t i = 0; i < kop->nkeys && i < op->nkeys; i++) {
        struct kv_key *k = &kop->keys[i];
        struct coord_key *ck = &op->keys[i];
        unsigned wq;

        if (k->write || k->del) {
            if (k->del) {
                memset(&k->new, 0, sizeof(k->new));
                k->new.flags = STORE_F_TOMBSTONE;
            }
            k->new.version = store_clock_next(&s->clock);
            k->new.node = s->node_hash;
            ck->enclen = store_record_encoded_len(&k->new);
            ck->enc = malloc(ck->enclen);
            wq = coord_level_count(op->wlevel, ck->n);
            if (ck->enc == NULL ||
                quorum_write_init(&ck->wr, ck->pref, ck->n, wq,
                                  atomic_load(&s->sloppy_quorum) ? QUORUM_F_SLOPPY
                                                                 : 0,
                                  op->deadline_ms,
                                  &op->w->coord->stats.q) != RK_OK) {
                free(ck->enc);
                ck->enc = NULL;
                x->out->len = mark;
                reply_error(x, "-OOM out of memory writing a key");
                op->phase = PH_DONE;
                goto out;
            }
            store_record_encode(&k->new, ck->enc);
            ck->wr_init = 1;
            nwrites++;
        }
    }
    /* This node's replica first, so that a peer refused at once (its
     * link backing off) cannot end the write before the local ack is
     * counted: the error then names every ack there was. */
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *ck = &op->keys[i];

        for (unsigned j = 0; ck->wr_init && j < ck->n; j++) {
            if ((int)ck->pref[j] != op->self) {
                continue;
            }
            if (local_write(op, ck, ck->enc, ck->enclen) == RK_OK) {
                quorum_write_ack(&ck->wr, ck->pref[j]);
            } else {
                quorum_write_fail(&ck->wr, ck->pref[j]);
            }
        }
    }
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *ck = &op->keys[i];

        for (unsigned j = 0; ck->wr_init && j < ck->n; j++) {
            if ((int)ck->pref[j] != op->self) {
                req_send(op, i, ck->pref[j], REQ_WRITE);
            }
        }
    }
    coord_store_hints(op);
    st = nwrites == 0 ? QUORUM_DONE_OK : coord_writes_state(op, &failed);
    if (st == QUORUM_DONE_FAIL) {
        quorum_write_error(&op->keys[failed].wr, msg, sizeof(msg));
        x->out->len = mark;
        reply_error(x, msg);
        op->phase = PH_DONE;
    } else if (st == QUORUM_DONE_OK) {
        op->phase = PH_DONE;
    } else if (!op->suspended && coord_op_suspend(op, x, mark) != RK_OK) {
        x->out->len = x->out == &x->c->out ? mark : 0;
        reply_error(x, "-OOM out of memory");
        op->phase = PH_DONE;
    }
out:
    for (size_t i = 0; i < kop->nkeys; i++) {
        free(kop->keys[i].owned);
        kop->keys[i].owned = NULL;
    }
    return RK_OK;
}
