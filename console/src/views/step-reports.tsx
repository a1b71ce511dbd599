import type { JsonObject, JsonValue, OrchestratorEvent, StepRun } from '../api/types.js'
import { EventList } from '../components/event-list.js'
import { JsonView } from '../components/json-view.js'
import { Markdown } from '../components/markdown.js'
import { RelTime } from '../components/rel-time.js'
import { StatusBadge } from '../components/status-badge.js'
import { externalHref } from '../logic/markdown.js'

/** QA outcomes the server records on a step (run-quality job, inline QA, policy skip). */
const QA_OUTCOME = /^qa_(passed|failed|error|skipped|blocked)/

const text = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' && value.trim() ? value : undefined

const objectOf = (value: JsonValue | undefined): JsonObject | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? value : undefined

/** The newest QA outcome of the step, with the report the QA agent wrote (`metadata.report`). */
export const QaReport = ({ events }: { events: readonly OrchestratorEvent[] }) => {
  const verdict = events.find((e) => QA_OUTCOME.test(e.event_type))
  if (!verdict) return <p class="muted">No QA verdict yet. Run QA on the step to get one.</p>
  const meta = verdict.metadata ?? {}
  const report = text(meta.report)
  const tone = verdict.event_type.startsWith('qa_passed')
    ? 'completed'
    : verdict.event_type.startsWith('qa_skipped')
      ? 'cancelled'
      : 'failed'
  const engine = [text(meta.engine_id), text(meta.model)].filter(Boolean).join(' · ')
  return (
    <div class="qa-report" data-verdict={text(meta.verdict) ?? verdict.event_type}>
      <p>
        <StatusBadge status={tone} /> {verdict.message} <RelTime value={verdict.created_at} />
        {engine && <span class="muted small"> · {engine}</span>}
      </p>
      {text(meta.verdict_line) && <p class="mono small">{text(meta.verdict_line)}</p>}
      {report ? <Markdown source={report} /> : <JsonView value={verdict.metadata} label="details" />}
    </div>
  )
}

/** Labels for the CI failure fields the webhooks record in `runtime_state.ci_failure`. */
const CI_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['provider', 'Provider'],
  ['event', 'Event'],
  ['workflow', 'Workflow'],
  ['check', 'Check'],
  ['context', 'Context'],
  ['pipeline_id', 'Pipeline'],
  ['stage', 'Stage'],
  ['job', 'Job'],
  ['conclusion', 'Conclusion'],
  ['status', 'Status'],
  ['failure_reason', 'Reason'],
  ['description', 'Description'],
  ['sha', 'Commit'],
]

const isCiEvent = (event: OrchestratorEvent): boolean => {
  const provider = event.metadata?.provider
  return event.event_type.startsWith('ci_') || provider === 'github' || provider === 'gitlab'
}

/** The step's CI failure (what failed, where to look, the log excerpt) and its CI events. */
export const CiDetails = ({
  step,
  events,
}: {
  step: StepRun | undefined
  events: readonly OrchestratorEvent[]
}) => {
  const failure = objectOf(step?.runtime_state?.ci_failure)
  const ci = events.filter(isCiEvent)
  if (!failure && ci.length === 0)
    return <p class="muted">No CI report for this step. CI results arrive through the webhooks.</p>
  const url = externalHref(text(failure?.url))
  const excerpt = text(failure?.log_excerpt)
  return (
    <div class="ci-details">
      {failure && (
        <>
          <dl class="facts">
            {CI_FIELDS.flatMap(([key, label]) => {
              const value = failure[key]
              if (value === undefined || value === null || value === '') return []
              const shown = key === 'sha' && typeof value === 'string' ? value.slice(0, 12) : String(value)
              return [<dt key={`k-${key}`}>{label}</dt>, <dd key={`v-${key}`}>{shown}</dd>]
            })}
            {url && (
              <>
                <dt>Details</dt>
                <dd class="wrap">
                  <a href={url} target="_blank" rel="noopener noreferrer">
                    {url}
                  </a>
                </dd>
              </>
            )}
          </dl>
          {excerpt && (
            <pre class="ci-log" aria-label="CI log excerpt">
              {excerpt}
            </pre>
          )}
        </>
      )}
      {ci.length > 0 && <EventList events={ci.slice(0, 5)} />}
    </div>
  )
}
