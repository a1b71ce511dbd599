import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const IDENTITY = [
  '-c',
  'user.name=Test',
  '-c',
  'user.email=test@example.com',
  '-c',
  'init.defaultBranch=main',
]

/** Runs git for test setup (never the code under test's runner). */
export const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

export const tempDir = (prefix = 'tgz-git-'): string => mkdtempSync(join(tmpdir(), prefix))

export const removeDir = (path: string): void => rmSync(path, { recursive: true, force: true })

/** A bare `origin.git` with one commit on `main`, and a working clone of it under `<root>/work/repo`. */
export const makeOriginWithClone = (root: string): { origin: string; clone: string } => {
  const origin = join(root, 'origin.git')
  git(root, 'init', '--bare', '--initial-branch=main', origin)
  const seed = join(root, 'seed')
  git(root, 'clone', origin, seed)
  writeFileSync(join(seed, 'README.md'), '# demo\n')
  git(seed, 'add', '.')
  git(seed, 'commit', '-m', 'initial')
  git(seed, 'push', 'origin', 'HEAD:refs/heads/main')
  mkdirSync(join(root, 'work'))
  const clone = join(root, 'work', 'repo')
  git(root, 'clone', origin, clone)
  return { origin, clone }
}

/** A local repository with one commit on `main` and no remote. */
export const makeLocalRepo = (path: string): string => {
  mkdirSync(path, { recursive: true })
  git(path, 'init', '--initial-branch=main')
  writeFileSync(join(path, 'README.md'), '# local\n')
  git(path, 'add', '.')
  git(path, 'commit', '-m', 'initial')
  return path
}
