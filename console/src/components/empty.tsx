import type { ComponentChildren } from 'preact'

/** An empty state that says what to do next. */
export const Empty = ({ title, children }: { title: string; children?: ComponentChildren }) => (
  <div class="empty">
    <p class="empty-title">{title}</p>
    {children && <div class="empty-next">{children}</div>}
  </div>
)
