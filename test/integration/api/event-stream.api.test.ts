import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type DatabaseTarget } from '../../../src/config.js'
import { createLogger } from '../../../src/logging.js'
import { startServer, type RunningServer } from '../../../src/composition/index.js'
import { silentStream } from '../../support/api.js'
import { createTestDatabase, DIALECTS, unavailable, type TestDatabase } from '../../support/databases.js'
import { openSse } from '../../support/sse-client.js'

const REDIS_URL = process.env.TASKSGODZILLA_TEST_REDIS_URL
const WRITER = fileURLToPath(new URL('../../support/write-events.ts', import.meta.url))

const dbEnv = (target: DatabaseTarget): Record<string, string> =>
  target.dialect === 'sqlite' ? { TASKSGODZILLA_DB_PATH: target.path } : { TASKSGODZILLA_DB_URL: target.url }

/**
 * The live feed between processes: the database alone (SQLite), Postgres LISTEN/NOTIFY, or Redis
 * pub/sub (Postgres + Redis).
 */
const SETUPS = [
  ...DIALECTS.map((dialect) => ({ dialect, redis: undefined, skip: unavailable(dialect) })),
  { dialect: 'postgres' as const, redis: REDIS_URL, skip: unavailable('postgres') || !REDIS_URL },
]

const writeFromAnotherProcess = (
  env: Record<string, string>,
  projectId: number,
  count: number,
  prefix: string,
) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WRITER, String(projectId), String(count), prefix],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))))
  })

for (const setup of SETUPS) {
  describe.skipIf(setup.skip)(`live event stream on ${setup.dialect}${setup.redis ? ' + Redis' : ''}`, () => {
    let database: TestDatabase
    let running: RunningServer
    let env: Record<string, string>
    let base: string
    let projectId: number

    beforeAll(async () => {
      database = await createTestDatabase(setup.dialect)
      env = { ...dbEnv(database.target), ...(setup.redis ? { TASKSGODZILLA_REDIS_URL: setup.redis } : {}) }
      const config = loadConfig({ ...env, TASKSGODZILLA_LOG_JSON: '1' }, process.cwd())
      running = await startServer(config, createLogger(config, silentStream()), {
        host: '127.0.0.1',
        port: 0,
      })
      base = running.address
      const created = await fetch(`${base}/projects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'stream-demo', git_url: '/srv/repos/stream' }),
      })
      projectId = ((await created.json()) as { id: number }).id
    })
    afterAll(async () => {
      await running?.stop()
      await database?.drop()
    })

    it('delivers events committed by another process, in order, and resumes after Last-Event-ID without loss', async () => {
      const stream = await openSse(`${base}/events/stream?project_id=${projectId}&event_type=external`)
      await writeFromAnotherProcess(env, projectId, 5, 'first')
      const first = await stream.waitFor(5)
      expect(first.map((m) => JSON.parse(m.data).message)).toEqual([0, 1, 2, 3, 4].map((i) => `first-${i}`))
      const ids = first.map((m) => Number(m.id))
      expect(ids).toEqual([...ids].sort((a, b) => a - b))
      stream.close()

      await writeFromAnotherProcess(env, projectId, 3, 'missed')
      const resumed = await openSse(`${base}/events/stream?project_id=${projectId}&event_type=external`, {
        'last-event-id': String(ids[4]),
      })
      const replay = await resumed.waitFor(3)
      expect(replay.map((m) => JSON.parse(m.data).message)).toEqual(['missed-0', 'missed-1', 'missed-2'])
      await writeFromAnotherProcess(env, projectId, 1, 'live')
      const all = await resumed.waitFor(4)
      expect(JSON.parse(all[3]!.data)).toMatchObject({
        message: 'live-0',
        project_id: projectId,
        project_name: 'stream-demo',
      })
      expect(new Set(all.map((m) => m.id)).size).toBe(4)
      resumed.close()
    })

    it('only streams events matching its filter', async () => {
      const stream = await openSse(
        `${base}/events/stream?project_id=${projectId}&event_type=protocol_created`,
      )
      await writeFromAnotherProcess(env, projectId, 2, 'noise')
      await fetch(`${base}/projects/${projectId}/protocols`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol_name: '0001-streamed' }),
      })
      const [message] = await stream.waitFor(1)
      expect(JSON.parse(message!.data)).toMatchObject({
        event_type: 'protocol_created',
        message: 'Protocol 0001-streamed created.',
      })
      stream.close()
    })
  })
}
