import { useEffect, useState } from 'preact/hooks'
import type { JsonObject, NewProjectBody, Project, ProjectPatchBody } from '../api/types.js'
import { ErrorBox } from '../components/error-box.js'
import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'
import { href, navigate } from '../router.js'
import { Field, parseJsonObject } from './form-fields.js'

interface FormState {
  name: string
  source: string
  localPath: string
  baseBranch: string
  ciProvider: string
  reviewMode: string
  models: string
  token: string
  clearToken: boolean
}

const EMPTY: FormState = {
  name: '',
  source: '',
  localPath: '',
  baseBranch: 'main',
  ciProvider: '',
  reviewMode: '',
  models: '',
  token: '',
  clearToken: false,
}

const fromProject = (p: Project): FormState => ({
  ...EMPTY,
  name: p.name,
  source: p.git_url,
  localPath: p.local_path ?? '',
  baseBranch: p.base_branch,
  ciProvider: p.ci_provider ?? '',
  reviewMode: p.review_mode ?? '',
  models: p.default_models ? JSON.stringify(p.default_models, null, 2) : '',
})

/** Onboards a project, or edits one (`PATCH /projects/{id}`). */
export const ProjectFormView = ({ projectId }: { projectId?: number }) => {
  const { endpoints, tokens, notify } = useConsole()
  const editing = projectId !== undefined
  const existing = useResource(async () => (editing ? endpoints.project(projectId) : undefined), [projectId])
  const [form, setForm] = useState<FormState>(EMPTY)
  const [error, setError] = useState<unknown>(undefined)
  const [modelsError, setModelsError] = useState<string | undefined>(undefined)
  const [saving, setSaving] = useState(false)
  useEffect(() => {
    if (existing.data) setForm(fromProject(existing.data))
  }, [existing.data])
  const set =
    (key: keyof FormState) =>
    (e: { currentTarget: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement }) => {
      const target = e.currentTarget
      setForm((f) => ({
        ...f,
        [key]:
          target instanceof HTMLInputElement && target.type === 'checkbox' ? target.checked : target.value,
      }))
    }

  const submit = async (event: Event) => {
    event.preventDefault()
    const models = parseJsonObject(form.models)
    setModelsError(models.error)
    if (models.error) return
    setSaving(true)
    setError(undefined)
    try {
      const common = {
        name: form.name.trim(),
        git_url: form.source.trim(),
        local_path: form.localPath.trim() || null,
        base_branch: form.baseBranch.trim() || 'main',
        ci_provider: form.ciProvider || null,
        review_mode: form.reviewMode || null,
        default_models: (models.value ?? null) as JsonObject | null,
      }
      let saved: Project
      if (editing) {
        const { git_url: _unchangeable, ...editable } = common
        const patch: ProjectPatchBody = { ...editable }
        if (form.clearToken) patch.api_token = null
        else if (form.token) patch.api_token = form.token
        saved = await endpoints.updateProject(projectId, patch)
      } else {
        const body: NewProjectBody = { ...common, secrets: form.token ? { api_token: form.token } : null }
        saved = await endpoints.createProject(body)
      }
      // The console keeps the token it just set, so the project stays reachable from this browser.
      if (form.token) tokens.setProjectToken(saved.id, form.token)
      if (form.clearToken) tokens.setProjectToken(saved.id, undefined)
      notify('ok', editing ? `Saved ${saved.name}.` : `Project ${saved.name} created; setup is under way.`)
      navigate({ name: 'project', projectId: saved.id })
    } catch (failure) {
      setError(failure)
    } finally {
      setSaving(false)
    }
  }

  return (
    <div class="page narrow">
      <div class="page-head">
        <h1>{editing ? `Edit ${existing.data?.name ?? 'project'}` : 'Onboard a project'}</h1>
      </div>
      <ErrorBox error={existing.error} onRetry={existing.reload} />
      {editing && !existing.data && !existing.error && <p class="muted">Loading…</p>}
      {/* Editing starts once the project is loaded, so typing is never overwritten by its arrival. */}
      <form
        hidden={editing && !existing.data}
        class="form"
        onSubmit={submit}
        aria-label={editing ? 'Edit project' : 'Onboard a project'}
      >
        <Field label="Name" name="name">
          <input id="name" name="name" required value={form.name} onInput={set('name')} autocomplete="off" />
        </Field>
        <Field
          label="Git URL or local path"
          name="git_url"
          hint="https://…, git@host:owner/repo.git or /path/to/repo"
        >
          <input
            id="git_url"
            name="git_url"
            required
            value={form.source}
            onInput={set('source')}
            class="mono"
          />
        </Field>
        <Field
          label="Local checkout (optional)"
          name="local_path"
          hint="Where the repository already is on the server"
        >
          <input
            id="local_path"
            name="local_path"
            value={form.localPath}
            onInput={set('localPath')}
            class="mono"
          />
        </Field>
        <div class="field-row">
          <Field label="Base branch" name="base_branch">
            <input
              id="base_branch"
              name="base_branch"
              value={form.baseBranch}
              onInput={set('baseBranch')}
              class="mono"
            />
          </Field>
          <Field label="CI provider" name="ci_provider">
            <select id="ci_provider" name="ci_provider" value={form.ciProvider} onChange={set('ciProvider')}>
              <option value="">auto</option>
              <option value="github">GitHub</option>
              <option value="gitlab">GitLab</option>
            </select>
          </Field>
          <Field label="Review comments" name="review_mode">
            <select id="review_mode" name="review_mode" value={form.reviewMode} onChange={set('reviewMode')}>
              <option value="">server default</option>
              <option value="reopen_last_step">re-open the last step</option>
              <option value="new_step">add a new step</option>
            </select>
          </Field>
        </div>
        <Field
          label="Default models (JSON)"
          name="default_models"
          hint={
            modelsError ? (
              <span class="bad">{modelsError}</span>
            ) : (
              'Phase → model, e.g. {"planning": "gpt-5.1-high", "exec": "codex-5.1-max"}'
            )
          }
        >
          <textarea
            id="default_models"
            name="default_models"
            rows={4}
            class="mono"
            value={form.models}
            onInput={set('models')}
            aria-invalid={modelsError ? true : undefined}
          />
        </Field>
        <Field
          label={editing ? 'New project token (optional)' : 'Project token (optional)'}
          name="project_token"
          hint={
            editing
              ? existing.data?.has_api_token
                ? 'The project has a token. Type a new one to rotate it.'
                : 'The project has no token: anyone with the API token can use it.'
              : 'Callers then need X-Project-Token for this project. The server never shows it again.'
          }
        >
          <input
            id="project_token"
            name="project_token"
            type="password"
            autocomplete="new-password"
            value={form.token}
            onInput={set('token')}
          />
        </Field>
        {editing && existing.data?.has_api_token && (
          <label class="check">
            <input type="checkbox" checked={form.clearToken} onChange={set('clearToken')} /> Remove the
            project token
          </label>
        )}
        <ErrorBox error={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={saving}>
            {saving ? 'Saving…' : editing ? 'Save' : 'Create project'}
          </button>
          <a href={editing ? href({ name: 'project', projectId }) : href({ name: 'projects' })}>Cancel</a>
        </div>
      </form>
    </div>
  )
}
