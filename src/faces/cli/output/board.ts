import type { RunOut, StepOut } from '../api-types.js'
import { cell, paint, statusCell, type Style } from './style.js'
import { renderTable, type Column } from './table.js'

const BAR_WIDTH = 24
const DONE = new Set(['completed', 'cancelled'])
export const TERMINAL_RUN_STATUSES: readonly string[] = ['completed', 'cancelled', 'failed']

/** `[#########...............]` (`█`/`░` on a TTY): the share of steps done. */
export const progressBar = (done: number, total: number, style: Style): string => {
  const filled = total === 0 ? 0 : Math.round((done / total) * BAR_WIDTH)
  const [on, off] = style.tty ? ['█', '░'] : ['#', '.']
  return `[${paint(style, 'green', on.repeat(filled))}${off.repeat(BAR_WIDTH - filled)}]`
}

/** `1m05s`, `2h03m`: compact elapsed time. */
export const formatElapsed = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/**
 * A step's elapsed time. The API has no started_at: a running step counts from its last update
 * (when it entered running), a finished one from creation to its last update.
 */
const stepElapsed = (step: StepOut, now: number): string => {
  const updated = Date.parse(step.updated_at)
  if (step.status === 'pending') return '-'
  if (step.status === 'running' || step.status === 'needs_qa') return formatElapsed(now - updated)
  return formatElapsed(updated - Date.parse(step.created_at))
}

const boardColumns = (style: Style, now: number): Column<StepOut>[] => [
  { header: 'Idx', value: (s) => String(s.step_index), right: true },
  { header: 'Step', value: (s) => s.step_name },
  { header: 'Status', value: (s) => statusCell(style, s.status) },
  { header: 'Engine', value: (s) => cell(s.engine_id) },
  { header: 'Tokens', value: (s) => String(s.tokens_used ?? 0), right: true },
  { header: 'Elapsed', value: (s) => stepElapsed(s, now) },
]

/** The whole board: a header line with the run's status and progress, then one row per step. */
export const renderBoard = (
  run: RunOut,
  steps: readonly StepOut[],
  style: Style,
  now = Date.now(),
): string => {
  const done = steps.filter((s) => DONE.has(s.status)).length
  const elapsed = formatElapsed(
    (TERMINAL_RUN_STATUSES.includes(run.status) ? Date.parse(run.updated_at) : now) -
      Date.parse(run.created_at),
  )
  const head =
    `${paint(style, 'bold', `Protocol ${run.id} ${run.protocol_name}`)}  ${statusCell(style, run.status)}  ` +
    `${progressBar(done, steps.length, style)} ${done}/${steps.length} steps done  ` +
    `tokens ${run.tokens_used ?? 0}  ${elapsed}`
  return `${head}\n${renderTable(boardColumns(style, now), steps, style, 'No steps yet.')}`
}

/** Plain, line-per-change output for pipes: what changed since the previous snapshot. */
export const changeLines = (
  previous: { run: RunOut; steps: readonly StepOut[] } | undefined,
  run: RunOut,
  steps: readonly StepOut[],
): string[] => {
  const lines: string[] = []
  const done = steps.filter((s) => DONE.has(s.status)).length
  const runLine =
    previous?.run.status === run.status
      ? []
      : [`protocol ${run.id} ${run.protocol_name}: ${run.status} (${done}/${steps.length} steps done)`]
  // The run's line leads while it goes on and closes the output once it has ended.
  const terminal = TERMINAL_RUN_STATUSES.includes(run.status)
  if (!terminal) lines.push(...runLine)
  const before = new Map(previous?.steps.map((s) => [s.id, s]) ?? [])
  for (const step of steps) {
    const old = before.get(step.id)
    if (old?.status === step.status && old.tokens_used === step.tokens_used) continue
    const engine = step.engine_id ? ` engine=${step.engine_id}` : ''
    lines.push(
      `step ${step.step_index} ${step.step_name}: ${step.status}${engine} tokens=${step.tokens_used ?? 0} (${done}/${steps.length} done)`,
    )
  }
  if (terminal) lines.push(...runLine)
  return lines
}
