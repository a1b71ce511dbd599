import { isAppError } from '../../../domain/app-error.js'
import type { JsonObject } from '../../../domain/json.js'

/** Engine failures a job records as a step/run outcome instead of retrying. */
export interface EngineFailure {
  readonly eventType: 'engine_unavailable' | 'engine_timeout' | 'engine_error'
  readonly message: string
  readonly metadata: JsonObject
}

/**
 * Classifies an engine error: a missing binary, a timeout or an unregistered engine are
 * outcomes; cancellation and anything else are rethrown (the queue retries or stops the job).
 */
export const engineFailure = (error: unknown): EngineFailure => {
  if (!isAppError(error) || error.code === 'ORC_ENGINE_CANCELLED') throw error
  const binary = typeof error.details?.binary === 'string' ? error.details.binary : null
  if (error.code === 'ORC_ENGINE_UNAVAILABLE')
    return { eventType: 'engine_unavailable', message: error.message, metadata: { binary } }
  if (error.code === 'ORC_ENGINE_TIMEOUT')
    return { eventType: 'engine_timeout', message: error.message, metadata: { binary } }
  if (error.code === 'ORC_ENGINE_NOT_REGISTERED' || error.code === 'ORC_ENGINE_EXITED')
    return { eventType: 'engine_error', message: error.message, metadata: { code: error.code } }
  throw error
}
