import type { WireTime } from '../api/types.js'
import { useTick } from '../hooks.js'
import { absoluteTime, relativeTime } from '../logic/time.js'

/** "3 minutes ago", with the exact local time on hover and for screen readers' `datetime`. */
export const RelTime = ({ value }: { value: WireTime | undefined }) => {
  const now = useTick(15_000)
  const exact = absoluteTime(value)
  return (
    <time class="rel-time" title={exact} dateTime={exact}>
      {relativeTime(value, now)}
    </time>
  )
}
