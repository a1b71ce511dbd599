import { randomBytes } from 'node:crypto'
import type { Repositories } from '../../src/app/ports.js'
import type { Project } from '../../src/domain/project.js'
import type { ProtocolRun } from '../../src/domain/protocol-run.js'
import type { ProtocolStatus, StepStatus } from '../../src/domain/statuses.js'
import type { StepRun } from '../../src/domain/step-run.js'

/** A short unique suffix so tests sharing a database never collide. */
export const unique = (): string => randomBytes(4).toString('hex')

export const seedProject = (
  repos: Repositories,
  overrides: Partial<Parameters<Repositories['projects']['create']>[0]> = {},
): Promise<Project> =>
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
