import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createProjectSetupHandler } from '../../../src/app/protocol/setup/project-setup.job.js'
import { STARTER_ASSETS } from '../../../src/app/protocol/setup/starter-assets.js'
import { createContainedFiles } from '../../../src/adapters/files/contained-files.adapter.js'
import { packageAssets } from '../../support/package-assets.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { git, makeLocalRepo } from '../../support/git-repos.js'
import { seedProject } from '../../support/fixtures.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'

const INSTALL_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const TARGETS = STARTER_ASSETS.map(([target]) => target)

describe.each(DIALECTS)('onboarding starter assets on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  /** A project on a fresh repo; `setup()` runs one onboarding (a new setup run each time). */
  const seed = async (writeAssets: boolean) => {
    root = tempRoot('tgz-assets-')
    const repo = makeLocalRepo(join(root, 'repo'))
    const uow = createUnitOfWork(db.handle.db)
    const project = await uow.run((tx) =>
      seedProject(tx, {
        name: `assets-${Math.random().toString(16).slice(2)}`,
        gitUrl: repo,
        localPath: repo,
      }),
    )
    let runs = 0
    const setup = async () => {
      const run = await uow.run((tx) =>
        tx.runs.create({
          projectId: project.id,
          protocolName: `setup-${project.id}-${++runs}`,
          status: 'pending',
          baseBranch: 'main',
        }),
      )
      const handler = createProjectSetupHandler(makeJobDeps(db.handle, root, { writeAssets }))
      await handler({ project_id: project.id, protocol_run_id: run.id, job_id: `s${runs}` }, jobRun())
      const events = await uow.run((tx) => tx.events.list({ protocolRunId: run.id, limit: 50, order: 'asc' }))
      return { run: (await uow.run((tx) => tx.runs.findById(run.id)))!, events }
    }
    return { repo, setup }
  }

  it.skipIf(unavailable(dialect))(
    'writes the starter files a repository lacks, never overwrites one, and commits nothing',
    async () => {
      const { repo, setup } = await seed(true)
      mkdirSync(join(repo, 'docs'))
      writeFileSync(join(repo, 'docs', 'ci.md'), 'our own CI notes\n')
      const first = await setup()
      expect(first.run.status).toBe('completed')
      const assets = first.events.find((e) => e.eventType === 'setup_assets')
      expect(assets?.metadata).toMatchObject({
        path: repo,
        files: TARGETS.filter((t) => t !== 'docs/ci.md'),
        kept: ['docs/ci.md'],
      })
      for (const target of TARGETS) expect(existsSync(join(repo, target)), target).toBe(true)
      expect(readFileSync(join(repo, 'docs', 'ci.md'), 'utf8')).toBe('our own CI notes\n')
      // The review prompt and planning schema are the files the server itself uses.
      expect(readFileSync(join(repo, 'prompts', 'quality-validator.prompt.md'), 'utf8')).toBe(
        readFileSync(join(INSTALL_ROOT, 'prompts', 'quality-check.md'), 'utf8'),
      )
      expect(readFileSync(join(repo, 'schemas', 'protocol-planning.schema.json'), 'utf8')).toBe(
        readFileSync(join(INSTALL_ROOT, 'schemas', 'protocol-planning.schema.json'), 'utf8'),
      )
      for (const stage of ['bootstrap', 'lint', 'typecheck', 'test', 'build', 'report'])
        expect(statSync(join(repo, 'scripts', 'ci', `${stage}.sh`)).mode & 0o111, stage).toBe(0o111)
      expect(git(repo, 'log', '--format=%s').trim()).toBe('initial')
      expect(git(repo, 'status', '--porcelain')).toContain('?? scripts/')

      // A second onboarding finds everything in place and changes nothing.
      writeFileSync(join(repo, 'scripts', 'ci', 'test.sh'), '#!/bin/sh\necho customised\n')
      const second = await setup()
      expect(second.events.find((e) => e.eventType === 'setup_assets')?.metadata).toMatchObject({
        files: [],
        kept: TARGETS,
      })
      expect(readFileSync(join(repo, 'scripts', 'ci', 'test.sh'), 'utf8')).toBe(
        '#!/bin/sh\necho customised\n',
      )
    },
  )

  it.skipIf(unavailable(dialect))(
    'writes nothing through a folder that leads out of the repository',
    async () => {
      const { repo, setup } = await seed(true)
      const outside = join(root, 'outside')
      mkdirSync(outside)
      symlinkSync(outside, join(repo, 'docs'))
      const { events } = await setup()
      expect(events.find((e) => e.eventType === 'setup_assets')?.metadata).toMatchObject({
        kept: ['docs/tasksgodzilla.md', 'docs/ci.md'],
      })
      expect(existsSync(join(outside, 'ci.md'))).toBe(false)
    },
  )

  it.skipIf(unavailable(dialect))('writes no asset unless onboarding is told to', async () => {
    const { repo, setup } = await seed(false)
    const { events } = await setup()
    expect(events.map((e) => e.eventType)).not.toContain('setup_assets')
    expect(existsSync(join(repo, 'scripts'))).toBe(false)
    expect(git(repo, 'status', '--porcelain')).toBe('')
  })
})

describe('starter CI stages', () => {
  let dir: string
  const tempDirs = tempDirsPerTest()

  const stage = (name: string) =>
    spawnSync('sh', [join(dir, 'scripts', 'ci', `${name}.sh`)], { cwd: dir, encoding: 'utf8' })

  it("run the project's own commands and fail when they fail", async () => {
    dir = tempDirs('tgz-stages-')
    const { writeStarterAssets } = await import('../../../src/app/protocol/setup/starter-assets.js')
    writeStarterAssets({ assets: packageAssets, files: createContainedFiles() }, dir)
    // Nothing to run: each stage says so and passes.
    expect(stage('test')).toMatchObject({ status: 0, stdout: expect.stringContaining('nothing to do') })
    const scripts = (test: string) =>
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', scripts: { test } }))
    scripts('node -e "process.exit(3)"')
    expect(stage('test').status).not.toBe(0)
    scripts('node -e "console.log(42)"')
    expect(stage('test')).toMatchObject({ status: 0, stdout: expect.stringContaining('42') })
    // npm projects without a lint script pass the lint stage.
    expect(stage('lint').status).toBe(0)
    // A Makefile target of the stage's name wins, and its failure is the stage's failure.
    writeFileSync(join(dir, 'Makefile'), 'test:\n\texit 4\n')
    expect(stage('test').status).toBe(2)
  })
})
