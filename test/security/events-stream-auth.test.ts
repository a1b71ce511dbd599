import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type DatabaseTarget } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { startServer, type RunningServer } from '../../src/composition/index.js'
import { silentStream } from '../support/api.js'
import { createTestDatabase, DIALECTS, unavailable, type TestDatabase } from '../support/databases.js'
import { openSse } from '../support/sse-client.js'

const dbEnv = (target: DatabaseTarget): Record<string, string> =>
  target.dialect === 'sqlite' ? { TASKSGODZILLA_DB_PATH: target.path } : { TASKSGODZILLA_DB_URL: target.url }

/** Issue 15 item 4: a live stream authorizes what it sends as the protected set changes. */
for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`event stream authorization on ${dialect}`, () => {
    let database: TestDatabase
    let running: RunningServer
    let base: string
    let counter = 0

    beforeAll(async () => {
      database = await createTestDatabase(dialect)
      const config = loadConfig({ ...dbEnv(database.target), TASKSGODZILLA_LOG_JSON: '1' }, process.cwd())
      const logger = createLogger(config, silentStream())
      running = await startServer(config, logger, { host: '127.0.0.1', port: 0, runJobs: false })
      base = running.address
    })
    afterAll(async () => {
      await running?.stop()
      await database?.drop()
    })

    const call = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return (await response.json()) as Record<string, unknown> & { id: number }
    }
    const newProject = (secrets?: Record<string, unknown>) =>
      call('POST', '/projects', { name: `stream-${dialect}-${++counter}`, git_url: '/srv/repos/s', secrets })
    const newProtocol = (projectId: number, headers: Record<string, string> = {}) =>
      call('POST', `/projects/${projectId}/protocols`, { protocol_name: `${1000 + ++counter}-p` }, headers)
    const projectsIn = (messages: Array<{ data: string }>) =>
      new Set(messages.map((m) => (JSON.parse(m.data) as { project_id: number }).project_id))

    it('filters a project created with a token after the stream opened', async () => {
      const stream = await openSse(`${base}/events/stream?event_type=protocol_created`)
      const guarded = await newProject({ api_token: 'late-token-1' })
      await newProtocol(guarded.id, { 'x-project-token': 'late-token-1' })
      const open = await newProject()
      await newProtocol(open.id)
      const received = await stream.waitFor(1)
      await new Promise((resolve) => setTimeout(resolve, 300))
      stream.close()
      expect(projectsIn(received)).toEqual(new Set([open.id]))
      expect(projectsIn(stream.messages)).not.toContain(guarded.id)
    })

    it('filters a project once it is given a token while the stream is open', async () => {
      const later = await newProject()
      const stream = await openSse(`${base}/events/stream?event_type=protocol_created`)
      await newProtocol(later.id)
      await stream.waitFor(1)
      await call('PATCH', `/projects/${later.id}`, { api_token: 'given-later-1' })
      await newProtocol(later.id, { 'x-project-token': 'given-later-1' })
      const marker = await newProject()
      await newProtocol(marker.id)
      const received = await stream.waitFor(2)
      await new Promise((resolve) => setTimeout(resolve, 300))
      stream.close()
      expect(received.map((m) => JSON.parse(m.data).project_id)).toEqual([later.id, marker.id])
      expect(stream.messages).toHaveLength(2)
    })

    it('ends a project stream whose token was rotated away from the caller', async () => {
      const project = await newProject({ api_token: 'before-rotation' })
      const headers = { accept: 'text/event-stream', 'x-project-token': 'before-rotation' }
      const controller = new AbortController()
      const response = await fetch(`${base}/events/stream?project_id=${project.id}`, {
        headers,
        signal: controller.signal,
      })
      expect(response.status).toBe(200)
      const body = (async () => {
        let text = ''
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
          text += Buffer.from(chunk).toString('utf8')
        return text
      })()
      await call(
        'PATCH',
        `/projects/${project.id}`,
        { rotate_api_token: true },
        { 'x-project-token': 'before-rotation' },
      )
      const ended = await Promise.race([
        body.then(() => 'ended'),
        new Promise((resolve) => setTimeout(() => resolve('still open'), 6_000)),
      ])
      controller.abort()
      expect(ended).toBe('ended')
      expect(await body.catch(() => '')).not.toContain('project_updated')
    })
  })
}
