import type { Kysely } from 'kysely'
import type { Repositories, UnitOfWork } from '../../app/ports.js'
import { createEventRepository } from './event.repository.js'
import { createProjectRepository } from './project.repository.js'
import { createProtocolRunRepository } from './protocol-run.repository.js'
import type { Database } from './schema.js'
import { createStepRunRepository } from './step-run.repository.js'

/** Repositories bound to one connection or transaction. */
export const createRepositories = (db: Kysely<Database>): Repositories => ({
  projects: createProjectRepository(db),
  runs: createProtocolRunRepository(db),
  steps: createStepRunRepository(db),
  events: createEventRepository(db),
})

export const createUnitOfWork = (db: Kysely<Database>): UnitOfWork => ({
  run: (work) => db.transaction().execute((trx) => work(createRepositories(trx))),
})
