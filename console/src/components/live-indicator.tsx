import type { StreamStatus } from '../live/sse-client.js'

const TEXT: Record<StreamStatus['state'], string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'polling',
  stopped: 'offline',
  ended: 'complete',
}

/** Says whether what is on screen is live, and if not, why. */
export const LiveIndicator = ({ status }: { status: StreamStatus }) => (
  <span
    class={`live live-${status.state}`}
    title={status.reason ?? 'Updates arrive as they happen'}
    role="status"
  >
    <span class="live-dot" aria-hidden="true" />
    {TEXT[status.state]}
  </span>
)
