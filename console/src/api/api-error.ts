/** A non-2xx answer from the API, carrying the server's `detail` as the message. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string | undefined

  constructor(status: number, message: string, code?: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

/** The request never got an HTTP answer (server down, network, aborted). */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NetworkError'
  }
}

interface ValidationIssue {
  readonly loc?: readonly (string | number)[]
  readonly msg?: string
}

/**
 * Turns an error body into one readable line: `{"detail": "..."}` as it is, and 422 lists
 * (`{"detail": [{loc, msg}]}`) as `git_url: Field required; ...`.
 */
export const detailOf = (body: unknown, fallback: string): string => {
  if (typeof body === 'string') return body.trim() === '' ? fallback : body.trim().slice(0, 500)
  if (body === null || typeof body !== 'object') return fallback
  const detail = (body as { detail?: unknown }).detail
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail)) return detail.map(issueText).join('; ') || fallback
  return fallback
}

const issueText = (issue: unknown): string => {
  if (typeof issue === 'string') return issue
  const { loc, msg } = (issue ?? {}) as ValidationIssue
  const where = (loc ?? []).filter((part) => part !== 'body').join('.')
  return where ? `${where}: ${msg ?? 'invalid'}` : (msg ?? 'invalid')
}

export const messageOf = (error: unknown): string => {
  if (error instanceof ApiError) return `${error.status}: ${error.message}`
  if (error instanceof Error) return error.message
  return String(error)
}
