import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface Started {
  readonly url: string
  readonly pid: number
  stop(): void
}

/** Starts a node process (in `cwd`, this checkout by default) and resolves with the base URL once `health` answers. */
export const startProcess = async (
  args: string[],
  env: Record<string, string>,
  url: string,
  health: string,
  cwd: string = ROOT,
): Promise<Started> => {
  // BENCH_PROFILE_DIR=dir: every process started here writes a V8 CPU profile there when it exits
  // (NODE_OPTIONS refuses --cpu-prof); read them with bench/cpu-profile-top.ts.
  const profile = process.env.BENCH_PROFILE_DIR
  const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}${health}`)).ok)
        return { url, pid: child.pid!, stop: () => child.kill('SIGTERM') }
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`process ${args.join(' ')} did not answer on ${url}${health}`)
}

/** CPU milliseconds a process has used so far (user + system, from /proc; Linux clock ticks are 10 ms). */
export const cpuMsOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}
