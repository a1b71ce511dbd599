import { describe, expect, it } from 'vitest'
import type { HealthReport } from '../../../app/health.js'
import { sharedHealthCheck } from './health.routes.js'

const OK: HealthReport = { status: 'ok', checks: { db: 'ok' } }
const DEGRADED: HealthReport = { status: 'degraded', checks: { db: 'error' } }

const counting = (reports: HealthReport[]) => {
  let calls = 0
  const check = async () => reports[Math.min(calls++, reports.length - 1)]!
  return { check, calls: () => calls }
}

describe('shared health check', () => {
  it('asks the probes once for calls that overlap and reuses a healthy report for its window', async () => {
    const probe = counting([OK])
    const health = sharedHealthCheck(probe.check, 60_000)
    expect(await Promise.all([health(), health(), health()])).toEqual([OK, OK, OK])
    expect(await health()).toEqual(OK)
    expect(probe.calls()).toBe(1)
  })

  it('asks again once the window has passed', async () => {
    const probe = counting([OK, DEGRADED])
    const health = sharedHealthCheck(probe.check, 20)
    expect(await health()).toEqual(OK)
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(await health()).toEqual(DEGRADED)
  })

  it('never reuses a degraded report, so recovery shows on the next call', async () => {
    const probe = counting([DEGRADED, OK])
    const health = sharedHealthCheck(probe.check, 60_000)
    expect(await health()).toEqual(DEGRADED)
    expect(await health()).toEqual(OK)
    expect(probe.calls()).toBe(2)
  })
})
