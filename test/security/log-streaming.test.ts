import { appendFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { changeStepStatus } from '../../src/app/state-changes.js'
import { openTestApi, runningStepWithLog as runningStepWithLogIn, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { removeDir, tempDir } from '../support/git-repos.js'

const LINES = Array.from({ length: 5000 }, (_, i) => `line ${i + 1} ${'x'.repeat(40)}`)

describe.each(DIALECTS)('step logs stream with tail/offset and a per-caller cap on %s', (dialect) => {
  let api: TestApi
  let dir: string
  beforeAll(async () => {
    if (unavailable(dialect)) return
    api = await openTestApi(dialect)
    dir = tempDir('tgz-sec-logs-')
  })
  afterAll(async () => {
    await api?.close()
    if (dir) removeDir(dir)
  })

  /** A running step whose log holds LINES. */
  const runningStepWithLog = () => runningStepWithLogIn(api, dir, `${LINES.join('\n')}\n`)

  it.skipIf(unavailable(dialect))(
    'serves the last N lines, or from a byte offset, with the size to resume from',
    async () => {
      const { step, logPath } = await runningStepWithLog()
      const tail = await api.request('GET', `/steps/${step.id}/logs?tail=3`)
      expect(tail.statusCode).toBe(200)
      expect(tail.body).toBe(`${LINES.slice(-3).join('\n')}\n`)
      const size = Number(tail.headers['x-log-size'])
      expect(size).toBe(Buffer.byteLength(`${LINES.join('\n')}\n`))
      appendFileSync(logPath, 'appended later\n')
      const rest = await api.request('GET', `/steps/${step.id}/logs?offset=${size}`)
      expect(rest.body).toBe('appended later\n')
      expect((await api.request('GET', `/steps/${step.id}/logs?tail=1`)).body).toBe('appended later\n')
      const whole = await api.request('GET', `/steps/${step.id}/logs`)
      expect(whole.body.split('\n')).toHaveLength(LINES.length + 2)
      const both = await api.request('GET', `/steps/${step.id}/logs?tail=1&offset=0`)
      expect(both.statusCode).toBe(422)
      expect((await api.request('GET', `/steps/${step.id}/logs?tail=0`)).statusCode).toBe(422)
    },
  )

  it.skipIf(unavailable(dialect))('a follow with tail starts at the last lines', async () => {
    const { step } = await runningStepWithLog()
    await api.runtime.deps.uow.run(async (tx) => {
      const stored = (await tx.steps.findById(step.id))!
      const run = (await tx.runs.findById(stored.protocolRunId))!
      await changeStepStatus(tx, run, stored, {
        action: 'executed',
        event: { type: 't', message: 't' },
        origin: {},
      })
    })
    const response = await api.request('GET', `/steps/${step.id}/logs?follow=1&tail=2`)
    const data = response.body
      .split('\n')
      .filter((line) => line.startsWith('data: "'))
      .map((line) => JSON.parse(line.slice(6)) as string)
    expect(data).toEqual(LINES.slice(-2))
  })

  it.skipIf(unavailable(dialect))(
    'the 17th concurrent stream of one caller gets 429, events stream included, until one closes',
    async () => {
      const { step } = await runningStepWithLog()
      await api.server.listen({ host: '127.0.0.1', port: 0 })
      const base = `http://127.0.0.1:${(api.server.server.address() as AddressInfo).port}`
      const aborts: AbortController[] = []
      const open = async (path: string, headers: Record<string, string> = {}) => {
        const abort = new AbortController()
        aborts.push(abort)
        return fetch(`${base}${path}`, { signal: abort.signal, headers })
      }
      try {
        const follows = await Promise.all(
          Array.from({ length: 16 }, () => open(`/steps/${step.id}/logs?follow=1&tail=1`)),
        )
        expect(follows.map((r) => r.status)).toEqual(Array(16).fill(200))
        const refused = await open(`/steps/${step.id}/logs?follow=1`)
        expect(refused.status).toBe(429)
        expect(((await refused.json()) as { detail: string }).detail).toMatch(
          /Too many open streams.*16 of 16/,
        )
        expect((await open('/events/stream')).status).toBe(429)
        // Another caller (its own project token) has its own allowance.
        expect((await open('/events/stream', { 'x-project-token': 'someone-else' })).status).toBe(200)
        aborts[0]!.abort()
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect((await open(`/steps/${step.id}/logs?follow=1&tail=1`)).status).toBe(200)
      } finally {
        for (const abort of aborts) abort.abort()
      }
    },
  )
})

describe.each(DIALECTS)('a process-wide cap on open streams on %s', (dialect) => {
  let api: TestApi
  beforeAll(async () => {
    if (unavailable(dialect)) return
    api = await openTestApi(dialect, { TASKSGODZILLA_MAX_STREAMS: '3' })
  })
  afterAll(async () => {
    await api?.close()
  })

  it.skipIf(unavailable(dialect))(
    'refuses the stream past the cap with 503 ORC_STREAMS_FULL whoever asks, until one closes',
    async () => {
      await api.server.listen({ host: '127.0.0.1', port: 0 })
      const base = `http://127.0.0.1:${(api.server.server.address() as AddressInfo).port}`
      const aborts: AbortController[] = []
      // Each stream from a caller of its own: no per-caller cap is near.
      const open = async (caller: string) => {
        const abort = new AbortController()
        aborts.push(abort)
        return fetch(`${base}/events/stream`, {
          signal: abort.signal,
          headers: { 'x-project-token': caller },
        })
      }
      try {
        const held = await Promise.all(['a', 'b', 'c'].map(open))
        expect(held.map((r) => r.status)).toEqual([200, 200, 200])
        const refused = await open('d')
        expect(refused.status).toBe(503)
        expect(await refused.json()).toMatchObject({
          code: 'ORC_STREAMS_FULL',
          detail: 'The server holds its maximum of 3 open streams; retry later',
        })
        aborts[0]!.abort()
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect((await open('d')).status).toBe(200)
      } finally {
        for (const abort of aborts) abort.abort()
      }
    },
  )
})
