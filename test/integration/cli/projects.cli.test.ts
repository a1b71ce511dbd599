import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../support/cli.js'
import { startCliServer, uniqueName, type CliServer } from '../../support/cli-server.js'
import { git, makeOriginWithClone, removeDir, tempDir } from '../../support/git-repos.js'

const PROJECT_TOKEN = 'project-secret-7f3a9c'

describe('tasksgodzilla projects', { timeout: 90_000 }, () => {
  let server: CliServer
  beforeAll(async () => {
    server = await startCliServer()
  })
  afterAll(() => server.close())

  it('creates a project, then lists and shows it as a table and as the API JSON', async () => {
    const name = uniqueName('cli')
    const created = await runCli(
      ['projects', 'create', '--name', name, '--git-url', '/srv/x.git'],
      server.env,
    )
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    expect(created.stdout).toMatch(
      new RegExp(`^Created project \\d+ \\(${name}\\)\\. Setup job enqueued\\.\\n$`),
    )
    const id = Number(/project (\d+)/.exec(created.stdout)?.[1])

    const list = await runCli(['projects', 'list'], server.env)
    expect(list.code).toBe(0)
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+Name\s+Base\s+Git\s+CI\s+Updated$/)
    expect(list.stdout.split('\n')[1]).toMatch(/^-+ {2}-+/)
    expect(list.stdout).toContain(name)
    expect(list.stdout).not.toContain('\u001b[') // piped: no colour

    const json = await runCli(['projects', 'show', String(id), '--json'], server.env)
    expect(JSON.parse(json.stdout)).toMatchObject({ id, name, git_url: '/srv/x.git', base_branch: 'main' })
    const human = await runCli(['projects', 'show', String(id)], server.env)
    expect(human.stdout).toMatch(/Name: +cli-/)
    expect(human.stdout).toMatch(/Project token: +none/)
  })

  it('sets an engine fallback chain with --engines, shows it, and removes it with --clear-engines', async () => {
    const created = await runCli(
      [
        'projects',
        'create',
        '--name',
        uniqueName('chain'),
        '--git-url',
        '/srv/x.git',
        '--engines',
        'codex:gpt-5.1-codex,claude',
      ],
      server.env,
    )
    expect(created.code).toBe(0)
    const id = /project (\d+)/.exec(created.stdout)![1]!
    const shown = await runCli(['projects', 'show', id], server.env)
    expect(shown.stdout).toMatch(/Engines: +codex:gpt-5\.1-codex → claude/)
    const updated = await runCli(
      ['projects', 'update', id, '--engines', 'opencode:openrouter/x:free', '--json'],
      server.env,
    )
    expect(JSON.parse(updated.stdout).engines).toEqual([{ engine: 'opencode', model: 'openrouter/x:free' }])
    const refused = await runCli(['projects', 'update', id, '--engines', 'codex,gemini'], server.env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('engines[1]: engine "gemini" is not a registered engine')
    const cleared = await runCli(['projects', 'update', id, '--clear-engines', '--json'], server.env)
    expect(JSON.parse(cleared.stdout).engines).toBeNull()
  })

  it('accepts global options before or after the subcommand', async () => {
    const before = await runCli(['--json', 'projects', 'list'], server.env)
    const after = await runCli(['projects', 'list', '--api-base', server.base, '--json'], {})
    expect(Array.isArray(JSON.parse(before.stdout))).toBe(true)
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout))
  })

  it('prints the 404 detail in one line with exit code 1', async () => {
    const result = await runCli(['projects', 'show', '99999'], server.env)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('tasksgodzilla: error: Project not found (HTTP 404)\n')
  })

  it('rejects a bad id and a missing required option as usage errors (exit 2)', async () => {
    const badId = await runCli(['projects', 'show', 'abc'], server.env)
    expect(badId.code).toBe(2)
    expect(badId.stderr).toContain('invalid id "abc"')
    const missing = await runCli(['projects', 'create', '--name', 'x'], server.env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '--git-url <url>' not specified")
    const json = await runCli(
      ['projects', 'create', '--name', 'x', '--git-url', 'y', '--default-models', '[1]'],
      {},
    )
    expect(json.code).toBe(2)
  })

  it('updates a project and writes a rotated project token to a file, never to the terminal', async () => {
    const project = await server.api<{ id: number }>('POST', '/projects', {
      name: uniqueName('upd'),
      git_url: '/x',
    })
    const renamed = await runCli(
      ['projects', 'update', String(project.id), '--base-branch', 'develop'],
      server.env,
    )
    expect(renamed.stdout).toMatch(/^Updated project \d+/)
    const shown = await server.api<{ base_branch: string }>('GET', `/projects/${project.id}`)
    expect(shown.base_branch).toBe('develop')

    const refused = await runCli(['projects', 'update', String(project.id), '--rotate-api-token'], server.env)
    expect(refused.code).toBe(2)
    const file = join(mkdtempSync(join(tmpdir(), 'tgz-cli-')), 'token')
    const rotated = await runCli(
      ['projects', 'update', String(project.id), '--rotate-api-token', '--save-token', file, '--json'],
      server.env,
    )
    expect(rotated.code).toBe(0)
    const token = readFileSync(file, 'utf8').trim()
    expect(token.length).toBeGreaterThanOrEqual(8)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(rotated.stdout).not.toContain(token)
    expect(JSON.parse(rotated.stdout)).toMatchObject({ id: project.id, has_api_token: true })

    const withToken = await runCli(
      ['projects', 'show', String(project.id), '--project-token', token],
      server.env,
    )
    expect(withToken.code).toBe(0)
    const viaEnv = await runCli(['projects', 'show', String(project.id)], {
      ...server.env,
      TASKSGODZILLA_PROJECT_TOKEN: token,
    })
    expect(viaEnv.code).toBe(0)
  })

  it('sends the project token and reports a refusal without it, never echoing a token', async () => {
    const project = await server.api<{ id: number }>('POST', '/projects', {
      name: uniqueName('tok'),
      git_url: '/x',
      secrets: { api_token: PROJECT_TOKEN },
    })
    const denied = await runCli(
      ['projects', 'show', String(project.id), '--project-token', 'wrong-token-1'],
      server.env,
    )
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/^tasksgodzilla: error: Project access denied \(HTTP 40[13]\)\n$/)
    expect(denied.stderr).not.toContain('wrong-token-1')
    const allowed = await runCli(
      ['projects', 'show', String(project.id), '--project-token', PROJECT_TOKEN],
      server.env,
    )
    expect(allowed.code).toBe(0)
    expect(allowed.stdout).toMatch(/Project token: +set/)
    expect(allowed.stdout).not.toContain(PROJECT_TOKEN)
  })

  it('records clarification answers, parsing JSON values', async () => {
    const project = await server.api<{ id: number }>('POST', '/projects', {
      name: uniqueName('ans'),
      git_url: '/x',
    })
    const result = await runCli(
      ['projects', 'answer', String(project.id), 'test_command=npm test', 'use_ci=true', '--json'],
      server.env,
    )
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).clarifications).toMatchObject({ test_command: 'npm test', use_ci: true })
    const bad = await runCli(['projects', 'answer', String(project.id), 'novalue'], server.env)
    expect(bad.code).toBe(2)
  })

  it('lists remote branches and deletes one only with --yes', async () => {
    const root = tempDir('tgz-cli-branches-')
    try {
      const repos = makeOriginWithClone(root)
      git(repos.clone, 'push', 'origin', 'HEAD:refs/heads/feature/x')
      const project = await server.api<{ id: number }>('POST', '/projects', {
        name: uniqueName('br'),
        git_url: repos.origin,
        local_path: repos.clone,
      })
      const id = String(project.id)
      const listed = await runCli(['projects', 'branches', id], server.env)
      expect(listed.stderr).toBe('')
      expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual(['feature/x', 'main'])
      const unconfirmed = await runCli(['projects', 'delete-branch', id, 'feature/x'], server.env)
      expect(unconfirmed.code).toBe(2)
      expect(unconfirmed.stderr).toContain('needs --yes')
      const deleted = await runCli(['projects', 'delete-branch', id, 'feature/x', '--yes'], server.env)
      expect(deleted.stdout).toBe('Deleted remote branch feature/x.\n')
      const after = await runCli(['projects', 'branches', id, '--json'], server.env)
      expect(JSON.parse(after.stdout)).toEqual({ branches: ['main'] })
      const missing = await runCli(['projects', 'branches', '99999'], server.env)
      expect(missing.code).toBe(1)
    } finally {
      removeDir(root)
    }
  })
})
