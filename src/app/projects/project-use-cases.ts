import { AppError } from '../../domain/app-error.js'
import type { JsonObject } from '../../domain/json.js'
import type { Project } from '../../domain/project.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject } from '../access.js'
import { withTrace, type ChangeOrigin } from '../context.js'
import { enqueueJob } from '../jobs/enqueue.js'
import { generateToken, hashToken } from '../secrets.js'

export interface CreateProjectInput {
  readonly name: string
  readonly gitUrl: string
  readonly baseBranch: string
  readonly localPath: string | null
  readonly ciProvider: string | null
  readonly defaultModels: JsonObject | null
  /** Free-form secrets; `api_token` becomes the project token (stored hashed, never shown). */
  readonly secrets: JsonObject | null
}

export interface UpdateProjectInput {
  readonly name?: string
  readonly baseBranch?: string
  readonly localPath?: string | null
  readonly ciProvider?: string | null
  readonly defaultModels?: JsonObject | null
  /** A new project token, or null to remove it. */
  readonly apiToken?: string | null
  /** Generate a new token and return it once. */
  readonly rotateApiToken?: boolean
}

const SETUP_DESCRIPTION = 'Project setup and bootstrap'

/** Creates a project, its `setup-<id>` run, the `setup_enqueued` event and the setup job, atomically. */
export const makeCreateProject =
  ({ uow, jobPolicy }: Pick<AppDeps, 'uow' | 'jobPolicy'>) =>
  (input: CreateProjectInput, ctx: ChangeOrigin): Promise<Project> =>
    uow.run(async (tx) => {
      const { api_token: token, ...otherSecrets } = input.secrets ?? {}
      const project = await tx.projects.create({
        ...input,
        secrets: Object.keys(otherSecrets).length > 0 ? otherSecrets : null,
        apiTokenHash: typeof token === 'string' && token !== '' ? hashToken(token) : null,
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

export const makeGetProject =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  (projectId: number, ctx: ChangeOrigin): Promise<Project> =>
    authorizeProject(repos, projectId, ctx)

export const makeListProjects =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  (page: { limit: number; beforeId?: number; afterId?: number }): Promise<Project[]> =>
    repos.projects.list(page)

/** Updates a project; returns the new token once when one was generated. */
export const makeUpdateProject =
  ({ uow }: Pick<AppDeps, 'uow'>) =>
  (projectId: number, input: UpdateProjectInput, ctx: ChangeOrigin): Promise<{ project: Project; apiToken?: string }> =>
    uow.run(async (tx) => {
      await authorizeProject(tx, projectId, ctx)
      if (input.rotateApiToken && input.apiToken !== undefined) {
        throw new AppError('ORC_BAD_REQUEST', 'Give either api_token or rotate_api_token, not both')
      }
      const generated = input.rotateApiToken ? generateToken() : undefined
      const token = generated ?? input.apiToken
      const { apiToken: _token, rotateApiToken: _rotate, ...fields } = input
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

const changedKeys = (fields: object): string[] =>
  Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key)
