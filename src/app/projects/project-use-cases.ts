import { AppError } from '../../domain/app-error.js'
import { parseGitUrl } from '../../domain/git-url.js'
import type { JsonObject, JsonValue } from '../../domain/json.js'
import { engineChainIssue, toEngineChain } from '../../domain/engine-chain.js'
import { defaultModelsIssue, refuseModelIssue } from '../../domain/model-name.js'
import type { Project } from '../../domain/project.js'
import { reviewModeIssue, type ReviewMode } from '../../domain/review-mode.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject } from '../access.js'
import { withTrace, type ChangeOrigin } from '../context.js'
import { unreadableProjects } from '../events/visibility.js'
import { enqueueJob } from '../queue-runtime/enqueue.js'
import { generateToken, hashToken } from '../secrets.js'
import { checkLocalPath, type LocalPathProbe, type RepoPolicy } from './local-path.js'

export interface CreateProjectInput {
  readonly name: string
  readonly gitUrl: string
  readonly baseBranch: string
  readonly localPath: string | null
  readonly ciProvider: string | null
  readonly defaultModels: JsonObject | null
  /** Engine/model fallback chain, as the caller sent it (checked here). */
  readonly engines?: JsonValue | null
  /** Free-form secrets; `api_token` becomes the project token (stored hashed, never shown). */
  readonly secrets: JsonObject | null
  /** `reopen_last_step` or `new_step` (checked here, 422 otherwise); null or absent: the server default. */
  readonly reviewMode?: string | null
}

export interface UpdateProjectInput {
  readonly name?: string
  readonly baseBranch?: string
  readonly localPath?: string | null
  readonly ciProvider?: string | null
  readonly defaultModels?: JsonObject | null
  /** A new chain, or null to remove it; as the caller sent it (checked here). */
  readonly engines?: JsonValue | null
  /** A new project token, or null to remove it. */
  readonly apiToken?: string | null
  /** Generate a new token and return it once. */
  readonly rotateApiToken?: boolean
  /** As CreateProjectInput.reviewMode; null clears it. */
  readonly reviewMode?: string | null
}

const SETUP_DESCRIPTION = 'Project setup and bootstrap'

/** What project input is checked against: the repository policy and the registered engines. */
interface ProjectChecks {
  readonly repoPolicy: RepoPolicy
  readonly files: LocalPathProbe
  /** Ids an `engines` entry may name (422 otherwise). */
  readonly engineIds: readonly string[]
}

/** The caller's chain, refused (422 naming the entry) unless every entry is usable; undefined when absent. */
const checkedChain = (value: JsonValue | null | undefined, engineIds: readonly string[]) => {
  refuseModelIssue(engineChainIssue(value, 'engines', engineIds))
  return toEngineChain(value)
}

/**
 * Creates a project, its `setup-<id>` run, the `setup_enqueued` event and the setup job, atomically.
 * Refused first (422): a git URL git would never be given (transport helpers, options, embedded
 * credentials), a `local_path` outside what the policy allows, an `api_token` that is not a token.
 */
export const makeCreateProject =
  ({
    uow,
    jobPolicy,
    repoPolicy,
    files,
    engineIds,
  }: Pick<AppDeps, 'uow' | 'jobPolicy'> & ProjectChecks) =>
  (input: CreateProjectInput, ctx: ChangeOrigin): Promise<Project> => {
    parseGitUrl(input.gitUrl, repoPolicy)
    refuseModelIssue(defaultModelsIssue(input.defaultModels))
    const reviewMode = checkReviewMode(input.reviewMode)
    const engines = checkedChain(input.engines, engineIds) ?? null
    const localPath = input.localPath === null ? null : checkLocalPath(files, input.localPath, repoPolicy)
    const { api_token: token, ...otherSecrets } = input.secrets ?? {}
    const apiTokenHash = token === undefined ? null : hashToken(checkProjectToken(token))
    return uow.run(async (tx) => {
      const project = await tx.projects.create({
        ...input,
        reviewMode: reviewMode ?? null,
        engines,
        localPath,
        secrets: Object.keys(otherSecrets).length > 0 ? otherSecrets : null,
        apiTokenHash,
      })
      const run = await tx.runs.create({
        projectId: project.id,
        protocolName: `setup-${project.id}`,
        status: 'pending',
        baseBranch: project.baseBranch,
        description: SETUP_DESCRIPTION,
      })
      const payload = { project_id: project.id, protocol_run_id: run.id }
      const scope = { projectId: project.id, protocolRunId: run.id }
      const job = await enqueueJob(tx.jobs, 'project_setup_job', payload, { scope, origin: ctx, policy: jobPolicy })
      await tx.events.append({
        projectId: project.id,
        protocolRunId: run.id,
        eventType: 'setup_enqueued',
        message: 'Project setup enqueued.',
        metadata: withTrace({ job_id: job.id }, ctx),
      })
      return project
    })
  }

export const makeGetProject =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  (projectId: number, ctx: ChangeOrigin): Promise<Project> =>
    authorizeProject(repos, projectId, ctx)

/**
 * Lists the projects the caller may read: a token-protected project is left out unless the
 * caller presented its token, as `GET /projects/{id}` would refuse it (docs/api.md).
 */
export const makeListProjects =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (page: { limit: number; beforeId?: number; afterId?: number }, ctx: ChangeOrigin): Promise<Project[]> =>
    repos.projects.list({ ...page, excludeIds: await unreadableProjects(repos, ctx) })

/** Updates a project; returns the new token once when one was generated. */
export const makeUpdateProject =
  ({ uow, repoPolicy, files, engineIds }: Pick<AppDeps, 'uow'> & ProjectChecks) =>
  (projectId: number, input: UpdateProjectInput, ctx: ChangeOrigin): Promise<{ project: Project; apiToken?: string }> =>
    uow.run(async (tx) => {
      await authorizeProject(tx, projectId, ctx)
      refuseModelIssue(defaultModelsIssue(input.defaultModels))
      const reviewMode = checkReviewMode(input.reviewMode)
      const engines = input.engines === null ? null : checkedChain(input.engines, engineIds)
      const localPath = input.localPath ? checkLocalPath(files, input.localPath, repoPolicy) : input.localPath
      if (input.rotateApiToken && input.apiToken !== undefined) {
        throw new AppError('ORC_BAD_REQUEST', 'Give either api_token or rotate_api_token, not both')
      }
      const generated = input.rotateApiToken ? generateToken() : undefined
      const token = generated ?? input.apiToken
      const { apiToken: _token, rotateApiToken: _rotate, ...rest } = input
      const fields = { ...rest, engines, localPath, reviewMode }
      const tokenPatch = token === undefined ? {} : { apiTokenHash: token === null ? null : hashToken(token) }
      const project = await tx.projects.update(projectId, { ...fields, ...tokenPatch })
      if (!project) throw new AppError('ORC_PROJECT_NOT_FOUND', 'Project not found')
      await tx.events.append({
        projectId,
        eventType: 'project_updated',
        message: 'Project settings updated.',
        metadata: withTrace({ fields: changedKeys(fields), token_changed: token !== undefined }, ctx),
      })
      return generated === undefined ? { project } : { project, apiToken: generated }
    })

/** A review mode as given, refused with a message quoting it when it names no mode. */
const checkReviewMode = (value: string | null | undefined): ReviewMode | null | undefined => {
  const issue = reviewModeIssue(value)
  if (issue !== undefined) throw new AppError('ORC_VALIDATION_FAILED', issue, { field: 'review_mode' })
  return value as ReviewMode | null | undefined
}

/** The project token a caller gave in `secrets.api_token`: a string as PATCH accepts, never a number or "". */
const checkProjectToken = (token: JsonValue): string => {
  if (typeof token === 'string' && token.length >= MIN_TOKEN_LENGTH && token.length <= MAX_TOKEN_LENGTH) return token
  const given = typeof token === 'string' ? `a string of ${token.length} characters` : `a ${token === null ? 'null' : typeof token}`
  throw new AppError(
    'ORC_VALIDATION_FAILED',
    `secrets.api_token must be a string of ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters (got ${given}); leave it out for a project without a token`,
    { field: 'secrets' },
  )
}

const MIN_TOKEN_LENGTH = 8
const MAX_TOKEN_LENGTH = 500

const changedKeys = (fields: object): string[] =>
  Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key)
