/**
 * How MCP tools reach TasksGodzilla: one API call, answered with the API's JSON. Both MCP faces
 * go through the REST API (the HTTP face in-process, stdio over the network), so a tool sees
 * exactly what the same caller would see through the API: same authorization, same shapes.
 */
export type ApiCaller = (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<unknown>

/** The API refused a call; `status` and `detail` are the API's. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${detail} (HTTP ${status})`)
    this.name = 'ApiCallError'
  }
}

/** The `detail` of an API error body, or the raw text. */
export const detailOfBody = (text: string): string => {
  try {
    const parsed = JSON.parse(text) as { detail?: unknown }
    if (typeof parsed.detail === 'string') return parsed.detail
    if (parsed.detail !== undefined) return JSON.stringify(parsed.detail)
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 500)
}
