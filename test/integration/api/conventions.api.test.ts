import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, createProtocol, openTestApi, type TestApi } from '../../support/api.js'

describe('HTTP conventions', () => {
  let api: TestApi
  beforeAll(async () => {
    api = await openTestApi('sqlite', { TASKSGODZILLA_BODY_LIMIT_BYTES: '2048' })
  })
  afterAll(() => api.close())

  it('answers unknown routes with 404 Not Found and wrong methods with 405', async () => {
    expect((await api.request('GET', '/nope')).json()).toEqual({ detail: 'Not Found' })
    const wrongMethod = await api.request('DELETE', '/projects')
    expect(wrongMethod.statusCode).toBe(405)
    expect(wrongMethod.json()).toEqual({ detail: 'Method Not Allowed' })
    expect((await api.request('PUT', '/protocols/1/actions/start')).statusCode).toBe(405)
  })

  it('rejects a non-integer path id with 422 at ["path", name], and accepts a trailing slash', async () => {
    const response = await api.request('GET', '/protocols/abc')
    expect(response.statusCode).toBe(422)
    expect(response.json().detail[0]).toMatchObject({ loc: ['path', 'protocol_run_id'] })
    expect((await api.request('GET', '/health/')).statusCode).toBe(200)
  })

  it('answers malformed JSON with 400 and an oversized body with 413, writing nothing', async () => {
    const before = (await api.request('GET', '/projects')).json().length
    const malformed = await api.request('POST', '/projects', { body: '{"name":' })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json().detail).toBe('Malformed JSON body')
    const huge = await api.request('POST', '/projects', { body: { name: 'x'.repeat(5000), git_url: '/x' } })
    expect(huge.statusCode).toBe(413)
    const poisoned = await api.request('POST', '/projects', {
      body: '{"name":"a","git_url":"/x","__proto__":{"x":1}}',
    })
    expect(poisoned.statusCode).toBe(400)
    expect((await api.request('GET', '/projects')).json().length).toBe(before)
  })

  it('carries X-Request-ID into the response, event metadata and job payloads', async () => {
    const project = await createProject(api)
    const run = await createProtocol(api, project.id)
    const headers = { 'x-request-id': 'trace-me-42' }
    const started = await api.request('POST', `/protocols/${run.id}/actions/start`, { headers })
    expect(started.headers['x-request-id']).toBe('trace-me-42')
    expect(started.json().job.payload.request_id).toBe('trace-me-42')
    const [event] = (
      await api.request('GET', `/protocols/${run.id}/events?event_type=planning_enqueued`)
    ).json()
    expect(event.metadata.request_id).toBe('trace-me-42')
    const generated = await api.request('GET', '/health')
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('labels request metrics by route template, counts errors too, and keeps the original metric names', async () => {
    await api.request('GET', '/protocols/123456')
    const text = (await api.request('GET', '/metrics')).body
    expect(text).toContain(
      'requests_duration_seconds_count{path="/protocols/:protocol_run_id",method="GET",status="404"}',
    )
    expect(text).not.toContain('path="/protocols/123456"')
    for (const name of [
      'requests_total',
      'webhooks_total',
      'jobs_processed_total',
      'codex_token_estimated_total',
      'qa_verdict_total',
      'process_cpu_seconds_total',
    ]) {
      expect(text).toContain(`# TYPE ${name}`)
    }
  })

  it('reports the queue in the original shape and lists no job for an unknown status', async () => {
    const stats = (await api.request('GET', '/queues')).json()
    expect(stats).toMatchObject({
      backend: 'embedded',
      default: { queued: expect.any(Number), started: 0, finished: 0, failed: 0, delayed: 0 },
    })
    expect((await api.request('GET', '/queues/jobs?status=bogus')).json()).toEqual([])
  })

  it('enqueues a spec audit and requires a body', async () => {
    const response = await api.request('POST', '/specs/audit', { body: { backfill: true } })
    expect(response.json()).toMatchObject({
      message: 'Spec audit enqueued.',
      job: { job_type: 'spec_audit_job', payload: { backfill_missing: true } },
    })
    expect((await api.request('POST', '/specs/audit')).statusCode).toBe(422)
  })

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = (await api.request('GET', '/openapi.json')).json()
    expect(doc.info.title).toBe('TasksGodzilla Orchestrator API')
    expect(Object.keys(doc.paths)).toContain('/protocols/{protocol_run_id}/actions/start')
    expect((await api.request('GET', '/docs/')).statusCode).toBe(200)
  })

  it('sends no CORS headers unless origins are configured', async () => {
    const response = await api.request('GET', '/health', { headers: { origin: 'https://evil.example' } })
    expect(response.headers['access-control-allow-origin']).toBeUndefined()
  })
})
