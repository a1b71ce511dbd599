import type { Route } from '../router.js'
import { href } from '../router.js'
import { Empty } from '../components/empty.js'
import { DashboardView } from './dashboard.view.js'
import { ImportView } from './import.view.js'
import { NewRunView } from './new-run.view.js'
import { NotificationsView } from './notifications.view.js'
import { ProjectFormView } from './project-form.view.js'
import { ProjectView } from './project.view.js'
import { ProjectsView } from './projects.view.js'
import { QueueView } from './queue.view.js'
import { RunView } from './run.view.js'
import { SettingsView } from './settings.view.js'
import { StepView } from './step.view.js'

/** One view per URL. */
export const RouteView = ({ route }: { route: Route }) => {
  switch (route.name) {
    case 'dashboard':
      return <DashboardView />
    case 'projects':
      return <ProjectsView />
    case 'project-new':
      return <ProjectFormView />
    case 'project-edit':
      return <ProjectFormView projectId={route.projectId} />
    case 'project':
      return <ProjectView key={route.projectId} projectId={route.projectId} />
    case 'run-new':
      return <NewRunView projectId={route.projectId} />
    case 'import':
      return <ImportView projectId={route.projectId} />
    case 'notifications':
      return <NotificationsView projectId={route.projectId} />
    case 'run':
      return <RunView key={route.runId} projectId={route.projectId} runId={route.runId} />
    case 'step':
      return (
        <StepView key={route.stepId} projectId={route.projectId} runId={route.runId} stepId={route.stepId} />
      )
    case 'queue':
      return <QueueView status={route.status} />
    case 'settings':
      return <SettingsView />
    case 'not-found':
      return (
        <Empty title="There is no such page in the console.">
          <a href={href({ name: 'dashboard' })}>Go to the dashboard</a>
        </Empty>
      )
  }
}
