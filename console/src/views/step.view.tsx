import type { JsonObject, JsonValue, StepRun } from '../api/types.js'
import { ApiError } from '../api/api-error.js'
import { STEP_ACTIONS, type StepActionName } from '../api/endpoints.js'
import { ActionButton } from '../components/action-button.js'
import { Card } from '../components/card.js'
import { Crumbs } from '../components/crumbs.js'
import { ErrorBox } from '../components/error-box.js'
import { Fact } from '../components/fact.js'
import { EventList } from '../components/event-list.js'
import { LiveIndicator } from '../components/live-indicator.js'
import { RelTime } from '../components/rel-time.js'
import { StatusBadge } from '../components/status-badge.js'
import { useConsole } from '../context.js'
import { useDebounced, useResource } from '../hooks.js'
import { useLiveEvents } from '../live/use-live-events.js'
import { stepActions } from '../logic/allowed-actions.js'
import { useEffect, useState } from 'preact/hooks'
import { LogPanel } from './log-panel.js'
import { CiDetails, QaReport } from './step-reports.js'

const LABELS: Record<StepActionName, string> = { run: 'Run', run_qa: 'Run QA', approve: 'Approve' }

/** One step: live agent log, QA report, outputs, CI details, policy and runtime state. */
export const StepView = ({
  projectId,
  runId,
  stepId,
}: {
  projectId: number
  runId: number
  stepId: number
}) => {
  const { endpoints, notify } = useConsole()
  const step = useResource(() => loadStep(endpoints, projectId, runId, stepId), [stepId])
  const run = useResource(() => endpoints.run(projectId, runId), [runId])
  const spec = useResource(() => endpoints.spec(projectId, runId), [runId])
  const [actionError, setActionError] = useState<unknown>(undefined)
  const refresh = useDebounced(() => {
    step.reload()
    run.reload()
  }, 400)
  const live = useLiveEvents(
    { protocol_run_id: runId, project_id: projectId },
    () => endpoints.runEvents(projectId, runId),
    (event) => {
      if (event.step_run_id === stepId || event.step_run_id === null) refresh()
    },
  )
  const s = step.data
  const events = live.events.filter((e) => e.step_run_id === stepId)
  // The header follows the timeline however its newest event arrived (stream, or the first load).
  const newestEventId = events[0]?.id
  useEffect(() => {
    if (newestEventId !== undefined) refresh()
  }, [newestEventId])
  const allowed = s && run.data ? stepActions(run.data, s) : undefined
  const specStep = s ? findSpecStep(spec.data?.spec ?? null, s) : undefined

  return (
    <div class="page">
      <Crumbs projectId={projectId} run={{ id: runId, name: run.data?.protocol_name }} />
      <div class="page-head">
        <h1>{s?.step_name ?? `Step ${stepId}`}</h1>
        {s && <StatusBadge status={s.status} />}
        <LiveIndicator status={live.status} />
      </div>
      <ErrorBox error={step.error} onRetry={step.reload} />
      {s && (
        <>
          <dl class="facts inline">
            <Fact label="Index">{s.step_index}</Fact>
            <Fact label="Type">{s.step_type}</Fact>
            <Fact label="Engine">{s.engine_id ?? '—'}</Fact>
            <Fact label="Model" valueClass="mono">
              {s.model ?? 'default'}
            </Fact>
            <Fact label="Retries">{s.retries}</Fact>
            <Fact label="Tokens">
              {s.tokens_used ? s.tokens_used.toLocaleString() : '—'}
              {s.cost ? ` · $${s.cost.toFixed(2)}` : ''}
            </Fact>
            <Fact label="Updated">
              <RelTime value={s.updated_at} />
            </Fact>
          </dl>
          {s.summary && <p class="lead">{s.summary}</p>}
          <div class="actions" role="group" aria-label="Step actions">
            {allowed &&
              STEP_ACTIONS.map((action) => (
                <ActionButton
                  key={action}
                  label={LABELS[action]}
                  allowed={allowed[action]}
                  primary={action === 'approve' && s.status === 'needs_qa'}
                  confirm={
                    action === 'approve' ? `Mark ${s.step_name} completed without a QA pass?` : undefined
                  }
                  run={() => endpoints.stepAction(projectId, stepId, action)}
                  onDone={(result) => {
                    setActionError(undefined)
                    notify('ok', (result as { message?: string })?.message ?? `${LABELS[action]}: done.`)
                    refresh()
                  }}
                  onError={(_m, error) => setActionError(error)}
                />
              ))}
          </div>
          <ErrorBox error={actionError} />
        </>
      )}
      <div class="grid">
        <Card title="Agent log" id="log" wide>
          <LogPanel
            projectId={projectId}
            stepId={stepId}
            running={s?.status === 'running'}
            revision={s?.updated_at}
          />
        </Card>
        <Card title="QA report" id="qa-report">
          <QaReport events={events} />
        </Card>
        <Card title="Outputs" id="outputs">
          {specStep ? (
            <Outputs spec={specStep} />
          ) : (
            <p class="muted">The spec names no outputs for this step.</p>
          )}
        </Card>
        <Card title="CI" id="ci-details">
          <CiDetails step={s} events={events} />
        </Card>
        <Card title="Policy and runtime state" id="policy">
          <h3 class="sub">Policy</h3>
          {s?.policy && !(Array.isArray(s.policy) && s.policy.length === 0) ? (
            <pre>{JSON.stringify(s.policy, null, 2)}</pre>
          ) : (
            <p class="muted">No loop or trigger policy.</p>
          )}
          <h3 class="sub">Runtime state</h3>
          {s?.runtime_state ? (
            <pre>{JSON.stringify(s.runtime_state, null, 2)}</pre>
          ) : (
            <p class="muted">Nothing recorded.</p>
          )}
        </Card>
        <Card title="Step events" id="step-events">
          <EventList events={events} projectId={projectId} empty="No events for this step yet." />
        </Card>
      </div>
    </div>
  )
}

/** `GET /steps/{id}`, or the step from its run's list on a server without that route. */
const loadStep = async (
  endpoints: ReturnType<typeof useConsole>['endpoints'],
  projectId: number,
  runId: number,
  stepId: number,
): Promise<StepRun> => {
  try {
    return await endpoints.step(projectId, stepId)
  } catch (error) {
    if (!(error instanceof ApiError && (error.status === 404 || error.status === 405))) throw error
    const found = (await endpoints.steps(projectId, runId)).find((s) => s.id === stepId)
    if (!found) throw error
    return found
  }
}

const findSpecStep = (spec: JsonObject | null, step: StepRun): JsonObject | undefined => {
  const steps = Array.isArray(spec?.steps) ? spec.steps : []
  const base = step.step_name.replace(/\.md$/, '')
  return steps.find(
    (s): s is JsonObject =>
      !!s &&
      typeof s === 'object' &&
      !Array.isArray(s) &&
      (s.name === step.step_name || s.id === base || s.id === step.step_name),
  )
}

const Outputs = ({ spec }: { spec: JsonObject }) => {
  const outputs = spec.outputs
  if (!outputs || typeof outputs !== 'object')
    return <p class="muted">The spec names no outputs for this step.</p>
  return (
    <dl class="facts">
      {Object.entries(outputs as Record<string, JsonValue>).map(([key, value]) => (
        <>
          <dt key={`k-${key}`}>{key}</dt>
          <dd key={`v-${key}`} class="mono wrap">
            {typeof value === 'string' ? value : JSON.stringify(value)}
          </dd>
        </>
      ))}
    </dl>
  )
}
