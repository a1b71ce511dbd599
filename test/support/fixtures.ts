import { randomBytes } from 'node:crypto'
import type { Repositories } from '../../src/app/ports.js'
import type { JobClaim } from '../../src/app/job-claim.port.js'
import type { Job, NewJob } from '../../src/domain/job.js'
import type { NewProject, Project } from '../../src/domain/project.js'
import type { NewProtocolRun, ProtocolRun } from '../../src/domain/protocol-run.js'
import type { ProtocolStatus, StepStatus } from '../../src/domain/statuses.js'
import type { NewStepRun, StepRun } from '../../src/domain/step-run.js'

/** A short unique suffix so tests sharing a database never collide. */
export const unique = (): string => randomBytes(4).toString('hex')

export const seedProject = (repos: Repositories, overrides: Partial<NewProject> = {}): Promise<Project> =>
  repos.projects.create({
    name: `demo-${unique()}`,
    gitUrl: 'https://github.com/example/demo.git',
    baseBranch: 'main',
    localPath: null,
    ciProvider: null,
    defaultModels: null,
    secrets: null,
    apiTokenHash: null,
    ...overrides,
  })

/** A queued job of the project alone (no run or step), as a spec audit enqueues one. */
export const seedProjectJob = (repos: Repositories, projectId: number, id: string): Promise<Job> =>
  repos.jobs.add({
    id,
    type: 'spec_audit_job',
    payload: {},
    maxAttempts: 3,
    projectId,
    protocolRunId: null,
    stepRunId: null,
  })

/** A job a worker has begun (`started`), as the queue leaves it while its handler runs; its claim. */
export const seedStartedJob = async (repos: Repositories, job: NewJob): Promise<JobClaim> => {
  await repos.jobs.add(job)
  const claim = { jobId: job.id, token: `worker-${job.id}`, attempt: 1, maxAttempts: job.maxAttempts }
  await repos.jobs.begin(claim, new Date(Date.now() + 60_000).toISOString())
  return claim
}

export const seedRun = (
  repos: Repositories,
  projectId: number,
  status: ProtocolStatus = 'pending',
  protocolName = `0001-task-${unique()}`,
): Promise<ProtocolRun> => repos.runs.create({ projectId, protocolName, status, baseBranch: 'main' })

export const seedStep = (
  repos: Repositories,
  protocolRunId: number,
  status: StepStatus = 'pending',
  stepIndex = 0,
): Promise<StepRun> =>
  repos.steps.create({
    protocolRunId,
    stepIndex,
    stepName: `${String(stepIndex).padStart(2, '0')}-work-${unique()}`,
    stepType: 'work',
    status,
  })

/** A project and its setup run (`setup-<project id>`, pending), as registering a project makes them. */
export const seedProjectSetup = async (
  repos: Repositories,
  overrides: Partial<NewProject> = {},
): Promise<{ project: Project; run: ProtocolRun }> => {
  const project = await seedProject(repos, overrides)
  const run = await repos.runs.create({
    projectId: project.id,
    protocolName: `setup-${project.id}`,
    status: 'pending',
    baseBranch: 'main',
  })
  return { project, run }
}

/** What `seedProjectRun` creates; the run's base branch defaults to `main`, a step's type to `work`. */
export interface ProjectRunSeed {
  readonly project?: Partial<NewProject>
  readonly run: Omit<NewProtocolRun, 'projectId' | 'baseBranch'> & { readonly baseBranch?: string }
  readonly steps?: ReadonlyArray<
    Omit<NewStepRun, 'protocolRunId' | 'stepType'> & { readonly stepType?: string }
  >
}

/** A project, one run of it and the run's steps, in the repositories given (one transaction's). */
export const seedProjectRun = async (
  repos: Repositories,
  seed: ProjectRunSeed,
): Promise<{ project: Project; run: ProtocolRun; steps: StepRun[] }> => {
  const project = await seedProject(repos, seed.project)
  const run = await repos.runs.create({ baseBranch: 'main', ...seed.run, projectId: project.id })
  const steps: StepRun[] = []
  for (const step of seed.steps ?? [])
    steps.push(await repos.steps.create({ stepType: 'work', ...step, protocolRunId: run.id }))
  return { project, run, steps }
}
