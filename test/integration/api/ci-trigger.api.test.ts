import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findExecutable } from '../../../src/adapters/hosts/cli.host.js'
import { createCodeHosts } from '../../../src/adapters/hosts/code-hosts.js'
import { makeTriggerCi } from '../../../src/app/ci/trigger-ci.js'
import { isAppError } from '../../../src/domain/app-error.js'
import { createProject, createProtocol, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { MISSING_WORKFLOW, startFakeCodeHost } from '../../support/fake-code-host.js'
import { installFakeHostClis } from '../../support/fake-host-clis.js'
import { removeDir, tempDir } from '../../support/git-repos.js'

const GITHUB_URL = 'https://github.com/acme/widgets.git'
const GITLAB_URL = 'https://gitlab.example.com/group/sub/widgets.git'

type FakeHost = Awaited<ReturnType<typeof startFakeCodeHost>>

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`POST /protocols/{id}/actions/trigger_ci on ${dialect}`, () => {
    let api: TestApi
    let host: FakeHost
    beforeAll(async () => {
      host = await startFakeCodeHost()
      api = await openTestApi(dialect, {
        GITHUB_TOKEN: 'gh-secret',
        GITLAB_TOKEN: 'gl-secret',
        TASKSGODZILLA_GITHUB_API_URL: host.url,
        TASKSGODZILLA_GITLAB_URL: host.url,
      })
    })
    afterAll(async () => {
      await api.close()
      await host.close()
    })

    const runIn = async (gitUrl: string) => {
      const project = await createProject(api, { git_url: gitUrl })
      return createProtocol(api, project.id, { status: 'running' })
    }
    const trigger = (runId: number, body: unknown = {}) =>
      api.request('POST', `/protocols/${runId}/actions/trigger_ci`, { body })
    const eventsOf = async (id: number) =>
      (await api.request('GET', `/protocols/${id}/events`)).json() as Array<{
        event_type: string
        message: string
        metadata: Record<string, unknown>
      }>

    it("dispatches the configured GitHub workflow on the run's branch, or the one named", async () => {
      const run = await runIn(GITHUB_URL)
      const reply = await trigger(run.id)
      expect(reply.statusCode).toBe(200)
      expect(reply.json()).toEqual({
        message: `CI workflow ci.yml triggered on ${run.protocol_name} (github api).`,
        provider: 'github',
        via: 'api',
        ref: run.protocol_name,
        workflow: 'ci.yml',
        pipeline_id: null,
        url: null,
      })
      await trigger(run.id, { workflow: 'tests.yml' })
      const mine = host.pipelines.filter((p) => p.ref === run.protocol_name)
      expect(mine.map((p) => [p.repo, p.workflow])).toEqual([
        ['acme/widgets', 'ci.yml'],
        ['acme/widgets', 'tests.yml'],
      ])
      const dispatches = host.seen.filter((r) => r.url.endsWith('/dispatches'))
      expect(dispatches.every((r) => r.authorization === 'token gh-secret')).toBe(true)
      const triggered = (await eventsOf(run.id)).filter((e) => e.event_type === 'ci_triggered')
      expect(triggered).toHaveLength(2)
      expect(triggered[0]?.metadata).toMatchObject({ provider: 'github', via: 'api', ref: run.protocol_name })
    })

    it('creates a GitLab pipeline and answers its id and page', async () => {
      const run = await runIn(GITLAB_URL)
      const reply = (await trigger(run.id)).json()
      const started = host.pipelines.find((p) => p.ref === run.protocol_name)
      expect(started).toMatchObject({ repo: 'group/sub/widgets', workflow: null })
      expect(reply).toMatchObject({
        provider: 'gitlab',
        via: 'api',
        workflow: null,
        pipeline_id: started?.id,
        url: `${host.url}/group/sub/widgets/-/pipelines/${started?.id}`,
      })
    })

    it('reports a refused dispatch as 502 and records it; refuses bad input and hostless projects', async () => {
      const run = await runIn(GITHUB_URL)
      const refused = await trigger(run.id, { workflow: MISSING_WORKFLOW })
      expect(refused.statusCode).toBe(502)
      expect(refused.json().detail).toMatch(new RegExp(`^Could not trigger CI on ${run.protocol_name}: `))
      expect((await eventsOf(run.id)).map((e) => e.event_type)).toContain('ci_trigger_failed')
      expect((await trigger(run.id, { workflow: '../../x' })).statusCode).toBe(422)
      expect((await trigger(999_999)).statusCode).toBe(404)
      const local = await runIn('/srv/repos/demo')
      const hostless = await trigger(local.id)
      expect(hostless.statusCode).toBe(422)
      expect(hostless.json().detail).toContain('names no GitHub or GitLab repository')
    })
  })
}

describe('trigger_ci without host tokens', () => {
  let api: TestApi
  let dir: string
  beforeAll(async () => {
    api = await openTestApi('sqlite')
    dir = tempDir('tgz-trigger-cli-')
  })
  afterAll(async () => {
    await api.close()
    removeDir(dir)
  })

  const runIn = async (gitUrl: string) => {
    const project = await createProject(api, { git_url: gitUrl })
    return createProtocol(api, project.id, { status: 'running' })
  }

  it.skipIf(findExecutable('gh', process.env.PATH) !== undefined)(
    'answers 409 naming the token and the CLI when neither is available',
    async () => {
      const run = await runIn(GITHUB_URL)
      const reply = await api.request('POST', `/protocols/${run.id}/actions/trigger_ci`, { body: {} })
      expect(reply.statusCode).toBe(409)
      expect(reply.json().detail).toBe(
        'No github token is configured (GITHUB_TOKEN or GH_TOKEN) and the gh CLI is not installed.',
      )
    },
  )

  it('falls back to gh workflow run and glab ci run, and reports their failure', async () => {
    const fake = installFakeHostClis(dir)
    const env = { ...fake.env, TASKSGODZILLA_WEBHOOK_TOKEN: 'must-not-leak' }
    const triggerCi = makeTriggerCi({
      ...api.runtime.deps,
      codeHosts: createCodeHosts({
        githubToken: undefined,
        gitlabToken: undefined,
        cli: { searchPath: fake.bin, env },
      }),
      defaultWorkflow: 'build.yml',
    })
    const ctx = { requestId: 'test' }
    const github = await runIn(GITHUB_URL)
    expect(await triggerCi(github.id, undefined, ctx)).toMatchObject({ via: 'cli', workflow: 'build.yml' })
    const gitlab = await runIn(GITLAB_URL)
    expect(await triggerCi(gitlab.id, undefined, ctx)).toMatchObject({
      provider: 'gitlab',
      via: 'cli',
      pipeline_id: 77,
      url: 'https://gitlab.example.com/group/sub/widgets/-/pipelines/77',
    })
    expect(fake.calls().map((c) => [c.cli, ...c.args])).toEqual([
      ['gh', 'workflow', 'run', 'build.yml', '--repo', 'acme/widgets', '--ref', github.protocol_name],
      [
        'glab',
        'ci',
        'run',
        '--repo',
        'https://gitlab.example.com/group/sub/widgets',
        '--branch',
        gitlab.protocol_name,
      ],
    ])
    expect(fake.calls().flatMap((c) => c.leaked)).toEqual([])

    fake.setFailing(true)
    const failing = makeTriggerCi({
      ...api.runtime.deps,
      codeHosts: createCodeHosts({
        githubToken: undefined,
        gitlabToken: undefined,
        cli: { searchPath: fake.bin, env },
      }),
      defaultWorkflow: 'build.yml',
    })
    const error = await failing(github.id, undefined, ctx).catch((e: unknown) => e)
    expect(isAppError(error) && error.code).toBe('ORC_CI_TRIGGER_FAILED')
    expect((error as Error).message).toBe(
      `Could not trigger CI on ${github.protocol_name}: gh workflow run failed: HTTP 422: Workflow does not have a workflow_dispatch trigger`,
    )
  })
})
