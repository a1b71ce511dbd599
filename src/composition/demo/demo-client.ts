/** The demo's HTTP client: it creates and drives its run through the public API, as a user would. */
export interface DemoClient {
  call(method: string, path: string, body: unknown): Promise<{ id: number }>
  read(path: string): Promise<unknown>
}

export const createDemoClient = (base: string, token: string | undefined): DemoClient => {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  return {
    async call(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify(body),
      })
      if (!response.ok)
        throw new Error(`demo: ${method} ${path} answered ${response.status}: ${await response.text()}`)
      return (await response.json()) as { id: number }
    },
    read: async (path) => (await fetch(`${base}${path}`, { headers: auth })).json(),
  }
}
