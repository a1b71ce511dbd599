import { ApiError } from '../api/api-error.js'
import { Card } from '../components/card.js'
import { ErrorBox } from '../components/error-box.js'
import { EventList } from '../components/event-list.js'
import { JsonView } from '../components/json-view.js'
import { LiveIndicator } from '../components/live-indicator.js'
import { StatusBadge } from '../components/status-badge.js'
import { useConsole } from '../context.js'
import { useDebounced, useResource } from '../hooks.js'
import { useLiveEvents } from '../live/use-live-events.js'
import { href } from '../router.js'
import { BranchesPanel } from './branches-panel.js'
import { ClarificationsPanel, latestQuestions } from './clarifications-panel.js'
import { ProjectTokenForm } from './project-token-form.js'
import { RunsTable } from './runs-table.js'

/** One project: settings, onboarding, clarifications, runs, branches and its live events. */
export const ProjectView = ({ projectId }: { projectId: number }) => {
  const { endpoints } = useConsole()
  const project = useResource(() => endpoints.project(projectId), [projectId])
  const runs = useResource(() => endpoints.runs(projectId), [projectId])
  const refresh = useDebounced(() => {
    runs.reload()
    project.reload()
  }, 800)
  const live = useLiveEvents(
    { project_id: projectId },
    () => endpoints.events({ project_id: projectId, limit: 100 }),
    refresh,
  )
  const p = project.data
  const setupRun = runs.data?.find((r) => r.protocol_name === `setup-${projectId}`)
  const questions = latestQuestions(live.events)

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href({ name: 'projects' })}>Projects</a> ›
      </nav>
      <div class="page-head">
        <h1>{p?.name ?? `Project ${projectId}`}</h1>
        <LiveIndicator status={live.status} />
        <div class="head-actions">
          <a class="button" href={href({ name: 'project-edit', projectId })}>
            Edit
          </a>
          <a class="button" href={href({ name: 'import', projectId })}>
            Import CodeMachine
          </a>
          <a class="button" href={href({ name: 'notifications', projectId })}>
            Notifications
          </a>
          <a class="button primary" href={href({ name: 'run-new', projectId })}>
            New protocol
          </a>
        </div>
      </div>
      <ErrorBox error={project.error} onRetry={project.reload} />
      <ProjectTokenForm
        projectId={projectId}
        project={p}
        denied={project.error instanceof ApiError && [401, 403].includes(project.error.status)}
        onSaved={() => (project.reload(), runs.reload(), live.reload())}
      />
      <div class="grid">
        <Card title="Settings" id="settings">
          {p && (
            <dl class="facts">
              <dt>Repository</dt>
              <dd class="mono wrap">{p.git_url}</dd>
              <dt>Local checkout</dt>
              <dd class="mono wrap">{p.local_path ?? <span class="muted">not recorded yet</span>}</dd>
              <dt>Base branch</dt>
              <dd class="mono">{p.base_branch}</dd>
              <dt>CI provider</dt>
              <dd>{p.ci_provider ?? <span class="muted">auto</span>}</dd>
              <dt>Review comments</dt>
              <dd class="mono">{p.review_mode ?? <span class="muted">server default</span>}</dd>
              <dt>Default models</dt>
              <dd>
                <JsonView value={p.default_models} label="models" />
              </dd>
              <dt>Engine chain</dt>
              <dd data-testid="engine-chain">
                {p.engines && p.engines.length > 0 ? (
                  p.engines.map(({ engine, model }) => (model ? `${engine} (${model})` : engine)).join(' → ')
                ) : (
                  <span class="muted">none</span>
                )}
              </dd>
              <dt>Project token</dt>
              <dd>{p.has_api_token ? 'required' : <span class="muted">none</span>}</dd>
            </dl>
          )}
        </Card>
        <Card title="Onboarding" id="onboarding">
          {setupRun ? (
            <p>
              <StatusBadge status={setupRun.status} />{' '}
              <a href={href({ name: 'run', projectId, runId: setupRun.id })}>{setupRun.protocol_name}</a>
              {setupRun.status === 'blocked' && questions && ' · waiting for the answers below'}
            </p>
          ) : (
            <p class="muted">{runs.data ? 'No setup run found for this project.' : 'Loading…'}</p>
          )}
          {questions && (
            <ClarificationsPanel
              projectId={projectId}
              questions={questions}
              answers={p?.clarifications ?? null}
              onSaved={refresh}
            />
          )}
        </Card>
        <Card title="Protocol runs" id="runs" wide>
          <ErrorBox error={runs.error} onRetry={runs.reload} />
          {runs.data && <RunsTable projectId={projectId} runs={runs.data} />}
        </Card>
        <Card title="Branches" id="branches">
          <BranchesPanel projectId={projectId} baseBranch={p?.base_branch} />
        </Card>
        <Card title="Events" id="project-events">
          <ErrorBox error={live.error} onRetry={live.reload} />
          <EventList events={live.events} projectId={projectId} context />
        </Card>
      </div>
    </div>
  )
}
