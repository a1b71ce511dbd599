import type { ProtocolRun } from '../api/types.js'
import { Empty } from '../components/empty.js'
import { RelTime } from '../components/rel-time.js'
import { StatusBadge } from '../components/status-badge.js'
import { externalHref } from '../logic/markdown.js'
import { href } from '../router.js'

export const RunsTable = ({ projectId, runs }: { projectId: number; runs: readonly ProtocolRun[] }) => {
  if (runs.length === 0)
    return (
      <Empty title="No protocol run yet.">
        Describe a task and the agent plans it into steps.{' '}
        <a href={href({ name: 'run-new', projectId })}>New protocol</a>
      </Empty>
    )
  return (
    <div class="table-wrap">
      <table class="table" aria-label="Protocol runs">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Spec</th>
            <th>PR</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-run-id={run.id}>
              <td>
                <a href={href({ name: 'run', projectId, runId: run.id })}>{run.protocol_name}</a>
              </td>
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td>
                {run.spec_hash ? (
                  <span class="mono small">
                    {run.spec_hash} <StatusBadge status={run.spec_validation_status ?? 'missing'} />
                  </span>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td>
                {externalHref(run.pr_url) ? (
                  <a href={externalHref(run.pr_url)} rel="noopener noreferrer" target="_blank">
                    #{run.pr_number ?? 'PR'}
                  </a>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td>
                <RelTime value={run.updated_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
