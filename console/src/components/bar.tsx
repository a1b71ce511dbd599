/** A horizontal bar for a share in [0, 1], sized through the CSSOM (allowed by the CSP). */
export const Bar = ({ share, tone = 'info' }: { share: number; tone?: string }) => (
  <span class="bar" aria-hidden="true">
    <span class={`bar-fill tone-${tone}`} style={{ width: `${Math.max(0, Math.min(1, share)) * 100}%` }} />
  </span>
)
