/*
 * server/handoff.h - hinted handoff: replaying stored hints to the
 * replicas they are for.
 *
 * The coordinator stores a durable hint (storage/hints.c) for every
 * replica that did not acknowledge a write. Worker 0 replays them: every
 * second it takes the targets that have hints and sends each target its
 * hints in sequence order as RKPUT over its own link to that target, a
 * batch of up to HANDOFF_BATCH at a time; a hint is deleted once the
 * target acknowledged it. RKPUT is last-write-wins on the target, so a
 * hint replayed twice, or after a newer write, changes nothing: replay is
 * idempotent. A target that refuses or times out is tried again on a
 * later tick (its link backs off); a target that is no longer a member
 * keeps its hints until they expire. Hints older than --hint-window
 * seconds are dropped (every 10 s): past that window read repair and a
 * later write fix the replica instead.
 */
#ifndef SRV_HANDOFF_H
#define SRV_HANDOFF_H

struct worker;

#define HANDOFF_BATCH 256

/* Start the replay timer on w's loop (call for one worker only). */
void handoff_start(struct worker *w);

/*
 * Stop it before the worker's links close (they fail the batch in flight,
 * which only counts down then); free it with handoff_free() after.
 */
void handoff_stop(struct worker *w);
void handoff_free(struct worker *w);

#endif /* SRV_HANDOFF_H */
