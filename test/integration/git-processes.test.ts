import { execFileSync } from 'node:child_process'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AUTO_MAINTENANCE_EVERY_COMMITS } from '../../src/adapters/git/commit-writer.js'
import { createGitClient } from '../../src/adapters/git/git.client.js'
import { lookupRefs } from '../../src/adapters/git/ref-lookup.js'
import { worktreeTools } from '../../src/adapters/git/worktree.manager.js'
import {
  git,
  makeLocalRepo,
  makeOriginWithClone,
  recordGitCommands,
  removeDir,
  tempDir,
} from '../support/git-repos.js'

// Each git process costs tens of milliseconds on a loaded machine, and a step runs several: these
// tests pin how many the step path starts, and that the answers stay git's own.

const signal = new AbortController().signal
let root: string
let recorder: ReturnType<typeof recordGitCommands>
const saved = { global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM }

beforeAll(() => {
  root = tempDir()
  recorder = recordGitCommands()
})
afterAll(() => {
  recorder.restore()
  removeDir(root)
})
afterEach(() => {
  for (const [key, value] of [
    ['GIT_CONFIG_GLOBAL', saved.global],
    ['GIT_CONFIG_NOSYSTEM', saved.nosystem],
  ] as const)
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
})

const client = () => createGitClient({ projectsRoot: join(root, 'Projects'), allowLocalRepos: true })
const names = () => recorder.commands().map((words) => words[0])
const author = (path: string) => git(path, 'log', '-1', '--format=%an <%ae>').trim()

/** A repository with its own identity, so the commit needs no fallback. */
const configuredRepo = (name: string): string => {
  const dir = makeLocalRepo(join(root, name))
  git(dir, 'config', 'user.name', 'Repo Person')
  git(dir, 'config', 'user.email', 'repo@example.com')
  return dir
}

describe('git processes of a commit', () => {
  it('commits with status, add and commit alone where the identity is configured, and returns the new HEAD', async () => {
    const dir = configuredRepo('configured')
    const gitClient = client()
    for (const file of ['one.txt', 'two.txt']) {
      writeFileSync(join(dir, file), `${file}\n`)
      recorder.clear()
      const { sha } = await gitClient.commitAll(dir, `add ${file}`, signal)
      expect(names()).toEqual(['status', 'add', 'commit'])
      expect(sha).toBe(git(dir, 'rev-parse', 'HEAD').trim())
    }
    expect(author(dir)).toBe('Repo Person <repo@example.com>')
  })

  it('returns the new HEAD of a linked worktree and of a detached HEAD', async () => {
    const dir = configuredRepo('linked')
    const info = await client().ensureWorktree(
      { repoPath: dir, protocolName: '0001-linked', baseBranch: 'main' },
      signal,
    )
    writeFileSync(join(info.path, 'a.txt'), 'a\n')
    expect((await client().commitAll(info.path, 'in the worktree', signal)).sha).toBe(
      git(info.path, 'rev-parse', 'HEAD').trim(),
    )
    git(dir, 'checkout', '--detach')
    writeFileSync(join(dir, 'b.txt'), 'b\n')
    expect((await client().commitAll(dir, 'detached', signal)).sha).toBe(git(dir, 'rev-parse', 'HEAD').trim())
  })

  it('commits as TasksGodzilla where git has no identity, and as the name configured later at the next commit', async () => {
    const empty = join(root, 'empty-gitconfig')
    writeFileSync(empty, '')
    process.env.GIT_CONFIG_GLOBAL = empty
    process.env.GIT_CONFIG_NOSYSTEM = '1'
    const dir = makeLocalRepo(join(root, 'unconfigured'))
    const gitClient = client()
    writeFileSync(join(dir, 'first.txt'), '1\n')
    const first = await gitClient.commitAll(dir, 'first', signal)
    expect(first.sha).toBe(git(dir, 'rev-parse', 'HEAD').trim())
    expect(author(dir)).toBe('TasksGodzilla <tasksgodzilla@localhost>')
    // Refused once, this repository is asked first: no more processes than the question and the commit.
    writeFileSync(join(dir, 'second.txt'), '2\n')
    recorder.clear()
    await gitClient.commitAll(dir, 'second', signal)
    expect(names()).toEqual(['status', 'add', 'config', 'commit'])
    expect(author(dir)).toBe('TasksGodzilla <tasksgodzilla@localhost>')
    git(dir, 'config', 'user.name', 'Later Person')
    git(dir, 'config', 'user.email', 'later@example.com')
    writeFileSync(join(dir, 'third.txt'), '3\n')
    await gitClient.commitAll(dir, 'third', signal)
    expect(author(dir)).toBe('Later Person <later@example.com>')
  })
  it("keeps git's automatic housekeeping at a repository's first commit and every 20th after it", async () => {
    const dir = configuredRepo('housekeeping')
    // Housekeeping that packs loose objects whenever there is one, so each run leaves a pack.
    git(dir, 'config', 'maintenance.gc.enabled', 'false')
    git(dir, 'config', 'maintenance.loose-objects.enabled', 'true')
    git(dir, 'config', 'maintenance.loose-objects.auto', '1')
    const packs = () =>
      readdirSync(join(dir, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length
    const gitClient = client()
    const counts: number[] = []
    for (let i = 0; i <= AUTO_MAINTENANCE_EVERY_COMMITS; i++) {
      writeFileSync(join(dir, 'counter.txt'), `${i}\n`)
      await gitClient.commitAll(dir, `commit ${i}`, signal)
      counts.push(packs())
    }
    expect(counts[0]).toBe(1)
    expect(new Set(counts.slice(0, AUTO_MAINTENANCE_EVERY_COMMITS))).toEqual(new Set([1]))
    expect(counts[AUTO_MAINTENANCE_EVERY_COMMITS]).toBe(2)
  })
})

describe('git processes of a new worktree', () => {
  it('creates a worktree with get-url, one ref listing and worktree add when nothing needs pruning', async () => {
    const dir = makeLocalRepo(join(root, 'fresh', 'repo'))
    recorder.clear()
    const info = await client().ensureWorktree(
      { repoPath: dir, protocolName: '0001-fresh', baseBranch: 'main' },
      signal,
    )
    expect(names()).toEqual(['remote', 'for-each-ref', 'worktree'])
    expect(git(info.path, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('0001-fresh')
  })

  it('fetches and starts from origin with no more than one ref listing', async () => {
    const { clone } = makeOriginWithClone(tempDir())
    recorder.clear()
    await client().ensureWorktree(
      { repoPath: clone, protocolName: '0001-remote', baseBranch: 'main' },
      signal,
    )
    expect(names()).toEqual(['remote', 'fetch', 'fetch', 'for-each-ref', 'worktree'])
  })

  it('prunes a worktree whose folder was deleted before recreating it on its branch', async () => {
    const dir = makeLocalRepo(join(root, 'stale', 'repo'))
    const gitClient = client()
    const request = { repoPath: dir, protocolName: '0001-stale', baseBranch: 'main' }
    const info = await gitClient.ensureWorktree(request, signal)
    rmSync(info.path, { recursive: true, force: true })
    recorder.clear()
    const again = await gitClient.ensureWorktree(request, signal)
    expect(again.created).toBe(true)
    expect(names()[0]).toBe('worktree')
    expect(recorder.commands()[0]).toEqual(['worktree', 'prune'])
    expect(git(again.path, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('0001-stale')
  })
})

describe('names resolved from one ref listing', () => {
  it('answers as rev-parse --verify does, or leaves the name to it', async () => {
    const dir = makeLocalRepo(join(root, 'refs', 'repo'))
    const head = git(dir, 'rev-parse', 'HEAD').trim()
    git(dir, 'branch', 'feature')
    git(dir, 'tag', '-a', '-m', 'annotated', 'release', head)
    git(dir, 'tag', 'tree-tag', `${head}^{tree}`)
    git(dir, 'tag', '-a', '-m', 'nested', 'nested', 'release')
    // A tag and a branch of one name: rev-parse takes the tag (refs/tags before refs/heads).
    git(dir, 'tag', 'both', `${head}^{tree}`)
    git(dir, 'branch', 'both')
    writeFileSync(join(dir, '.git', 'ORIG_HEAD'), `${head}\n`)
    const names = [
      'feature',
      'refs/heads/feature',
      'release',
      'tree-tag',
      'both',
      'missing',
      'refs/heads/missing',
    ]
    const lookup = await lookupRefs(
      dir,
      [...names, 'nested', 'ORIG_HEAD', 'abcd'],
      worktreeTools(signal, true),
    )
    const revParse = (spec: string): boolean => {
      try {
        execFileSync('git', ['rev-parse', '--verify', '--quiet', spec], { cwd: dir, stdio: 'ignore' })
        return true
      } catch {
        return false
      }
    }
    for (const name of names) {
      const answer = lookup(name)
      expect(answer, name).toBeDefined()
      expect(answer !== 'absent', name).toBe(revParse(name))
      expect(answer === 'commit', name).toBe(revParse(`${name}^{commit}`))
    }
    expect(lookup('nested')).toBeUndefined()
    expect(lookup('ORIG_HEAD')).toBeUndefined()
    expect(lookup('abcd')).toBeUndefined()
  })
})

describe('the last commit subject read from the commit object', () => {
  const messages = [
    'plain subject',
    '\n\n  leading blank lines, then indented  \t\nsecond line of the paragraph\r\n\nbody',
    'trailing whitespace \t \r\n   \nafter a whitespace-only line',
    'unicode: ünïcødé — ✓\n\nbody',
    'one line without newline',
  ]

  it('gives what git log -1 --pretty=format:%s gives, without a git process', async () => {
    const dir = configuredRepo('subjects')
    const gitClient = client()
    for (const [i, message] of messages.entries()) {
      writeFileSync(join(dir, `s${i}.txt`), `${i}\n`)
      writeFileSync(join(root, 'message.txt'), message)
      git(dir, 'add', '.')
      git(dir, 'commit', '--cleanup=verbatim', '-F', join(root, 'message.txt'))
      const expected = git(dir, 'log', '-1', '--pretty=format:%s').trim()
      recorder.clear()
      expect(await gitClient.lastCommitSubject(dir, signal), JSON.stringify(message)).toBe(expected)
      expect(recorder.commands()).toEqual([])
    }
  })

  it('leaves packed objects, replaced commits and declared encodings to git', async () => {
    const dir = configuredRepo('subject-fallbacks')
    const gitClient = client()
    const asGit = () => git(dir, 'log', '-1', '--pretty=format:%s').trim()
    git(dir, 'commit', '--allow-empty', '-m', 'packed away')
    git(dir, 'gc', '--quiet')
    recorder.clear()
    expect(await gitClient.lastCommitSubject(dir, signal)).toBe('packed away')
    expect(names()).toEqual(['log'])
    git(dir, 'commit', '--allow-empty', '-m', 'original')
    git(dir, 'commit', '--allow-empty', '-m', 'replacement')
    git(dir, 'replace', 'HEAD~1', 'HEAD')
    git(dir, 'reset', '--hard', '-q', 'HEAD~1')
    expect(asGit()).toBe('replacement')
    expect(await gitClient.lastCommitSubject(dir, signal)).toBe('replacement')
    const other = configuredRepo('subject-encoding')
    writeFileSync(join(root, 'latin1.txt'), Buffer.from('caf\xe9 latin-1\n', 'latin1'))
    git(
      other,
      '-c',
      'i18n.commitEncoding=ISO-8859-1',
      'commit',
      '--allow-empty',
      '-F',
      join(root, 'latin1.txt'),
    )
    const expected = git(other, 'log', '-1', '--pretty=format:%s').trim()
    recorder.clear()
    expect(await client().lastCommitSubject(other, signal)).toBe(expected)
    expect(names()).toEqual(['log'])
  })

  it('leaves to git a commit object that would inflate past 256 kB, whatever its size on disk', async () => {
    const dir = configuredRepo('subject-inflated')
    // 1 MB of one repeated line compresses to a few kB: the file is small, what it holds is not.
    writeFileSync(join(root, 'long.txt'), `long message\n\n${'x'.repeat(80)}\n`.repeat(13_000))
    git(dir, 'commit', '--allow-empty', '-F', join(root, 'long.txt'))
    recorder.clear()
    expect(await client().lastCommitSubject(dir, signal)).toBe('long message')
    expect(names()).toEqual(['log'])
  })
})
