import type { Reader, Repositories } from '../../src/app/ports.js'
import { AppError } from '../../src/domain/app-error.js'
import type { OrchestratorEvent } from '../../src/domain/event.js'
import type { JsonObject } from '../../src/domain/json.js'
import type { Job } from '../../src/domain/job.js'
import type { Project, ProjectCredentials } from '../../src/domain/project.js'
import type { ProtocolRun } from '../../src/domain/protocol-run.js'
import type { StepRun } from '../../src/domain/step-run.js'

/** Every row the protocol use cases touch, as plain data so a transaction can work on a copy. */
export interface ProtocolTables {
  projects: Array<{ project: Project; credentials: ProjectCredentials }>
  runs: ProtocolRun[]
  steps: StepRun[]
  events: OrchestratorEvent[]
  jobs: Job[]
  nextId: number
}

/** The repositories the protocol and step use cases need, in memory. */
export type ProtocolRepositories = Pick<Repositories, 'projects' | 'runs' | 'steps' | 'events' | 'jobs'>

export const emptyTables = (): ProtocolTables => ({
  projects: [],
  runs: [],
  steps: [],
  events: [],
  jobs: [],
  nextId: 1,
})

const NOW = '2026-01-01T00:00:00.000Z'

/** A method the protocol use cases never call: a test reaching it learns the fake needs growing. */
const notFaked = (name: string) => (): never => {
  throw new Error(`${name} is not faked in test/fakes/protocol-store.fake.ts`)
}

const casGuard = (kind: string, id: number, status: string | undefined, from: readonly string[]): void => {
  if (status === undefined) throw new AppError('ORC_STATE_CHANGED', `${kind} ${id} is gone`)
  if (!from.includes(status)) throw new AppError('ORC_STATE_CHANGED', `${kind} ${id} is ${status}`)
}

/** A listing as the storage gives it for `reader`: empty unless the project's token is none or the reader's. */
const readableFor = <T>(
  t: ProtocolTables,
  items: T[],
  projectId: number | undefined,
  reader: Reader,
): T[] => {
  const hash = t.projects.find((p) => p.project.id === projectId)?.credentials.apiTokenHash ?? null
  return hash === null || hash === reader.presentedTokenHash ? items : []
}

const projectRepository = (t: ProtocolTables): ProtocolRepositories['projects'] => ({
  create: notFaked('projects.create'),
  findById: async (id) => t.projects.find((p) => p.project.id === id)?.project,
  list: notFaked('projects.list'),
  update: notFaked('projects.update'),
  findCredentials: async (id) => t.projects.find((p) => p.project.id === id)?.credentials,
  findWithCredentials: async (id) => t.projects.find((p) => p.project.id === id),
  listWebhookSecrets: notFaked('projects.listWebhookSecrets'),
  listTokenHashes: notFaked('projects.listTokenHashes'),
  tokenSetVersion: notFaked('projects.tokenSetVersion'),
})

const runRepository = (t: ProtocolTables): ProtocolRepositories['runs'] => {
  const find = (id: number): ProtocolRun | undefined => t.runs.find((r) => r.id === id)
  const replace = (run: ProtocolRun): ProtocolRun => {
    t.runs = t.runs.map((r) => (r.id === run.id ? run : r))
    return run
  }
  return {
    create: notFaked('runs.create'),
    findById: async (id) => find(id),
    // One caller at a time in memory: nothing to hold.
    lockById: async (id) => find(id),
    findWithProject: async (id) => {
      const run = find(id)
      const owner = t.projects.find((p) => p.project.id === run?.projectId)
      return run && owner && { run, project: owner.project }
    },
    findWithProjectTokenHash: async (id) => {
      const run = find(id)
      const owner = t.projects.find((p) => p.project.id === run?.projectId)
      return run && { run, projectTokenHash: owner?.credentials.apiTokenHash ?? null }
    },
    findProjectTokenHash: async (id) => {
      const run = find(id)
      const owner = t.projects.find((p) => p.project.id === run?.projectId)
      return run && { projectTokenHash: owner?.credentials.apiTokenHash ?? null }
    },
    listByProject: async (projectId) => t.runs.filter((r) => r.projectId === projectId).reverse(),
    listByProjectFor: async (projectId, _page, reader) =>
      readableFor(t, t.runs.filter((r) => r.projectId === projectId).reverse(), projectId, reader),
    findByBranch: notFaked('runs.findByBranch'),
    compareAndSetStatus: async (id, from, to, patch) => {
      const run = find(id)
      casGuard('ProtocolRun', id, run?.status, from)
      return replace({ ...(run as ProtocolRun), ...patch, status: to })
    },
    update: async (id, patch) => {
      const run = find(id)
      return run && replace({ ...run, ...patch })
    },
    addUsage: async (id, tokens, costUsd) => {
      const run = find(id)
      if (run) replace({ ...run, tokensUsed: run.tokensUsed + tokens, costUsd: run.costUsd + costUsd })
    },
  }
}

const eventRepository = (t: ProtocolTables): ProtocolRepositories['events'] => ({
  append: async (event) => {
    const stored: OrchestratorEvent = {
      protocolRunId: null,
      stepRunId: null,
      metadata: null,
      ...event,
      id: t.nextId++,
      createdAt: NOW,
    }
    t.events.push(stored)
    return stored
  },
  list: notFaked('events.list'),
})

const stepRepository = (t: ProtocolTables): ProtocolRepositories['steps'] => {
  const find = (id: number): StepRun | undefined => t.steps.find((s) => s.id === id)
  const stepsOfRun = (runId: number): StepRun[] =>
    t.steps.filter((s) => s.protocolRunId === runId).sort((a, b) => a.stepIndex - b.stepIndex || a.id - b.id)
  const moveStep: ProtocolRepositories['steps']['compareAndSetStatus'] = async (id, from, to, patch) => {
    const step = find(id)
    casGuard('StepRun', id, step?.status, from)
    const moved = { ...(step as StepRun), ...patch, status: to }
    t.steps = t.steps.map((s) => (s.id === id ? moved : s))
    return moved
  }
  return {
    create: notFaked('steps.create'),
    findById: async (id) => find(id),
    findWithProjectId: notFaked('steps.findWithProjectId'),
    findWithRunAndProject: async (id) => {
      const step = find(id)
      const run = step && t.runs.find((r) => r.id === step.protocolRunId)
      const project = run && t.projects.find((p) => p.project.id === run.projectId)?.project
      return step && run && project ? { step, run, project } : undefined
    },
    findWithRunAndTokenHash: async (id) => {
      const step = find(id)
      const run = step && t.runs.find((r) => r.id === step.protocolRunId)
      const owner = run && t.projects.find((p) => p.project.id === run.projectId)
      return step && run && owner
        ? { step, run, projectTokenHash: owner.credentials.apiTokenHash }
        : undefined
    },
    listByRun: async (runId) => stepsOfRun(runId),
    listByRunFor: async (runId, reader) =>
      readableFor(t, stepsOfRun(runId), t.runs.find((r) => r.id === runId)?.projectId, reader),
    compareAndSetStatus: moveStep,
    compareAndSetStatusWithEvent: async (id, from, to, { runtimeMerge, ...patch } = {}, event) => {
      const merged = runtimeMerge && mergedState(find(id)?.runtimeState ?? null, runtimeMerge)
      const step = await moveStep(id, from, to, merged ? { ...patch, runtimeState: merged } : patch)
      return { step, event: await eventRepository(t).append(event) }
    },
    moveIfAllowed: notFaked('steps.moveIfAllowed'),
    update: notFaked('steps.update'),
    mergeRuntimeState: notFaked('steps.mergeRuntimeState'),
  }
}

const jobRepository = (t: ProtocolTables): ProtocolRepositories['jobs'] => ({
  add: async (job) => {
    const stored: Job = {
      queue: 'default',
      nextRunAt: NOW,
      ...job,
      status: 'queued',
      attempts: 0,
      createdAt: NOW,
      startedAt: null,
      endedAt: null,
      result: null,
      error: null,
      meta: null,
    }
    t.jobs.push(stored)
    return stored
  },
  findById: async (id) => t.jobs.find((j) => j.id === id),
  list: notFaked('jobs.list'),
  counts: notFaked('jobs.counts'),
  cancelForRun: async (runId) => {
    const open = (j: Job): boolean =>
      j.protocolRunId === runId && (j.status === 'queued' || j.status === 'held')
    const ids = t.jobs.filter(open).map((j) => j.id)
    t.jobs = t.jobs.map((j) => (ids.includes(j.id) ? { ...j, status: 'cancelled' } : j))
    return ids
  },
  releaseHeld: async (runId) => {
    const held = (j: Job): boolean => j.protocolRunId === runId && j.status === 'held'
    const released = t.jobs.filter(held).map((j): Job => ({ ...j, status: 'queued', nextRunAt: NOW }))
    t.jobs = t.jobs.map((j) => released.find((r) => r.id === j.id) ?? j)
    return released
  },
  begin: notFaked('jobs.begin'),
  renewLease: notFaked('jobs.renewLease'),
  settle: notFaked('jobs.settle'),
  listStartedForStep: notFaked('jobs.listStartedForStep'),
  precheckFacts: notFaked('jobs.precheckFacts'),
})

/** Repositories reading and writing `tables` (a transaction's private copy, or the committed ones). */
export const protocolRepositories = (tables: ProtocolTables): ProtocolRepositories => ({
  projects: projectRepository(tables),
  runs: runRepository(tables),
  steps: stepRepository(tables),
  events: eventRepository(tables),
  jobs: jobRepository(tables),
})

/** mergeRuntimeState's rule for plain keys: each replaces the stored one, a null removes it. */
const mergedState = (stored: JsonObject | null, changes: JsonObject): JsonObject => {
  const next: JsonObject = { ...(stored ?? {}) }
  for (const [key, value] of Object.entries(changes))
    if (value === null) delete next[key]
    else next[key] = value
  return next
}
