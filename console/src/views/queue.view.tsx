import { Card } from '../components/card.js'
import { Empty } from '../components/empty.js'
import { ErrorBox } from '../components/error-box.js'
import { JsonView } from '../components/json-view.js'
import { LiveIndicator } from '../components/live-indicator.js'
import { RelTime } from '../components/rel-time.js'
import { StatusBadge } from '../components/status-badge.js'
import { useConsole } from '../context.js'
import { useDebounced, useResource } from '../hooks.js'
import { useLiveEvents } from '../live/use-live-events.js'
import { duration } from '../logic/time.js'
import { href } from '../router.js'
import { JOB_STATUSES } from '../api/types.js'
import { QueueStats } from './queue-stats.js'

/** Jobs by status with payload, attempts and error; refreshed whenever an event says work moved. */
export const QueueView = ({ status }: { status?: string }) => {
  const { endpoints } = useConsole()
  const stats = useResource(() => endpoints.queues(), [])
  const jobs = useResource(() => endpoints.jobs(status), [status])
  const refresh = useDebounced(() => {
    stats.reload()
    jobs.reload()
  }, 1000)
  const live = useLiveEvents({}, () => endpoints.events({ limit: 1 }), refresh)
  const list = [...(jobs.data ?? [])].sort(
    (a, b) => Number(b.created_at ?? 0) - Number(a.created_at ?? 0) || 0,
  )
  return (
    <div class="page">
      <div class="page-head">
        <h1>Queue</h1>
        <LiveIndicator status={live.status} />
      </div>
      <Card title="Queues" id="queues">
        <ErrorBox error={stats.error} onRetry={stats.reload} />
        {stats.data && <QueueStats stats={stats.data} />}
      </Card>
      <nav class="tabs" aria-label="Job status">
        <a href={href({ name: 'queue' })} aria-current={status === undefined ? 'page' : undefined}>
          all
        </a>
        {JOB_STATUSES.map((s) => (
          <a
            key={s}
            href={href({ name: 'queue', status: s })}
            aria-current={status === s ? 'page' : undefined}
          >
            {s}
          </a>
        ))}
      </nav>
      <ErrorBox error={jobs.error} onRetry={jobs.reload} />
      {jobs.data && list.length === 0 && (
        <Empty title={status ? `No ${status} job.` : 'No job yet.'}>
          Jobs appear when runs are started, planned and executed.
        </Empty>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-label="Jobs">
            <thead>
              <tr>
                <th>Type</th>
                <th>Status</th>
                <th class="num">Attempts</th>
                <th>Created</th>
                <th>Took</th>
                <th>Payload</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {list.map((job) => (
                <tr key={job.job_id}>
                  <td>
                    <span class="mono">{job.job_type}</span>
                    <div class="muted small mono">{job.job_id}</div>
                  </td>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td class="num">
                    {job.attempts}/{job.max_attempts}
                  </td>
                  <td>
                    <RelTime value={job.created_at} />
                  </td>
                  <td>
                    {job.started_at ? duration(job.started_at, job.ended_at ?? Date.now() / 1000) : '—'}
                  </td>
                  <td>
                    <JsonView value={job.payload} label="payload" />
                  </td>
                  <td class="error-cell">
                    {job.error ? (
                      <details>
                        <summary>{job.error.split('\n')[0]?.slice(0, 80)}</summary>
                        <pre>{job.error}</pre>
                      </details>
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}
