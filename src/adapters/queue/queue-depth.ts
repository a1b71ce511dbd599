import type { Gauge } from 'prom-client'
import type { JobRepository } from '../../app/ports.js'
import { DEFAULT_QUEUE } from '../../domain/job.js'

const SAMPLE_MS = 5_000

/** Samples the jobs table into the `queue_depth{queue,state}` gauges; returns a stop function. */
export const sampleQueueDepth = (
  jobs: Pick<JobRepository, 'counts'>,
  gauge: Gauge<'queue' | 'state'>,
  queues: readonly string[] = [DEFAULT_QUEUE],
): (() => void) => {
  const sample = async (): Promise<void> => {
    for (const queue of queues) {
      const counts = await jobs.counts(queue)
      for (const [state, n] of Object.entries(counts)) gauge.set({ queue, state }, n)
    }
  }
  const timer = setInterval(() => void sample().catch(() => undefined), SAMPLE_MS)
  void sample().catch(() => undefined)
  return () => clearInterval(timer)
}
