import { AppError } from '../domain/app-error.js'
import type { Project } from '../domain/project.js'
import type { ProtocolRun } from '../domain/protocol-run.js'
import type { StepRun } from '../domain/step-run.js'
import type { ChangeOrigin } from './context.js'
import type { Reader, Repositories } from './ports.js'
import { hashToken, tokenMatchesHash } from './secrets.js'

type Readers = Pick<Repositories, 'projects' | 'runs' | 'steps'>

/**
 * Enforces a project's `X-Project-Token` given the stored hash (null: the project has none):
 * required but missing → 401, wrong → 403.
 */
const checkProjectToken = (tokenHash: string | null, ctx: ChangeOrigin): void => {
  if (tokenHash === null) return
  if (ctx.projectToken === undefined) {
    throw new AppError('ORC_PROJECT_TOKEN_MISSING', 'Project access denied: X-Project-Token required')
  }
  if (!tokenMatchesHash(ctx.projectToken, tokenHash)) {
    throw new AppError('ORC_PROJECT_ACCESS_DENIED', 'Project access denied')
  }
}

/**
 * Loads a project and enforces its `X-Project-Token` before anything about it is revealed:
 * unknown → 404, token required but missing → 401, wrong → 403. One read serves both.
 */
export const authorizeProject = async (
  repos: Readers,
  projectId: number,
  ctx: ChangeOrigin,
): Promise<Project> => {
  const found = await repos.projects.findWithCredentials(projectId)
  if (!found) throw new AppError('ORC_PROJECT_NOT_FOUND', 'Project not found', { projectId })
  checkProjectToken(found.credentials.apiTokenHash, ctx)
  return found.project
}

/** True when the caller may see the project's data in an unfiltered listing. */
export const mayRead = async (repos: Readers, projectId: number, ctx: ChangeOrigin): Promise<boolean> => {
  const credentials = await repos.projects.findCredentials(projectId)
  if (!credentials || credentials.apiTokenHash === null) return true
  return ctx.projectToken !== undefined && tokenMatchesHash(ctx.projectToken, credentials.apiTokenHash)
}

/** Loads a run (404 if unknown) with its project's token hash in one read, then enforces the token. */
export const authorizeRun = async (
  repos: Readers,
  runId: number,
  ctx: ChangeOrigin,
): Promise<{ run: ProtocolRun }> => {
  const found = await repos.runs.findWithProjectTokenHash(runId)
  if (!found) throw new AppError('ORC_RUN_NOT_FOUND', `ProtocolRun ${runId} not found`, { runId })
  checkProjectToken(found.projectTokenHash, ctx)
  return { run: found.run }
}

/**
 * `authorizeRun` for a read that lists what belongs to the run and does not need the run itself:
 * the same answers (404, 401, 403), from a read of the project's token hash alone.
 */
export const authorizeRunListing = async (
  repos: Readers,
  runId: number,
  ctx: ChangeOrigin,
): Promise<void> => {
  const found = await repos.runs.findProjectTokenHash(runId)
  if (!found) throw new AppError('ORC_RUN_NOT_FOUND', `ProtocolRun ${runId} not found`, { runId })
  checkProjectToken(found.projectTokenHash, ctx)
}

/** Who the caller is as a listing's reader (ports.ts `Reader`): its project token's hash, if any. */
export const readerOf = (ctx: ChangeOrigin): Reader => ({
  presentedTokenHash: ctx.projectToken === undefined ? null : hashToken(ctx.projectToken),
})

/**
 * A listing read for the caller (`readerOf`) holds rows only where its token may read the scope,
 * so rows are their own authorization. An empty one is authorized by `authorizeScope`, which alone
 * can say why: 404 for a missing run or project, 401 or 403 for the token, else it is just empty.
 */
export const authorizedListing = async <T>(
  rows: T[],
  authorizeScope: () => Promise<unknown>,
): Promise<T[]> => {
  if (rows.length === 0) await authorizeScope()
  return rows
}

/** Loads a step and its run with their project's token hash in one read (404 if unknown), then enforces the token. */
export const authorizeStep = async (
  repos: Readers,
  stepId: number,
  ctx: ChangeOrigin,
): Promise<{ step: StepRun; run: ProtocolRun }> => {
  const found = await repos.steps.findWithRunAndTokenHash(stepId)
  if (!found) throw new AppError('ORC_STEP_NOT_FOUND', `StepRun ${stepId} not found`, { stepId })
  checkProjectToken(found.projectTokenHash, ctx)
  return { step: found.step, run: found.run }
}
