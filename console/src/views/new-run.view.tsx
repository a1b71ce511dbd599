import { useState } from 'preact/hooks'
import { ErrorBox } from '../components/error-box.js'
import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'
import { href, navigate } from '../router.js'
import { Field } from './form-fields.js'

/**
 * Creates a run as `pending` and then starts it, so planning is really enqueued (the original
 * created it as `planning` and the start was refused with 409).
 */
export const NewRunView = ({ projectId }: { projectId: number }) => {
  const { endpoints, notify } = useConsole()
  const project = useResource(() => endpoints.project(projectId), [projectId])
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [base, setBase] = useState('')
  const [error, setError] = useState<unknown>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    let runId: number | undefined
    try {
      const run = await endpoints.createRun(projectId, {
        protocol_name: name.trim(),
        status: 'pending',
        base_branch: base.trim() || project.data?.base_branch || 'main',
        description: description.trim() || null,
      })
      runId = run.id
      const started = await endpoints.runAction(projectId, run.id, 'start')
      notify('ok', ('message' in started && started.message) || 'Planning enqueued.')
      navigate({ name: 'run', projectId, runId: run.id })
    } catch (failure) {
      setError(failure)
      // The run exists even if starting it failed: go there so it can be started by hand.
      if (runId !== undefined) navigate({ name: 'run', projectId, runId })
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="page narrow">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href({ name: 'project', projectId })}>{project.data?.name ?? `Project ${projectId}`}</a> ›
      </nav>
      <h1>New protocol</h1>
      <ErrorBox error={project.error} />
      <form class="form" onSubmit={submit} aria-label="New protocol">
        <Field
          label="Protocol name"
          name="protocol_name"
          hint="NNNN-short-name, e.g. 0001-add-login. It becomes the branch name."
        >
          <input
            id="protocol_name"
            required
            class="mono"
            value={name}
            placeholder="0001-task-name"
            pattern="[0-9]{4}-[a-z0-9][a-z0-9-]*"
            title="Four digits, a dash, then lowercase letters, digits and dashes"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <Field
          label="Description"
          name="description"
          hint="What the agent should do. The planner turns it into steps."
        >
          <textarea
            id="description"
            rows={6}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </Field>
        <Field label="Base branch" name="base_branch">
          <input
            id="base_branch"
            class="mono"
            value={base}
            placeholder={project.data?.base_branch ?? 'main'}
            onInput={(e) => setBase(e.currentTarget.value)}
          />
        </Field>
        <ErrorBox error={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create and start planning'}
          </button>
          <a href={href({ name: 'project', projectId })}>Cancel</a>
        </div>
      </form>
    </div>
  )
}
