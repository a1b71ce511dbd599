import { describe, expect, it } from 'vitest'
import type { OrchestratorEvent } from '../../domain/event.js'
import type { Job } from '../../domain/job.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { StepRun } from '../../domain/step-run.js'
import type { TransactionChanges } from '../ports.js'
import { deriveNotices } from './notices.js'

const event = (over: Partial<OrchestratorEvent>): OrchestratorEvent => ({
  id: 1,
  projectId: 3,
  protocolRunId: 7,
  stepRunId: null,
  eventType: 'x',
  message: 'm',
  metadata: null,
  createdAt: '2026-12-04T15:00:00.000Z',
  ...over,
})
const run = (status: string) =>
  ({ id: 7, projectId: 3, protocolName: '0001-x', status }) as unknown as ProtocolRun
const step = (status: string) => ({ id: 11, protocolRunId: 7, status }) as unknown as StepRun
const changes = (over: Partial<TransactionChanges>): TransactionChanges => ({
  runs: [],
  steps: [],
  events: [],
  jobs: [],
  ...over,
})

describe('deriveNotices', () => {
  it('names a blocked run with the event appended after the change as its reason', () => {
    const cause = event({ eventType: 'qa_failed', message: 'QA failed.', stepRunId: 11 })
    const notices = deriveNotices(
      changes({ runs: [{ run: run('blocked'), eventsBefore: 1 }], events: [event({}), cause] }),
    )
    expect(notices).toEqual([
      expect.objectContaining({ type: 'blocked', reason: 'qa_failed', stepRunId: 11, message: 'QA failed.' }),
    ])
  })

  it('supports waiting_quota before any run can reach it, and ignores running or paused', () => {
    const types = ['waiting_quota', 'running', 'paused', 'failed', 'completed'].flatMap((status) =>
      deriveNotices(changes({ runs: [{ run: run(status), eventsBefore: 0 }] })).map((n) => n.type),
    )
    expect(types).toEqual(['waiting_quota', 'failed', 'completed'])
  })

  it('tells a human about needs_qa only when no QA job or inline QA follows', () => {
    const moved = { step: step('needs_qa'), event: event({ metadata: { qa_policy: 'full' }, stepRunId: 11 }) }
    expect(deriveNotices(changes({ steps: [moved] })).map((n) => n.type)).toEqual(['needs_qa'])
    const qaJob = { type: 'run_quality_job', stepRunId: 11 } as Job
    expect(deriveNotices(changes({ steps: [moved], jobs: [qaJob] }))).toEqual([])
    const light = { ...moved, event: event({ metadata: { qa_policy: 'light' } }) }
    expect(deriveNotices(changes({ steps: [light] }))).toEqual([])
  })

  it('carries the PR URL of pr_opened', () => {
    const opened = event({ eventType: 'pr_opened', metadata: { pr_url: 'https://h/pr/4', pr_number: 4 } })
    expect(deriveNotices(changes({ events: [opened] }))).toEqual([
      expect.objectContaining({ type: 'pr_opened', extra: { pr_url: 'https://h/pr/4', pr_number: 4 } }),
    ])
  })
})
