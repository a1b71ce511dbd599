import { describe, expect, it } from 'vitest'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import { createSpecAuditHandler } from '../../../src/app/specs/spec-audit.job.js'
import type { JsonObject } from '../../../src/domain/json.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun, setTemplateConfig } from './protocol-fixture.js'

describe.each(DIALECTS)('spec_audit_job on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  it.skipIf(unavailable(dialect))('flags an invalid spec and backfills a missing one', async () => {
    root = tempRoot('tgz-audit-')
    const deps = makeJobDeps(db.handle, root)
    const { project, run } = await seedPlanningRun(db.handle, root, '0001-audit')
    await createPlanProtocolHandler(deps)({ protocol_run_id: run.id, job_id: 'p' }, jobRun())
    const planned = (await readState(db.handle, run.id)).run
    const spec = planned.templateConfig!.protocol_spec as JsonObject
    const steps = (spec.steps as JsonObject[]).map((step) => ({ ...step, engine_id: 'nope' }))
    await setTemplateConfig(db.handle, run.id, {
      ...planned.templateConfig,
      protocol_spec: { ...spec, steps },
    })
    const audit = createSpecAuditHandler(deps)
    const payload = { project_id: project.id, protocol_id: run.id, backfill_missing: false, job_id: 'a' }
    expect(await audit(payload, jobRun())).toMatchObject({ audited: 1, invalid: 1 })
    let state = await readState(db.handle, run.id)
    expect(state.run.templateConfig?.spec_meta).toMatchObject({ status: 'invalid' })
    expect(state.run.status).toBe('planned')

    await setTemplateConfig(db.handle, run.id, {})
    expect(await audit(payload, jobRun())).toMatchObject({ audited: 0, skipped: 1 })
    const backfill = { ...payload, protocol_id: null, backfill_missing: true }
    expect(await audit(backfill, jobRun())).toMatchObject({ audited: 1, valid: 1, backfilled: 1 })
    state = await readState(db.handle, run.id)
    expect(state.run.templateConfig?.spec_meta).toMatchObject({ status: 'valid', errors: [] })
    expect((state.run.templateConfig?.protocol_spec as JsonObject).steps).toHaveLength(3)
    expect(state.events.filter((e) => e === 'spec_audit')).toHaveLength(2)
  })
})
