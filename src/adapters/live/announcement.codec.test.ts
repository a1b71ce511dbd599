import { describe, expect, it } from 'vitest'
import type { EventNews } from '../../app/ports.js'
import {
  decodeAnnouncement,
  encodeAnnouncement,
  joinAnnouncements,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_NEWS_PER_ANNOUNCEMENT,
} from './announcement.codec.js'

const news = (id: number, protocolRunId: number | null = 7): EventNews => ({
  id,
  projectId: 3,
  protocolRunId,
  eventType: 'step_completed',
})

describe('live signal announcements on the wire', () => {
  it('carry the events they name to another process unchanged', () => {
    const named = [news(41), news(42, null)]
    expect(decodeAnnouncement(encodeAnnouncement(named))).toEqual(named)
  })

  it('name nothing (every stream reads) for what an older process sends or a hostile payload', () => {
    for (const payload of [
      '',
      '1',
      '[]',
      '{"id":1}',
      'not json',
      '[[1,2,3]]',
      '[[0,1,null,"x"]]',
      '[[1.5,1,null,"x"]]',
      '[[1,-2,null,"x"]]',
      '[["1",2,null,"x"]]',
      `[[1,2,null,"${'x'.repeat(201)}"]]`,
      '[[1,2,null,"x",{"__proto__":{"polluted":true}}]]',
      `[${Array.from({ length: 2_000 }, (_, i) => `[${i + 1},1,1,"agent_output"]`).join(',')}]`,
    ])
      expect(decodeAnnouncement(payload), payload.slice(0, 40)).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('send an announcement too long for a NOTIFY payload as one that names nothing', () => {
    const long = [{ ...news(1), eventType: 'x'.repeat(MAX_ANNOUNCEMENT_BYTES) }]
    expect(encodeAnnouncement(long)).toBe('')
    expect(encodeAnnouncement(undefined)).toBe('')
  })

  it('fold into one send naming all, or nothing once one names nothing or the list passes its cap', () => {
    expect(joinAnnouncements([news(1)], [news(2)])).toEqual([news(1), news(2)])
    expect(joinAnnouncements([news(1)], undefined)).toBeUndefined()
    expect(joinAnnouncements(undefined, [news(2)])).toBeUndefined()
    const full = Array.from({ length: MAX_NEWS_PER_ANNOUNCEMENT }, (_, i) => news(i + 1))
    expect(joinAnnouncements(full, [news(999)])).toBeUndefined()
  })
})
