import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config.js'
import { createLogger } from '../../../src/logging.js'
import {
  startServer,
  startWorker,
  type RunningServer,
  type RunningWorker,
} from '../../../src/composition/index.js'
import { createTestDatabase, DIALECTS, unavailable, type TestDatabase } from '../../support/databases.js'
import { unique } from '../../support/fixtures.js'
import { removeDir, tempDir } from '../../support/git-repos.js'
import { deadReceiverUrl, startNotifyReceiver, type NotifyReceiver } from '../../support/notify-receiver.js'
import {
  BACKENDS,
  backendUnavailable,
  dbEnv,
  deletePrefix,
  FAST_TUNING,
  REDIS_URL,
  waitFor,
} from '../../support/queue-harness.js'

const SETUPS = DIALECTS.flatMap((dialect) => BACKENDS.map((backend) => [dialect, backend] as const))
const SECRET = 'receiver-secret-4f1c9a'

interface Delivery {
  readonly id: number
  readonly status: string
  readonly attempts: number
  readonly target_id: number | null
  readonly last_error: string | null
}

describe.each(SETUPS)('notification delivery on %s with the %s queue', (dialect, backend) => {
  let servers: RunningServer[] = []
  let worker: RunningWorker | undefined
  let database: TestDatabase | undefined
  let receiver: NotifyReceiver | undefined
  let prefix: string | undefined
  let dir: string | undefined
  const logs: string[] = []
  afterEach(async () => {
    await worker?.stop()
    for (const server of servers) await server.stop()
    servers = []
    worker = undefined
    await receiver?.close()
    await database?.drop()
    if (prefix) await deletePrefix(prefix)
    if (dir) removeDir(dir)
  })

  const start = async (runJobs: boolean, extraEnv: Record<string, string> = {}) => {
    const config = loadConfig(
      {
        ...dbEnv(database!.target),
        TASKSGODZILLA_ALLOW_PRIVATE_NOTIFY_HOSTS: 'true',
        TASKSGODZILLA_NOTIFY_MAX_ATTEMPTS: '2',
        TASKSGODZILLA_JOB_BACKOFF_BASE_MS: '20',
        TASKSGODZILLA_JOB_BACKOFF_MAX_MS: '50',
        TASKSGODZILLA_LOG_LEVEL: 'debug',
        TASKSGODZILLA_LOG_JSON: '1',
        ...(backend === 'redis' ? { TASKSGODZILLA_REDIS_URL: REDIS_URL! } : {}),
        ...extraEnv,
      },
      dir!,
    )
    const logger = createLogger(config, capture(logs))
    const tuning = { ...FAST_TUNING, ...(prefix ? { prefix } : {}) }
    const server = await startServer(config, logger, { port: 0, runJobs }, () => ({ tuning }))
    servers.push(server)
    if (backend === 'redis' && runJobs)
      worker = await startWorker(config, logger, { concurrency: 1, graceMs: 500 }, { tuning })
    return server
  }

  const setUp = async () => {
    dir = tempDir('tgz-notify-')
    database = await createTestDatabase(dialect)
    prefix = backend === 'redis' ? `tgzn-${unique()}` : undefined
    receiver = await startNotifyReceiver(SECRET)
  }

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'signs a test-send for a live receiver, and gives up on a dead one with notification_failed',
    async () => {
      await setUp()
      const api = client((await start(true)).address)
      const project = await api.call('POST', '/projects', {
        name: `n-${unique()}`,
        git_url: '/srv/repos/demo',
      })
      const live = await api.call('POST', `/projects/${project.id}/notification-targets`, {
        url: receiver!.url,
        secret: SECRET,
        format: 'slack',
      })
      const dead = await api.call('POST', `/projects/${project.id}/notification-targets`, {
        url: await deadReceiverUrl(),
        secret: SECRET,
      })
      expect(live).toMatchObject({ has_secret: true, format: 'slack' })
      const sent = (await api.call('POST', `/projects/${project.id}/notifications/test`, {})) as Delivery[]
      expect(sent.map((d) => d.target_id).sort()).toEqual([live.id, dead.id].sort())

      const sentIds = sent.map((d) => d.id)
      const log = async () => (await api.read(`/projects/${project.id}/notifications`)) as Delivery[]
      const settled = await waitFor(
        async () => {
          const list = (await log()).filter((d) => sentIds.includes(d.id))
          return list.every((d) => d.status !== 'pending') && list
        },
        20_000,
        'both deliveries to settle',
      )
      const byTarget = (id: number) => settled.find((d) => d.target_id === id)!
      expect(byTarget(live.id)).toMatchObject({ status: 'delivered', attempts: 1 })
      expect(byTarget(dead.id)).toMatchObject({ status: 'failed', attempts: 2 })
      expect(byTarget(dead.id).last_error).toContain('unreachable')

      // The project's setup run also blocks (its repository cannot be cloned): that is notified too.
      const tests = receiver!.received.filter((r) => r.body.type === 'test')
      expect(tests).toHaveLength(1)
      const got = tests[0]!
      expect(got.signatureValid).toBe(true)
      expect(got.headers['x-tasksgodzilla-delivery']).toBe(String(byTarget(live.id).id))
      expect(Number(got.headers['x-tasksgodzilla-timestamp'])).toBeGreaterThan(0)
      expect(got.body).toMatchObject({
        version: 1,
        type: 'test',
        project_id: project.id,
        delivery_id: byTarget(live.id).id,
      })
      expect(got.body.text).toEqual(expect.stringContaining('test'))
      expect(got.body.blocks).toEqual([expect.objectContaining({ type: 'section' })])

      const events = (await api.read(`/events?project_id=${project.id}&limit=100`)) as Array<{
        event_type: string
        metadata: Record<string, unknown>
      }>
      const failed = events.filter(
        (e) => e.event_type === 'notification_failed' && e.metadata.delivery_id === byTarget(dead.id).id,
      )
      expect(failed).toHaveLength(1)
      expect(failed[0]!.metadata).toMatchObject({ delivery_id: byTarget(dead.id).id, attempts: 2 })

      const everything = JSON.stringify([
        await api.read(`/projects/${project.id}/notification-targets`),
        await log(),
        events,
      ])
      expect(everything).not.toContain(SECRET)
      expect(logs.join('\n')).not.toContain(SECRET)
    },
    40_000,
  )

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'sends to the global default receiver, signed with TASKSGODZILLA_NOTIFY_SECRET, for a project without receivers',
    async () => {
      await setUp()
      const server = await start(true, {
        TASKSGODZILLA_NOTIFY_URL: receiver!.url,
        TASKSGODZILLA_NOTIFY_SECRET: SECRET,
      })
      const api = client(server.address)
      const project = await api.call('POST', '/projects', {
        name: `n-${unique()}`,
        git_url: '/srv/repos/demo',
      })
      const [queued] = (await api.call(
        'POST',
        `/projects/${project.id}/notifications/test`,
        {},
      )) as Delivery[]
      expect(queued!.target_id).toBeNull()
      await waitFor(
        async () => receiver!.received.some((r) => r.body.delivery_id === queued!.id),
        20_000,
        'default',
      )
      const got = receiver!.received.find((r) => r.body.delivery_id === queued!.id)!
      expect(got.signatureValid).toBe(true)
      expect(got.body).toMatchObject({ version: 1, type: 'test', project_id: project.id })
      expect(logs.join('\n')).not.toContain(SECRET)
    },
    40_000,
  )

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'keeps a delivery in the outbox while no queue runs and sends it after a restart',
    async () => {
      await setUp()
      const apiOnly = await start(false)
      const api = client(apiOnly.address)
      const project = await api.call('POST', '/projects', {
        name: `n-${unique()}`,
        git_url: '/srv/repos/demo',
      })
      await api.call('POST', `/projects/${project.id}/notification-targets`, {
        url: receiver!.url,
        secret: SECRET,
      })
      const [queued] = (await api.call(
        'POST',
        `/projects/${project.id}/notifications/test`,
        {},
      )) as Delivery[]
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(receiver!.received).toHaveLength(0)
      const pending = (await api.read(`/projects/${project.id}/notifications`)) as Delivery[]
      expect(pending.find((d) => d.id === queued!.id)).toMatchObject({ status: 'pending', attempts: 0 })
      await apiOnly.stop()
      servers = []

      const restarted = client((await start(true)).address)
      const delivered = await waitFor(
        async () => {
          const list = (await restarted.read(`/projects/${project.id}/notifications`)) as Delivery[]
          return list.find((d) => d.id === queued!.id && d.status === 'delivered')
        },
        20_000,
        'the queued delivery after restart',
      )
      expect(delivered.attempts).toBe(1)
      const tests = receiver!.received.filter((r) => r.body.type === 'test')
      expect(tests).toHaveLength(1)
      expect(tests[0]!.signatureValid).toBe(true)
    },
    40_000,
  )
})

const capture = (lines: string[]) =>
  new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(chunk.toString('utf8'))
      done()
    },
  })

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test client: shapes are asserted where read
type Json = any

const client = (base: string) => ({
  call: async (method: string, path: string, body: unknown): Promise<Json> => {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
    return response.json()
  },
  read: async (path: string): Promise<Json> => (await fetch(base + path)).json(),
})
