import { describe, expect, it } from 'vitest'
import { closedPort } from '../support/cli-server.js'
import { runCli } from '../support/cli.js'

/** What an operator sees when a container starts with a wrong setting: one line, no stack, no secret. */
const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split('\n')
  expect(lines, stderr).toHaveLength(1)
  return lines[0]!
}

// Each case starts real CLI processes (from source), slow on a loaded machine.
describe('start-up with a wrong database or Redis setting', { timeout: 90_000 }, () => {
  it('refuses a malformed database URL in one line with exit 2', async () => {
    const commands = ['serve', 'worker', 'migrate']
    const results = await Promise.all(
      commands.map((command) => runCli([command], { TASKSGODZILLA_DB_URL: 'postgres//db/tgz' })),
    )
    for (const [i, result] of results.entries()) {
      expect(result.code, commands[i]).toBe(2)
      expect(oneLine(result.stderr)).toBe(
        'tasksgodzilla: Invalid TASKSGODZILLA_DB_URL="postgres//db/tgz": expected a postgres://, postgresql:// or sqlite:/// URL',
      )
    }
  })

  it('names the database setting, not a migration, when Postgres cannot be reached', async () => {
    const port = await closedPort()
    const env = { TASKSGODZILLA_DB_URL: `postgresql://tgz:s3cret-pw@127.0.0.1:${port}/tgz` }
    const results = await Promise.all([runCli(['serve', '--port', '0'], env), runCli(['migrate'], env)])
    for (const result of results) {
      expect(result.code).toBe(1)
      const line = oneLine(result.stderr)
      expect(line).toBe(
        `tasksgodzilla: The postgres database cannot be used (connect ECONNREFUSED 127.0.0.1:${port}); check TASKSGODZILLA_DB_URL`,
      )
    }
  })

  it('names the Redis setting when Redis cannot be reached, for the API and the worker', async () => {
    const [dbPort, redisPort] = [await closedPort(), await closedPort()]
    const env = {
      TASKSGODZILLA_DB_URL: `postgresql://tgz@127.0.0.1:${dbPort}/tgz`,
      TASKSGODZILLA_REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${redisPort}`,
    }
    const results = await Promise.all([runCli(['serve'], env), runCli(['worker'], env)])
    for (const result of results) {
      expect(result.code).toBe(1)
      const line = oneLine(result.stderr)
      expect(line).toContain('check TASKSGODZILLA_REDIS_URL')
      expect(line).not.toContain('s3cret-pw')
    }
  })

  it('tells a worker started without Redis where jobs run instead', async () => {
    const result = await runCli(['worker'], { TASKSGODZILLA_DB_URL: 'postgresql://tgz@127.0.0.1:1/tgz' })
    expect(result.code).toBe(2)
    expect(oneLine(result.stderr)).toContain('tasksgodzilla worker needs TASKSGODZILLA_REDIS_URL=redis://')
  })
})
