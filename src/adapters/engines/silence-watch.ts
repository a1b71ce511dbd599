/**
 * Fires `onSilence` once no output arrived for `stallMs` (a stalled agent: waiting on a prompt
 * nobody answers, a hung network call). Every chunk on stdout or stderr restarts the clock, so an
 * agent that prints anything at all, even without a newline, is never taken for stalled.
 * Undefined `stallMs` watches nothing.
 */
export const watchSilence = (
  stallMs: number | undefined,
  onSilence: () => void,
): { readonly touch: () => void; readonly stop: () => void } => {
  if (stallMs === undefined) return { touch: () => undefined, stop: () => undefined }
  let timer = setTimeout(onSilence, stallMs)
  return {
    touch: () => {
      clearTimeout(timer)
      timer = setTimeout(onSilence, stallMs)
    },
    stop: () => clearTimeout(timer),
  }
}

/** The last `size` lines of an agent's output (both streams, in arrival order). */
export class RecentLines {
  readonly #lines: string[] = []

  constructor(private readonly size: number) {}

  push(line: string): void {
    if (this.#lines.push(line) > this.size) this.#lines.shift()
  }

  get lines(): readonly string[] {
    return [...this.#lines]
  }
}
