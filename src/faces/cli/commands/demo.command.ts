import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { compositionRoot } from '../composition-root.js'
import { createLogger } from '../../../logging.js'
import { onShutdown, parsePort } from '../process.js'

export const registerDemo = (program: Command): void => {
  program
    .command('demo')
    .description('Run a protocol end to end on a sample repository with the bundled demo agent')
    .option('--dir <dir>', 'folder for the sample repo, database and logs (default: a new temp folder)')
    .option('--port <port>', 'port to listen on (default: any free port)', parsePort)
    .addHelpText('after', '\nExample:\n  $ tasksgodzilla demo --dir ./demo-data --port 8011')
    .action(async (options: { dir?: string; port?: number }) => {
      const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'tasksgodzilla-demo-'))
      const { startDemo } = await compositionRoot()
      const demo = await startDemo(
        process.env,
        { dir, ...(options.port ? { port: options.port } : {}) },
        (config) => createLogger(config),
      )
      const lines = [
        `Demo data:      ${dir}`,
        `Console:        ${demo.consoleUrl}`,
        `Protocol run:   ${demo.address}/protocols/${demo.protocolRunId}`,
        `Events (SSE):   ${demo.address}/events/stream?protocol_run_id=${demo.protocolRunId}`,
        `Step logs:      ${demo.address}/steps/<step id>/logs?follow=1`,
        'Press Ctrl+C to stop.',
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
      onShutdown(() => demo.stop())
    })
}
