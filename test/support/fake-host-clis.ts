import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FAKE = fileURLToPath(new URL('../fixtures/host-clis/fake-host-cli.mjs', import.meta.url))

export interface HostCliCall {
  readonly cli: 'gh' | 'glab'
  readonly args: string[]
  /** TASKSGODZILLA_* variables the CLI could see (must stay empty). */
  readonly leaked: string[]
  /** Names of every variable the CLI was given. */
  readonly names: string[]
  /** The `*TOKEN` variables it was given, with their values. */
  readonly tokens: Record<string, string>
}

/**
 * Real `gh` and `glab` executables (the fake in test/fixtures/host-clis) in `<dir>/bin`, their
 * state in `dir` (baked into the wrappers: the server filters what the CLIs inherit); `env` is
 * what to run them with (PATH first through the bin folder); `setFailing` makes every call fail.
 */
export const installFakeHostClis = (dir: string, names: ReadonlyArray<'gh' | 'glab'> = ['gh', 'glab']) => {
  const bin = join(dir, 'bin')
  mkdirSync(bin, { recursive: true })
  for (const name of names) {
    const script = `#!/bin/sh\nFAKE_HOST_CLI_DIR='${dir}' exec '${process.execPath}' '${FAKE}' ${name} "$@"\n`
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
    env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
    setFailing: (failing: boolean) =>
      failing ? writeFileSync(join(dir, 'fail'), '') : rmSync(join(dir, 'fail'), { force: true }),
  }
}
