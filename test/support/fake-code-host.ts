import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request the fake host saw (method, path with query, authorization header, JSON body). */
export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  readonly privateToken: string | undefined
  readonly body: Record<string, unknown> | null
}

interface StoredPr {
  readonly repo: string
  readonly head: string
  readonly number: number
  readonly url: string
  readonly title: string
  readonly draft: boolean
}

/** A CI run the fake host was asked to start (GitHub workflow_dispatch or GitLab pipeline). */
export interface StartedPipeline {
  readonly repo: string
  readonly ref: string
  /** The dispatched workflow (GitHub only). */
  readonly workflow: string | null
  readonly id: number
}

/** A workflow the fake GitHub does not know (404, as GitHub answers for a missing file). */
export const MISSING_WORKFLOW = 'missing.yml'

/**
 * A local stand-in for the GitHub REST API (`/repos/:owner/:repo/pulls`, workflow dispatches) and
 * GitLab's (`/api/v4/projects/:id/merge_requests`, `/pipeline`), enough for open_pr_job and
 * `ci trigger`. Never the internet.
 */
export const startFakeCodeHost = async () => {
  const seen: SeenRequest[] = []
  const prs: StoredPr[] = []
  const pipelines: StartedPipeline[] = []
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://fake')
      seen.push({
        method: req.method ?? 'GET',
        url: `${url.pathname}${url.search}`,
        authorization: req.headers.authorization,
        privateToken: req.headers['private-token'] as string | undefined,
        body,
      })
      const reply =
        pipelineRoute(req.method ?? 'GET', url, body, pipelines, baseUrl()) ??
        route(req.method ?? 'GET', url, body, prs, baseUrl())
      res.writeHead(reply.status, { 'content-type': 'application/json' })
      res.end(reply.status === 204 ? undefined : JSON.stringify(reply.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: baseUrl(),
    seen,
    prs,
    pipelines,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const route = (
  method: string,
  url: URL,
  body: Record<string, unknown> | null,
  prs: StoredPr[],
  base: string,
) => {
  const github = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname)
  const gitlab = /^\/api\/v4\/projects\/([^/]+)\/merge_requests$/.exec(url.pathname)
  if (github) {
    const repo = `${github[1]}/${github[2]}`
    if (method === 'GET') {
      const head = url.searchParams.get('head')?.split(':')[1]
      return ok(
        prs
          .filter((pr) => pr.repo === repo && pr.head === head)
          .map((pr) => ({ number: pr.number, html_url: pr.url })),
      )
    }
    const pr = store(prs, repo, String(body?.head), {
      title: String(body?.title),
      draft: body?.draft === true,
      prefix: `${base}/${repo}/pull`,
    })
    return { status: 201, body: { number: pr.number, html_url: pr.url } }
  }
  if (gitlab) {
    const repo = decodeURIComponent(gitlab[1]!)
    if (method === 'GET') {
      const head = url.searchParams.get('source_branch')
      return ok(
        prs
          .filter((pr) => pr.repo === repo && pr.head === head)
          .map((pr) => ({ iid: pr.number, web_url: pr.url })),
      )
    }
    const title = String(body?.title)
    const pr = store(prs, repo, String(body?.source_branch), {
      title,
      draft: title.startsWith('Draft:'),
      prefix: `${base}/${repo}/-/merge_requests`,
    })
    return { status: 201, body: { iid: pr.number, web_url: pr.url } }
  }
  return { status: 404, body: { message: 'Not Found' } }
}

const pipelineRoute = (
  method: string,
  url: URL,
  body: Record<string, unknown> | null,
  pipelines: StartedPipeline[],
  base: string,
): { status: number; body: unknown } | undefined => {
  if (method !== 'POST') return undefined
  const dispatch = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/dispatches$/.exec(url.pathname)
  if (dispatch) {
    const workflow = decodeURIComponent(dispatch[3]!)
    if (workflow === MISSING_WORKFLOW) return { status: 404, body: { message: 'Not Found' } }
    const repo = `${dispatch[1]}/${dispatch[2]}`
    pipelines.push({ repo, ref: String(body?.ref), workflow, id: pipelines.length + 1 })
    return { status: 204, body: null }
  }
  const gitlab = /^\/api\/v4\/projects\/([^/]+)\/pipeline$/.exec(url.pathname)
  if (!gitlab) return undefined
  const repo = decodeURIComponent(gitlab[1]!)
  const ref = String(body?.ref ?? url.searchParams.get('ref'))
  const started = { repo, ref, workflow: null, id: pipelines.length + 1 }
  pipelines.push(started)
  const page = `${base}/${repo}/-/pipelines/${started.id}`
  return { status: 201, body: { id: started.id, ref, status: 'created', web_url: page } }
}

const ok = (body: unknown) => ({ status: 200, body })

const store = (
  prs: StoredPr[],
  repo: string,
  head: string,
  { title, draft, prefix }: { readonly title: string; readonly draft: boolean; readonly prefix: string },
): StoredPr => {
  const number = prs.length + 1
  const pr = { repo, head, number, url: `${prefix}/${number}`, title, draft }
  prs.push(pr)
  return pr
}

const readBody = async (req: IncomingMessage): Promise<Record<string, unknown> | null> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (!text) return null
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return Object.fromEntries(new URLSearchParams(text))
  }
}
