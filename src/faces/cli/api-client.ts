/** A typed HTTP client for the TasksGodzilla API: the CLI talks to the server through this only. */

export const DEFAULT_API_BASE = 'http://127.0.0.1:8010'
const REQUEST_TIMEOUT_MS = 20_000

export interface ClientOptions {
  readonly apiBase: string
  /** Global bearer token; sent as `Authorization`, never printed. */
  readonly token?: string | undefined
  /** Per-project token; sent as `X-Project-Token`, never printed. */
  readonly projectToken?: string | undefined
}

export type Query = Record<string, string | number | boolean | undefined>

/** The server answered with a non-2xx status; `detail` is its message (or the raw body). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${detail} (HTTP ${status})`)
    this.name = 'ApiError'
  }
}

/** The server could not be reached at all (refused, DNS, timeout). */
export class UnreachableError extends Error {
  constructor(
    readonly apiBase: string,
    reason: string,
  ) {
    super(`cannot reach the API at ${apiBase}: ${reason}`)
    this.name = 'UnreachableError'
  }
}

export interface ApiClient {
  readonly apiBase: string
  get<T>(path: string, query?: Query): Promise<T>
  post<T>(path: string, body?: unknown): Promise<T>
  patch<T>(path: string, body: unknown): Promise<T>
  /** POSTs an already serialised JSON body unchanged (it may be signed) with extra headers. */
  postRaw<T>(path: string, body: string, headers: Record<string, string>): Promise<T>
  /** Opens a streaming GET (SSE); the caller reads the body. Non-2xx answers throw ApiError. */
  stream(path: string, query: Query, headers: Record<string, string>, signal: AbortSignal): Promise<Response>
}

export const createApiClient = (options: ClientOptions): ApiClient => {
  const base = options.apiBase.replace(/\/+$/, '')
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    accept: 'application/json',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.projectToken ? { 'x-project-token': options.projectToken } : {}),
    ...extra,
  })
  const send = async (method: string, path: string, init: RequestInit): Promise<Response> => {
    let response: Response
    try {
      response = await fetch(base + path, { method, ...init })
    } catch (error) {
      throw new UnreachableError(base, reasonOf(error))
    }
    if (!response.ok) throw new ApiError(response.status, detailOf(await response.text(), response))
    return response
  }
  const call = async <T>(method: string, path: string, query?: Query, body?: unknown): Promise<T> =>
    callRaw<T>(method, path + queryString(query), body === undefined ? undefined : JSON.stringify(body), {})
  const callRaw = async <T>(
    method: string,
    path: string,
    body: string | undefined,
    extra: Record<string, string>,
  ): Promise<T> => {
    const init: RequestInit = {
      headers: headers({ ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extra }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(body === undefined ? {} : { body }),
    }
    const response = await send(method, path, init)
    const text = await response.text()
    return (text === '' ? null : parseJson(text)) as T
  }
  return {
    apiBase: base,
    get: (path, query) => call('GET', path, query),
    post: (path, body) => call('POST', path, undefined, body ?? {}),
    patch: (path, body) => call('PATCH', path, undefined, body),
    postRaw: (path, body, extra) => callRaw('POST', path, body, extra),
    stream: (path, query, extra, signal) =>
      send('GET', path + queryString(query), {
        headers: headers({ accept: 'text/event-stream', ...extra }),
        signal,
      }),
  }
}

export const queryString = (query: Query | undefined): string => {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** `{"detail": "..."}` → the string; 422's list → `loc: msg` pairs; otherwise the raw text or reason. */
export const detailOf = (body: string, response: Pick<Response, 'statusText'>): string => {
  const parsed = parseJson(body)
  if (parsed !== null && typeof parsed === 'object' && 'detail' in parsed) {
    const detail = (parsed as { detail: unknown }).detail
    if (typeof detail === 'string') return detail
    if (Array.isArray(detail)) return detail.map(validationItem).join('; ')
  }
  const text = body.trim()
  return text === '' ? response.statusText || 'request failed' : text.slice(0, 500)
}

const validationItem = (item: unknown): string => {
  if (item === null || typeof item !== 'object') return String(item)
  const { loc, msg } = item as { loc?: unknown; msg?: unknown }
  const where = Array.isArray(loc) ? loc.join('.') : ''
  return where ? `${where}: ${String(msg)}` : String(msg)
}

const reasonOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as Error & { cause?: unknown }).cause
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code
    return typeof code === 'string' ? code : cause.message
  }
  return error.name === 'TimeoutError' ? 'timed out' : error.message
}
