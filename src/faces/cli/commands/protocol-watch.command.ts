import type { Command } from 'commander'
import type { RunOut, StepOut } from '../api-types.js'
import { contextOf, example, argId, parsePositive, type CliContext } from '../context.js'
import { changeLines, renderBoard, TERMINAL_RUN_STATUSES } from '../output/board.js'
import { followSse } from '../sse-reader.js'

const CLEAR_BELOW = '\u001b[J'
const up = (lines: number): string => (lines > 0 ? `\u001b[${lines}A\r` : '')

/** `protocols watch <id>`: a live board of the run's steps until the run is completed, failed or cancelled. */
export const registerProtocolWatch = (protocols: Command): void => {
  protocols
    .command('watch <id>')
    .description('Live board of a run: step status, engine, tokens, elapsed, progress; ends with the run')
    .option('--interval <ms>', 'refresh at least this often (events refresh it at once)', parsePositive, 1000)
    .addHelpText('after', example('tasksgodzilla protocols watch 12'))
    .action(async (id: string, options: { interval: number }, command: Command) => {
      const ctx = contextOf(command)
      await watchRun(ctx, argId(id), options.interval)
    })
}

const watchRun = async (ctx: CliContext, runId: number, intervalMs: number): Promise<void> => {
  const load = async () => ({
    run: await ctx.client.get<RunOut>(`/protocols/${runId}`),
    steps: await ctx.client.get<StepOut[]>(`/protocols/${runId}/steps`),
  })
  const stop = new AbortController()
  let wake: (() => void) | undefined
  const live = followSse(ctx.client, '/events/stream', { protocol_run_id: runId }, () => wake?.(), {
    signal: stop.signal,
  }).catch(() => undefined) // the board still refreshes on its timer without the stream
  let previous: Awaited<ReturnType<typeof load>> | undefined
  let drawnLines = 0
  try {
    for (;;) {
      const snapshot = await load()
      if (ctx.json) {
        const text = JSON.stringify(snapshot)
        if (text !== JSON.stringify(previous)) ctx.write(`${text}\n`)
      } else if (ctx.style.tty) {
        const board = renderBoard(snapshot.run, snapshot.steps, ctx.style)
        ctx.write(`${up(drawnLines)}${CLEAR_BELOW}${board}`)
        drawnLines = board.split('\n').length - 1
      } else {
        for (const line of changeLines(previous, snapshot.run, snapshot.steps)) ctx.write(`${line}\n`)
      }
      previous = snapshot
      if (TERMINAL_RUN_STATUSES.includes(snapshot.run.status)) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs)
        wake = () => (clearTimeout(timer), resolve())
      })
    }
  } finally {
    stop.abort()
    await live
  }
}
