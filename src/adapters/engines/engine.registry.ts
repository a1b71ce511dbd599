import { AppError } from '../../domain/app-error.js'
import type { AgentEngine, EngineRegistry } from '../../app/engine.port.js'
import { createClaudeEngine } from './claude.engine.js'
import type { CliEngineOptions } from './cli-engine.js'
import { createCodexEngine } from './codex.engine.js'
import { createCommandEngine, type CommandEngineConfig } from './command.engine.js'
import { createOpencodeEngine } from './opencode.engine.js'

/**
 * A registry over the given engines (one per worker context, never a global). The default is
 * `defaultId` when given, else the first engine. Duplicate ids are a programming error.
 */
export const createEngineRegistry = (engines: readonly AgentEngine[], defaultId?: string): EngineRegistry => {
  const byId = new Map<string, AgentEngine>()
  for (const engine of engines) {
    if (byId.has(engine.id)) throw new Error(`Engine ${engine.id} already registered`)
    byId.set(engine.id, engine)
  }
  const chosen = defaultId ?? engines[0]?.id
  if (chosen === undefined || !byId.has(chosen))
    throw new Error(`Default engine ${String(chosen)} is not among the registered engines`)
  return {
    defaultId: chosen,
    has: (id) => byId.has(id),
    ids: () => [...byId.keys()],
    get(id) {
      const engine = byId.get(id)
      if (!engine)
        throw new AppError('ORC_ENGINE_NOT_REGISTERED', `Engine ${JSON.stringify(id)} is not registered`, {
          engine_id: id,
          registered: [...byId.keys()],
        })
      return engine
    },
  }
}

export interface BuiltInEnginesOptions extends CliEngineOptions {
  /** Extra `command` engines (the demo agent, custom agents). */
  readonly commands?: readonly CommandEngineConfig[]
  readonly defaultId?: string
}

/** codex, claude and opencode, plus any configured command engines. */
export const createBuiltInRegistry = (options: BuiltInEnginesOptions = {}): EngineRegistry =>
  createEngineRegistry(
    [
      createCodexEngine(options),
      createClaudeEngine(options),
      createOpencodeEngine(options),
      ...(options.commands ?? []).map((config) => createCommandEngine(config, options)),
    ],
    options.defaultId ?? 'codex',
  )
