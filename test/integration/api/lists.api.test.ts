import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, createProtocol, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

interface Listed {
  readonly id: number
  readonly message: string
  readonly protocol_run_id: number | null
}

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`lists: limits, cursors and filters on ${dialect}`, () => {
    let api: TestApi
    let projectId: number
    let runs: Array<{ id: number; protocol_name: string }>

    const get = async <T>(url: string): Promise<T> => {
      const response = await api.request('GET', url)
      expect(response.statusCode, response.body).toBe(200)
      return response.json() as T
    }
    const created = (query: string) =>
      get<Listed[]>(`/events?project_id=${projectId}&event_type=protocol_created&${query}`)
    const names = (events: Listed[]) => events.map((e) => e.message.split(' ')[1])

    beforeAll(async () => {
      api = await openTestApi(dialect)
      projectId = (await createProject(api)).id
      runs = []
      for (let i = 0; i < 5; i++) runs.push(await createProtocol(api, projectId))
    })
    afterAll(async () => api?.close())

    it('pages events newest first with limit and before_id, and continues with after_id', async () => {
      const expected = runs.map((r) => r.protocol_name).reverse()
      const first = await created('limit=2')
      expect(names(first)).toEqual(expected.slice(0, 2))
      const second = await created(`limit=2&before_id=${first[1]!.id}`)
      expect(names(second)).toEqual(expected.slice(2, 4))
      const newer = await created(`limit=1000&after_id=${second[1]!.id}`)
      expect(names(newer)).toEqual(expected.slice(0, 3))
      expect(await created(`after_id=${first[0]!.id}`)).toEqual([])
    })

    it('filters events by run and by time', async () => {
      const run = runs[2]!
      const ofRun = await get<Listed[]>(`/events?protocol_run_id=${run.id}`)
      expect(ofRun.length).toBeGreaterThan(0)
      expect(ofRun.every((e) => e.protocol_run_id === run.id)).toBe(true)
      expect(names(ofRun.filter((e) => e.message.startsWith('Protocol ')))).toEqual([run.protocol_name])

      const past = new Date(Date.now() - 3_600_000).toISOString()
      const future = new Date(Date.now() + 3_600_000).toISOString()
      expect(await created(`since=${encodeURIComponent(past)}`)).toHaveLength(5)
      expect(await created(`since=${encodeURIComponent(future)}`)).toEqual([])
    })

    it('pages runs with limit and before_id', async () => {
      const all = await get<Array<{ id: number }>>(`/projects/${projectId}/protocols?limit=1000`)
      expect(all.map((r) => r.id).slice(0, 5)).toEqual(runs.map((r) => r.id).reverse())
      const first = await get<Array<{ id: number }>>(`/projects/${projectId}/protocols?limit=3`)
      expect(first).toEqual(all.slice(0, 3))
      const rest = await get<Array<{ id: number }>>(
        `/projects/${projectId}/protocols?limit=3&before_id=${first[2]!.id}`,
      )
      expect(rest).toEqual(all.slice(3, 6))
    })

    it('refuses a limit outside 1..1000 with a 422 naming the query field', async () => {
      for (const url of [
        '/events?limit=1001',
        '/events?limit=0',
        `/projects/${projectId}/protocols?limit=5000`,
      ]) {
        const response = await api.request('GET', url)
        expect(response.statusCode, url).toBe(422)
        expect(response.json().detail[0].loc).toEqual(['query', 'limit'])
      }
      expect(await get<Listed[]>('/events?limit=1000')).toBeInstanceOf(Array)
    })
  })
}
