import type { ProtocolStatus, StepStatus } from '../../src/domain/statuses.js'
import type { ProtocolRun } from '../../src/domain/protocol-run.js'
import type { StepRun } from '../../src/domain/step-run.js'
import { emptyTables, type ProtocolTables } from './protocol-store.fake.js'

const AT = '2026-01-01T00:00:00.000Z'

/** One project (no token) with one run and, optionally, its steps: the rows most use-case tests start from. */
export const seedRun = (
  runStatus: ProtocolStatus,
  stepStatuses: readonly StepStatus[] = [],
): { tables: ProtocolTables; runId: number; stepIds: number[] } => {
  const tables = emptyTables()
  const project = {
    id: 1,
    name: 'demo',
    gitUrl: 'https://example.com/demo.git',
    baseBranch: 'main',
    localPath: null,
    ciProvider: null,
    defaultModels: null,
    engines: null,
    secretKeys: [],
    hasApiToken: false,
    clarifications: null,
    reviewMode: null,
    createdAt: AT,
    updatedAt: AT,
  }
  tables.projects.push({ project, credentials: { projectId: 1, apiTokenHash: null, secrets: {} } })
  const run: ProtocolRun = {
    id: 10,
    projectId: 1,
    protocolName: '0001-demo',
    status: runStatus,
    baseBranch: 'main',
    branchName: '0001-demo',
    worktreePath: null,
    protocolRoot: null,
    description: null,
    templateConfig: null,
    templateSource: null,
    prUrl: null,
    prNumber: null,
    tokensUsed: 0,
    costUsd: 0,
    createdAt: AT,
    updatedAt: AT,
  }
  tables.runs.push(run)
  const steps = stepStatuses.map((status, index): StepRun => stepRow(100 + index, run.id, index, status))
  tables.steps.push(...steps)
  tables.nextId = 1000
  return { tables, runId: run.id, stepIds: steps.map((s) => s.id) }
}

const stepRow = (id: number, protocolRunId: number, stepIndex: number, status: StepStatus): StepRun => ({
  id,
  protocolRunId,
  stepIndex,
  stepName: `step-${stepIndex}`,
  stepType: 'work',
  status,
  retries: 0,
  model: null,
  engineId: null,
  engines: null,
  policy: null,
  runtimeState: null,
  summary: null,
  tokensUsed: 0,
  costUsd: 0,
  headSha: null,
  headSeq: null,
  createdAt: AT,
  updatedAt: AT,
})
