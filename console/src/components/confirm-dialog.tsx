import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'

export interface ConfirmProps {
  readonly title: string
  readonly children?: ComponentChildren
  readonly confirmLabel: string
  readonly danger?: boolean
  readonly onConfirm: () => void
  readonly onCancel: () => void
}

/** A modal `<dialog>`: focus is trapped, Escape cancels, the safe choice has the focus. */
export const ConfirmDialog = ({
  title,
  children,
  confirmLabel,
  danger,
  onConfirm,
  onCancel,
}: ConfirmProps) => {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (dialog && !dialog.open) dialog.showModal()
    return () => dialog?.close()
  }, [])
  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault()
        onCancel()
      }}
    >
      <h2 id="confirm-title">{title}</h2>
      {children && <div class="confirm-body">{children}</div>}
      <div class="confirm-actions">
        <button type="button" autofocus onClick={onCancel}>
          Keep it
        </button>
        <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  )
}
