import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningServer, RunningWorker } from '../../../src/composition/index.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../../support/databases.js'
import { unique } from '../../support/fixtures.js'
import { makeLocalRepo, removeDir, tempDir } from '../../support/git-repos.js'
import { deadReceiverUrl, startNotifyReceiver, type NotifyReceiver } from '../../support/notify-receiver.js'
import { commandAgentConfig, startProtocolStack } from '../../support/protocol-e2e.js'
import { backendUnavailable, deletePrefix, waitFor } from '../../support/queue-harness.js'

const RECORDING_AGENT = fileURLToPath(new URL('../../fixtures/agents/recording-agent.mjs', import.meta.url))
const SETUPS = [
  ['sqlite', 'embedded'],
  ['postgres', 'redis'],
] as const
const SECRET = 'flow-receiver-secret'

describe.each(SETUPS)('notifications of a real run on %s with the %s queue', (dialect, backend) => {
  let server: RunningServer | undefined
  let worker: RunningWorker | undefined
  let database: TestDatabase | undefined
  let receiver: NotifyReceiver | undefined
  let prefix: string | undefined
  let dir: string | undefined
  afterEach(async () => {
    await worker?.stop()
    await server?.stop()
    await receiver?.close()
    await database?.drop()
    if (prefix) await deletePrefix(prefix)
    if (dir) removeDir(dir)
  })

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'tells a live receiver the run blocked and completed, while a dead receiver gives up and the run still completes',
    async () => {
      dir = tempDir('tgz-notify-flow-')
      database = await createTestDatabase(dialect)
      receiver = await startNotifyReceiver(SECRET)
      prefix = backend === 'redis' ? `tgzn-${unique()}` : undefined
      const config = commandAgentConfig({
        dir,
        database: database.target,
        backend,
        agent: RECORDING_AGENT,
        agentArgs: `--record=${join(dir, 'prompts')},--qa-fail-first=01-build.md`,
        extraEnv: {
          TASKSGODZILLA_JOB_BACKOFF_BASE_MS: '20',
          TASKSGODZILLA_JOB_BACKOFF_MAX_MS: '50',
          TASKSGODZILLA_ALLOW_PRIVATE_NOTIFY_HOSTS: 'true',
          TASKSGODZILLA_NOTIFY_MAX_ATTEMPTS: '2',
          TASKSGODZILLA_PUBLIC_URL: 'https://tg.example.com',
        },
      })
      const stack = await startProtocolStack(config, { backend, prefix, graceMs: 500 })
      server = stack.server
      worker = stack.worker
      const api = client(server.address)
      const repo = makeLocalRepo(join(dir, 'repo'))
      const project = await api.call('POST', '/projects', {
        name: `flow-${unique()}`,
        git_url: repo,
        local_path: repo,
      })
      await api.call('POST', `/projects/${project.id}/notification-targets`, {
        url: receiver.url,
        secret: SECRET,
        events: ['blocked', 'completed', 'failed'],
      })
      const dead = await api.call('POST', `/projects/${project.id}/notification-targets`, {
        url: await deadReceiverUrl(),
      })
      const run = await api.call('POST', `/projects/${project.id}/protocols`, {
        protocol_name: '0001-notify',
      })
      const status = async () => ((await api.read(`/protocols/${run.id}`)) as { status: string }).status
      await api.call('POST', `/protocols/${run.id}/actions/start`, {})
      await waitFor(async () => (await status()) === 'planned', 60_000, 'planned')
      await api.call('POST', `/protocols/${run.id}/actions/run_next_step`, {})
      await waitFor(
        async () =>
          ((await api.read(`/protocols/${run.id}/steps`)) as Array<{ status: string }>)[0]!.status ===
          'completed',
        60_000,
        'step 00',
      )
      await api.call('POST', `/protocols/${run.id}/actions/run_next_step`, {})
      await waitFor(async () => (await status()) === 'blocked', 60_000, 'blocked')
      await api.call('POST', `/protocols/${run.id}/actions/retry_latest`, {})
      await waitFor(
        async () =>
          ((await api.read(`/protocols/${run.id}/steps`)) as Array<{ status: string }>)[1]!.status ===
          'completed',
        60_000,
        'step 01',
      )
      await api.call('POST', `/protocols/${run.id}/actions/run_next_step`, {})
      await waitFor(async () => (await status()) === 'completed', 60_000, 'completed')

      const ofRun = () => receiver!.received.filter((r) => r.body.protocol_run_id === run.id)
      await waitFor(async () => ofRun().length >= 2, 20_000, 'two notifications')
      expect(ofRun().map((r) => r.body.type)).toEqual(['blocked', 'completed'])
      expect(ofRun().every((r) => r.signatureValid)).toBe(true)
      expect(ofRun()[0]!.body).toMatchObject({
        version: 1,
        project_id: project.id,
        status: 'blocked',
        reason: 'run_blocked',
        protocol_name: '0001-notify',
        console_url: expect.stringMatching(
          new RegExp(`^https://tg.example.com/console/#/projects/${project.id}/runs/${run.id}`),
        ),
      })
      const failedNotices = await waitFor(
        async () => {
          const events = (await api.read(`/protocols/${run.id}/events?limit=500`)) as Array<{
            event_type: string
            metadata: Record<string, unknown>
          }>
          const failed = events.filter((e) => e.event_type === 'notification_failed')
          return failed.length >= 2 && failed
        },
        20_000,
        'notification_failed for the dead receiver',
      )
      expect(failedNotices.every((e) => e.metadata.target_id === dead.id)).toBe(true)
      expect(await status()).toBe('completed')
    },
    120_000,
  )
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
