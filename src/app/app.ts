import type { AppDeps } from './app-deps.js'
import type { ContainedFiles } from './contained-files.js'
import type { GitClient } from './git.port.js'
import type { RepoPolicy } from './projects/local-path.js'
import { makeListEvents } from './events/event-use-cases.js'
import { makeCheckHealth, type HealthProbe } from './health.js'
import { makeAnswerClarifications } from './projects/answer-clarifications.js'
import {
  makeCreateProject,
  makeGetProject,
  makeListProjects,
  makeUpdateProject,
} from './projects/project-use-cases.js'
import {
  makeCancelProtocol,
  makeOpenPr,
  makePauseProtocol,
  makeResumeProtocol,
  makeRetryLatest,
  makeRunNextStep,
  makeStartProtocol,
} from './protocols/protocol-actions.js'
import {
  makeCreateProtocol,
  makeGetProtocol,
  makeGetSpec,
  makeListProtocols,
} from './protocols/protocol-use-cases.js'
import { makeListJobs, makeQueueStats } from './queues/queue-use-cases.js'
import type { QueueBackend } from './queue.js'
import { makeEnqueueSpecAudit } from './specs/spec-audit.js'
import {
  makeApproveStep,
  makeCreateStep,
  makeGetStep,
  makeListSteps,
  makeRunQa,
  makeRunStep,
} from './steps/step-use-cases.js'

export interface AppOptions extends AppDeps {
  readonly queueBackend: QueueBackend
  readonly probes: readonly HealthProbe[]
  /** Where checkouts are: caller-supplied paths must lie in their project's own one. */
  readonly git: Pick<GitClient, 'locateRepo'>
  /** Resolves those paths (and a project's local_path) through symlinks. */
  readonly files: Pick<ContainedFiles, 'realPath' | 'exists' | 'isDirectory'>
  readonly repoPolicy: RepoPolicy
  /** Registered engine ids: an `engines` chain may name these only. */
  readonly engineIds: readonly string[]
}

/** Every use case the faces may call, bound to its dependencies. */
export const createApp = (deps: AppOptions) => ({
  checkHealth: makeCheckHealth({ probes: deps.probes }),
  createProject: makeCreateProject(deps),
  listProjects: makeListProjects(deps),
  getProject: makeGetProject(deps),
  updateProject: makeUpdateProject(deps),
  answerClarifications: makeAnswerClarifications(deps),
  createProtocol: makeCreateProtocol(deps),
  listProtocols: makeListProtocols(deps),
  getProtocol: makeGetProtocol(deps),
  getSpec: makeGetSpec(deps),
  startProtocol: makeStartProtocol(deps),
  pauseProtocol: makePauseProtocol(deps),
  resumeProtocol: makeResumeProtocol(deps),
  cancelProtocol: makeCancelProtocol(deps),
  runNextStep: makeRunNextStep(deps),
  retryLatest: makeRetryLatest(deps),
  openPr: makeOpenPr(deps),
  createStep: makeCreateStep(deps),
  listSteps: makeListSteps(deps),
  getStep: makeGetStep(deps),
  runStep: makeRunStep(deps),
  runQa: makeRunQa(deps),
  approveStep: makeApproveStep(deps),
  listEvents: makeListEvents(deps),
  queueStats: makeQueueStats({ ...deps, backend: deps.queueBackend }),
  listJobs: makeListJobs(deps),
  enqueueSpecAudit: makeEnqueueSpecAudit(deps),
})

export type App = ReturnType<typeof createApp>
