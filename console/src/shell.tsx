import type { ComponentChildren } from 'preact'
import type { Toast } from './context.js'
import { href, type Route } from './router.js'

const NAV: readonly { label: string; route: Route; match: readonly Route['name'][] }[] = [
  { label: 'Dashboard', route: { name: 'dashboard' }, match: ['dashboard'] },
  {
    label: 'Projects',
    route: { name: 'projects' },
    match: ['projects', 'project', 'project-new', 'project-edit', 'run', 'run-new', 'step', 'import'],
  },
  { label: 'Queue', route: { name: 'queue' }, match: ['queue'] },
  { label: 'Settings', route: { name: 'settings' }, match: ['settings'] },
]

export interface ShellProps {
  readonly route: Route
  readonly toasts: readonly Toast[]
  readonly onDismiss: (id: number) => void
  readonly children: ComponentChildren
}

/** Header, navigation, the page, and the stack of short notices. */
export const Shell = ({ route, toasts, onDismiss, children }: ShellProps) => (
  <>
    <a
      class="skip"
      href="#main"
      onClick={(e) => {
        e.preventDefault()
        document.getElementById('main')?.focus()
      }}
    >
      Skip to content
    </a>
    <header class="top">
      <a class="brand" href={href({ name: 'dashboard' })}>
        <span class="brand-mark" aria-hidden="true">
          ◆
        </span>
        TasksGodzilla
      </a>
      <nav aria-label="Main">
        {NAV.map((item) => (
          <a
            key={item.label}
            href={href(item.route)}
            aria-current={item.match.includes(route.name) ? 'page' : undefined}
          >
            {item.label}
          </a>
        ))}
      </nav>
    </header>
    <main id="main" tabIndex={-1}>
      {children}
    </main>
    <div class="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <div
          key={toast.id}
          class={`toast tone-${toast.tone}`}
          role={toast.tone === 'bad' ? 'alert' : 'status'}
        >
          <span>{toast.text}</span>
          <button type="button" class="link-button" aria-label="Dismiss" onClick={() => onDismiss(toast.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  </>
)
