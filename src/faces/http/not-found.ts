import type { FastifyInstance } from 'fastify'

/**
 * 404 `Not Found` for unknown paths and 405 `Method Not Allowed` for known paths asked with
 * another method, as the original answered. Route templates are collected as they register.
 */
export const installNotFound = (server: FastifyInstance): void => {
  const templates: RegExp[] = []
  server.addHook('onRoute', (route) => {
    const pattern = route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')
    templates.push(new RegExp(`^${pattern.replace(/\\\*$/, '.*')}/?$`))
  })
  server.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const known = templates.some((template) => template.test(path))
    return known
      ? reply.status(405).send({ detail: 'Method Not Allowed' })
      : reply.status(404).send({ detail: 'Not Found' })
  })
}
