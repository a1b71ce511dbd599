import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { FastifyPluginAsync, FastifyRequest, InjectOptions, LightMyRequestResponse } from 'fastify'
import { ApiCallError, detailOfBody, type ApiCaller } from './api-caller.js'
import type { McpCaller, McpTasks } from '../../app/mcp/mcp-tasks.js'
import { createDbTaskStore } from './db-task-store.js'
import { createMcpServer } from './mcp-tools.js'

export interface McpHttpOptions {
  /** The API's own `inject`, so tools run the very routes (auth, validation, presenters) a REST caller would. */
  readonly inject: Inject
  /** The caller's MCP tasks in the shared store; with it, `watch_run` is offered as a task. */
  readonly tasks?: (caller: McpCaller) => McpTasks
}

type Inject = (options: InjectOptions) => Promise<LightMyRequestResponse>

/** Headers of the MCP request that carry the caller's identity into each API call it makes. */
const FORWARDED = ['authorization', 'x-project-token', 'x-request-id'] as const

/**
 * `/mcp`, the streamable HTTP transport in stateless mode: each POST gets a fresh MCP server
 * whose tools call the API in-process as the same caller. The bearer check is the API's own
 * (`/mcp` is not exempt from it), so a missing or wrong token is a 401 before MCP sees anything.
 */
export const mcpHttpRoutes: FastifyPluginAsync<McpHttpOptions> = async (server, { inject, tasks }) => {
  server.post('/mcp', { schema: { hide: true } }, async (request, reply) => {
    const store = tasks && createDbTaskStore(tasks(credentialsOf(request)))
    const mcp = createMcpServer(callerFor(inject, request), store ? { tasks: store } : {})
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    })
    reply.raw.on('close', () => {
      void transport.close()
      void mcp.close()
    })
    await mcp.connect(transport)
    reply.hijack()
    await transport.handleRequest(request.raw, reply.raw, request.body)
  })
  // Stateless: no server-initiated stream to resume and no session to end.
  for (const method of ['GET', 'DELETE'] as const)
    server.route({
      method,
      url: '/mcp',
      schema: { hide: true },
      handler: async (_request, reply) =>
        reply
          .status(405)
          .header('allow', 'POST')
          .send({ detail: 'Method Not Allowed', code: 'ORC_BAD_REQUEST' }),
    })
}

/** The credentials a task is bound to: the API bearer and the project token of the request. */
const credentialsOf = (request: FastifyRequest): McpCaller => {
  const header = (name: string) => {
    const value = request.headers[name]
    return typeof value === 'string' ? value : undefined
  }
  return { authorization: header('authorization'), projectToken: header('x-project-token') }
}

const callerFor =
  (inject: Inject, request: FastifyRequest): ApiCaller =>
  async (method, path, body) => {
    const headers: Record<string, string> = {}
    for (const name of FORWARDED) {
      const value = request.headers[name]
      if (typeof value === 'string') headers[name] = value
    }
    const options: InjectOptions = { method, url: path, headers }
    if (body !== undefined) options.payload = body as object
    const response = await inject(options)
    if (response.statusCode >= 400) throw new ApiCallError(response.statusCode, detailOfBody(response.body))
    return response.body === '' ? null : (JSON.parse(response.body) as unknown)
  }
