import { readFileSync } from 'node:fs'

/** Whether a process exists and is not a zombie (a container's PID 1 may never reap). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Polls until every pid is gone or `timeoutMs` passes; returns the ones still alive. */
export const waitForExit = async (pids: readonly number[], timeoutMs: number): Promise<number[]> => {
  const deadline = Date.now() + timeoutMs
  let alive = pids.filter(isAlive)
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    alive = alive.filter(isAlive)
  }
  return alive
}

/** Waits until `path` holds at least `lines` lines, returning them as numbers. */
export const waitForPids = async (path: string, lines: number, timeoutMs = 10_000): Promise<number[]> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const pids = readFileSync(path, 'utf8').split('\n').filter(Boolean).map(Number)
      if (pids.length >= lines) return pids
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`${path} never listed ${lines} pids`)
}
