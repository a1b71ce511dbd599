import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { createTestDatabase, DIALECTS, unavailable } from '../support/databases.js'

const envFor = (target: Awaited<ReturnType<typeof createTestDatabase>>['target']): Record<string, string> =>
  target.dialect === 'sqlite' ? { TASKSGODZILLA_DB_PATH: target.path } : { TASKSGODZILLA_DB_URL: target.url }

describe('tasksgodzilla migrate', () => {
  for (const dialect of DIALECTS) {
    it.skipIf(unavailable(dialect))(
      `migrates an empty ${dialect} database, then reports it up to date`,
      async () => {
        const database = await createTestDatabase(dialect)
        try {
          const first = await runCli(['migrate'], envFor(database.target))
          expect(first.stderr).toBe('')
          expect(first.stdout).toMatch(
            /^Applied 18 migration\(s\) to .*initial-schema, .*jobs, .*step-name-unique, .*webhooks, .*event-txid, .*notifications, .*run-leases, .*engine-limits, .*review-comments, .*project-review-mode, .*mcp-tasks, .*engine-chains, .*read-scopes, .*events-run-covering, .*jobs-partial-indexes, .*run-event-scopes, .*run-lease-version, .*run-lease-held-for\n$/,
          )
          expect(first.code).toBe(0)
          const second = await runCli(['migrate'], envFor(database.target))
          expect(second.stdout).toMatch(/is up to date\.\n$/)
          expect(second.code).toBe(0)
        } finally {
          await database.drop()
        }
      },
    )
  }

  it('stops with one line naming the bad variable and exit code 2', async () => {
    const result = await runCli(['migrate'], { TASKSGODZILLA_DB_POOL_SIZE: 'abc' })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'tasksgodzilla: Invalid TASKSGODZILLA_DB_POOL_SIZE="abc": expected an integer from 1 to 1000\n',
    )
  })

  it('refuses an unknown database URL scheme instead of silently using SQLite', async () => {
    const result = await runCli(['migrate'], { TASKSGODZILLA_DB_URL: 'mysql://root:pw@localhost/x' })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('TASKSGODZILLA_DB_URL')
    expect(result.stderr).not.toContain(':pw@')
  })
})
