import { describe, expect, it } from 'vitest'
import { href, parseRoute, type Route } from './router.js'

describe('router', () => {
  const routes: Route[] = [
    { name: 'dashboard' },
    { name: 'projects' },
    { name: 'project-new' },
    { name: 'project', projectId: 3 },
    { name: 'project-edit', projectId: 3 },
    { name: 'run-new', projectId: 3 },
    { name: 'import', projectId: 3 },
    { name: 'notifications', projectId: 3 },
    { name: 'run', projectId: 3, runId: 42 },
    { name: 'step', projectId: 3, runId: 42, stepId: 7 },
    { name: 'queue' },
    { name: 'queue', status: 'failed' },
    { name: 'settings' },
  ]

  it('round-trips every route through its URL', () => {
    for (const route of routes)
      expect(parseRoute(href(route))).toEqual(
        route.name === 'queue' && !route.status ? { name: 'queue', status: undefined } : route,
      )
  })

  it('treats malformed ids and unknown paths as not found', () => {
    expect(parseRoute('#/projects/abc').name).toBe('not-found')
    expect(parseRoute('#/projects/1/runs/2/steps').name).toBe('not-found')
    expect(parseRoute('#/nope').name).toBe('not-found')
    expect(parseRoute('').name).toBe('dashboard')
  })
})
