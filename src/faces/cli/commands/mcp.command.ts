import type { Command } from 'commander'
import { ApiCallError, type ApiCaller } from '../../mcp/api-caller.js'
import { ApiError, UnreachableError, type ApiClient } from '../api-client.js'
import { contextOf, example } from '../context.js'

export const registerMcp = (program: Command): void => {
  program
    .command('mcp')
    .description('Serve the MCP tools on stdin/stdout, calling the API at --api-base as this CLI would')
    .addHelpText('after', example('tasksgodzilla mcp --api-base http://127.0.0.1:8010'))
    .action(async (_options: unknown, command: Command) => {
      const { client } = contextOf(command)
      // Loaded here: the MCP SDK and the tools' schemas cost every other command ~0.2 s of start-up.
      const [{ StdioServerTransport }, { createMcpServer }] = await Promise.all([
        import('@modelcontextprotocol/sdk/server/stdio.js'),
        import('../../mcp/mcp-tools.js'),
      ])
      const server = createMcpServer(callerOf(client), { tasks: 'memory' })
      const transport = new StdioServerTransport()
      const closed = new Promise<void>((resolve) => {
        transport.onclose = resolve
        process.stdin.once('end', resolve)
      })
      await server.connect(transport)
      await closed
    })
}

/** The CLI's API client as an ApiCaller; the API's refusals become tool errors, not crashes. */
const callerOf =
  (client: ApiClient): ApiCaller =>
  async (method, path, body) => {
    try {
      return method === 'GET' ? await client.get(path) : await client.post(path, body ?? {})
    } catch (error) {
      if (error instanceof ApiError) throw new ApiCallError(error.status, error.detail)
      if (error instanceof UnreachableError) throw new ApiCallError(503, error.message)
      throw error
    }
  }
