import type { Queue } from 'bullmq'
import type { Logger } from '../../logging.js'
import type { JobLedger } from '../storage/job-ledger.js'
import { bullJobData, bullJobOptions } from './bullmq-options.js'

const BATCH = 500
const DEFAULT_POLL_MS = 1_000

export interface OutboxRelayOptions {
  readonly ledger: JobLedger
  /** One BullMQ queue per job-row queue name. */
  readonly queueFor: (name: string) => Queue
  readonly pollMs?: number
  readonly logger?: Logger
}

/**
 * Copies committed job rows to BullMQ and marks them relayed. Adding uses the row id as the
 * BullMQ id, so a row relayed twice (the process died before marking it) is added once. Woken
 * by commits; the poll catches rows committed by other processes or left behind by a crash.
 */
export const createOutboxRelay = (options: OutboxRelayOptions) => {
  let timer: NodeJS.Timeout | undefined
  let relaying: Promise<void> | undefined
  let again = false
  // Until start() and after stop(), wake-ups are ignored.
  let started = false

  const relayAll = async (): Promise<void> => {
    do {
      again = false
      const rows = await options.ledger.listUnrelayed(BATCH)
      for (const name of new Set(rows.map((row) => row.queue))) {
        const jobs = rows.filter((row) => row.queue === name)
        await options
          .queueFor(name)
          .addBulk(jobs.map((job) => ({ name: job.type, data: bullJobData(job), opts: bullJobOptions(job) })))
      }
      await options.ledger.markRelayed(rows.map((row) => row.id))
      if (rows.length === BATCH) again = true
    } while (again)
  }

  const wake = (): void => {
    if (!started) return
    if (relaying) {
      again = true
      return
    }
    relaying = relayAll()
      .catch((error: unknown) => options.logger?.warn({ err: error }, 'outbox relay pass failed'))
      .finally(() => {
        relaying = undefined
      })
  }

  return {
    wake,
    start() {
      started = true
      timer = setInterval(wake, options.pollMs ?? DEFAULT_POLL_MS)
      wake()
    },
    async stop() {
      started = false
      clearInterval(timer)
      await relaying
    },
  }
}
