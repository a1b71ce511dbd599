import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createContainedFiles } from '../../src/adapters/files/contained-files.adapter.js'
import { createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import { loadCodeMachineWorkspace } from '../../src/app/codemachine/load-workspace.js'
import { createExecuteStepHandler } from '../../src/app/protocol/execution/execute-step.job.js'
import { createPlanProtocolHandler } from '../../src/app/protocol/planning/plan-protocol.job.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../support/suite-resources.js'
import { git } from '../support/git-repos.js'
import { jobRun, makeJobDeps } from '../support/protocol-jobs.js'
import { readState, seedPlanningRun, startStep } from '../integration/jobs/protocol-fixture.js'
import { packageAssets } from '../support/package-assets.js'

const RECORDING_AGENT = fileURLToPath(new URL('../fixtures/agents/recording-agent.mjs', import.meta.url))
const CM_FIXTURES = fileURLToPath(new URL('../fixtures/codemachine/', import.meta.url))
const SECRET = 'GITHUB_TOKEN=ghp_fakeSecretThatMustNeverLeak0123456789'
/** Put into this process's environment, so /proc/self/environ holds a recognisable secret. */
const CANARY = `TGZ_CANARY_${Math.random().toString(16).slice(2)}`
process.env.TGZ_SECURITY_CANARY = CANARY

/** Everything a secret could have leaked into: recorded prompts, step logs, the worktree's history. */
const leakSurfaces = (root: string, worktree: string): string => {
  const texts: string[] = [git(worktree, 'log', '-p', '--all')]
  for (const dir of [join(root, 'record'), join(root, 'logs', 'steps')])
    if (existsSync(dir))
      for (const file of readdirSync(dir)) texts.push(readFileSync(join(dir, file), 'utf8'))
  return texts.join('\n')
}

describe.each(DIALECTS)('repository-controlled reads stay inside the worktree on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  /** A planned run whose step file 01-implement.md the repository then replaces with `plant`. */
  const plannedRunWith = async (plant: (stepFile: string) => void) => {
    root = tempRoot('tgz-sec-reads-')
    const planDeps = makeJobDeps(db.handle, root)
    const { run } = await seedPlanningRun(db.handle, root)
    await createPlanProtocolHandler(planDeps)({ protocol_run_id: run.id, job_id: 'p' }, jobRun())
    const state = await readState(db.handle, run.id)
    const worktree = state.run.worktreePath!
    const stepFile = join(worktree, '.protocols', run.protocolName, '01-implement.md')
    rmSync(stepFile)
    plant(stepFile)
    git(worktree, 'add', '--all')
    git(worktree, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'repository content')
    const step = state.steps[1]!
    await startStep(db.handle, state.run, step)
    const deps = makeJobDeps(db.handle, root, {
      command: RECORDING_AGENT,
      agentArgs: [`--record=${join(root, 'record')}`],
    })
    const execute = () => createExecuteStepHandler(deps)({ step_run_id: step.id, job_id: 'x' }, jobRun())
    return { run, worktree, step, execute }
  }

  const refusal = (runId: number) =>
    createUnitOfWork(db.handle.db).run(async (tx) =>
      (await tx.events.list({ protocolRunId: runId, limit: 500, order: 'asc' })).find(
        (e) => e.eventType === 'step_file_refused',
      ),
    )

  it.skipIf(unavailable(dialect))(
    'a committed step file linking to /proc/self/environ fails the step and never reaches prompt, log or commit',
    async () => {
      const { run, worktree, execute } = await plannedRunWith((file) =>
        symlinkSync('/proc/self/environ', file),
      )
      expect(await execute()).toMatchObject({ outcome: 'failed', reason: 'step_file_refused' })
      const event = await refusal(run.id)
      expect(event?.message).toContain('01-implement.md')
      expect(event?.metadata).toMatchObject({ cause: 'path_outside_workspace' })
      expect(JSON.stringify(event)).not.toContain(CANARY)
      expect(leakSurfaces(root, worktree)).not.toContain(CANARY)
      const state = await readState(db.handle, run.id)
      expect(state.steps[1]!.status).toBe('failed')
      expect(state.run.status).toBe('blocked')
    },
  )

  it.skipIf(unavailable(dialect))(
    'a committed step file linking to a secret file outside the worktree is refused the same way',
    async () => {
      const outside = join(tempRoot('tgz-sec-outside-'), 'secrets.env')
      writeFileSync(outside, `${SECRET}\n`)
      const { run, worktree, execute } = await plannedRunWith((file) => symlinkSync(outside, file))
      expect(await execute()).toMatchObject({ outcome: 'failed', reason: 'step_file_refused' })
      expect(JSON.stringify(await refusal(run.id))).not.toContain('ghp_fake')
      expect(leakSurfaces(root, worktree)).not.toContain('ghp_fake')
    },
  )

  it.skipIf(unavailable(dialect))(
    'a 10 MB step file is refused as too large, not sent to the agent',
    async () => {
      const { run, execute } = await plannedRunWith((file) =>
        writeFileSync(file, 'x'.repeat(10 * 1024 * 1024)),
      )
      expect(await execute()).toMatchObject({ outcome: 'failed', reason: 'step_file_refused' })
      const event = await refusal(run.id)
      expect(event?.metadata).toMatchObject({ cause: 'file_too_large' })
      expect(event?.message).toMatch(/01-implement\.md is larger than 1048576 bytes/)
      expect(existsSync(join(root, 'record'))).toBe(false)
    },
  )
})

describe('the contained reader', () => {
  const files = createContainedFiles()
  let dir: string
  const tempDirs = tempDirsPerTest()

  /** Opens the FIFO for writing after `ms`: a reader blocked on it would be released then. */
  const writerAfter = (fifo: string, ms: number) =>
    spawn('sh', ['-c', `sleep ${ms / 1000}; printf 'planted' > "$1"`, 'sh', fifo], { stdio: 'ignore' })

  it(
    'refuses a FIFO planted where a CodeMachine config is expected, without waiting on it',
    { timeout: 10_000 },
    () => {
      dir = tempDirs('tgz-sec-fifo-')
      const workspace = join(dir, 'ws')
      cpSync(join(CM_FIXTURES, 'esm-camel'), workspace, { recursive: true })
      const config = join(workspace, '.codemachine', 'config', 'sub.agents.js')
      rmSync(config, { force: true })
      execFileSync('mkfifo', [config])
      const writer = writerAfter(config, 2000)
      const started = Date.now()
      try {
        expect(() => loadCodeMachineWorkspace({ files, assets: packageAssets }, workspace)).toThrow(
          /sub\.agents\.js.*not a regular file \(FIFO\)/,
        )
        expect(Date.now() - started).toBeLessThan(1000)
      } finally {
        writer.kill()
      }
    },
  )

  it('refuses a FIFO and a folder inside the workspace, and a file over the cap', () => {
    dir = tempDirs('tgz-sec-kinds-')
    execFileSync('mkfifo', [join(dir, 'pipe.md')])
    mkdirSync(join(dir, 'folder.md'))
    writeFileSync(join(dir, 'big.md'), 'y'.repeat(2048))
    const small = createContainedFiles({ maxBytes: 1024 })
    const writer = writerAfter(join(dir, 'pipe.md'), 2000)
    try {
      expect(() => small.readText(dir, join(dir, 'pipe.md'))).toThrow(/not a regular file \(FIFO\)/)
    } finally {
      writer.kill()
    }
    expect(() => small.readText(dir, join(dir, 'folder.md'))).toThrow(/not a regular file \(folder\)/)
    expect(() => small.readText(dir, join(dir, 'big.md'))).toThrow(/larger than 1024 bytes/)
    expect(small.readText(dir, join(dir, 'missing.md'), 'fallback')).toBe('fallback')
  })

  it('reads a file that is longer than its reported size to its end, and still refuses it past the cap', () => {
    // The kernel reports /proc files as empty: the read must not stop at the size fstat() gave.
    const status = files.readText('/proc/self', 'status')
    expect(status).toMatch(/^Name:\t.*\n[\s\S]*\nPid:\t\d+\n/)
    expect(status.length).toBeGreaterThan(500)
    expect(() => createContainedFiles({ maxBytes: 100 }).readText('/proc/self', 'status')).toThrow(
      /larger than 100 bytes/,
    )
  })

  it('reads a file byte for byte whatever its size, multi-byte characters included', () => {
    dir = tempDirs('tgz-sec-sizes-')
    for (const text of ['', 'x', 'é'.repeat(40_000), 'z'.repeat(300_000)]) {
      writeFileSync(join(dir, 'f.md'), text)
      expect(files.readText(dir, join(dir, 'f.md'))).toBe(text)
    }
  })

  it('reads a link that stays inside the workspace', () => {
    dir = tempDirs('tgz-sec-inside-')
    writeFileSync(join(dir, 'real.md'), 'hello\n')
    symlinkSync(join(dir, 'real.md'), join(dir, 'alias.md'))
    expect(files.readText(dir, join(dir, 'alias.md'))).toBe('hello\n')
  })
})
