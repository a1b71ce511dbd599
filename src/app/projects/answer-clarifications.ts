import type { JsonObject } from '../../domain/json.js'
import type { Project } from '../../domain/project.js'
import { canProtocol } from '../../domain/transitions.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject } from '../access.js'
import { withTrace, type ChangeOrigin } from '../context.js'
import { enqueueJob } from '../queue-runtime/enqueue.js'
import { changeRunStatus } from '../state-changes.js'

/**
 * Records answers to onboarding questions on the project. When the project's setup run is
 * blocked waiting for them, it goes back to running and the setup job is enqueued again.
 */
export const makeAnswerClarifications =
  ({ uow, jobPolicy }: Pick<AppDeps, 'uow' | 'jobPolicy'>) =>
  (projectId: number, answers: JsonObject, ctx: ChangeOrigin): Promise<Project> =>
    uow.run(async (tx) => {
      const current = await authorizeProject(tx, projectId, ctx)
      const merged = { ...current.clarifications, ...answers }
      const project = (await tx.projects.update(projectId, { clarifications: merged })) ?? current
      await tx.events.append({
        projectId,
        eventType: 'setup_clarifications_answered',
        message: 'Onboarding clarifications answered.',
        metadata: withTrace({ keys: Object.keys(answers).sort() }, ctx),
      })
      const setup = (await tx.runs.findByBranch(`setup-${projectId}`, projectId))[0]
      if (setup?.status === 'blocked' && canProtocol(setup.status, 'run')) {
        const payload = { project_id: projectId, protocol_run_id: setup.id }
        const scope = { projectId, protocolRunId: setup.id }
        const job = await enqueueJob(tx.jobs, 'project_setup_job', payload, { scope, origin: ctx, policy: jobPolicy })
        const event = { type: 'setup_enqueued', message: 'Project setup enqueued.', metadata: { job_id: job.id } }
        await changeRunStatus(tx, setup, 'run', { event, origin: ctx })
      }
      return project
    })
