import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createBaseSync } from '../../src/adapters/git/base-sync.js'
import { git, makeOriginWithClone, removeDir, tempDir } from '../support/git-repos.js'

const signal = () => AbortSignal.timeout(30_000)
const sync = createBaseSync({ allowLocalRepos: true })

describe('base sync over real git repositories', () => {
  let root: string
  let clone: string
  let other: string

  const commit = (dir: string, file: string, text: string, message: string) => {
    writeFileSync(join(dir, file), text)
    git(dir, 'add', file)
    git(dir, 'commit', '-m', message)
  }
  const head = (dir: string, ref = 'HEAD') => git(dir, 'rev-parse', ref).trim()

  beforeEach(() => {
    root = tempDir()
    const repos = makeOriginWithClone(root)
    clone = repos.clone
    // The run's branch, pushed (a PR is open on it).
    git(clone, 'checkout', '-b', '0001-demo')
    commit(clone, 'feature.txt', 'feature\n', 'feature')
    commit(clone, 'README.md', '# demo\n\nFeature docs.\n', 'docs')
    git(clone, 'push', 'origin', '0001-demo')
    other = join(root, 'other')
    git(root, 'clone', repos.origin, other)
  })
  afterEach(() => removeDir(root))

  it('says up to date when the base has not moved', async () => {
    expect(await sync.rebaseOntoBase(clone, 'main', signal())).toMatchObject({ kind: 'up_to_date' })
  })

  it('rebases cleanly over a non-conflicting base commit and pushes with a lease on what origin had', async () => {
    commit(other, 'other.txt', 'other\n', 'unrelated change on main')
    git(other, 'push', 'origin', 'main')
    const pushed = await sync.remoteHead(clone, '0001-demo', signal())
    expect(pushed).toBe(head(clone))
    const outcome = await sync.rebaseOntoBase(clone, 'main', signal())
    expect(outcome).toMatchObject({ kind: 'rebased', previousHead: pushed, baseSha: head(other) })
    expect(git(clone, 'merge-base', '--is-ancestor', head(other), 'HEAD')).toBe('')
    await sync.pushWithLease(clone, '0001-demo', pushed!, signal())
    expect(git(other, 'ls-remote', 'origin', 'refs/heads/0001-demo').split('\t')[0]).toBe(head(clone))
  })

  it('aborts a conflicting rebase, leaves the branch as it was and names the conflicting files', async () => {
    commit(other, 'README.md', '# demo\n\nA different intro.\n', 'conflicting change on main')
    git(other, 'push', 'origin', 'main')
    const before = head(clone)
    const outcome = await sync.rebaseOntoBase(clone, 'main', signal())
    expect(outcome).toMatchObject({ kind: 'conflict', files: ['README.md'] })
    expect(head(clone)).toBe(before)
    expect(git(clone, 'status', '--porcelain')).toBe('')
    expect(readFileSync(join(clone, 'README.md'), 'utf8')).toContain('Feature docs.')
  })

  it('refuses to overwrite a commit someone else pushed to the branch after the lease was taken', async () => {
    const lease = await sync.remoteHead(clone, '0001-demo', signal())
    commit(other, 'other.txt', 'other\n', 'unrelated change on main')
    git(other, 'push', 'origin', 'main')
    git(other, 'fetch', 'origin', '0001-demo')
    git(other, 'checkout', '-b', '0001-demo', 'origin/0001-demo')
    commit(other, 'human.txt', 'human fix\n', 'a human pushed to the run branch')
    git(other, 'push', 'origin', '0001-demo')
    await sync.rebaseOntoBase(clone, 'main', signal())
    await expect(sync.pushWithLease(clone, '0001-demo', lease!, signal())).rejects.toMatchObject({
      code: 'ORC_GIT_FAILED',
    })
    expect(git(other, 'ls-remote', 'origin', 'refs/heads/0001-demo').split('\t')[0]).toBe(head(other))
  })
})
