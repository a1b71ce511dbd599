import type { ComponentChildren } from 'preact'

export interface FieldProps {
  readonly label: string
  readonly name: string
  readonly hint?: ComponentChildren
  readonly children: ComponentChildren
}

/** A labelled form row with an optional hint below the input. */
export const Field = ({ label, name, hint, children }: FieldProps) => (
  <div class="field">
    <label for={name}>{label}</label>
    {children}
    {hint && (
      <small class="hint" id={`${name}-hint`}>
        {hint}
      </small>
    )}
  </div>
)

/** Parses an optional JSON object field; `undefined` for empty, an Error message for anything else. */
export const parseJsonObject = (text: string): { value?: Record<string, unknown> | null; error?: string } => {
  if (text.trim() === '') return { value: null }
  try {
    const value: unknown = JSON.parse(text)
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return { error: 'Must be a JSON object, like {"planning": "model-id"}' }
    return { value: value as Record<string, unknown> }
  } catch (error) {
    return { error: `Not valid JSON: ${(error as Error).message}` }
  }
}
