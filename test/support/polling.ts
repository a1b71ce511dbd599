/** How long to keep polling and how long to wait between two tries. */
export interface PollTiming {
  readonly timeoutMs?: number
  readonly intervalMs?: number
}

/**
 * Reads until `done` accepts what `read` returned, and returns that value (the server works in
 * the background); after `timeoutMs` (30 s) throws, naming `what` and quoting the last value.
 */
export const readUntil = async <T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { timeoutMs = 30_000, intervalMs = 150 }: PollTiming = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`never saw ${what}: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Polls until `done` holds; after `timeoutMs` (30 s) throws `timed out waiting for <what>`. */
export const waitUntil = async (
  done: () => Promise<boolean>,
  what: string,
  { timeoutMs = 30_000, intervalMs = 100 }: PollTiming = {},
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
