import type { FastifyInstance } from 'fastify'

/**
 * 404 `Not Found` for unknown paths and 405 `Method Not Allowed` for known paths asked with
 * another method, as the original answered. Route templates and their methods are collected as
 * they register, so a route that exists for this method but finds nothing (a console asset that
 * is not there) answers 404, not 405.
 */
export const installNotFound = (server: FastifyInstance): void => {
  const templates: { readonly pattern: RegExp; readonly methods: readonly string[] }[] = []
  server.addHook('onRoute', (route) => {
    const pattern = route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')
    const methods = [route.method].flat().map((method) => method.toUpperCase())
    templates.push({ pattern: new RegExp(`^${pattern.replace(/\\\*$/, '.*')}/?$`), methods })
  })
  server.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const method = request.method === 'HEAD' ? 'GET' : request.method
    const matching = templates.filter((template) => template.pattern.test(path))
    const otherMethodOnly = matching.length > 0 && !matching.some((t) => t.methods.includes(method))
    return otherMethodOnly
      ? reply.status(405).send({ detail: 'Method Not Allowed' })
      : reply.status(404).send({ detail: 'Not Found' })
  })
}
