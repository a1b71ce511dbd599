import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

/**
 * Puts a `git` first on PATH that records each invocation, then runs the real one, so a test can
 * count the git processes code under test starts. `commands()` gives each invocation's words
 * from its subcommand on (the leading `-c` settings and `--literal-pathspecs` left out); the
 * tests' own `git()` calls go through it too, so clear before the call measured.
 */
export const recordGitCommands = (): {
  readonly commands: () => string[][]
  readonly clear: () => void
  readonly restore: () => void
} => {
  const dir = tempDir('tgz-git-shim-')
  const log = join(dir, 'calls.log')
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
  const shim = join(dir, 'git')
  writeFileSync(
    shim,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\037' "$a" >> '${log}'; done\nprintf '\\n' >> '${log}'\nexec '${real}' "$@"\n`,
    { mode: 0o755 },
  )
  const path = process.env.PATH
  process.env.PATH = `${dir}:${path ?? ''}`
  const clear = () => writeFileSync(log, '')
  clear()
  const commands = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const words = line.split('\x1f').slice(0, -1)
        let i = 0
        while (words[i] === '-c' || words[i] === '--literal-pathspecs') i += words[i] === '-c' ? 2 : 1
        return words.slice(i)
      })
  const restore = () => {
    process.env.PATH = path
    removeDir(dir)
  }
  return { commands, clear, restore }
}
