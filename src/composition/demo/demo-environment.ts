import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../package-root.js'

/** The bundled demo agent (`fixtures/agents/demo-agent.mjs` at the project root). */
export const demoAgentPath = (): string => {
  const path = join(packageRoot(), 'fixtures', 'agents', 'demo-agent.mjs')
  if (!existsSync(path)) throw new Error(`${path} was not found in the package`)
  return path
}

/** A small git repository with one commit on `main`, at `<dir>/sample-repo` (kept when it exists). */
export const createSampleRepo = (dir: string): string => {
  const repo = join(dir, 'sample-repo')
  if (existsSync(join(repo, '.git'))) return repo
  mkdirSync(repo, { recursive: true })
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=TasksGodzilla Demo', '-c', 'user.email=demo@localhost', ...args], {
      cwd: repo,
      stdio: 'ignore',
    })
  git('init', '--initial-branch=main')
  writeFileSync(join(repo, 'README.md'), '# Sample repository\n\nA playground for the TasksGodzilla demo.\n')
  git('add', '.')
  git('commit', '-m', 'Initial commit')
  return repo
}

/** The environment the demo server runs with: its own database, logs and the demo agent as default engine. */
export const demoEnv = (dir: string): Record<string, string> => ({
  TASKSGODZILLA_DB_PATH: join(dir, 'demo.sqlite'),
  TASKSGODZILLA_PROJECTS_ROOT: join(dir, 'projects'),
  TASKSGODZILLA_LOGS_DIR: join(dir, 'logs'),
  TASKSGODZILLA_COMMAND_ENGINE: demoAgentPath(),
  TASKSGODZILLA_DEFAULT_ENGINE: 'command',
  TASKSGODZILLA_AUTO_QA_AFTER_EXEC: 'true',
})
