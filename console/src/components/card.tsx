import type { ComponentChildren } from 'preact'

export interface CardProps {
  readonly title: ComponentChildren
  readonly actions?: ComponentChildren
  readonly children: ComponentChildren
  readonly id?: string
  readonly wide?: boolean
}

export const Card = ({ title, actions, children, id, wide }: CardProps) => (
  <section class={wide ? 'card wide' : 'card'} aria-labelledby={id ? `${id}-title` : undefined} id={id}>
    <header class="card-head">
      <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
      {actions && <div class="card-actions">{actions}</div>}
    </header>
    {children}
  </section>
)
