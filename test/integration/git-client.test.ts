import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGitClient } from '../../src/adapters/git/git.client.js'
import { commonDirFromFiles } from '../../src/adapters/git/git-dir-files.js'
import { git, makeLocalRepo, makeOriginWithClone, removeDir, tempDir } from '../support/git-repos.js'

const signal = new AbortController().signal
let root: string
let origin: string
let clone: string

beforeAll(() => {
  root = tempDir()
  ;({ origin, clone } = makeOriginWithClone(root))
})
afterAll(() => removeDir(root))

const client = (projectsRoot = join(root, 'Projects'), allowLocalRepos = true) =>
  createGitClient({ projectsRoot, allowLocalRepos })

describe('repository resolution', () => {
  it('honours a stored local_path, uses a local work tree URL, and namespaces remotes — creating nothing', () => {
    const projectsRoot = join(root, 'Projects-locate')
    const gitClient = client(projectsRoot)
    expect(gitClient.locateRepo({ gitUrl: 'https://github.com/acme/demo.git', localPath: clone })).toEqual({
      path: clone,
      exists: true,
      origin: 'local_path',
    })
    expect(gitClient.locateRepo({ gitUrl: clone, localPath: null })).toMatchObject({
      path: clone,
      origin: 'git_url_path',
    })
    expect(
      gitClient.locateRepo({ gitUrl: 'https://gitlab.com/group/sub/repo.git', localPath: null }),
    ).toEqual({
      path: join(projectsRoot, 'gitlab.com/group/sub/repo'),
      exists: false,
      origin: 'projects_root',
    })
    expect(existsSync(projectsRoot)).toBe(false)
  })

  it('refuses a local_path outside the projects root when local repositories are disabled', () => {
    expect(() =>
      client(join(root, 'P'), false).locateRepo({ gitUrl: 'https://github.com/a/b', localPath: clone }),
    ).toThrow(expect.objectContaining({ code: 'ORC_PATH_OUTSIDE_ROOT' }))
  })

  it('clones a missing repository in jobs only when cloning is allowed', async () => {
    const gitClient = client(join(root, 'Projects-clone'))
    const source = { gitUrl: `file://${origin}`, localPath: null }
    await expect(gitClient.ensureRepo(source, { clone: false }, signal)).rejects.toMatchObject({
      code: 'ORC_REPO_NOT_PRESENT',
    })
    const path = await gitClient.ensureRepo(source, { clone: true }, signal)
    expect(path).toBe(join(root, 'Projects-clone', 'local', ...origin.split('/').filter(Boolean)))
    expect(existsSync(join(path, 'README.md'))).toBe(true)
    expect(await gitClient.ensureRepo(source, { clone: false }, signal)).toBe(path)
  })
})

describe('worktrees, commits and pushes', () => {
  it('creates the worktree beside the repo on branch <protocol_name> from origin/<base>, then reuses it', async () => {
    const gitClient = client()
    const info = await gitClient.ensureWorktree(
      { repoPath: clone, protocolName: '0001-demo', baseBranch: 'main' },
      signal,
    )
    expect(info).toEqual({
      path: join(root, 'work', 'worktrees', '0001-demo'),
      branch: '0001-demo',
      protocolRoot: join(root, 'work', 'worktrees', '0001-demo', '.protocols', '0001-demo'),
      created: true,
    })
    expect(git(info.path, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('0001-demo')
    const again = await gitClient.ensureWorktree(
      { repoPath: clone, protocolName: '0001-demo', baseBranch: 'main' },
      signal,
    )
    expect(again.created).toBe(false)
  })

  it('commits only when something changed, pushes, and sees the branch on origin', async () => {
    const gitClient = client()
    const { path } = await gitClient.ensureWorktree(
      { repoPath: clone, protocolName: '0001-demo', baseBranch: 'main' },
      signal,
    )
    expect(await gitClient.commitAll(path, 'nothing', signal)).toEqual({ sha: null, leftOut: [] })
    mkdirSync(join(path, '.protocols', '0001-demo'), { recursive: true })
    writeFileSync(join(path, '.protocols', '0001-demo', 'plan.md'), '# plan\n')
    const { sha } = await gitClient.commitAll(path, '[protocol-0001/00] plan', signal)
    expect(sha).toMatch(/^[0-9a-f]{40}$/)
    expect(await gitClient.headSha(path, signal)).toBe(sha)
    expect(await gitClient.lastCommitSubject(path, signal)).toBe('[protocol-0001/00] plan')
    expect(await gitClient.statusPorcelain(path, signal)).toBe('')
    expect(await gitClient.remoteBranchExists(path, '0001-demo', signal)).toBe(false)
    await gitClient.push(path, '0001-demo', signal)
    expect(await gitClient.remoteBranchExists(path, '0001-demo', signal)).toBe(true)
    expect(await gitClient.listRemoteHeads(path, signal)).toEqual(
      expect.arrayContaining(['main', '0001-demo']),
    )
  })

  it('lets another worker recreate repo and worktree from the pushed branch', async () => {
    const other = client(join(root, 'Projects-worker2'))
    const repoPath = await other.ensureRepo(
      { gitUrl: `file://${origin}`, localPath: null },
      { clone: true },
      signal,
    )
    const info = await other.ensureWorktree(
      { repoPath, protocolName: '0001-demo', baseBranch: 'main' },
      signal,
    )
    expect(info.created).toBe(true)
    expect(readFileSync(join(info.protocolRoot, 'plan.md'), 'utf8')).toBe('# plan\n')
  })

  it('numbers the next protocol past .protocols folders, worktrees and branches', async () => {
    const gitClient = client()
    mkdirSync(join(clone, '.protocols', '0003-older'), { recursive: true })
    expect(await gitClient.nextProtocolNumber(clone, signal)).toBe(4)
  })

  it('deletes a remote branch', async () => {
    const gitClient = client()
    await gitClient.deleteRemoteBranch(clone, '0001-demo', signal)
    expect(await gitClient.remoteBranchExists(clone, '0001-demo', signal)).toBe(false)
  })

  it('branches from the local base when the repository has no remote', async () => {
    const local = makeLocalRepo(join(root, 'solo', 'repo'))
    const gitClient = client()
    expect(await gitClient.hasOrigin(local, signal)).toBe(false)
    const info = await gitClient.ensureWorktree(
      { repoPath: local, protocolName: '0002-solo', baseBranch: 'main' },
      signal,
    )
    expect(existsSync(join(info.path, 'README.md'))).toBe(true)
    await expect(
      gitClient.ensureWorktree({ repoPath: local, protocolName: '0003-x', baseBranch: 'nope' }, signal),
    ).rejects.toMatchObject({
      code: 'ORC_GIT_FAILED',
      message: expect.stringContaining('"nope" was not found'),
    })
  })

  it('refuses to reuse a worktree path that belongs to something else', async () => {
    mkdirSync(join(root, 'work', 'worktrees', '0009-taken'), { recursive: true })
    await expect(
      client().ensureWorktree({ repoPath: clone, protocolName: '0009-taken', baseBranch: 'main' }, signal),
    ).rejects.toMatchObject({ code: 'ORC_GIT_FAILED' })
  })

  it('refuses to reuse a worktree path that is a worktree of another repository', async () => {
    const other = makeLocalRepo(join(root, 'other', 'repo'))
    const path = join(root, 'work', 'worktrees', '0010-foreign')
    git(other, 'worktree', 'add', '-b', '0010-foreign', path)
    await expect(
      client().ensureWorktree({ repoPath: clone, protocolName: '0010-foreign', baseBranch: 'main' }, signal),
    ).rejects.toMatchObject({ code: 'ORC_GIT_FAILED' })
  })

  it("reads a checkout's and a linked worktree's common git dir from their files as git reports it", async () => {
    const info = await client().ensureWorktree(
      { repoPath: clone, protocolName: '0011-files', baseBranch: 'main' },
      signal,
    )
    const gitSays = (dir: string) =>
      realpathSync(resolve(dir, git(dir, 'rev-parse', '--git-common-dir').trim()))
    expect(realpathSync(commonDirFromFiles(clone)!)).toBe(gitSays(clone))
    expect(realpathSync(commonDirFromFiles(info.path)!)).toBe(gitSays(info.path))
    // Anything but the two layouts git writes is left to git: no .git, a FIFO named .git.
    const plain = join(root, 'plain-dir')
    mkdirSync(plain)
    expect(commonDirFromFiles(plain)).toBeUndefined()
    const fifo = join(root, 'fifo-dir')
    mkdirSync(fifo)
    execFileSync('mkfifo', [join(fifo, '.git')])
    expect(commonDirFromFiles(fifo)).toBeUndefined()
  })

  it('makes no commit when a change staged earlier is undone in the work tree, and commits a new file', async () => {
    const dir = makeLocalRepo(join(root, 'undone', 'repo'))
    writeFileSync(join(dir, 'README.md'), '# changed\n')
    git(dir, 'add', 'README.md')
    writeFileSync(join(dir, 'README.md'), '# local\n')
    expect(git(dir, 'status', '--porcelain').trim()).toBe('MM README.md')
    expect(await client().commitAll(dir, 'nothing', signal)).toEqual({ sha: null, leftOut: [] })
    writeFileSync(join(dir, 'new.txt'), 'new\n')
    const { sha } = await client().commitAll(dir, 'a new file', signal)
    expect(sha).toBe(git(dir, 'rev-parse', 'HEAD').trim())
    expect(git(dir, 'show', '--name-only', '--format=', 'HEAD').trim()).toBe('new.txt')
  })

  it('has no last commit subject on a branch with no commit yet, nor outside a repository', async () => {
    const fresh = join(root, 'fresh')
    mkdirSync(fresh)
    expect(await client().lastCommitSubject(fresh, signal)).toBeNull()
    git(fresh, 'init', '--initial-branch=main')
    expect(await client().lastCommitSubject(fresh, signal)).toBeNull()
  })

  it('checks branch names with git check-ref-format', async () => {
    await expect(client().checkBranchName('feature/ok-1', signal)).resolves.toBeUndefined()
    await expect(client().checkBranchName('a..b', signal)).rejects.toMatchObject({
      code: 'ORC_BRANCH_NAME_INVALID',
    })
  })

  it('never puts credentials from a remote URL into its errors', async () => {
    const local = makeLocalRepo(join(root, 'creds', 'repo'))
    git(local, 'remote', 'add', 'origin', 'https://user:s3cr3t-token@127.0.0.1:9/acme/demo.git')
    const error = await client()
      .push(local, 'main', signal)
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ORC_GIT_FAILED' })
    expect(String((error as Error).message)).not.toContain('s3cr3t-token')
  })
})

describe('commit identity', () => {
  const author = (path: string) => git(path, 'log', '-1', '--format=%an <%ae>|%cn <%ce>').trim()

  it('commits as TASKSGODZILLA_GIT_USER / TASKSGODZILLA_GIT_EMAIL when both are configured, over the repository identity', async () => {
    const dir = makeLocalRepo(tempDir())
    git(dir, 'config', 'user.name', 'Repo Person')
    git(dir, 'config', 'user.email', 'repo@example.com')
    writeFileSync(join(dir, 'configured.txt'), 'x\n')
    const gitClient = createGitClient({
      projectsRoot: join(root, 'Projects-identity'),
      allowLocalRepos: true,
      identity: { name: 'Godzilla Bot', email: 'bot@example.com' },
    })
    expect((await gitClient.commitAll(dir, 'configured identity', signal)).sha).toMatch(/^[0-9a-f]{40}$/)
    expect(author(dir)).toBe('Godzilla Bot <bot@example.com>|Godzilla Bot <bot@example.com>')
    removeDir(dir)
  })

  it("keeps the repository's identity when none is configured", async () => {
    const dir = makeLocalRepo(tempDir())
    git(dir, 'config', 'user.name', 'Repo Person')
    git(dir, 'config', 'user.email', 'repo@example.com')
    writeFileSync(join(dir, 'repo-identity.txt'), 'x\n')
    await client().commitAll(dir, 'repository identity', signal)
    expect(author(dir)).toBe('Repo Person <repo@example.com>|Repo Person <repo@example.com>')
    removeDir(dir)
  })
})
