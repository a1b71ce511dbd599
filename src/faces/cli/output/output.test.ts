import { describe, expect, it } from 'vitest'
import type { RunOut, StepOut } from '../api-types.js'
import { changeLines, formatElapsed, progressBar, renderBoard } from './board.js'
import { formatTime, PLAIN, statusCell, stripAnsi, styleFor } from './style.js'
import { renderTable } from './table.js'

const TTY = styleFor(true, {})
const run = (status: string): RunOut => ({
  id: 7,
  project_id: 1,
  protocol_name: '0007-demo',
  status,
  base_branch: 'main',
  description: null,
  spec_hash: null,
  spec_validation_status: null,
  spec_validated_at: null,
  tokens_used: 1200,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:01:05.000Z',
})
const step = (index: number, status: string): StepOut => ({
  id: 10 + index,
  protocol_run_id: 7,
  step_index: index,
  step_name: `0${index}-work`,
  step_type: 'work',
  status,
  retries: 0,
  model: null,
  engine_id: 'codex',
  summary: null,
  tokens_used: 100 * index,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:30.000Z',
})

describe('output formatting', () => {
  it('pipes get plain words; a TTY gets symbols and colour unless NO_COLOR is set', () => {
    expect(statusCell(PLAIN, 'completed')).toBe('completed')
    expect(statusCell(TTY, 'completed')).toBe('\u001b[32m✔ completed\u001b[0m')
    expect(statusCell(styleFor(true, { NO_COLOR: '1' }), 'failed')).toBe('✖ failed')
    expect(styleFor(false, {})).toEqual({ tty: false, color: false })
  })

  it('aligns columns by visible width, ignoring colour codes', () => {
    const rows = [{ s: 'completed' }, { s: 'running' }]
    const columns = [
      { header: 'Status', value: (r: { s: string }) => statusCell(TTY, r.s) },
      { header: 'N', value: () => '1', right: true },
    ]
    const lines = stripAnsi(renderTable(columns, rows, TTY)).split('\n')
    expect(lines).toEqual(['Status       N', '-----------  -', '✔ completed  1', '▶ running    1', ''])
    expect(renderTable(columns, [], PLAIN, 'No steps.')).toBe('No steps.\n')
  })

  it('prints times as YYYY-MM-DD HH:MM:SS and keeps unparseable values', () => {
    expect(formatTime('2026-11-25T17:43:39.123Z')).toBe('2026-11-25 17:43:39')
    expect(formatTime(1_764_092_619)).toBe('2025-11-25 17:43:39')
    expect(formatTime('soon')).toBe('soon')
    expect(formatTime(null)).toBe('-')
  })

  it('draws the board with a progress bar, tokens and elapsed times', () => {
    const board = renderBoard(
      run('running'),
      [step(0, 'completed'), step(1, 'running')],
      PLAIN,
      Date.parse('2026-01-01T00:02:00Z'),
    )
    const [head, header, , first, second] = board.split('\n')
    expect(head).toBe(
      'Protocol 7 0007-demo  running  [############............] 1/2 steps done  tokens 1200  2m00s',
    )
    expect(header).toMatch(/^Idx\s+Step\s+Status\s+Engine\s+Tokens\s+Elapsed$/)
    expect(first).toMatch(/^ {2}0\s+00-work\s+completed\s+codex\s+0\s+30s$/)
    expect(second).toMatch(/running\s+codex\s+100\s+1m30s$/)
    expect(stripAnsi(progressBar(1, 4, TTY))).toBe(`[${'█'.repeat(6)}${'░'.repeat(18)}]`)
    expect(formatElapsed(3_725_000)).toBe('1h02m')
  })

  it('reports only what changed when piped, the run last once it has ended', () => {
    const before = { run: run('running'), steps: [step(0, 'running'), step(1, 'pending')] }
    expect(changeLines(undefined, before.run, before.steps)[0]).toBe(
      'protocol 7 0007-demo: running (0/2 steps done)',
    )
    expect(changeLines(before, run('running'), before.steps)).toEqual([])
    expect(changeLines(before, run('completed'), [step(0, 'completed'), step(1, 'pending')])).toEqual([
      'step 0 00-work: completed engine=codex tokens=0 (1/2 done)',
      'protocol 7 0007-demo: completed (1/2 steps done)',
    ])
  })
})
