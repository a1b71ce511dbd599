/**
 * Plays the user of `tasksgodzilla demo`: once the run is planned, asks for the next step each
 * time nothing is in flight, through the public API only, until the run stops being active.
 */
const POLL_MS = 500
const ACTIVE = new Set(['planning', 'planned', 'running'])
const IN_FLIGHT = new Set(['running', 'needs_qa', 'waiting_quota'])

type Call = (method: string, path: string, body: unknown) => Promise<unknown>
type Read = (path: string) => Promise<unknown>

export const driveDemo = (read: Read, call: Call, runId: number): { stop(): void } => {
  let stopped = false
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      const run = (await read(`/protocols/${runId}`).catch(() => undefined)) as
        { status?: string } | undefined
      if (!run?.status || !ACTIVE.has(run.status)) {
        if (run?.status) return
        continue
      }
      if (run.status === 'planning') continue
      const steps =
        ((await read(`/protocols/${runId}/steps`).catch(() => [])) as Array<{ status: string }>) ?? []
      if (steps.some((step) => IN_FLIGHT.has(step.status))) continue
      if (!steps.some((step) => step.status === 'pending')) continue
      await call('POST', `/protocols/${runId}/actions/run_next_step`, {}).catch(() => undefined)
    }
  }
  void loop()
  return {
    stop: () => {
      stopped = true
    },
  }
}
