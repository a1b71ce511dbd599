import type { ComponentChildren } from 'preact'

/**
 * One label/value pair of an inline facts list (`<dl class="facts inline">`). The pair is wrapped
 * so a narrow header wraps between facts, never between a label and its value.
 */
export const Fact = ({
  label,
  children,
  valueClass,
}: {
  label: string
  children: ComponentChildren
  valueClass?: string
}) => (
  <div class="fact">
    <dt>{label}</dt>
    <dd class={valueClass}>{children}</dd>
  </div>
)
