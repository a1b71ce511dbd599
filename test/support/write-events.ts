// A separate process that writes events to the same database, as a worker or another API would.
// Usage: node --import tsx write-events.ts <projectId> <count> <prefix>  (config from the environment)
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { openRuntime } from '../../src/composition/index.js'
import { silentStream } from './api.js'

const [projectId, count, prefix] = process.argv.slice(2)
const config = loadConfig(process.env, process.cwd())
const runtime = await openRuntime(config, createLogger(config, silentStream()))
for (let i = 0; i < Number(count); i++) {
  await runtime.deps.uow.run((tx) =>
    tx.events.append({ projectId: Number(projectId), eventType: 'external', message: `${prefix}-${i}` }),
  )
}
await runtime.close()
