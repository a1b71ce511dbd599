import { appendFileSync } from 'node:fs'
import {
  PermanentJobError,
  type JobHandler,
  type JobHandlerDeps,
  type JobHandlers,
} from '../../src/app/queue-runtime/job-handler.js'
import { createReviewFollowupHandler } from '../../src/app/reviews/review-followup.job.js'
import { changeStepStatus } from '../../src/app/state-changes.js'
import { AppError } from '../../src/domain/app-error.js'
import { JOB_TYPES, type JobType } from '../../src/domain/job.js'

/**
 * Handlers for queue tests, composed with the real queue and worker code. `execute_step_job`
 * behaves as the step's name says:
 *   ok | sleep-<ms> | fail-<n> (throws on the first n attempts) | perm | git | hang (ignores its signal)
 *   | crash (kills its own process with SIGKILL: only in a spawned queue process)
 * Every attempt that reaches the "engine" appends `<job_id> <attempt> <pid> start` to the side-effect
 * log, and `abort` when its signal fires; success completes the step with one `step_completed` event.
 */
export const createTestHandlers =
  (logPath: string) =>
  ({ uow }: JobHandlerDeps): JobHandlers => {
    const executeStep: JobHandler<'execute_step_job'> = async (payload, { signal, attempt, jobId }) => {
      const step = await uow.run(async (repos) => {
        const found = await repos.steps.findById(payload.step_run_id)
        const run = found && (await repos.runs.findById(found.protocolRunId))
        if (!found || !run) throw new PermanentJobError(`step ${payload.step_run_id} missing`)
        if (found.status === 'running' || found.status === 'completed') return found
        // The step is claimed by compare-and-set before the "engine" starts.
        return changeStepStatus(repos, run, found, {
          action: 'run',
          event: { type: 'step_started', message: 'started' },
          origin: {},
        })
      })
      if (step.status === 'completed') return 'already completed'
      appendFileSync(logPath, `${jobId} ${attempt} ${process.pid} start\n`)
      signal.addEventListener('abort', () =>
        appendFileSync(logPath, `${jobId} ${attempt} ${process.pid} abort\n`),
      )
      await behave(step.stepName, attempt, signal)
      await uow.run(async (repos) => {
        const current = await repos.steps.findById(step.id)
        const run = await repos.runs.findById(step.protocolRunId)
        if (!current || !run || current.status === 'completed') return
        const event = { type: 'step_completed', message: 'done', metadata: { job_id: jobId } }
        await changeStepStatus(repos, run, current, { action: 'complete', event, origin: {} })
      })
      return 'ok'
    }
    const handlers: Partial<Record<JobType, JobHandler>> = {}
    for (const type of JOB_TYPES) handlers[type] = async () => 'noop'
    handlers.execute_step_job = executeStep as JobHandler
    // The real one: it only writes rows and jobs, which the queue tests watch.
    handlers.review_followup_job = createReviewFollowupHandler({
      uow,
      config: { jobs: { maxAttempts: 3 } },
    }) as JobHandler
    return handlers as JobHandlers
  }

const behave = async (name: string, attempt: number, signal: AbortSignal): Promise<void> => {
  // Step names are unique per run, so the harness suffixes them with `~<index>`.
  const [kind, arg] = (name.split('~')[0] ?? '').split('-')
  const n = Number(arg ?? 0)
  if (kind === 'sleep') return sleep(n, signal)
  if (kind === 'fail' && attempt <= n) throw new Error(`planned failure on attempt ${attempt}`)
  if (kind === 'perm') throw new PermanentJobError('bad input', 'validation')
  if (kind === 'git') throw new AppError('ORC_GIT_FAILED', 'git fetch failed')
  if (kind === 'hang') await new Promise(() => undefined)
  if (kind === 'crash') process.kill(process.pid, 'SIGKILL')
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
