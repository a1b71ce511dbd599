import { useState } from 'preact/hooks'
import { ErrorBox } from '../components/error-box.js'
import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'
import { href, navigate } from '../router.js'
import { Field } from './form-fields.js'

/** Imports a CodeMachine workspace (`.codemachine/`) on the server as a protocol run. */
export const ImportView = ({ projectId }: { projectId: number }) => {
  const { endpoints, notify } = useConsole()
  const project = useResource(() => endpoints.project(projectId), [projectId])
  const [name, setName] = useState('')
  const [workspace, setWorkspace] = useState('')
  const [base, setBase] = useState('')
  const [description, setDescription] = useState('')
  const [enqueue, setEnqueue] = useState(true)
  const [error, setError] = useState<unknown>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const reply = await endpoints.importCodeMachine(projectId, {
        protocol_name: name.trim(),
        workspace_path: workspace.trim(),
        base_branch: base.trim() || project.data?.base_branch || 'main',
        description: description.trim() || null,
        enqueue,
      })
      notify('ok', reply.message)
      navigate({ name: 'run', projectId, runId: reply.protocol_run.id })
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="page narrow">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href({ name: 'project', projectId })}>{project.data?.name ?? `Project ${projectId}`}</a> ›
      </nav>
      <h1>Import a CodeMachine workspace</h1>
      <ErrorBox error={project.error} />
      <form class="form" onSubmit={submit} aria-label="Import CodeMachine workspace">
        <Field label="Protocol name" name="cm_name" hint="NNNN-short-name">
          <input
            id="cm_name"
            required
            class="mono"
            value={name}
            placeholder="0002-imported"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <Field
          label="Workspace path on the server"
          name="cm_workspace"
          hint="An absolute path to the folder that holds .codemachine/ (config/*.js, template.json), inside the project's checkout or the server's projects root"
        >
          <input
            id="cm_workspace"
            required
            class="mono"
            value={workspace}
            placeholder={project.data?.local_path ? `${project.data.local_path}/…` : undefined}
            onInput={(e) => setWorkspace(e.currentTarget.value)}
          />
        </Field>
        <Field label="Base branch" name="cm_base">
          <input
            id="cm_base"
            class="mono"
            value={base}
            placeholder={project.data?.base_branch ?? 'main'}
            onInput={(e) => setBase(e.currentTarget.value)}
          />
        </Field>
        <Field label="Description" name="cm_description">
          <textarea
            id="cm_description"
            rows={3}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </Field>
        <label class="check">
          <input type="checkbox" checked={enqueue} onChange={(e) => setEnqueue(e.currentTarget.checked)} />{' '}
          Import in the background (a job), rather than inside the request
        </label>
        <ErrorBox error={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Importing…' : 'Import'}
          </button>
          <a href={href({ name: 'project', projectId })}>Cancel</a>
        </div>
      </form>
    </div>
  )
}
