import type { JsonObject } from '../domain/json.js'
import type { ProtocolRun } from '../domain/protocol-run.js'
import type { ChangeOrigin } from './context.js'
import type { ChangeEvent } from './state-changes.js'
import { withTrace } from './context.js'
import type { Repositories } from './ports.js'
import { summarizeSpec } from './protocols/spec-summary.js'

/** Metadata of an API-written run event: the run's spec hash joins it unless the key is present. */
export const runEventMetadata = (run: ProtocolRun, metadata: JsonObject = {}): JsonObject => {
  if ('spec_hash' in metadata) return metadata
  const hash = summarizeSpec(run).specHash
  return hash === null ? metadata : { ...metadata, spec_hash: hash }
}

/** An event about a run (and optionally one of its steps), traced to the request. */
export const appendRunEvent = (
  repos: Pick<Repositories, 'events'>,
  run: ProtocolRun,
  event: ChangeEvent,
  ctx: ChangeOrigin,
  stepRunId?: number,
) =>
  repos.events.append({
    projectId: run.projectId,
    protocolRunId: run.id,
    stepRunId: stepRunId ?? null,
    eventType: event.type,
    message: event.message,
    metadata: withTrace(runEventMetadata(run, event.metadata), ctx),
  })
