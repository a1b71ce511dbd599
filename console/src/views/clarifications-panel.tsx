import { useState } from 'preact/hooks'
import type { JsonObject, JsonValue, OrchestratorEvent } from '../api/types.js'
import { ErrorBox } from '../components/error-box.js'
import { useConsole } from '../context.js'

export interface Question {
  readonly key: string
  readonly question: string
  readonly recommended?: JsonValue
  readonly options?: readonly string[]
  readonly detected?: JsonValue
}

/** The questions of the newest `setup_clarifications` event, if any. */
export const latestQuestions = (events: readonly OrchestratorEvent[]): Question[] | undefined => {
  const event = events.find((e) => e.event_type === 'setup_clarifications')
  const raw = event?.metadata?.questions
  if (!Array.isArray(raw)) return undefined
  return raw.flatMap((q) =>
    q &&
    typeof q === 'object' &&
    !Array.isArray(q) &&
    typeof q.key === 'string' &&
    typeof q.question === 'string'
      ? [
          {
            key: q.key,
            question: q.question,
            recommended: q.recommended,
            detected: q.detected,
            options: Array.isArray(q.options)
              ? q.options.filter((o): o is string => typeof o === 'string')
              : undefined,
          },
        ]
      : [],
  )
}

const asText = (value: JsonValue | undefined): string =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value)

/** Reads an answer back in the type of the recommended value (JSON for objects and lists). */
const asValue = (text: string, recommended: JsonValue | undefined): JsonValue => {
  if (typeof recommended === 'string' || recommended === undefined || recommended === null) return text
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return text
  }
}

/** Onboarding questions answerable in a form, pre-filled with earlier answers or the recommendation. */
export const ClarificationsPanel = ({
  projectId,
  questions,
  answers,
  onSaved,
}: {
  projectId: number
  questions: readonly Question[]
  answers: JsonObject | null
  onSaved: () => void
}) => {
  const { endpoints, notify } = useConsole()
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(questions.map((q) => [q.key, asText(answers?.[q.key] ?? q.recommended)])),
  )
  const [error, setError] = useState<unknown>(undefined)
  const [saving, setSaving] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setSaving(true)
    setError(undefined)
    try {
      // A question left blank stays unanswered rather than being recorded as an empty answer.
      const body = Object.fromEntries(
        questions.flatMap((q) => {
          const value = (values[q.key] ?? '').trim()
          return value === '' ? [] : [[q.key, asValue(value, q.recommended)]]
        }),
      )
      if (Object.keys(body).length === 0) throw new Error('Answer at least one question first.')
      await endpoints.answerClarifications(projectId, body)
      notify('ok', 'Answers recorded.')
      onSaved()
    } catch (failure) {
      setError(failure)
    } finally {
      setSaving(false)
    }
  }
  return (
    <form class="form clarifications" onSubmit={submit} aria-label="Onboarding clarifications">
      <h3>Clarifications</h3>
      {questions.map((q) => {
        const id = `clar-${q.key}`
        const value = values[q.key] ?? ''
        const onInput = (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => {
          const next = e.currentTarget.value
          setValues((v) => ({ ...v, [q.key]: next }))
        }
        return (
          <div class="field" key={q.key}>
            <label for={id}>{q.question}</label>
            {q.options && q.options.length > 0 ? (
              <select id={id} value={value} onChange={onInput}>
                {q.options.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                value={value}
                onInput={onInput}
                class={typeof q.recommended === 'object' ? 'mono' : ''}
              />
            )}
            {q.detected !== undefined && (
              <small class="hint">Detected: {asText(q.detected) || 'nothing'}</small>
            )}
          </div>
        )
      })}
      <ErrorBox error={error} />
      <div class="form-actions">
        <button type="submit" class="primary" disabled={saving}>
          {saving ? 'Saving…' : 'Save answers'}
        </button>
      </div>
    </form>
  )
}
