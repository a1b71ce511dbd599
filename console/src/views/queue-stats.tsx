import type { QueueStatsReply } from '../api/types.js'
import { href } from '../router.js'

const KEYS = ['queued', 'started', 'delayed', 'finished', 'failed'] as const

/** `GET /queues`: queue names sit beside `backend`, each with counts per status. */
export const QueueStats = ({ stats }: { stats: QueueStatsReply }) => {
  const queues = Object.entries(stats).filter(
    (entry): entry is [string, Record<string, number>] =>
      entry[0] !== 'backend' && typeof entry[1] === 'object' && entry[1] !== null,
  )
  return (
    <div>
      <p class="muted small">Backend: {String(stats.backend ?? 'unknown')}</p>
      {queues.length === 0 && <p class="muted">No queue has seen a job yet.</p>}
      {queues.map(([name, counts]) => (
        <div key={name} class="queue-row">
          <span class="queue-name">{name}</span>
          <ul class="queue-counts">
            {KEYS.filter((k) => k in counts).map((k) => (
              <li key={k}>
                <a href={href({ name: 'queue', status: k })} class={`count-chip status-${k}`}>
                  <span class="count">{counts[k]}</span> {k}
                </a>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  )
}
