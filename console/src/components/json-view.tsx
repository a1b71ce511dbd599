import type { JsonValue } from '../api/types.js'

/** JSON shown as text, folded behind a summary when it is long. */
export const JsonView = ({ value, label = 'JSON' }: { value: JsonValue | undefined; label?: string }) => {
  if (value === undefined || value === null) return <span class="muted">—</span>
  const text = JSON.stringify(value, null, 2)
  if (text.length < 80) return <code class="json-inline">{JSON.stringify(value)}</code>
  return (
    <details class="json-view">
      <summary>{label}</summary>
      <pre>{text}</pre>
    </details>
  )
}
