import type { ProtocolRun, StepRun } from '../api/types.js'
import { STEP_ACTIONS, type StepActionName } from '../api/endpoints.js'
import { ActionButton } from '../components/action-button.js'
import { Empty } from '../components/empty.js'
import { StatusBadge } from '../components/status-badge.js'
import { useConsole } from '../context.js'
import { stepActions, stepNeedingAttention } from '../logic/allowed-actions.js'
import { href } from '../router.js'

const LABELS: Record<StepActionName, string> = { run: 'Run', run_qa: 'Run QA', approve: 'Approve' }

export interface StepsTableProps {
  readonly projectId: number
  readonly run: ProtocolRun
  readonly steps: readonly StepRun[]
  readonly onChanged: () => void
  readonly onError: (error: unknown) => void
}

/** Every step with its numbers and its own actions (never "the latest step"). */
export const StepsTable = ({ projectId, run, steps, onChanged, onError }: StepsTableProps) => {
  const { endpoints, notify } = useConsole()
  if (steps.length === 0)
    return (
      <Empty title="No steps yet.">
        {run.status === 'pending'
          ? 'Start planning: the planner writes the steps.'
          : 'Steps appear here once planning has finished.'}
      </Empty>
    )
  const focus = stepNeedingAttention(steps)
  return (
    <div class="table-wrap">
      <table class="table steps" aria-label="Steps">
        <thead>
          <tr>
            <th>#</th>
            <th>Step</th>
            <th>Status</th>
            <th>Engine</th>
            <th>Model</th>
            <th class="num">Tokens</th>
            <th class="num">Cost</th>
            <th class="num">Retries</th>
            <th>Summary</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step) => {
            const allowed = stepActions(run, step)
            return (
              <tr
                key={step.id}
                data-step-id={step.id}
                data-status={step.status}
                class={focus?.id === step.id ? 'focus-row' : ''}
              >
                <td class="num" data-label="#">
                  {step.step_index}
                </td>
                <td data-label="Step">
                  <a href={href({ name: 'step', projectId, runId: run.id, stepId: step.id })}>
                    {step.step_name}
                  </a>
                  <div class="muted small">
                    id {step.id} · {step.step_type}
                  </div>
                </td>
                <td data-label="Status">
                  <StatusBadge status={step.status} />
                </td>
                <td data-label="Engine">{step.engine_id ?? <span class="muted">—</span>}</td>
                <td class="mono small" data-label="Model">
                  {step.model ?? <span class="muted">default</span>}
                </td>
                <td class="num" data-label="Tokens">
                  {step.tokens_used ? step.tokens_used.toLocaleString() : '—'}
                </td>
                <td class="num" data-label="Cost">
                  {step.cost ? `$${step.cost.toFixed(2)}` : '—'}
                </td>
                <td class="num" data-label="Retries">
                  {step.retries}
                </td>
                <td class="summary" data-label="Summary">
                  {step.summary ?? ''}
                </td>
                <td class="row-actions">
                  {STEP_ACTIONS.map((action) => (
                    <ActionButton
                      key={action}
                      small
                      label={LABELS[action]}
                      allowed={allowed[action]}
                      confirm={
                        action === 'approve'
                          ? `Mark ${step.step_name} completed without a QA pass?`
                          : undefined
                      }
                      run={() => endpoints.stepAction(projectId, step.id, action)}
                      onDone={(result) => {
                        notify(
                          'ok',
                          (result as { message?: string })?.message ??
                            `${LABELS[action]} ${step.step_name}: done.`,
                        )
                        onChanged()
                      }}
                      onError={(_m, error) => onError(error)}
                    />
                  ))}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
