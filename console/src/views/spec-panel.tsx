import { useState } from 'preact/hooks'
import type { JsonObject, JsonValue } from '../api/types.js'
import { ErrorBox } from '../components/error-box.js'
import { JsonView } from '../components/json-view.js'
import { RelTime } from '../components/rel-time.js'
import { StatusBadge } from '../components/status-badge.js'
import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'

const str = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined

/** The run's ProtocolSpec: hash, validation status and errors, and its steps. */
export const SpecPanel = ({ projectId, runId }: { projectId: number; runId: number }) => {
  const { endpoints } = useConsole()
  const spec = useResource(() => endpoints.spec(projectId, runId), [runId])
  const [copied, setCopied] = useState(false)
  if (spec.error) return <ErrorBox error={spec.error} onRetry={spec.reload} />
  const s = spec.data
  if (!s) return <p class="muted">Loading…</p>
  const steps = Array.isArray(s.spec?.steps) ? (s.spec.steps as JsonValue[]) : []
  return (
    <div>
      <p class="spec-line">
        <StatusBadge status={s.validation_status ?? 'missing'} />{' '}
        {s.spec_hash ? (
          <>
            <code class="mono">{s.spec_hash}</code>{' '}
            <button
              type="button"
              class="link-button"
              onClick={() =>
                void navigator.clipboard?.writeText(s.spec_hash ?? '').then(() => setCopied(true))
              }
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
          </>
        ) : (
          <span class="muted">no spec yet</span>
        )}
        {s.validated_at && (
          <span class="muted small">
            {' '}
            · validated <RelTime value={s.validated_at} />
          </span>
        )}
      </p>
      {s.validation_errors && s.validation_errors.length > 0 && (
        <ul class="spec-errors">
          {s.validation_errors.map((e, i) => (
            <li key={i}>{e}</li>
          ))}
        </ul>
      )}
      {steps.length > 0 && (
        <ol class="spec-steps">
          {steps.map((raw, i) => {
            const step = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as JsonObject
            const qa = step.qa && typeof step.qa === 'object' && !Array.isArray(step.qa) ? step.qa : {}
            return (
              <li key={i}>
                <strong>{str(step.name) ?? str(step.id) ?? `step ${i}`}</strong>{' '}
                <span class="muted small">
                  {str(step.engine_id) ?? 'default engine'} · {str(step.model) ?? 'default model'} · QA{' '}
                  {str(qa.policy) ?? 'default'}
                </span>
                {str(step.prompt_ref) && <div class="mono small wrap">{str(step.prompt_ref)}</div>}
              </li>
            )
          })}
        </ol>
      )}
      {s.spec && <JsonView value={s.spec} label="Full spec" />}
    </div>
  )
}
