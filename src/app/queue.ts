import type { Job } from '../domain/job.js'

/** The two queue backends, as `/queues` names them. */
export type QueueBackend = 'embedded' | 'redis-bullmq'

/**
 * The running queue of one process: the embedded dispatcher (which claims jobs straight from the
 * jobs table) or, with Redis, the outbox relay and reconciler that feed BullMQ. Jobs are written
 * with `enqueueJob` inside a unit of work, never through this port; inspection reads the jobs
 * table through `JobRepository`. Worker processes of the Redis backend are started separately.
 */
export interface JobQueue {
  readonly backend: QueueBackend
  /** Starts dispatching/relaying and the reconciler. Rejects (one clear message) when the backend is unreachable. */
  start(): Promise<void>
  /**
   * Stops taking jobs, lets running handlers finish for up to `graceMs`, then aborts them and
   * gives their jobs back to the queue for another worker (the attempt does not count).
   */
  stop(graceMs: number): Promise<void>
  /**
   * Call after the transaction that cancelled the run (and `JobRepository.cancelForRun`) committed:
   * aborts the run's running handlers in every process and removes its cancelled jobs from the
   * backend. Best effort and idempotent; workers also notice the cancelled run on their next lease renewal.
   */
  abortRun(protocolRunId: number): Promise<void>
  /** Told about committed jobs (the CommitListener's `jobs`): wakes the dispatcher or relay at once. */
  wake(jobs: readonly Job[]): void
}
