/**
 * Hash routes: `#/projects/3/runs/42`. The hash keeps every view a shareable URL without any
 * server rewrite, and works unchanged behind a path prefix. Project-scoped pages carry the
 * project id, which is also what scopes the project token.
 */
export type Route =
  | { readonly name: 'dashboard' }
  | { readonly name: 'projects' }
  | { readonly name: 'project-new' }
  | { readonly name: 'project'; readonly projectId: number }
  | { readonly name: 'project-edit'; readonly projectId: number }
  | { readonly name: 'run-new'; readonly projectId: number }
  | { readonly name: 'import'; readonly projectId: number }
  | { readonly name: 'notifications'; readonly projectId: number }
  | { readonly name: 'run'; readonly projectId: number; readonly runId: number }
  | { readonly name: 'step'; readonly projectId: number; readonly runId: number; readonly stepId: number }
  | { readonly name: 'queue'; readonly status?: string }
  | { readonly name: 'settings' }
  | { readonly name: 'not-found'; readonly path: string }

const id = (text: string | undefined): number | undefined =>
  text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined

export const parseRoute = (hash: string): Route => {
  const [pathPart = '', queryPart = ''] = hash.replace(/^#/, '').split('?')
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent)
  const query = new URLSearchParams(queryPart)
  const [a, b, c, d, e, f] = parts
  const projectId = id(b)
  const runId = id(d)
  if (parts.length === 0) return { name: 'dashboard' }
  if (a === 'queue' && parts.length === 1) return { name: 'queue', status: query.get('status') ?? undefined }
  if (a === 'settings' && parts.length === 1) return { name: 'settings' }
  if (a === 'projects') {
    if (parts.length === 1) return { name: 'projects' }
    if (b === 'new' && parts.length === 2) return { name: 'project-new' }
    if (projectId !== undefined) {
      if (parts.length === 2) return { name: 'project', projectId }
      if (c === 'edit' && parts.length === 3) return { name: 'project-edit', projectId }
      if (c === 'import' && parts.length === 3) return { name: 'import', projectId }
      if (c === 'notifications' && parts.length === 3) return { name: 'notifications', projectId }
      if (c === 'runs' && d === 'new' && parts.length === 4) return { name: 'run-new', projectId }
      if (c === 'runs' && runId !== undefined) {
        if (parts.length === 4) return { name: 'run', projectId, runId }
        const stepId = id(f)
        if (e === 'steps' && stepId !== undefined && parts.length === 6)
          return { name: 'step', projectId, runId, stepId }
      }
    }
  }
  return { name: 'not-found', path: pathPart }
}

/** The `href` of a route, always starting with `#/`. */
export const href = (route: Route): string => {
  switch (route.name) {
    case 'dashboard':
      return '#/'
    case 'projects':
      return '#/projects'
    case 'project-new':
      return '#/projects/new'
    case 'project':
      return `#/projects/${route.projectId}`
    case 'project-edit':
      return `#/projects/${route.projectId}/edit`
    case 'run-new':
      return `#/projects/${route.projectId}/runs/new`
    case 'import':
      return `#/projects/${route.projectId}/import`
    case 'notifications':
      return `#/projects/${route.projectId}/notifications`
    case 'run':
      return `#/projects/${route.projectId}/runs/${route.runId}`
    case 'step':
      return `#/projects/${route.projectId}/runs/${route.runId}/steps/${route.stepId}`
    case 'queue':
      return route.status ? `#/queue?status=${encodeURIComponent(route.status)}` : '#/queue'
    case 'settings':
      return '#/settings'
    case 'not-found':
      return `#/${route.path}`
  }
}

export const navigate = (route: Route): void => {
  window.location.hash = href(route)
}
