/** The campaign's user: calls the API of one instance or another, retrying while it is unavailable. */
export type Call = (method: string, path: string, body?: unknown) => Promise<unknown>

export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    text: string,
  ) {
    super(`HTTP ${status}: ${text}`)
  }
}

export const apiClient =
  (bases: readonly string[], token: string): ((instance: number) => Call) =>
  (instance) =>
  async (method, path, body) => {
    const base = bases[instance % bases.length]!
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    })
    if (!response.ok) throw new ApiRefusal(response.status, await response.text())
    return response.json()
  }

/** Retries a call on 5xx and network errors (a restarting dependency) until `deadline`; 4xx are returned. */
export const persist = async <T>(deadline: number, attempt: () => Promise<T>): Promise<T> => {
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      const retryable = !(error instanceof ApiRefusal) || error.status >= 500
      if (!retryable || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}
