import { useState } from 'preact/hooks'
import { Empty } from '../components/empty.js'
import { ErrorBox } from '../components/error-box.js'
import { RelTime } from '../components/rel-time.js'
import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'
import { href } from '../router.js'

/** All projects, filterable by name or repository. */
export const ProjectsView = () => {
  const { endpoints, tokens } = useConsole()
  const projects = useResource(() => endpoints.projects(), [])
  const [filter, setFilter] = useState('')
  const shown = (projects.data ?? []).filter((p) =>
    `${p.name} ${p.git_url}`.toLowerCase().includes(filter.trim().toLowerCase()),
  )
  return (
    <div class="page">
      <div class="page-head">
        <h1>Projects</h1>
        <a class="button primary" href={href({ name: 'project-new' })}>
          Onboard a project
        </a>
      </div>
      <ErrorBox error={projects.error} onRetry={projects.reload} />
      {projects.data && projects.data.length > 0 && (
        <label class="filter">
          <span>Filter</span>
          <input
            type="search"
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
            placeholder="name or repository"
          />
        </label>
      )}
      {projects.data?.length === 0 && (
        <Empty title="No project yet.">
          Onboard a git repository (a URL or a local path) to start running protocols on it.{' '}
          <a href={href({ name: 'project-new' })}>Onboard a project</a>
        </Empty>
      )}
      {shown.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-label="Projects">
            <thead>
              <tr>
                <th>Name</th>
                <th>Repository</th>
                <th>Base branch</th>
                <th>CI</th>
                <th>Token</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a href={href({ name: 'project', projectId: p.id })}>{p.name}</a>
                  </td>
                  <td class="mono wrap">{p.git_url}</td>
                  <td class="mono">{p.base_branch}</td>
                  <td>{p.ci_provider ?? <span class="muted">auto</span>}</td>
                  <td>
                    {p.has_api_token ? (
                      tokens.projectToken(p.id) ? (
                        '🔑 saved'
                      ) : (
                        '🔒 needed'
                      )
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                  <td>
                    <RelTime value={p.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {projects.data && projects.data.length > 0 && shown.length === 0 && (
        <p class="muted">No project matches “{filter}”.</p>
      )}
    </div>
  )
}
