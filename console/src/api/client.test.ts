import { describe, expect, it } from 'vitest'
import { ApiError, NetworkError, detailOf } from './api-error.js'
import { createApiClient, defaultApiBase, type FetchLike } from './client.js'
import { createEndpoints } from './endpoints.js'
import { createTokenStore, memoryStorage } from './token-store.js'

interface Seen {
  readonly url: string
  readonly method: string
  readonly headers: Record<string, string>
  readonly body: unknown
}

const recorder = (reply: (url: string) => Response = () => json([])) => {
  const seen: Seen[] = []
  const fetch: FetchLike = async (url, init) => {
    seen.push({
      url,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    })
    return reply(url)
  }
  return { seen, fetch }
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

const setup = (reply?: (url: string) => Response) => {
  const tokens = createTokenStore(memoryStorage(), memoryStorage())
  const { seen, fetch } = recorder(reply)
  const api = createApiClient('/prefix/', tokens, fetch)
  return { tokens, seen, api, endpoints: createEndpoints(api) }
}

describe('api client', () => {
  it('sends the bearer token and JSON body under the configured base', async () => {
    const { tokens, seen, endpoints } = setup(() => json({ id: 1 }))
    tokens.setApiToken('secret-1', false)
    await endpoints.createProject({ name: 'demo', git_url: '/repo' })
    expect(seen[0]).toMatchObject({
      url: '/prefix/projects',
      method: 'POST',
      body: { name: 'demo', git_url: '/repo' },
      headers: { Authorization: 'Bearer secret-1', 'Content-Type': 'application/json' },
    })
  })

  it('sends no Authorization header when no token is set (auth off works out of the box)', async () => {
    const { seen, endpoints } = setup()
    await endpoints.projects()
    expect(seen[0]?.headers.Authorization).toBeUndefined()
  })

  it('sends a project token only to that project’s routes', async () => {
    const { tokens, seen, endpoints } = setup((url) => json(url.includes('/protocols/') ? {} : []))
    tokens.setProjectToken(1, 'token-of-one')
    tokens.setProjectToken(2, 'token-of-two')
    await endpoints.projects()
    await endpoints.queues()
    await endpoints.jobs()
    await endpoints.events({})
    await endpoints.runs(1)
    await endpoints.run(2, 40)
    await endpoints.stepAction(2, 7, 'approve')
    await endpoints.events({ project_id: 1 })
    await endpoints.runs(3)
    const sent = seen.map((s) => [s.url, s.headers['X-Project-Token']])
    expect(sent).toEqual([
      ['/prefix/projects', undefined],
      ['/prefix/queues', undefined],
      ['/prefix/queues/jobs', undefined],
      ['/prefix/events?limit=50', undefined],
      ['/prefix/projects/1/protocols', 'token-of-one'],
      ['/prefix/protocols/40', 'token-of-two'],
      ['/prefix/steps/7/actions/approve', 'token-of-two'],
      ['/prefix/events?project_id=1&limit=50', 'token-of-one'],
      ['/prefix/projects/3/protocols', undefined],
    ])
  })

  it('encodes branch names with slashes segment by segment and confirms the delete', async () => {
    const { seen, endpoints } = setup(() => json({ deleted: true }))
    await endpoints.deleteBranch(5, 'feature/a b')
    expect(seen[0]).toMatchObject({
      url: '/prefix/projects/5/branches/feature/a%20b/delete',
      body: { confirm: true },
    })
  })

  it('turns an error body into an ApiError carrying the detail and code', async () => {
    const { endpoints } = setup(() =>
      json({ detail: 'Protocol already running or terminal', code: 'ORC_X' }, 409),
    )
    const error = await endpoints.runAction(1, 2, 'start').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      status: 409,
      message: 'Protocol already running or terminal',
      code: 'ORC_X',
    })
  })

  it('reads 422 validation lists as one line', () => {
    const body = { detail: [{ type: 'missing', loc: ['body', 'git_url'], msg: 'Field required' }] }
    expect(detailOf(body, 'x')).toBe('git_url: Field required')
    expect(detailOf('', 'fallback')).toBe('fallback')
    expect(detailOf('<html>oops</html>', 'f')).toBe('<html>oops</html>')
  })

  it('reports an unreachable server as a NetworkError', async () => {
    const tokens = createTokenStore(memoryStorage(), memoryStorage())
    const api = createApiClient('/', tokens, async () => {
      throw new TypeError('Failed to fetch')
    })
    await expect(api.request('GET', '/projects')).rejects.toBeInstanceOf(NetworkError)
  })

  it('returns text bodies as text (metrics)', async () => {
    const { endpoints } = setup(
      () =>
        new Response('qa_verdict_total{verdict="pass"} 1\n', { headers: { 'content-type': 'text/plain' } }),
    )
    await expect(endpoints.metrics()).resolves.toContain('qa_verdict_total')
  })

  it('derives the API root from the console URL, with or without a path prefix', () => {
    expect(defaultApiBase('http://h:8010/console/#/projects/1')).toBe('/')
    expect(defaultApiBase('http://h/tgz/console/')).toBe('/tgz/')
    expect(defaultApiBase('http://h/tgz/console/projects/3')).toBe('/tgz/')
    expect(defaultApiBase('http://h/elsewhere/index.html')).toBe('/elsewhere/')
  })
})
