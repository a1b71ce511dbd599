import { ApiError, NetworkError, detailOf } from './api-error.js'

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface Credentials {
  /** The global bearer token, if any. */
  apiToken(): string | undefined
  /** The token of one project, if the user saved one. */
  projectToken(projectId: number): string | undefined
}

export interface RequestOptions {
  readonly body?: unknown
  readonly query?: Readonly<Record<string, string | number | boolean | undefined | null>>
  /**
   * The project whose resource this is. Its `X-Project-Token` is sent with this request and no
   * other: a token never leaves for another project's routes or for cross-project lists.
   */
  readonly projectId?: number
  readonly signal?: AbortSignal
  readonly as?: 'json' | 'text'
}

export interface ApiClient {
  readonly base: string
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>
  /** The URL and headers for a request made elsewhere (the SSE reader). */
  prepare(path: string, options?: Pick<RequestOptions, 'query' | 'projectId'>): Prepared
}

export interface Prepared {
  readonly url: string
  readonly headers: Record<string, string>
}

/**
 * A thin JSON client over fetch. `base` is the API root (for the console served at
 * `<prefix>/console/` that is `<prefix>/`), so the console works behind a path prefix.
 */
export const createApiClient = (base: string, credentials: Credentials, fetchImpl: FetchLike): ApiClient => {
  const root = base.endsWith('/') ? base : `${base}/`

  const prepare = (path: string, options: Pick<RequestOptions, 'query' | 'projectId'> = {}): Prepared => {
    const headers: Record<string, string> = { Accept: 'application/json' }
    const token = credentials.apiToken()
    if (token) headers.Authorization = `Bearer ${token}`
    if (options.projectId !== undefined) {
      const projectToken = credentials.projectToken(options.projectId)
      if (projectToken) headers['X-Project-Token'] = projectToken
    }
    return { url: root + path.replace(/^\//, '') + queryString(options.query), headers }
  }

  const request = async <T>(method: string, path: string, options: RequestOptions = {}): Promise<T> => {
    const { url, headers } = prepare(path, options)
    if (options.as === 'text') headers.Accept = 'text/plain, */*'
    const init: RequestInit = { method, headers, signal: options.signal ?? null, credentials: 'same-origin' }
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(options.body)
    }
    let response: Response
    try {
      response = await fetchImpl(url, init)
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error
      throw new NetworkError(`Cannot reach the API at ${root} (${(error as Error).message})`)
    }
    const body = await readBody(response)
    if (!response.ok) {
      const code = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined
      const fallback = `${response.status} ${response.statusText || 'error'}`
      throw new ApiError(
        response.status,
        detailOf(body, fallback),
        typeof code === 'string' ? code : undefined,
      )
    }
    return body as T
  }

  return { base: root, request, prepare }
}

const readBody = async (response: Response): Promise<unknown> => {
  const text = await response.text()
  const type = response.headers.get('content-type') ?? ''
  if (type.includes('json') && text !== '') {
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text
    }
  }
  return text
}

const queryString = (query: RequestOptions['query']): string => {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

/** The API root for a console page at `<prefix>/console/…`: one level up from the console folder. */
export const defaultApiBase = (pageUrl: string): string => {
  const path = new URL(pageUrl).pathname
  const consoleAt = path.lastIndexOf('/console')
  if (consoleAt !== -1) return path.slice(0, consoleAt + 1)
  return path.slice(0, path.lastIndexOf('/') + 1)
}
