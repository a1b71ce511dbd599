import type { Logger } from '../../logging.js'
import type { JobLedger } from '../storage/job-ledger.js'

export interface MaintenanceOptions {
  readonly ledger: JobLedger
  /** Finished, failed and cancelled jobs are kept at least this long (TASKSGODZILLA_JOB_RETENTION_HOURS). */
  readonly retentionHours: number
  /** How often lost jobs are looked for; well under the 30 s the design promises. */
  readonly reconcileMs?: number
  readonly logger?: Logger
}

const DEFAULT_RECONCILE_MS = 5_000

/**
 * A periodic pass shared by both backends: the backend's own reconciliation (`reconcile`), then
 * retention pruning. A failing pass is logged and tried again on the next tick.
 */
export const createMaintenance = (options: MaintenanceOptions, reconcile: () => Promise<void>) => {
  let timer: NodeJS.Timeout | undefined
  let current: Promise<void> | undefined
  const pass = (): void => {
    current ??= runPass().finally(() => (current = undefined))
  }
  const runPass = async (): Promise<void> => {
    try {
      await reconcile()
      const cutoff = new Date(Date.now() - options.retentionHours * 3_600_000).toISOString()
      const pruned = await options.ledger.prune(cutoff)
      if (pruned > 0) options.logger?.info({ pruned }, 'old jobs pruned')
    } catch (error) {
      options.logger?.warn({ err: error }, 'queue maintenance pass failed')
    }
  }
  return {
    start() {
      timer = setInterval(pass, options.reconcileMs ?? DEFAULT_RECONCILE_MS)
      pass()
    },
    /** Stops the ticks and waits for a pass under way, so the database can be closed after it. */
    async stop() {
      clearInterval(timer)
      await current
    },
  }
}
