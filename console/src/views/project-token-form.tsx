import { useState } from 'preact/hooks'
import type { Project } from '../api/types.js'
import { useConsole } from '../context.js'

/**
 * The token this browser sends for this project (and for no other). Shown prominently when the
 * project needs one and none is saved.
 */
export const ProjectTokenForm = ({
  projectId,
  project,
  denied,
  onSaved,
}: {
  projectId: number
  project: Project | undefined
  /** The server refused the project for want of (the right) token. */
  denied: boolean
  onSaved: () => void
}) => {
  const { tokens, notify } = useConsole()
  const saved = tokens.projectToken(projectId) !== undefined
  const [value, setValue] = useState('')
  const needed = denied || (project?.has_api_token === true && !saved)
  const [open, setOpen] = useState(false)
  if (!needed && !open)
    return (
      <p class="muted small token-line">
        {saved ? 'This browser sends a saved token for this project. ' : ''}
        <button type="button" class="link-button" onClick={() => setOpen(true)}>
          {saved ? 'Change or forget it' : 'Use a project token'}
        </button>
      </p>
    )
  return (
    <form
      class={needed ? 'token-form notice' : 'token-form'}
      aria-label="Project token"
      onSubmit={(e) => {
        e.preventDefault()
        tokens.setProjectToken(projectId, value.trim() || undefined)
        setValue('')
        setOpen(false)
        notify('ok', value.trim() ? 'Project token saved for this project only.' : 'Project token forgotten.')
        onSaved()
      }}
    >
      {needed && <p>This project is protected by its own token. Enter it to see and steer its runs.</p>}
      <label for="project-token-input">Project token</label>
      <input
        id="project-token-input"
        type="password"
        autocomplete="off"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit" class="primary">
        {value.trim() ? 'Save token' : 'Forget token'}
      </button>
    </form>
  )
}
