import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Repositories } from '../../src/app/ports.js'
import { summarizeSpec } from '../../src/app/protocols/spec-summary.js'
import { specHash } from '../../src/app/spec-hash.js'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { openDatabase } from '../../src/adapters/storage/database.js'
import { withStatementCache } from '../../src/adapters/storage/sqlite-statements.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedRun } from '../support/fixtures.js'

// Reads reuse prepared SQLite statements and share decoded template_configs; neither may ever
// show a reader something other than what is stored now.

describe('prepared SQLite statements, reused', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tgz-statements-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('see a column added after they were first used', async () => {
    const handle = openDatabase({ dialect: 'sqlite', path: join(dir, 'schema.sqlite') })
    try {
      await sql`create table notes (id integer primary key, body text)`.execute(handle.db)
      await sql`insert into notes (body) values ('first')`.execute(handle.db)
      const read = () => sql<Record<string, unknown>>`select * from notes`.execute(handle.db)
      expect((await read()).rows).toEqual([{ id: 1, body: 'first' }])
      await sql`alter table notes add column tag text default 'none'`.execute(handle.db)
      expect((await read()).rows).toEqual([{ id: 1, body: 'first', tag: 'none' }])
    } finally {
      await handle.close()
    }
  })

  it('let a query run again while a stream of the same query is still open', () => {
    const sqlite = new SqliteDatabase(join(dir, 'stream.sqlite'))
    try {
      sqlite.exec('create table n (i integer); insert into n values (1), (2), (3)')
      const cached = withStatementCache(sqlite)
      const query = 'select i from n order by i'
      const seen: unknown[] = []
      for (const row of cached.prepare(query).iterate([])) {
        seen.push([row, cached.prepare(query).all([]).length])
      }
      expect(seen).toEqual([
        [{ i: 1 }, 3],
        [{ i: 2 }, 3],
        [{ i: 3 }, 3],
      ])
    } finally {
      sqlite.close()
    }
  })
})

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`run template_config read on ${dialect}`, () => {
    let handle: DatabaseHandle
    let close: () => Promise<void>
    let repos: Repositories

    beforeAll(async () => {
      ;({ handle, close } = await openMigratedDatabase(dialect))
      repos = createRepositories(handle.db)
    })
    afterAll(() => close())

    const spec = (prompt: string) => ({ steps: [{ id: 's1', name: '01-a', prompt_ref: prompt }] })

    it('is the stored value after every update, and its spec hash follows it', async () => {
      const project = await seedProject(repos)
      const first = await seedRun(repos, project.id)
      const second = await seedRun(repos, project.id)
      await repos.runs.update(first.id, { templateConfig: { protocol_spec: spec('a.md') } })
      await repos.runs.update(second.id, { templateConfig: { protocol_spec: spec('a.md') } })
      const before = await repos.runs.findById(first.id)
      expect(before?.templateConfig).toEqual({ protocol_spec: spec('a.md') })
      expect(summarizeSpec(before!).specHash).toBe(specHash(spec('a.md')))

      await repos.runs.update(first.id, { templateConfig: { protocol_spec: spec('b.md') } })
      const after = await repos.runs.findById(first.id)
      const untouched = await repos.runs.findById(second.id)
      expect(after?.templateConfig).toEqual({ protocol_spec: spec('b.md') })
      expect(summarizeSpec(after!).specHash).toBe(specHash(spec('b.md')))
      expect(untouched?.templateConfig).toEqual({ protocol_spec: spec('a.md') })
    })

    it('cannot be changed by one reader under another', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id)
      await repos.runs.update(run.id, { templateConfig: { protocol_spec: spec('c.md') } })
      const mine = (await repos.runs.findById(run.id))!.templateConfig as Record<string, unknown>
      expect(() => {
        mine.protocol_spec = null
      }).toThrow(TypeError)
      expect((await repos.runs.findById(run.id))?.templateConfig).toEqual({ protocol_spec: spec('c.md') })
    })
  })
}
