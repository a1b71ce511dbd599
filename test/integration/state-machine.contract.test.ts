import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_ORIGIN } from '../../src/app/context.js'
import type { Repositories, UnitOfWork } from '../../src/app/ports.js'
import { changeRunStatus, changeStepStatus } from '../../src/app/state-changes.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import { PROTOCOL_STATUSES, STEP_STATUSES } from '../../src/domain/statuses.js'
import {
  PROTOCOL_TRANSITIONS,
  STEP_TRANSITIONS,
  type ProtocolAction,
  type StepAction,
} from '../../src/domain/transitions.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedRun, seedStep } from '../support/fixtures.js'

const PROTOCOL_ACTIONS = Object.keys(PROTOCOL_TRANSITIONS) as ProtocolAction[]
const STEP_ACTIONS = Object.keys(STEP_TRANSITIONS) as StepAction[]

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`state machine on ${dialect}`, () => {
    let close: () => Promise<void>
    let repos: Repositories
    let uow: UnitOfWork
    let projectId: number

    beforeAll(async () => {
      const opened = await openMigratedDatabase(dialect)
      close = opened.close
      repos = createRepositories(opened.handle.db)
      uow = createUnitOfWork(opened.handle.db)
      projectId = (await seedProject(repos)).id
    })
    afterAll(() => close())

    it('applies every allowed run transition with its event, and refuses every other one untouched', async () => {
      for (const action of PROTOCOL_ACTIONS) {
        const rule = PROTOCOL_TRANSITIONS[action]
        for (const status of PROTOCOL_STATUSES) {
          const run = await seedRun(repos, projectId, status)
          const attempt = uow.run((tx) =>
            changeRunStatus(tx, run, action, {
              event: { type: `t_${action}`, message: action },
              origin: { requestId: 'req-1' },
            }),
          )
          const events = () => repos.events.list({ protocolRunId: run.id, limit: 5 })
          if ((rule.from as readonly string[]).includes(status)) {
            await expect(attempt, `${status} + ${action}`).resolves.toMatchObject({ status: rule.to })
            expect(await events()).toMatchObject([
              { eventType: `t_${action}`, metadata: { request_id: 'req-1' } },
            ])
          } else {
            await expect(attempt, `${status} + ${action}`).rejects.toMatchObject({
              code: 'ORC_INVALID_TRANSITION',
            })
            expect((await repos.runs.findById(run.id))?.status).toBe(status)
            expect(await events()).toEqual([])
          }
        }
      }
    })

    it('applies every allowed step transition with its event, and refuses every other one untouched', async () => {
      const run = await seedRun(repos, projectId, 'running')
      for (const action of STEP_ACTIONS) {
        const rule = STEP_TRANSITIONS[action]
        for (const status of STEP_STATUSES) {
          const step = await seedStep(repos, run.id, status)
          const attempt = uow.run((tx) =>
            changeStepStatus(tx, run, step, {
              action,
              event: { type: `s_${action}`, message: action },
              origin: NO_ORIGIN,
            }),
          )
          if ((rule.from as readonly string[]).includes(status)) {
            await expect(attempt, `${status} + ${action}`).resolves.toMatchObject({ status: rule.to })
          } else {
            await expect(attempt, `${status} + ${action}`).rejects.toMatchObject({
              code: 'ORC_INVALID_TRANSITION',
            })
            expect((await repos.steps.findById(step.id))?.status).toBe(status)
          }
        }
      }
      const stepEvents = await repos.events.list({ protocolRunId: run.id, limit: 1000 })
      const allowedCount = STEP_ACTIONS.reduce((n, a) => n + STEP_TRANSITIONS[a].from.length, 0)
      expect(stepEvents).toHaveLength(allowedCount)
      expect(stepEvents.every((e) => e.stepRunId !== null)).toBe(true)
    })

    it('refuses to revive a run that was cancelled while a caller still held the old status', async () => {
      const run = await seedRun(repos, projectId, 'running')
      await uow.run((tx) =>
        changeRunStatus(tx, run, 'cancel', { event: { type: 'cancelled', message: 'x' }, origin: NO_ORIGIN }),
      )
      // A late worker still holds the running snapshot and tries to block the run.
      await expect(
        uow.run((tx) =>
          changeRunStatus(tx, run, 'block', { event: { type: 'late', message: 'x' }, origin: NO_ORIGIN }),
        ),
      ).rejects.toMatchObject({ code: 'ORC_STATE_CHANGED' })
      expect((await repos.runs.findById(run.id))?.status).toBe('cancelled')
    })
  })
}
