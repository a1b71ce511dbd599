import type { JsonObject, OrchestratorEvent } from '../api/types.js'
import { eventTone } from '../logic/status.js'
import { href } from '../router.js'
import { JsonView } from './json-view.js'
import { RelTime } from './rel-time.js'

export interface EventListProps {
  readonly events: readonly OrchestratorEvent[]
  /** Show project/run context (for cross-project feeds). */
  readonly context?: boolean
  /** The project the events belong to, when the list is scoped, for step links. */
  readonly projectId?: number
  readonly empty?: string
}

/** A timeline, newest first. Every string from the server is rendered as text. */
export const EventList = ({ events, context, projectId, empty }: EventListProps) => {
  if (events.length === 0) return <p class="muted">{empty ?? 'No events yet.'}</p>
  return (
    <ol class="events" aria-live="polite">
      {events.map((event) => {
        const project = event.project_id ?? projectId
        const runLink =
          project !== undefined && project !== null && event.protocol_run_id
            ? href({ name: 'run', projectId: project, runId: event.protocol_run_id })
            : undefined
        const meta = withoutRequestId(event.metadata)
        return (
          <li key={event.id} class={`event tone-${eventTone(event.event_type)}`} data-event-id={event.id}>
            <div class="event-head">
              <span class="event-type">{event.event_type}</span>
              <RelTime value={event.created_at} />
              {context && (event.project_name || event.protocol_name) && (
                <span class="event-context">
                  {projectId === undefined && event.project_name}
                  {event.protocol_name && runLink ? (
                    <>
                      {projectId === undefined && event.project_name ? ' · ' : ''}
                      <a href={runLink}>{event.protocol_name}</a>
                    </>
                  ) : (
                    event.protocol_name && ` · ${event.protocol_name}`
                  )}
                </span>
              )}
              {event.step_run_id && project && event.protocol_run_id && (
                <a
                  class="event-step"
                  href={href({
                    name: 'step',
                    projectId: project,
                    runId: event.protocol_run_id,
                    stepId: event.step_run_id,
                  })}
                >
                  step #{event.step_run_id}
                </a>
              )}
            </div>
            <p class="event-message">{event.message}</p>
            {meta && Object.keys(meta).length > 0 && <JsonView value={meta} label="details" />}
          </li>
        )
      })}
    </ol>
  )
}

/** The request id is for logs, not for people reading a timeline. */
const withoutRequestId = (metadata: JsonObject | null): JsonObject | null => {
  if (!metadata) return null
  const { request_id: _requestId, ...rest } = metadata
  return rest
}
