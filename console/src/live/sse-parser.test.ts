import { describe, expect, it } from 'vitest'
import { SseParser } from './sse-parser.js'

describe('SSE parser', () => {
  it('dispatches on a blank line and joins multi-line data', () => {
    const parser = new SseParser()
    expect(parser.feed('id: 7\nevent: x\ndata: a\ndata: b\n\n')).toEqual([
      { event: 'x', data: 'a\nb', lastEventId: '7' },
    ])
  })

  it('handles messages split anywhere across chunks, including CRLF pairs', () => {
    const parser = new SseParser()
    const text = 'retry: 1500\r\nid: 1\r\ndata: {"id":1}\r\n\r\n: ping\r\n\r\nid: 2\rdata: second\r\r'
    const out = [...text].flatMap((ch) => parser.feed(ch))
    expect(out.map((m) => [m.lastEventId, m.data])).toEqual([
      ['1', '{"id":1}'],
      ['2', 'second'],
    ])
    expect(parser.retryMs).toBe(1500)
  })

  it('ignores comments, unknown fields, ids with NUL and messages without data', () => {
    const parser = new SseParser()
    expect(parser.feed(': hello\nfoo: bar\nid: 3\n\nid: 4\u0000\ndata:x\n\n')).toEqual([
      { event: 'message', data: 'x', lastEventId: '3' },
    ])
  })
})
