import { AppError } from '../../domain/app-error.js'
import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { authorizeRun } from '../access.js'
import { appendRunEvent } from '../api-events.js'
import type { AppDeps } from '../app-deps.js'
import { hostTargetOf, unreachableHost } from '../code-host-target.js'
import type { CodeHosts } from '../code-host.port.js'
import type { ChangeOrigin } from '../context.js'

export type TriggerCiDeps = Pick<AppDeps, 'uow' | 'repos'> & {
  readonly codeHosts: CodeHosts
  /** GitHub workflow dispatched when the caller names none (TASKSGODZILLA_CI_WORKFLOW). */
  readonly defaultWorkflow: string
}

export interface TriggerCiResult {
  readonly message: string
  readonly provider: string
  /** `api` (token) or `cli` (gh/glab). */
  readonly via: string
  readonly ref: string
  /** The dispatched GitHub workflow; null on GitLab, which runs the project's pipeline. */
  readonly workflow: string | null
  readonly pipeline_id: number | null
  readonly url: string | null
}

const HOST_TIMEOUT_MS = 60_000

/**
 * Starts the project's CI on a run's branch: a GitHub workflow_dispatch of the named (or the
 * configured) workflow, or a GitLab pipeline, through the host's API or its CLI. Recorded as
 * `ci_triggered`, or `ci_trigger_failed` before the host's refusal is reported (502).
 */
export const makeTriggerCi =
  (deps: TriggerCiDeps) =>
  async (runId: number, workflow: string | undefined, ctx: ChangeOrigin): Promise<TriggerCiResult> => {
    const { run } = await authorizeRun(deps.repos, runId, ctx)
    const project = await deps.repos.projects.findById(run.projectId)
    if (!project)
      throw new AppError('ORC_PROJECT_NOT_FOUND', 'Project not found', { projectId: run.projectId })
    if (run.protocolName.startsWith('setup-'))
      throw new AppError('ORC_CONFLICT', `Run ${run.id} is a project setup run; it has no branch to test`)
    const target = hostTargetOf(project)
    if (!target) {
      const why = `Project ${project.id}'s git URL names no GitHub or GitLab repository`
      throw new AppError('ORC_CI_HOST_UNKNOWN', why)
    }
    const host = deps.codeHosts.get(target.provider)
    if (!host) throw new AppError('ORC_CI_UNAVAILABLE', unreachableHost(target))
    const spec = { ...target, ref: run.protocolName, workflow: workflow ?? deps.defaultWorkflow }
    const shown = target.provider === 'github' ? spec.workflow : null
    const about: JsonObject = { provider: host.provider, via: host.via, ref: spec.ref, workflow: shown }
    let pipeline
    try {
      pipeline = await host.triggerPipeline(spec, AbortSignal.timeout(HOST_TIMEOUT_MS))
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const message = `Could not trigger CI on ${spec.ref}: ${reason}`
      await record(deps, run, 'ci_trigger_failed', { message, metadata: about, origin: ctx })
      throw new AppError('ORC_CI_TRIGGER_FAILED', message)
    }
    const what = shown ? `workflow ${shown}` : 'pipeline'
    const message = `CI ${what} triggered on ${spec.ref} (${host.provider} ${host.via}).`
    const result = { ...about, pipeline_id: pipeline.id, url: pipeline.url }
    await record(deps, run, 'ci_triggered', { message, metadata: result, origin: ctx })
    return {
      message,
      provider: host.provider,
      via: host.via,
      ref: spec.ref,
      workflow: shown,
      pipeline_id: pipeline.id,
      url: pipeline.url,
    }
  }

const record = (
  deps: TriggerCiDeps,
  run: ProtocolRun,
  type: string,
  {
    message,
    metadata,
    origin: ctx,
  }: { readonly message: string; readonly metadata: JsonObject; readonly origin: ChangeOrigin },
) => deps.uow.run((tx) => appendRunEvent(tx, run, { type, message, metadata }, ctx))
