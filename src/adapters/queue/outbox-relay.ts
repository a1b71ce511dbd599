import type { Queue } from 'bullmq'
import type { Job } from '../../domain/job.js'
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
 * Copies committed job rows to BullMQ: takes them (marking them relayed, so that the relays of
 * other processes pass them by), then adds them. A failed add hands the rows back; a crash between
 * the two leaves rows the reconciler finds missing from Redis. Adding uses the row id as the
 * BullMQ id, so a row added twice (handed back after an add that did land) is added once. Woken
 * by commits; the poll catches rows committed by other processes or left behind by a crash.
 */
export const createOutboxRelay = (options: OutboxRelayOptions) => {
  let timer: NodeJS.Timeout | undefined
  let relaying: Promise<void> | undefined
  let again = false
  // Until start() and after stop(), wake-ups are ignored.
  let started = false

  const addAll = async (rows: readonly Job[]): Promise<void> => {
    for (const name of new Set(rows.map((row) => row.queue))) {
      const jobs = rows.filter((row) => row.queue === name)
      await options
        .queueFor(name)
        .addBulk(jobs.map((job) => ({ name: job.type, data: bullJobData(job), opts: bullJobOptions(job) })))
    }
  }

  const relayAll = async (): Promise<void> => {
    do {
      again = false
      const rows = await options.ledger.takeUnrelayed(BATCH)
      await addAll(rows).catch(async (error: unknown) => {
        // Handed back at once rather than after the reconciler's settle time.
        await options.ledger.requeueForRelay(rows.map((row) => row.id))
        throw error
      })
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
