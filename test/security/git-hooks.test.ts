import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGitClient } from '../../src/adapters/git/git.client.js'
import { git, makeLocalRepo, removeDir, tempDir } from '../support/git-repos.js'

// Issue 15 #13: a repository's hooks and its core.fsmonitor / core.sshCommand are programs the
// repository chose; the server's git calls must run none of them.
const signal = new AbortController().signal
let root: string
let markers: string
let repo: string

/** An executable that leaves `<markers>/<name>` behind when anything runs it. */
const markerScript = (path: string, name: string): string => {
  writeFileSync(path, `#!/bin/sh\ntouch '${join(markers, name)}'\nexit 0\n`)
  chmodSync(path, 0o755)
  return path
}

beforeAll(() => {
  root = tempDir('tgz-hooks-')
  markers = join(root, 'markers')
  mkdirSync(markers)
  repo = makeLocalRepo(join(root, 'hooked'))
  for (const hook of ['post-checkout', 'pre-commit', 'post-commit', 'reference-transaction'])
    markerScript(join(repo, '.git', 'hooks', hook), hook)
  git(repo, 'config', 'core.fsmonitor', markerScript(join(root, 'fsmonitor.sh'), 'fsmonitor'))
  git(repo, 'config', 'core.sshCommand', markerScript(join(root, 'ssh.sh'), 'ssh-command'))
})
afterAll(() => removeDir(root))
beforeEach(() => {
  for (const name of readdirSync(markers)) rmSync(join(markers, name))
})

const ranPrograms = (): string[] => readdirSync(markers)

describe('server-side git ignores programs named by the repository', () => {
  it('runs no hook and no fsmonitor on worktree checkout, status and commit', async () => {
    const client = createGitClient({ projectsRoot: join(root, 'Projects'), allowLocalRepos: true })
    const info = await client.ensureWorktree(
      { repoPath: repo, protocolName: '0001-hooks', baseBranch: 'main' },
      signal,
    )
    writeFileSync(join(info.path, 'change.txt'), 'agent output\n')
    await client.statusPorcelain(info.path, signal)
    expect((await client.commitAll(info.path, '[0001-hooks/00] step', signal)).sha).toMatch(/^[0-9a-f]{40}$/)
    expect(existsSync(join(info.path, 'change.txt'))).toBe(true)
    expect(ranPrograms()).toEqual([])
  })

  it('does not run the repository core.sshCommand when talking to an ssh remote', async () => {
    const client = createGitClient({ projectsRoot: join(root, 'Projects'), allowLocalRepos: true })
    git(repo, 'remote', 'add', 'origin', 'ssh://git@tgz-unresolvable.invalid/acme/x.git')
    await expect(client.listRemoteHeads(repo, signal)).rejects.toMatchObject({ code: 'ORC_GIT_FAILED' })
    expect(ranPrograms()).toEqual([])
  })
})
