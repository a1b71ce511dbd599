import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createOpenPrHandler } from '../../../src/app/jobs/open-pr.job.js'
import { openMigratedDatabase } from '../../support/databases.js'
import { installFakeHostClis } from '../../support/fake-host-clis.js'
import { git, makeOriginWithClone, removeDir, tempDir } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState } from './protocol-fixture.js'

const CASES = [
  {
    provider: 'github',
    cli: 'gh',
    gitUrl: 'https://github.com/acme/widgets.git',
    create: ['pr', 'create', '--repo', 'acme/widgets'],
    lookup: ['pr', 'list'],
  },
  {
    provider: 'gitlab',
    cli: 'glab',
    gitUrl: 'https://gitlab.example.com/group/sub/widgets.git',
    create: ['mr', 'create', '--repo', 'https://gitlab.example.com/group/sub/widgets'],
    lookup: [
      'api',
      expect.stringMatching(/^projects\/group%2Fsub%2Fwidgets\/merge_requests\?source_branch=/),
    ],
  },
] as const

/** Only SQLite: the fallback is a host adapter concern; storage is covered by open-pr.test.ts. */
describe('open_pr_job without a host token', () => {
  let db: { handle: DatabaseHandle; close(): Promise<void> }
  let root: string
  beforeAll(async () => {
    db = await openMigratedDatabase('sqlite')
  })
  afterAll(() => db.close())
  afterEach(() => root && removeDir(root))

  const runOn = async (gitUrl: string, name: string) => {
    const { origin, clone } = makeOriginWithClone(root)
    const uow = createUnitOfWork(db.handle.db)
    const run = await uow.run(async (tx) => {
      const project = await tx.projects.create({
        name: `${name}-${Date.now()}`,
        gitUrl,
        baseBranch: 'main',
        localPath: clone,
        ciProvider: null,
        defaultModels: null,
        secrets: null,
        apiTokenHash: null,
      })
      return tx.runs.create({
        projectId: project.id,
        protocolName: name,
        status: 'running',
        baseBranch: 'main',
      })
    })
    return { run, origin, uow }
  }

  it.each(CASES)('$provider: pushes and opens a draft through $cli, adopts it on retry', async (c) => {
    root = tempDir('tgz-pr-cli-')
    const fake = installFakeHostClis(root, [c.cli])
    const name = `0002-cli-${c.provider}`
    const { run, origin, uow } = await runOn(c.gitUrl, name)
    const env = { ...fake.env, TASKSGODZILLA_API_TOKEN: 'must-not-leak' }
    const handler = createOpenPrHandler(
      makeJobDeps(db.handle, root, { hostCli: { searchPath: fake.bin, env } }),
    )

    expect(await handler({ protocol_run_id: run.id, job_id: 'a' }, jobRun())).toMatchObject({
      outcome: 'pr_opened',
      pr_number: 1,
      via: 'cli',
    })
    expect(git(origin, 'branch', '--list', name).trim()).toBe(name)
    const created = fake.calls().find((call) => call.args[1] === 'create')
    expect(created?.args).toEqual(expect.arrayContaining([...c.create, '--draft']))
    expect(created?.args).toContain(name)
    await uow.run((tx) => tx.runs.update(run.id, { prUrl: null, prNumber: null }))
    expect(await handler({ protocol_run_id: run.id, job_id: 'b' }, jobRun())).toMatchObject({
      outcome: 'pr_exists',
      pr_number: 1,
    })
    expect(fake.calls().filter((call) => call.args[1] === 'create')).toHaveLength(1)
    expect(fake.calls().map((call) => call.args.slice(0, 2))).toContainEqual(c.lookup)
    expect(fake.calls().flatMap((call) => call.leaked)).toEqual([])
    const state = await readState(db.handle, run.id)
    expect(state.events).toEqual(['pr_opened', 'pr_exists'])
  })

  it('skips with a message naming the token and the CLI when neither is there', async () => {
    root = tempDir('tgz-pr-cli-')
    const { run } = await runOn('https://github.com/acme/none.git', '0003-no-host')
    const deps = makeJobDeps(db.handle, root, { hostCli: { searchPath: root, env: {} } })
    const result = await createOpenPrHandler(deps)({ protocol_run_id: run.id, job_id: 'c' }, jobRun())
    expect(result).toEqual({
      skipped: 'No github token is configured (GITHUB_TOKEN or GH_TOKEN) and the gh CLI is not installed.',
    })
  })
})
