import { execFileSync, spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from './deploy-files.js'

/** Whether a Docker engine answers (the client alone is not enough to build). */
const engineAnswers = (): boolean =>
  spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0
const ENGINE = engineAnswers()
if (!ENGINE) console.warn('[deploy] image test SKIPPED: no Docker engine answers `docker info`')

const TAG = `tasksgodzilla:test-${process.pid}`
const docker = (...args: string[]): string =>
  execFileSync('docker', args, { cwd: ROOT, encoding: 'utf8' }).trim()

describe.skipIf(!ENGINE)('container image (needs a Docker engine)', () => {
  let container: string | undefined
  afterAll(() => {
    if (container) spawnSync('docker', ['rm', '-f', container], { stdio: 'ignore' })
    spawnSync('docker', ['rmi', TAG], { stdio: 'ignore' })
  })

  it(
    'builds, starts as a non-root user and answers /health',
    async () => {
      docker('build', '-t', TAG, '.')
      container = docker(
        'run',
        '-d',
        '-e',
        'TASKSGODZILLA_API_TOKEN=image-test-token',
        '-p',
        '127.0.0.1::8010',
        TAG,
      )
      const port = docker('port', container, '8010/tcp').split(':').at(-1)
      const deadline = Date.now() + 60_000
      let status = 0
      while (Date.now() < deadline && status !== 200) {
        status = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.status,
          () => 0,
        )
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 500))
      }
      expect(status).toBe(200)
      expect(docker('exec', container, 'id', '-u')).not.toBe('0')
    },
    15 * 60_000,
  )
})
