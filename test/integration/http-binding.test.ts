import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { startServer } from '../../src/composition/index.js'

/** Starts the server (no jobs) with the given environment; returns where it listened and its log lines. */
const start = async (env: Record<string, string>, host?: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgz-bind-'))
  const lines: Array<{ msg?: string; level?: number }> = []
  const sink = new Writable({
    write: (chunk, _encoding, done) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const config = loadConfig(
    { TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'), TASKSGODZILLA_LOG_JSON: '1', ...env },
    dir,
  )
  const running = await startServer(config, createLogger(config, sink), { port: 0, runJobs: false, host })
  const address = running.server.server.address()
  await running.stop()
  return { host: typeof address === 'object' && address ? address.address : '', lines }
}

const warned = (lines: Array<{ msg?: string; level?: number }>) =>
  lines.some((l) => l.level === 40 && /TASKSGODZILLA_API_TOKEN is not set/.test(l.msg ?? ''))

describe('where the API listens', () => {
  it('stays on loopback and warns when no API token is configured and no host was asked for', async () => {
    const { host, lines } = await start({})
    expect(host).toBe('127.0.0.1')
    expect(warned(lines)).toBe(true)
  })

  it('listens where it was told to, still warning, when a host is given explicitly without a token', async () => {
    const { host, lines } = await start({ TASKSGODZILLA_API_HOST: '0.0.0.0' })
    expect(host).toBe('0.0.0.0')
    expect(warned(lines)).toBe(true)
  })

  it('listens on every interface without a warning once an API token is set', async () => {
    const { host, lines } = await start({ TASKSGODZILLA_API_TOKEN: 'bind-test-token' })
    expect(host).toBe('0.0.0.0')
    expect(warned(lines)).toBe(false)
  })
})
