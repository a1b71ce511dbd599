import { useState } from 'preact/hooks'
import { ErrorBox } from '../components/error-box.js'
import { useConsole } from '../context.js'
import { Field } from './form-fields.js'

/** The API token (session by default, "remember me" for this browser) and the API base. */
export const SettingsView = () => {
  const { tokens, endpoints, notify, reconnect, api } = useConsole()
  const [token, setToken] = useState(tokens.apiToken() ?? '')
  const [remember, setRemember] = useState(tokens.remembered())
  const [base, setBase] = useState(tokens.apiBase() ?? '')
  const [error, setError] = useState<unknown>(undefined)
  const [checked, setChecked] = useState<string | undefined>(undefined)
  const save = async (event: Event) => {
    event.preventDefault()
    const baseChanged = (tokens.apiBase() ?? '') !== base.trim()
    tokens.setApiToken(token.trim() || undefined, remember)
    tokens.setApiBase(base.trim() || undefined)
    // Tokens are read on every request; only a new base needs a new client (which remounts the view).
    if (baseChanged) return reconnect()
    setError(undefined)
    setChecked(undefined)
    try {
      const projects = await endpoints.projects()
      setChecked(`Connected: ${projects.length} project(s) visible.`)
    } catch (failure) {
      setError(failure)
    }
    notify('ok', 'Settings saved.')
  }
  return (
    <div class="page narrow">
      <h1>Settings</h1>
      <form class="form" onSubmit={save} aria-label="Connection settings">
        <Field
          label="API token"
          name="api_token"
          hint="Sent as Authorization: Bearer to this server only. Leave empty when the server has no token."
        >
          <input
            id="api_token"
            type="password"
            autocomplete="off"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </Field>
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />{' '}
          Remember me on this browser (localStorage). Otherwise the tokens are forgotten when the tab closes.
        </label>
        <Field
          label="API base (optional)"
          name="api_base"
          hint={`Same-origin path of the API. Now: ${api.base}`}
        >
          <input
            id="api_base"
            class="mono"
            value={base}
            placeholder="auto"
            onInput={(e) => setBase(e.currentTarget.value)}
          />
        </Field>
        <ErrorBox error={error} />
        {checked && (
          <p class="ok-line" role="status">
            {checked}
          </p>
        )}
        <div class="form-actions">
          <button type="submit" class="primary">
            Save
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => {
              tokens.forgetAll()
              setToken('')
              setBase('')
              setRemember(false)
              notify('info', 'All tokens forgotten.')
              reconnect()
            }}
          >
            Forget all tokens
          </button>
        </div>
      </form>
      <p class="muted small">
        Project tokens are set on each project's page and are sent to that project's routes only.
      </p>
    </div>
  )
}
