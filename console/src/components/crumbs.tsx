import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'
import { href } from '../router.js'

/** Projects › <project name> › [run name ›], names fetched for the page's own project. */
export const Crumbs = ({ projectId, run }: { projectId: number; run?: { id: number; name?: string } }) => {
  const { endpoints } = useConsole()
  const project = useResource(() => endpoints.project(projectId), [projectId])
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <a href={href({ name: 'projects' })}>Projects</a> ›{' '}
      <a href={href({ name: 'project', projectId })}>{project.data?.name ?? `Project ${projectId}`}</a> ›
      {run && (
        <>
          {' '}
          <a href={href({ name: 'run', projectId, runId: run.id })}>{run.name ?? `Run ${run.id}`}</a> ›
        </>
      )}
    </nav>
  )
}
