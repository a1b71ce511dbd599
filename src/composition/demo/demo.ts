import { mkdirSync } from 'node:fs'
import { loadConfig, type Config } from '../../config.js'
import type { Logger } from '../../logging.js'
import { startServer, type RunningServer } from '../serve.js'
import { createDemoClient } from './demo-client.js'
import { driveDemo } from './demo-driver.js'
import { createSampleRepo, demoEnv } from './demo-environment.js'

export interface DemoOptions {
  /** Folder for the sample repository, database and logs (created when missing). */
  readonly dir: string
  readonly port?: number
}

export interface RunningDemo extends RunningServer {
  readonly projectId: number
  readonly protocolRunId: number
  readonly consoleUrl: string
}

/**
 * `tasksgodzilla demo`: a sample repository, the server embedded with the bundled demo agent as
 * the `command` engine, and a project and protocol created and started through the API.
 */
export const startDemo = async (
  env: Readonly<Record<string, string | undefined>>,
  options: DemoOptions,
  logger: (config: Config) => Logger,
): Promise<RunningDemo> => {
  mkdirSync(options.dir, { recursive: true })
  const repo = createSampleRepo(options.dir)
  const config = loadConfig({ ...env, ...demoEnv(options.dir) }, options.dir)
  const running = await startServer(config, logger(config), { port: options.port ?? 0 })
  const client = createDemoClient(running.address, config.api.token)
  const project = await client.call('POST', '/projects', {
    name: `demo-${Date.now().toString(36)}`,
    git_url: repo,
    local_path: repo,
    default_models: { engine: 'command' },
  })
  const protocol = await client.call('POST', `/projects/${project.id}/protocols`, {
    protocol_name: '0001-demo',
    description: 'Add a short usage section to the README',
  })
  await client.call('POST', `/protocols/${protocol.id}/actions/start`, {})
  const driver = driveDemo(client.read, client.call, protocol.id)
  return {
    ...running,
    stop: async () => {
      driver.stop()
      await running.stop()
    },
    projectId: project.id,
    protocolRunId: protocol.id,
    consoleUrl: `${running.address}/console/`,
  }
}
