import { useMemo, useState } from 'preact/hooks'
import {
  NOTIFICATION_EVENTS,
  notificationEndpoints,
  type NotificationDelivery,
  type NotificationTarget,
} from '../api/notification-endpoints.js'
import { Card } from '../components/card.js'
import { ErrorBox } from '../components/error-box.js'
import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'
import { href } from '../router.js'

/** A project's outgoing webhooks: add, enable/disable, remove, test-send, and the delivery log. */
export const NotificationsView = ({ projectId }: { projectId: number }) => {
  const { api, notify } = useConsole()
  const calls = useMemo(() => notificationEndpoints(api, projectId), [api, projectId])
  const targets = useResource(() => calls.targets(), [calls])
  const log = useResource(() => calls.deliveries(), [calls])
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what()
      notify('ok', done)
    } catch (error) {
      notify('bad', error instanceof Error ? error.message : String(error))
    }
    targets.reload()
    log.reload()
  }
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href({ name: 'projects' })}>Projects</a> ›{' '}
        <a href={href({ name: 'project', projectId })}>Project {projectId}</a> ›
      </nav>
      <div class="page-head">
        <h1>Notifications</h1>
        <div class="head-actions">
          <button type="button" onClick={() => act(() => calls.testSend(), 'Test notification queued.')}>
            Test-send to all
          </button>
        </div>
      </div>
      <ErrorBox error={targets.error} onRetry={targets.reload} />
      <Card title="Receivers" id="receivers">
        <TargetList targets={targets.data ?? []} act={act} calls={calls} />
        <NewTargetForm onCreate={(body) => act(() => calls.createTarget(body), 'Receiver added.')} />
      </Card>
      <Card title="Delivery log" id="deliveries" wide>
        <ErrorBox error={log.error} onRetry={log.reload} />
        <DeliveryTable deliveries={log.data ?? []} />
        <button type="button" class="link-button" onClick={log.reload}>
          Refresh
        </button>
      </Card>
    </div>
  )
}

type Calls = ReturnType<typeof notificationEndpoints>
type Act = (what: () => Promise<unknown>, done: string) => Promise<void>

const TargetList = ({ targets, act, calls }: { targets: NotificationTarget[]; act: Act; calls: Calls }) =>
  targets.length === 0 ? (
    <p class="muted">No receiver yet for this project.</p>
  ) : (
    <ul class="plain-list" aria-label="Receivers">
      {targets.map((t) => (
        <li key={t.id}>
          <code>{t.url}</code> · {t.format} · {t.events.length === 0 ? 'all events' : t.events.join(', ')} ·{' '}
          {t.has_secret ? 'signed' : 'unsigned'} · {t.enabled ? 'enabled' : 'disabled'}{' '}
          <button
            type="button"
            onClick={() => act(() => calls.testSend(t.id), `Test queued for receiver ${t.id}.`)}
          >
            Test-send
          </button>{' '}
          <button
            type="button"
            onClick={() => act(() => calls.updateTarget(t.id, { enabled: !t.enabled }), 'Receiver updated.')}
          >
            {t.enabled ? 'Disable' : 'Enable'}
          </button>{' '}
          <button type="button" onClick={() => act(() => calls.deleteTarget(t.id), 'Receiver removed.')}>
            Remove
          </button>
        </li>
      ))}
    </ul>
  )

const NewTargetForm = ({ onCreate }: { onCreate: (body: Parameters<Calls['createTarget']>[0]) => void }) => {
  const [url, setUrl] = useState('')
  const [secret, setSecret] = useState('')
  const [format, setFormat] = useState<'json' | 'slack'>('json')
  const [events, setEvents] = useState<string[]>([])
  const toggle = (name: string) =>
    setEvents((list) => (list.includes(name) ? list.filter((e) => e !== name) : [...list, name]))
  return (
    <form
      aria-label="New receiver"
      onSubmit={(e) => {
        e.preventDefault()
        onCreate({ url: url.trim(), ...(secret ? { secret } : {}), format, events })
        setSecret('')
      }}
    >
      <label for="notify-url">URL</label>
      <input id="notify-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      <label for="notify-secret">Signing secret (write-only)</label>
      <input
        id="notify-secret"
        type="password"
        autocomplete="off"
        value={secret}
        onInput={(e) => setSecret(e.currentTarget.value)}
      />
      <label for="notify-format">Format</label>
      <select
        id="notify-format"
        value={format}
        onChange={(e) => setFormat(e.currentTarget.value as 'json' | 'slack')}
      >
        <option value="json">JSON envelope</option>
        <option value="slack">Slack-compatible</option>
      </select>
      <fieldset>
        <legend>Events (none ticked: all)</legend>
        {NOTIFICATION_EVENTS.map((name) => (
          <label key={name} class="inline">
            <input type="checkbox" checked={events.includes(name)} onChange={() => toggle(name)} /> {name}
          </label>
        ))}
      </fieldset>
      <button type="submit" class="primary">
        Add receiver
      </button>
    </form>
  )
}

const DeliveryTable = ({ deliveries }: { deliveries: NotificationDelivery[] }) =>
  deliveries.length === 0 ? (
    <p class="muted">Nothing sent yet.</p>
  ) : (
    <table aria-label="Deliveries">
      <thead>
        <tr>
          <th>#</th>
          <th>Type</th>
          <th>Receiver</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Last answer</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.map((d) => (
          <tr key={d.id}>
            <td>{d.id}</td>
            <td>{d.type}</td>
            <td>{d.target_id ?? 'global default'}</td>
            <td>{d.status}</td>
            <td>{d.attempts}</td>
            <td>{d.last_error ?? (d.last_status_code === null ? '' : `HTTP ${d.last_status_code}`)}</td>
            <td>{d.created_at}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
