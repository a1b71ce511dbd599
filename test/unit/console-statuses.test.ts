import { describe, expect, it } from 'vitest'
import * as server from '../../src/domain/statuses.js'
import { JOB_STATUSES as SERVER_JOB_STATUSES } from '../../src/domain/job.js'
import { JOB_STATUSES, PROTOCOL_STATUSES, STEP_STATUSES } from '../../console/src/api/types.js'
import { statusLook } from '../../console/src/logic/status.js'

// console/ may not import src/ (ESLint forbids it), so it repeats these lists; this test keeps them equal.
describe('status lists the console repeats from src/domain', () => {
  it('has the same run and step statuses as the server', () => {
    expect([...PROTOCOL_STATUSES].sort()).toEqual([...server.PROTOCOL_STATUSES].sort())
    expect([...STEP_STATUSES].sort()).toEqual([...server.STEP_STATUSES].sort())
  })

  it('has every job status the queue reports, plus the derived delayed', () => {
    expect([...JOB_STATUSES].sort()).toEqual([...SERVER_JOB_STATUSES, 'delayed'].sort())
  })

  it('gives every status its own look rather than the unknown fallback', () => {
    for (const status of [...PROTOCOL_STATUSES, ...STEP_STATUSES, ...JOB_STATUSES])
      expect(statusLook(status).icon, status).not.toBe('•')
  })
})
