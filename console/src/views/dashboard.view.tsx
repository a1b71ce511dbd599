import { Bar } from '../components/bar.js'
import { Card } from '../components/card.js'
import { Empty } from '../components/empty.js'
import { ErrorBox } from '../components/error-box.js'
import { EventList } from '../components/event-list.js'
import { LiveIndicator } from '../components/live-indicator.js'
import { StatusBadge } from '../components/status-badge.js'
import { RelTime } from '../components/rel-time.js'
import { useConsole } from '../context.js'
import { useDebounced, useResource } from '../hooks.js'
import { useLiveEvents } from '../live/use-live-events.js'
import { jobOutcomes, parsePrometheus, qaSummary, tokenUsage } from '../logic/metrics.js'
import { href } from '../router.js'
import { PROTOCOL_STATUSES, type Project, type ProtocolRun } from '../api/types.js'
import { QueueStats } from './queue-stats.js'

interface RunsOverview {
  readonly projects: Project[]
  readonly runs: ProtocolRun[]
  /** Projects whose runs could not be read (token needed), by id. */
  readonly locked: number[]
}

const ATTENTION = ['blocked', 'failed', 'paused'] as const

/** The team's overview: queue, runs by status, what needs attention, live events, QA and tokens. */
export const DashboardView = () => {
  const { endpoints } = useConsole()
  const overview = useResource<RunsOverview>(async () => {
    const projects = await endpoints.projects()
    const results = await Promise.allSettled(projects.slice(0, 100).map((p) => endpoints.runs(p.id)))
    const runs = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []))
    const locked = projects.filter((_, i) => results[i]?.status === 'rejected').map((p) => p.id)
    return { projects, runs, locked }
  }, [])
  const queues = useResource(() => endpoints.queues(), [])
  const metrics = useResource(async () => parsePrometheus(await endpoints.metrics()), [])
  const refresh = useDebounced(() => {
    overview.reload()
    queues.reload()
    metrics.reload()
  }, 1500)
  const live = useLiveEvents({}, () => endpoints.events({ limit: 30 }), refresh)

  return (
    <div class="page">
      <div class="page-head">
        <h1>Dashboard</h1>
        <LiveIndicator status={live.status} />
      </div>
      <div class="grid">
        <Card title="Runs by status" id="runs-by-status">
          <ErrorBox error={overview.error} onRetry={overview.reload} />
          {overview.data && <RunsByStatus overview={overview.data} />}
        </Card>
        <Card title="Needs attention" id="attention">
          {overview.data && <Attention overview={overview.data} />}
        </Card>
        <Card title="Queue" id="queue-stats" actions={<a href={href({ name: 'queue' })}>Jobs →</a>}>
          <ErrorBox error={queues.error} onRetry={queues.reload} />
          {queues.data && <QueueStats stats={queues.data} />}
        </Card>
        <Card title="QA verdicts" id="qa">
          <ErrorBox error={metrics.error} onRetry={metrics.reload} />
          {metrics.data && <QaVerdicts samples={metrics.data} />}
        </Card>
        <Card title="Token usage" id="tokens">
          {metrics.data && <Tokens samples={metrics.data} />}
        </Card>
        <Card title="Recent events" id="recent-events" wide>
          <ErrorBox error={live.error} onRetry={live.reload} />
          <EventList
            events={live.events.slice(0, 30)}
            context
            empty="No events yet: create a project to get going."
          />
        </Card>
      </div>
    </div>
  )
}

const RunsByStatus = ({ overview }: { overview: RunsOverview }) => {
  if (overview.projects.length === 0)
    return (
      <Empty title="No projects yet.">
        <a class="button primary" href={href({ name: 'project-new' })}>
          Onboard a project
        </a>
      </Empty>
    )
  const total = overview.runs.length
  return (
    <>
      <ul class="status-counts">
        {PROTOCOL_STATUSES.map((status) => {
          const count = overview.runs.filter((r) => r.status === status).length
          return (
            <li key={status} class={count === 0 ? 'zero' : ''}>
              <StatusBadge status={status} />
              <span class="count">{count}</span>
              <Bar share={total ? count / total : 0} />
            </li>
          )
        })}
      </ul>
      <p class="muted small">
        {total} run(s) in {overview.projects.length} project(s)
        {overview.locked.length > 0 &&
          ` · ${overview.locked.length} project(s) need their token to be counted`}
      </p>
    </>
  )
}

const Attention = ({ overview }: { overview: RunsOverview }) => {
  const runs = overview.runs.filter((r) => (ATTENTION as readonly string[]).includes(r.status)).slice(0, 10)
  if (runs.length === 0) return <p class="muted">Nothing is blocked, failed or paused.</p>
  const names = new Map(overview.projects.map((p) => [p.id, p.name]))
  return (
    <ul class="plain-list">
      {runs.map((run) => (
        <li key={run.id}>
          <StatusBadge status={run.status} />{' '}
          <a href={href({ name: 'run', projectId: run.project_id, runId: run.id })}>{run.protocol_name}</a>{' '}
          <span class="muted small">
            {names.get(run.project_id)} · <RelTime value={run.updated_at} />
          </span>
        </li>
      ))}
    </ul>
  )
}

const QaVerdicts = ({ samples }: { samples: ReturnType<typeof parsePrometheus> }) => {
  const qa = qaSummary(samples)
  const jobs = jobOutcomes(samples)
  return (
    <>
      {qa.total === 0 ? (
        <p class="muted">No QA verdict yet. Verdicts appear when steps go through QA.</p>
      ) : (
        <ul class="meter-list">
          {qa.verdicts.map((v) => (
            <li key={v.verdict}>
              <span class="meter-label">{v.verdict}</span>
              <Bar share={v.count / qa.total} tone={v.verdict === 'pass' ? 'ok' : 'bad'} />
              <span class="count">{v.count}</span>
            </li>
          ))}
        </ul>
      )}
      {qa.passRate !== undefined && <p class="small">Pass rate {(qa.passRate * 100).toFixed(0)}%</p>}
      {jobs.size > 0 && (
        <p class="muted small">
          Jobs: {[...jobs].map(([status, count]) => `${count} ${status}`).join(' · ')}
        </p>
      )}
    </>
  )
}

const Tokens = ({ samples }: { samples: ReturnType<typeof parsePrometheus> }) => {
  const usage = tokenUsage(samples)
  const rows = usage.actual.length > 0 ? usage.actual : usage.estimated
  if (rows.length === 0) return <p class="muted">No tokens counted yet. They add up as agents run.</p>
  const max = rows[0]?.tokens ?? 1
  return (
    <>
      <ul class="meter-list">
        {rows.slice(0, 8).map((row) => (
          <li key={`${row.phase}/${row.model}`}>
            <span class="meter-label">
              {row.phase} <span class="muted">{row.model}</span>
            </span>
            <Bar share={row.tokens / max} />
            <span class="count">{Math.round(row.tokens).toLocaleString()}</span>
          </li>
        ))}
      </ul>
      <p class="muted small">
        {usage.actual.length > 0 ? 'Reported by the engines.' : 'Estimated (chars / 4).'}
      </p>
    </>
  )
}
