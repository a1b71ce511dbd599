import { useState } from 'preact/hooks'
import type { ActionResponse, ProtocolRun } from '../api/types.js'
import { PROTOCOL_ACTIONS, type ProtocolActionName } from '../api/endpoints.js'
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
import { isCodeMachineRun, protocolActions } from '../logic/allowed-actions.js'
import { externalHref } from '../logic/markdown.js'
import { SpecPanel } from './spec-panel.js'
import { StepsTable } from './steps-table.js'

const LABELS: Record<ProtocolActionName, string> = {
  start: 'Start planning',
  pause: 'Pause',
  resume: 'Resume',
  cancel: 'Cancel run',
  run_next_step: 'Run next step',
  retry_latest: 'Retry failed step',
  open_pr: 'Open PR/MR',
}

const CONFIRM: Partial<Record<ProtocolActionName, string>> = {
  cancel: 'Cancelling stops the run for good: its pending and running steps are cancelled too.',
  open_pr: 'This pushes the branch and opens a pull/merge request on the code host.',
}

/** One protocol run: status and actions, steps, spec, live events, PR link. */
export const RunView = ({ projectId, runId }: { projectId: number; runId: number }) => {
  const { endpoints, notify } = useConsole()
  const run = useResource(() => endpoints.run(projectId, runId), [runId])
  const steps = useResource(() => endpoints.steps(projectId, runId), [runId])
  const [specVersion, setSpecVersion] = useState(0)
  const [actionError, setActionError] = useState<unknown>(undefined)
  const refresh = useDebounced(() => {
    run.reload()
    steps.reload()
  }, 400)
  const live = useLiveEvents(
    { protocol_run_id: runId, project_id: projectId },
    () => endpoints.runEvents(projectId, runId),
    (event) => {
      refresh()
      if (/plan|spec|import/.test(event.event_type)) setSpecVersion((v) => v + 1)
    },
  )
  const r = run.data
  const allowed = r ? protocolActions(r, steps.data ?? []) : undefined
  const afterAction = (action: ProtocolActionName) => (result: unknown) => {
    setActionError(undefined)
    const reply = result as Partial<ActionResponse & ProtocolRun>
    if (reply && typeof reply.status === 'string' && typeof reply.protocol_name === 'string')
      run.set(() => reply as ProtocolRun)
    notify('ok', reply?.message ?? `${LABELS[action]}: done.`)
    refresh()
  }

  return (
    <div class="page">
      <Crumbs projectId={projectId} />
      <div class="page-head">
        <h1>{r?.protocol_name ?? `Run ${runId}`}</h1>
        {r && <StatusBadge status={r.status} />}
        <LiveIndicator status={live.status} />
      </div>
      <ErrorBox error={run.error} onRetry={run.reload} />
      {r && (
        <>
          {r.description && <p class="lead">{r.description}</p>}
          <RunFacts run={r} />
          <div class="actions" role="group" aria-label="Run actions">
            {allowed &&
              PROTOCOL_ACTIONS.map((action) => (
                <ActionButton
                  key={action}
                  label={action === 'start' && isCodeMachineRun(r) ? 'Start first step' : LABELS[action]}
                  allowed={allowed[action]}
                  primary={action === 'start' || action === 'run_next_step'}
                  danger={action === 'cancel'}
                  confirm={CONFIRM[action]}
                  run={() => endpoints.runAction(projectId, runId, action)}
                  onDone={afterAction(action)}
                  onError={(_m, error) => setActionError(error)}
                />
              ))}
          </div>
          <ErrorBox error={actionError} />
        </>
      )}
      <div class="grid">
        <Card title="Steps" id="steps" wide>
          <ErrorBox error={steps.error} onRetry={steps.reload} />
          {steps.data && r && (
            <StepsTable
              projectId={projectId}
              run={r}
              steps={steps.data}
              onChanged={refresh}
              onError={setActionError}
            />
          )}
        </Card>
        <Card title="Events" id="run-events">
          <ErrorBox error={live.error} onRetry={live.reload} />
          <EventList
            events={live.events}
            projectId={projectId}
            empty="No events yet. Start planning to get going."
          />
        </Card>
        <Card title="Spec" id="spec">
          <SpecPanel key={specVersion} projectId={projectId} runId={runId} />
        </Card>
        <Card title="CI and webhooks" id="ci">
          <CiHint run={r} />
        </Card>
      </div>
    </div>
  )
}

const RunFacts = ({ run }: { run: ProtocolRun }) => {
  const template = run.template_config?.template
  const templateName =
    template && typeof template === 'object' && !Array.isArray(template)
      ? `${String(template.name ?? template.id ?? 'template')} ${template.version ? `v${String(template.version)}` : ''}`
      : undefined
  const pr = externalHref(run.pr_url)
  return (
    <dl class="facts inline">
      <Fact label="Branch" valueClass="mono">
        {run.branch_name ?? run.protocol_name}
      </Fact>
      <Fact label="Base" valueClass="mono">
        {run.base_branch}
      </Fact>
      {run.worktree_path && (
        <Fact label="Worktree" valueClass="mono wrap">
          {run.worktree_path}
        </Fact>
      )}
      {templateName && <Fact label="Template">{templateName}</Fact>}
      <Fact label="PR/MR">
        {pr ? (
          <a href={pr} rel="noopener noreferrer" target="_blank">
            {run.pr_number ? `#${run.pr_number}` : pr}
          </a>
        ) : (
          <span class="muted">not opened</span>
        )}
      </Fact>
      {run.tokens_used !== undefined && run.tokens_used !== null && (
        <Fact label="Tokens">
          {run.tokens_used.toLocaleString()}
          {run.cost ? ` · $${run.cost.toFixed(2)}` : ''}
        </Fact>
      )}
      <Fact label="Updated">
        <RelTime value={run.updated_at} />
      </Fact>
    </dl>
  )
}

const CiHint = ({ run }: { run: ProtocolRun | undefined }) => {
  const { api } = useConsole()
  const base = new URL(api.base, window.location.href).href.replace(/\/$/, '')
  return (
    <div class="small">
      <p>Report CI results for this run from the pipeline:</p>
      <pre>{`TASKSGODZILLA_API_BASE=${base} \\\nTASKSGODZILLA_PROTOCOL_RUN_ID=${run?.id ?? '<id>'} \\\nscripts/ci/report.sh success|failure`}</pre>
      <p>Or point the code host's webhooks at:</p>
      <ul class="plain-list mono">
        <li>{base}/webhooks/github</li>
        <li>{base}/webhooks/gitlab</li>
      </ul>
    </div>
  )
}
