/** The write endpoints bench:api measures: a step insert and the run and step actions, at CONNECTIONS connections. */
import { sql, type Kysely } from 'kysely'
import type { Database } from '../src/adapters/storage/schema.js'
import { tempFile, type Load } from './load.js'

/** Pending steps per seeded run: the step actions each take one, never the same one twice. */
const STEPS_PER_RUN = 5

/** Five pending steps per run (step ids run by index first: 1..runs are every run's step 0). */
export const addPendingSteps = async ({ db }: { db: Kysely<Database> }): Promise<void> => {
  const ts = `'2026-11-25T00:00:00.000Z'`
  for (let index = 0; index < STEPS_PER_RUN; index++)
    await sql`insert into step_runs (protocol_run_id, step_index, step_name, step_type, status, created_at, updated_at)
      select id, ${sql.raw(String(index))}, ${`0${index + 1}-work-item`}, 'work', 'pending', ${sql.raw(ts)}, ${sql.raw(ts)}
      from protocol_runs order by id`.execute(db)
}

/** Every POST carries a JSON body, as clients send one (`{}` for actions). */
const JSON_POST = `wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
`

/**
 * Pause, then resume, each of `runs` token-protected runs in turn (the project check runs on every
 * call): request k acts on run k mod runs, pausing on even passes and resuming on odd ones, so the
 * previous action on a run is `runs` requests old and done (no CAS loss, every answer 200).
 */
const pauseResumeScript = (runs: number): string => `${JSON_POST}
local k = 0
request = function()
  local i = k % ${runs}
  local pass = math.floor(k / ${runs})
  k = k + 1
  -- every tenth project has a token: runs 91..100 of each hundred
  local run = math.floor(i / 10) * 100 + 91 + (i % 10)
  local action = (pass % 2 == 0) and "pause" or "resume"
  return wrk.format(nil, "/protocols/" .. run .. "/actions/" .. action)
end
`

/** `POST /steps/{id}/actions/run` on a new pending step each time (step ids from 1). */
const stepRunScript = `${JSON_POST}
local k = 0
request = function()
  k = k + 1
  return wrk.format(nil, "/steps/" .. k .. "/actions/run")
end
`

/**
 * `run_next_step` over the runs in turn from the last one down: each call takes the run's next
 * pending step. The step runs above took the first runs' steps, and a run executes one step at a
 * time (409 ORC_RUN_BUSY), so this starts from the other end.
 */
const runNextStepScript = (runs: number): string => `${JSON_POST}
local k = 0
request = function()
  k = k + 1
  return wrk.format(nil, "/protocols/" .. (${runs} - (k - 1) % ${runs}) .. "/actions/run_next_step")
end
`

/** The endpoints, label → path and load; `runs` seeded runs, each with STEPS_PER_RUN pending steps. */
export const writeEndpoints = (
  runs: number,
): ReadonlyArray<{ readonly label: string; readonly path: string; readonly load: Load }> => [
  {
    label: 'POST /protocols/{id}/steps',
    path: '/protocols/7000/steps',
    load: { method: 'POST', stepBodies: true },
  },
  {
    label: 'POST /steps/{id}/actions/run',
    path: '/',
    load: { wrkScript: tempFile('step-run.lua', stepRunScript) },
  },
  {
    label: 'POST /protocols/{id}/actions/run_next_step',
    path: '/',
    load: { wrkScript: tempFile('run-next-step.lua', runNextStepScript(runs)) },
  },
  // Last: a run it leaves paused refuses the step actions above.
  {
    label: 'POST /protocols/{id}/actions/pause|resume',
    path: '/',
    load: { wrkScript: tempFile('pause-resume.lua', pauseResumeScript(Math.min(1000, runs / 10))) },
  },
]
