/**
 * Thrown by a handler whose job cannot do its work yet and must not spend an attempt on it: the
 * job goes back to the queue, due at `until` (the embedded queue's `next_run_at`, a BullMQ
 * delayed job). Used while a step waits for its run's worktree and while an engine's usage limit
 * lasts.
 */
export class JobDeferral extends Error {
  override readonly name = 'JobDeferral'

  constructor(
    readonly until: Date,
    reason: string,
  ) {
    super(reason)
  }
}
