import { describe, expect, it } from 'vitest'
import { createOpenPrHandler } from '../../../src/app/protocol/pr/open-pr.job.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { installFakeHostClis } from '../../support/fake-host-clis.js'
import { git } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState, seedRunOnClone } from './protocol-fixture.js'

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
  const db = migratedDatabasePerSuite('sqlite')
  let root: string
  const tempRoot = tempDirsPerTest()

  const runOn = async (gitUrl: string, name: string) => {
    const { origin, uow, run } = await seedRunOnClone(db.handle, root, {
      project: { name: `${name}-${Date.now()}`, gitUrl },
      run: { protocolName: name, status: 'running' },
    })
    return { run, origin, uow }
  }

  it.each(CASES)('$provider: pushes and opens a draft through $cli, adopts it on retry', async (c) => {
    root = tempRoot('tgz-pr-cli-')
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

  /** What a server typically has in its environment besides what gh/glab need. */
  const SERVER_SECRETS = {
    DATABASE_URL: 'postgresql://admin:hunter2@db/prod',
    PGPASSWORD: 'hunter2',
    REDIS_URL: 'redis://:hunter2@cache:6379',
    OPENAI_API_KEY: 'sk-test-not-for-gh',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    AWS_SECRET_ACCESS_KEY: 'aws-secret',
    TASKSGODZILLA_DB_URL: 'postgresql://admin:hunter2@db/tgz',
  }
  const NEEDED = {
    XDG_CONFIG_HOME: '/home/tgz/.config',
    GH_CONFIG_DIR: '/home/tgz/.config/gh',
    GLAB_CONFIG_DIR: '/home/tgz/.config/glab-cli',
    HTTPS_PROXY: 'http://proxy.internal:3128',
    NO_PROXY: 'localhost',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  }
  const TOKENS = {
    GH_TOKEN: 'gh-public',
    GITHUB_TOKEN: 'github-public',
    GH_ENTERPRISE_TOKEN: 'ghe-token',
    GITLAB_TOKEN: 'gitlab-token',
  }

  const ENV_CASES = [
    {
      title: 'gh on github.com gets the github.com tokens',
      cli: 'gh',
      gitUrl: 'https://github.com/acme/env.git',
      hostUrl: undefined,
      tokens: { GH_TOKEN: 'gh-public', GITHUB_TOKEN: 'github-public' },
      configDir: 'GH_CONFIG_DIR',
    },
    {
      title: 'gh on the configured GitHub Enterprise host gets only the enterprise token',
      cli: 'gh',
      gitUrl: 'https://ghe.example.com/acme/env.git',
      hostUrl: 'https://ghe.example.com/api/v3',
      tokens: { GH_ENTERPRISE_TOKEN: 'ghe-token' },
      configDir: 'GH_CONFIG_DIR',
    },
    {
      title: 'gh on another GitHub host than the configured one gets no token',
      cli: 'gh',
      gitUrl: 'https://ghe.elsewhere.example/acme/env.git',
      hostUrl: undefined,
      tokens: {},
      configDir: 'GH_CONFIG_DIR',
    },
    {
      title: 'glab on a GitLab host other than gitlab.com, none configured, gets no token',
      cli: 'glab',
      gitUrl: 'https://gitlab.example.com/group/env.git',
      hostUrl: undefined,
      tokens: {},
      configDir: 'GLAB_CONFIG_DIR',
    },
    {
      title: 'glab on the configured GitLab host gets GITLAB_TOKEN',
      cli: 'glab',
      gitUrl: 'https://gitlab.example.com/group/env.git',
      hostUrl: 'https://gitlab.example.com',
      tokens: { GITLAB_TOKEN: 'gitlab-token' },
      configDir: 'GLAB_CONFIG_DIR',
    },
  ] as const

  it.each(ENV_CASES)('$title, and never the server secrets', async (c) => {
    root = tempRoot('tgz-pr-cli-')
    const fake = installFakeHostClis(root, [c.cli])
    const name = `0004-env-${c.cli}`
    const { run } = await runOn(c.gitUrl, name)
    const env = { ...fake.env, ...SERVER_SECRETS, ...NEEDED, ...TOKENS }
    const deps = makeJobDeps(db.handle, root, {
      hostCli: { searchPath: fake.bin, env },
      ...(c.hostUrl ? { hostUrl: c.hostUrl } : {}),
    })
    expect(await createOpenPrHandler(deps)({ protocol_run_id: run.id, job_id: 'e' }, jobRun())).toMatchObject(
      {
        outcome: 'pr_opened',
        via: 'cli',
      },
    )
    const calls = fake.calls()
    expect(calls.length).toBeGreaterThan(0)
    for (const call of calls) {
      for (const secret of Object.keys(SERVER_SECRETS)) expect(call.names).not.toContain(secret)
      expect(call.names).toEqual(
        expect.arrayContaining([
          'PATH',
          'XDG_CONFIG_HOME',
          'HTTPS_PROXY',
          'NO_PROXY',
          'LANG',
          'LC_ALL',
          c.configDir,
        ]),
      )
      expect(call.names).not.toContain(c.cli === 'gh' ? 'GLAB_CONFIG_DIR' : 'GH_CONFIG_DIR')
      expect(call.tokens).toEqual(c.tokens)
    }
  })

  it('skips with a message naming the token and the CLI when neither is there', async () => {
    root = tempRoot('tgz-pr-cli-')
    const { run } = await runOn('https://github.com/acme/none.git', '0003-no-host')
    const deps = makeJobDeps(db.handle, root, { hostCli: { searchPath: root, env: {} } })
    const result = await createOpenPrHandler(deps)({ protocol_run_id: run.id, job_id: 'c' }, jobRun())
    expect(result).toEqual({
      skipped: 'No github token is configured (GITHUB_TOKEN or GH_TOKEN) and the gh CLI is not installed.',
    })
  })
})
