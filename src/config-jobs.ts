import { fail, readInt, type Env } from './config-readers.js'

/** Attempts, backoff, retention and the two job timeouts. */
export interface JobsConfig {
  readonly maxAttempts: number
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  readonly retentionHours: number
  /** Handlers that run no agent are aborted after this. */
  readonly timeoutSeconds: number
  /** Handlers that run an agent (setup, planning, execution, QA) are aborted after this. */
  readonly agentTimeoutSeconds: number
}

/** `TASKSGODZILLA_JOB_*` and `TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS`. */
export const readJobs = (env: Env): JobsConfig => ({
  maxAttempts: readInt(env, 'TASKSGODZILLA_JOB_MAX_ATTEMPTS', { min: 1, max: 100 }, 3),
  backoffBaseMs: readInt(env, 'TASKSGODZILLA_JOB_BACKOFF_BASE_MS', { min: 0 }, 2_000),
  backoffMaxMs: readInt(env, 'TASKSGODZILLA_JOB_BACKOFF_MAX_MS', { min: 0 }, 60_000),
  retentionHours: readInt(env, 'TASKSGODZILLA_JOB_RETENTION_HOURS', { min: 1 }, 24),
  timeoutSeconds: readInt(env, 'TASKSGODZILLA_JOB_TIMEOUT_SECONDS', { min: 1 }, 900),
  agentTimeoutSeconds: readInt(env, 'TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS', { min: 1 }, 4 * 3600),
})

const DEFAULT_ENGINE_TIMEOUT_SECONDS = 1800
/** Share of the agent job timeout an unset engine timeout may take, leaving room for git work. */
const ENGINE_SHARE_OF_AGENT_JOB = 0.9

/**
 * One agent call must end before the job that makes it: an engine timeout is a clean step outcome
 * (`engine_timeout`), a job timeout only a safety net that aborts the whole job. So an explicit
 * `TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS` must be below `TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS`,
 * and an unset one is 1800 s or 90 % of the job timeout, whichever is shorter.
 */
export const readEngineTimeoutMs = (env: Env, agentJobSeconds: number): number => {
  const explicit = readInt(env, 'TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS', { min: 1 })
  if (explicit === undefined)
    return Math.min(
      DEFAULT_ENGINE_TIMEOUT_SECONDS * 1000,
      Math.floor(agentJobSeconds * 1000 * ENGINE_SHARE_OF_AGENT_JOB),
    )
  if (explicit >= agentJobSeconds)
    fail(
      'TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS',
      String(explicit),
      `fewer seconds than TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS (${agentJobSeconds}), so one agent call ends before its job`,
    )
  return explicit * 1000
}
