const TICK_MS = 25
/** How long aborted handlers get to settle their jobs once the grace period is over. */
const AFTER_ABORT_MS = 10_000

/**
 * Waits until nothing is active, for at most `graceMs`; then calls `abort` (which makes running
 * handlers give their jobs back) and waits a little longer for them to settle.
 */
export const drainWithin = async (
  active: () => number,
  graceMs: number,
  abort: () => void,
): Promise<void> => {
  if (await waitUntilIdle(active, graceMs)) return
  abort()
  await waitUntilIdle(active, AFTER_ABORT_MS)
}

const waitUntilIdle = async (active: () => number, withinMs: number): Promise<boolean> => {
  const deadline = Date.now() + withinMs
  while (active() > 0) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, TICK_MS))
  }
  return true
}
