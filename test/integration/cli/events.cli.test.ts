import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, spawnCli } from '../../support/cli.js'
import { startCliServer, uniqueName, type CliServer } from '../../support/cli-server.js'

describe('tasksgodzilla events and protocols watch', { timeout: 90_000 }, () => {
  let server: CliServer
  let projectId: number
  beforeAll(async () => {
    server = await startCliServer()
    projectId = (
      await server.api<{ id: number }>('POST', '/projects', { name: uniqueName('e'), git_url: '/x' })
    ).id
  })
  afterAll(() => server.close())

  const createRun = (name: string, status = 'pending') =>
    server.api<{ id: number }>('POST', `/projects/${projectId}/protocols`, { protocol_name: name, status })

  it('lists recent events oldest first, and the JSON in the API order', async () => {
    const run = await createRun('0001-listed')
    await server.api('POST', `/protocols/${run.id}/actions/start`)
    // The planning job keeps writing events, so the JSON is asked for after the text and
    // may hold newer ones; what both saw must agree.
    const text = await runCli(['events', 'recent', '--protocol', String(run.id)], server.env)
    const json = await runCli(['events', 'list', '--protocol', String(run.id), '--json'], server.env)
    expect(text.stdout.split('\n')[0]).toMatch(/^ID\s+Time\s+Type\s+Protocol\s+Step\s+Message$/)
    const ids = text.stdout
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((l) => Number(l.trim().split(/\s+/)[0]))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    const events = JSON.parse(json.stdout) as { id: number; event_type: string }[]
    const newestSeenInText = Math.max(...ids)
    expect(events.map((e) => e.id).filter((id) => id <= newestSeenInText)).toEqual(ids.reverse())
    expect(events.map((e) => e.event_type)).toContain('planning_enqueued')
  })

  it('watch streams only new events, each once, as they happen', async () => {
    const run = await createRun('0002-watched')
    await server.api('POST', `/protocols/${run.id}/actions/start`) // history: must not be printed
    const asked = await server.answers('GET', '/events')
    const watch = spawnCli(['events', 'watch', '--protocol', String(run.id)], server.env)
    try {
      // The watch starts after the newest event it was answered; every later one reaches it.
      await server.answered('GET', '/events', asked)
      await server.api('POST', `/protocols/${run.id}/actions/pause`)
      await server.api('POST', `/protocols/${run.id}/actions/resume`)
      const out = await watch.waitForOutput(/resumed/)
      const lines = out.split('\n').filter(Boolean)
      expect(lines.some((l) => l.includes('planning_enqueued'))).toBe(false)
      expect(lines.filter((l) => / paused /.test(l))).toHaveLength(1)
      expect(lines[lines.length - 1]).toMatch(
        new RegExp(
          `^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\] #\\d+ resumed run=${run.id} :: Protocol resumed`,
        ),
      )
    } finally {
      watch.kill('SIGINT')
    }
    expect(await watch.exited).toBe(0)
  })

  it('watch --json --count prints one API event per line and stops', async () => {
    const run = await createRun('0003-counted', 'running')
    const asked = await server.answers('GET', '/events')
    const watch = spawnCli(
      // Scoped to the run: the project's real setup job writes its own events meanwhile.
      ['events', 'watch', '--protocol', String(run.id), '--count', '2', '--json'],
      server.env,
    )
    await server.answered('GET', '/events', asked)
    await server.api('POST', `/protocols/${run.id}/actions/pause`)
    await server.api('POST', `/protocols/${run.id}/actions/cancel`)
    expect(await watch.exited).toBe(0)
    const events = watch
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event_type: string })
    expect(events.map((e) => e.event_type)).toEqual(['paused', 'cancelled'])
  })

  it('watch --after replays the events after an id, then continues', async () => {
    const run = await createRun('0004-replayed', 'running')
    await server.api('POST', `/protocols/${run.id}/actions/pause`)
    const [first] = await server.api<{ id: number }[]>('GET', `/events?protocol_run_id=${run.id}&limit=1`)
    await server.api('POST', `/protocols/${run.id}/actions/resume`)
    const result = await runCli(
      ['events', 'watch', '--protocol', String(run.id), '--after', String(first!.id), '--count', '1'],
      server.env,
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/ resumed run=/)
  })

  it('protocols watch redraws nothing when piped: one line per change, ends with the run', async () => {
    const run = await createRun('0005-board', 'running')
    const steps = []
    for (const index of [0, 1]) {
      steps.push(
        await server.api<{ id: number }>('POST', `/protocols/${run.id}/steps`, {
          step_index: index,
          step_name: `0${index}-work`,
          step_type: 'work',
          engine_id: 'codex',
        }),
      )
    }
    const watch = spawnCli(['protocols', 'watch', String(run.id), '--interval', '300'], server.env)
    await watch.waitForOutput(/step 1 01-work: pending/)
    await server.api('POST', `/steps/${steps[0]!.id}/actions/approve`)
    await watch.waitForOutput(/step 0 00-work: completed engine=codex tokens=0 \(1\/2 done\)/)
    await server.api('POST', `/steps/${steps[1]!.id}/actions/approve`)
    expect(await watch.exited).toBe(0)
    const out = watch.stdout()
    expect(out).toMatch(/^protocol \d+ 0005-board: running \(0\/2 steps done\)\n/)
    expect(out).toMatch(/protocol \d+ 0005-board: completed \(2\/2 steps done\)\n$/)
    expect(out).not.toContain('\u001b[')
  })

  it('watch commands report an unknown run or a refused connection with exit 1 / 3', async () => {
    const missing = await runCli(['protocols', 'watch', '999999'], server.env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/\(HTTP 404\)\n$/)
  })
})
