import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FAKE = fileURLToPath(new URL('../fixtures/host-clis/fake-host-cli.mjs', import.meta.url))

export interface HostCliCall {
  readonly cli: 'gh' | 'glab'
  readonly args: string[]
  /** TASKSGODZILLA_* variables the CLI could see (must stay empty). */
  readonly leaked: string[]
}

/**
 * Real `gh` and `glab` executables (the fake in test/fixtures/host-clis) in `<dir>/bin`, their
 * state in `dir`; `env` is what to run them with (PATH first through the bin folder).
 */
export const installFakeHostClis = (dir: string, names: ReadonlyArray<'gh' | 'glab'> = ['gh', 'glab']) => {
  const bin = join(dir, 'bin')
  mkdirSync(bin, { recursive: true })
  for (const name of names) {
    const script = `#!/bin/sh\nexec '${process.execPath}' '${FAKE}' ${name} "$@"\n`
    writeFileSync(join(bin, name), script, { mode: 0o755 })
  }
  const calls = (): HostCliCall[] => {
    const file = join(dir, 'calls.jsonl')
    if (!existsSync(file)) return []
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as HostCliCall)
  }
  return {
    bin,
    calls,
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FAKE_HOST_CLI_DIR: dir },
  }
}
