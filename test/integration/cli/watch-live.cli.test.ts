import { execFile } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stripAnsi } from '../../../src/faces/cli/output/style.js'
import { spawnCli } from '../../support/cli.js'
import { startCliServer, uniqueName, type CliServer } from '../../support/cli-server.js'
import { makeOriginWithClone, removeDir, tempDir } from '../../support/git-repos.js'
import { readUntil as until } from '../../support/polling.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const ENTRY = join(ROOT, 'src/faces/cli/main.ts')
const AGENT = join(ROOT, 'test/fixtures/agents/scripted-agent.mjs')
const hasScript = existsSync('/usr/bin/script')

interface EventOut {
  id: number
  event_type: string
  step_run_id: number | null
}

const lines = (text: string): string[] => text.split('\n').filter(Boolean)

describe('tasksgodzilla events watch across a server restart', { timeout: 90_000 }, () => {
  let server: CliServer
  let projectId: number
  beforeAll(async () => {
    server = await startCliServer()
    projectId = (
      await server.api<{ id: number }>('POST', '/projects', { name: uniqueName('r'), git_url: '/x' })
    ).id
  })
  afterAll(() => server.close())

  it('reconnects with Last-Event-ID: the events made while it was away arrive, none twice', async () => {
    const run = await server.api<{ id: number }>('POST', `/projects/${projectId}/protocols`, {
      protocol_name: '0001-restarted',
      status: 'running',
    })
    const watch = spawnCli(['events', 'watch', '--protocol', String(run.id), '--json'], server.env)
    try {
      // Keep making events until the first one shows: then the stream is surely open.
      await until(
        async () => {
          await server.api('POST', `/protocols/${run.id}/actions/pause`)
          await new Promise((resolve) => setTimeout(resolve, 300))
          if (!watch.stdout().includes('"paused"'))
            await server.api('POST', `/protocols/${run.id}/actions/resume`)
          return watch.stdout()
        },
        (out) => out.includes('"paused"'),
        'the watcher print its first event',
      )
      const before = lines(watch.stdout()).length

      await server.restart()
      // The CLI waits for the server's retry hint (2 s) before reconnecting: these land meanwhile.
      await server.api('POST', `/protocols/${run.id}/actions/resume`)
      await server.api('POST', `/protocols/${run.id}/actions/pause`)
      await server.api('POST', `/protocols/${run.id}/actions/cancel`)
      await watch.waitForOutput(/"cancelled"/)
      await new Promise((resolve) => setTimeout(resolve, 500)) // anything printed twice shows up by now

      const printed = lines(watch.stdout()).map((l) => JSON.parse(l) as EventOut)
      const made = await server.api<EventOut[]>('GET', `/events?protocol_run_id=${run.id}&limit=100`)
      const expected = made
        .filter((e) => e.id >= printed[0]!.id)
        .map((e) => e.id)
        .sort((a, b) => a - b)
      expect(printed.map((e) => e.id)).toEqual(expected)
      expect(printed.slice(before).map((e) => e.event_type)).toEqual(['resumed', 'paused', 'cancelled'])
      expect(watch.stderr()).toMatch(
        new RegExp(`event stream lost; resuming after ${printed[before - 1]!.id}\\n`),
      )
    } finally {
      watch.kill('SIGINT')
    }
    expect(await watch.exited).toBe(0)
  })
})

describe.skipIf(!hasScript)('tasksgodzilla events watch on a terminal', { timeout: 60_000 }, () => {
  let server: CliServer
  beforeAll(async () => {
    server = await startCliServer()
  })
  afterAll(() => server.close())

  it('colours the time and the event type on a terminal, and not in a pipe', async () => {
    const project = await server.api<{ id: number }>('POST', '/projects', {
      name: uniqueName('t'),
      git_url: '/x',
    })
    const run = await server.api<{ id: number }>('POST', `/projects/${project.id}/protocols`, {
      protocol_name: '0001-coloured',
      status: 'running',
    })
    await server.api('POST', `/protocols/${run.id}/actions/pause`)
    const [paused] = await server.api<EventOut[]>('GET', `/events?protocol_run_id=${run.id}&limit=1`)
    const after = String(paused!.id - 1) // replays just the pause, then stops
    const args = ['events', 'watch', '--protocol', String(run.id), '--after', after, '--count', '1']
    const command = `${process.execPath} --import tsx ${ENTRY} ${args.join(' ')}`
    const { stdout: tty } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', ...server.env },
      cwd: ROOT,
    })
    expect(tty).toMatch(
      // eslint-disable-next-line no-control-regex -- the colour codes are what is asserted
      /\u001b\[90m\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]\u001b\[0m #\d+ \u001b\[36mpaused\u001b\[0m/,
    )
    const piped = spawnCli(args, server.env)
    expect(await piped.exited).toBe(0)
    expect(piped.stdout()).toMatch(/ paused run=\d+/)
    expect(piped.stdout()).not.toContain('\u001b[')
  })
})

/** A server whose job runner drives the scripted fake agent, and a project on a local repository. */
describe('tasksgodzilla watching a run driven by the fake agent', { timeout: 120_000 }, () => {
  const dir = tempDir('tgz-cli-watch-')
  const control = join(dir, 'control')
  let server: CliServer
  let projectId: number

  beforeAll(async () => {
    mkdirSync(control)
    server = await startCliServer({
      TASKSGODZILLA_PROJECTS_ROOT: join(dir, 'projects'),
      TASKSGODZILLA_LOGS_DIR: join(dir, 'logs'),
      TASKSGODZILLA_COMMAND_ENGINE: AGENT,
      TASKSGODZILLA_COMMAND_ENGINE_ARGS: `--control=${control}`,
      TASKSGODZILLA_DEFAULT_ENGINE: 'command',
      TASKSGODZILLA_AUTO_QA_AFTER_EXEC: 'true',
    })
    const { origin, clone } = makeOriginWithClone(dir)
    projectId = (
      await server.api<{ id: number }>('POST', '/projects', {
        name: uniqueName('w'),
        git_url: origin,
        local_path: clone,
      })
    ).id
  })
  afterAll(async () => {
    await server?.close()
    removeDir(dir)
  })

  const script = (protocol: string, files: Record<string, string>): void => {
    mkdirSync(join(control, protocol), { recursive: true })
    for (const [name, content] of Object.entries(files)) writeFileSync(join(control, protocol, name), content)
  }
  const release = (protocol: string, step: string): void =>
    appendFileSync(join(control, protocol, `${step}.say`), 'DONE\n')
  const steps = (runId: number) =>
    server.api<{ id: number; status: string; step_name: string }[]>('GET', `/protocols/${runId}/steps`)

  /** Creates and starts a run; returns once it is planned. */
  const plannedRun = async (name: string): Promise<number> => {
    const run = await server.api<{ id: number }>('POST', `/projects/${projectId}/protocols`, {
      protocol_name: name,
    })
    await server.api('POST', `/protocols/${run.id}/actions/start`)
    await until(
      () => server.api<{ status: string }>('GET', `/protocols/${run.id}`),
      (r) => r.status === 'planned',
      `${name} planned`,
    )
    return run.id
  }

  /** Runs each step in turn (as the user would with run-next), releasing the agent on each. */
  const driveToTheEnd = async (name: string, runId: number, onRunning?: () => Promise<void>) => {
    for (const [index, step] of (await steps(runId)).entries()) {
      await server.api('POST', `/protocols/${runId}/actions/run_next_step`)
      if (index === 0 && onRunning) await onRunning()
      release(name, step.step_name)
      await until(
        () => steps(runId),
        (all) => all[index]?.status === 'completed',
        `${step.step_name} completed`,
      )
    }
  }

  it('protocols watch, piped: one plain line per change, each once, ending with the completed run', async () => {
    const name = '0001-watched-live'
    script(name, { steps: '00-first.md\n01-second.md\n', '00-first.md.say': 'working\n' })
    const runId = await plannedRun(name)
    const watch = spawnCli(['protocols', 'watch', String(runId), '--interval', '5000'], server.env)
    await watch.waitForOutput(/step 1 01-second\.md: pending/)
    await driveToTheEnd(name, runId, async () => {
      // Events wake the board at once; the 5 s timer alone would be too slow for this wait.
      await watch.waitForOutput(/step 0 00-first\.md: running/, 4_000)
    })
    expect(await watch.exited).toBe(0)
    const out = lines(watch.stdout())
    expect(out[0]).toBe(`protocol ${runId} ${name}: planned (0/2 steps done)`)
    expect(out).toContain(`protocol ${runId} ${name}: running (0/2 steps done)`)
    expect(out.at(-1)).toBe(`protocol ${runId} ${name}: completed (2/2 steps done)`)
    const first = out.filter((l) => l.startsWith('step 0 '))
    expect(first[0]).toMatch(/^step 0 00-first\.md: pending tokens=0 \(0\/2 done\)$/)
    expect(first.at(-1)).toMatch(/^step 0 00-first\.md: completed engine=command tokens=\d+ \(\d\/2 done\)$/)
    expect(new Set(out).size).toBe(out.length)
    expect(watch.stdout()).not.toContain('\u001b[')
  })

  it('events watch prints the run’s events as the agent works, each once and in order', async () => {
    const name = '0002-events-live'
    script(name, { steps: '00-only.md\n', '00-only.md.say': 'working\n' })
    const runId = await plannedRun(name)
    // Both watches start from the run's newest event, however long the CLI takes to start.
    const [newest] = await server.api<{ id: number }[]>('GET', `/protocols/${runId}/events?limit=1`)
    const from = ['--after', String(newest!.id)]
    const [json, text] = [
      spawnCli(['events', 'watch', '--protocol', String(runId), ...from, '--json'], server.env),
      spawnCli(['events', 'watch', '--protocol', String(runId), ...from], server.env),
    ]
    try {
      await driveToTheEnd(name, runId)
      await json.waitForOutput(/"protocol_completed"/)
      await text.waitForOutput(/ protocol_completed run=/)
    } finally {
      json.kill('SIGINT')
      text.kill('SIGINT')
    }
    const events = lines(json.stdout()).map((l) => JSON.parse(l) as EventOut)
    const ids = events.map((e) => e.id)
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b))
    const types = events.map((e) => e.event_type)
    for (const type of ['step_enqueued', 'step_completed', 'qa_passed', 'protocol_completed'])
      expect(types.filter((t) => t === type)).toHaveLength(1)
    expect(types).not.toContain('planned') // history before the watch began is not replayed
    const shown = lines(text.stdout())
    expect(shown).toHaveLength(events.length)
    expect(shown.find((l) => l.includes(' qa_passed '))).toMatch(
      new RegExp(
        `^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\] #\\d+ qa_passed run=${runId} step=\\d+( \\[spec:\\w+\\])? :: QA passed\\.$`,
      ),
    )
    expect(text.stdout()).not.toContain('\u001b[')
  })

  it('steps logs --follow streams the agent’s lines as written, survives a dropped connection, ends with the step', async () => {
    const name = '0004-log-follow'
    script(name, { steps: '00-talk.md\n', '00-talk.md.say': 'line one\n' })
    const runId = await plannedRun(name)
    await server.api('POST', `/protocols/${runId}/actions/run_next_step`)
    const [step] = await until(
      () => steps(runId),
      (all) => all[0]?.status === 'running',
      'a running step',
    )
    const follow = spawnCli(['steps', 'logs', String(step!.id), '--follow'], server.env)
    await follow.waitForOutput(/line one\n/)
    appendFileSync(join(control, name, '00-talk.md.say'), 'line two\n')
    await follow.waitForOutput(/line two\n/)

    server.dropConnections()
    appendFileSync(join(control, name, '00-talk.md.say'), 'line three, written while disconnected\n')
    await follow.waitForOutput(/line three/)
    release(name, '00-talk.md')
    expect(await follow.exited).toBe(0)

    const out = follow.stdout()
    for (const line of ['line one', 'line two', 'line three, written while disconnected'])
      expect(out.split('\n').filter((l) => l === line)).toHaveLength(1)
    expect(out).toContain('scripted-agent: executing 00-talk.md')
    expect(follow.stderr()).toContain('log stream lost; resuming')
  })

  it.skipIf(!hasScript)(
    'protocols watch on a terminal redraws one board in place with a progress bar until the run ends',
    async () => {
      const name = '0003-board-live'
      script(name, { steps: '00-a.md\n01-b.md\n', '00-a.md.say': 'working\n' })
      const runId = await plannedRun(name)
      const command = `${process.execPath} --import tsx ${ENTRY} protocols watch ${runId} --interval 300`
      const asked = await server.answers('GET', '/protocols/:protocol_run_id/steps')
      // Asynchronous: the server under test runs in this process and must keep answering.
      const board = promisify(execFile)('script', ['-qec', command, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', ...server.env },
        cwd: ROOT,
      })
      // The first board is drawn: the run is driven only once the watch has seen it pending.
      await server.answered('GET', '/protocols/:protocol_run_id/steps', asked)
      await driveToTheEnd(name, runId)
      const { stdout } = await board
      // Each redraw moves the cursor back up over the previous board and clears below it.
      // eslint-disable-next-line no-control-regex -- the escapes are what is asserted
      expect(stdout).toMatch(/\u001b\[\d+A\r\u001b\[J/)
      const frames = stdout.split('\u001b[J').map(stripAnsi)
      const last = frames.at(-1) ?? ''
      expect(last).toContain(`Protocol ${runId} ${name}`)
      expect(last).toContain('2/2 steps done')
      expect(last).toContain(`${'█'.repeat(24)}`)
      expect(last.match(/✔ completed/g)?.length).toBe(3) // the run and both steps
      expect(frames.some((f) => f.includes('▶ running'))).toBe(true)
      expect(frames.some((f) => /█{12}░{12}\S* 1\/2 steps done/.test(f))).toBe(true)
    },
  )
})
