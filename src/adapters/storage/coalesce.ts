/**
 * Turns a batch operation into a per-item call. The first call goes out at once, alone; calls made
 * while a batch is in flight wait for it and then go out together as the next batch. Nothing waits
 * on a timer, so an idle caller sees one round trip as before and a busy one shares them. A batch
 * never holds two calls with the same key (they go in order, one batch apart); a failed batch
 * rejects every call in it.
 */
export const coalesce = <I, O>(
  flush: (inputs: readonly I[]) => Promise<readonly O[]>,
  keyOf: (input: I) => string,
  maxBatch = 100,
): ((input: I) => Promise<O>) => {
  interface Call {
    readonly input: I
    readonly resolve: (output: O) => void
    readonly reject: (error: unknown) => void
  }
  let waiting: Call[] = []
  let busy = false

  const next = (): void => {
    if (busy || waiting.length === 0) return
    const keys = new Set<string>()
    const batch: Call[] = []
    const rest: Call[] = []
    for (const call of waiting) {
      const key = keyOf(call.input)
      if (batch.length < maxBatch && !keys.has(key)) {
        keys.add(key)
        batch.push(call)
      } else rest.push(call)
    }
    waiting = rest
    busy = true
    Promise.resolve()
      .then(() => flush(batch.map((call) => call.input)))
      .then(
        (outputs) => batch.forEach((call, i) => call.resolve(outputs[i] as O)),
        (error: unknown) => batch.forEach((call) => call.reject(error)),
      )
      .finally(() => {
        busy = false
        next()
      })
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject })
      next()
    })
}
