/** The look of a status: a tone (colour family) and an icon that does not rely on colour alone. */
export interface StatusLook {
  readonly tone: 'neutral' | 'info' | 'busy' | 'ok' | 'warn' | 'bad' | 'muted'
  readonly icon: string
  readonly label: string
}

const LOOKS: Record<string, StatusLook> = {
  pending: { tone: 'neutral', icon: '○', label: 'pending' },
  queued: { tone: 'neutral', icon: '○', label: 'queued' },
  delayed: { tone: 'warn', icon: '◷', label: 'delayed' },
  held: { tone: 'warn', icon: '❚❚', label: 'held' },
  planning: { tone: 'busy', icon: '◔', label: 'planning' },
  planned: { tone: 'info', icon: '◑', label: 'planned' },
  running: { tone: 'busy', icon: '▶', label: 'running' },
  started: { tone: 'busy', icon: '▶', label: 'started' },
  needs_qa: { tone: 'warn', icon: '⚑', label: 'needs QA' },
  waiting_quota: { tone: 'warn', icon: '⏳', label: 'waiting for quota' },
  paused: { tone: 'warn', icon: '❚❚', label: 'paused' },
  blocked: { tone: 'bad', icon: '■', label: 'blocked' },
  failed: { tone: 'bad', icon: '✕', label: 'failed' },
  cancelled: { tone: 'muted', icon: '⊘', label: 'cancelled' },
  completed: { tone: 'ok', icon: '✓', label: 'completed' },
  finished: { tone: 'ok', icon: '✓', label: 'finished' },
  valid: { tone: 'ok', icon: '✓', label: 'valid' },
  invalid: { tone: 'bad', icon: '✕', label: 'invalid' },
  missing: { tone: 'muted', icon: '?', label: 'missing' },
}

export const statusLook = (status: string | null | undefined): StatusLook =>
  LOOKS[status ?? ''] ?? { tone: 'neutral', icon: '•', label: status ?? 'unknown' }

/** The tone of an event type, so failures stand out in a timeline. */
export const eventTone = (eventType: string): StatusLook['tone'] => {
  if (/fail|error|blocked|denied|unauthorized/.test(eventType)) return 'bad'
  if (/complete|pass|approv|merged|imported|planned|deleted/.test(eventType)) return 'ok'
  if (/loop|trigger|retry|paused|clarification|warn|budget/.test(eventType)) return 'warn'
  if (/cancel/.test(eventType)) return 'muted'
  return 'info'
}
