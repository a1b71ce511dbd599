import { statusLook } from '../logic/status.js'

export const StatusBadge = ({ status }: { status: string | null | undefined }) => {
  const look = statusLook(status)
  return (
    <span class={`badge tone-${look.tone}`} data-status={status ?? ''}>
      <span aria-hidden="true" class="badge-icon">
        {look.icon}
      </span>
      {look.label}
    </span>
  )
}
