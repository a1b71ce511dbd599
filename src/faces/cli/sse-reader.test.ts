import { describe, expect, it } from 'vitest'
import { detailOf, queryString } from './api-client.js'
import { parseBlock } from './sse-reader.js'

describe('SSE and HTTP helpers', () => {
  it('parses SSE blocks: multi-line data, ids, retry hints; comments are no message', () => {
    expect(parseBlock('id: 5\ndata: {"a":1}')).toEqual({
      message: { id: '5', event: undefined, data: '{"a":1}' },
      retryMs: undefined,
    })
    expect(parseBlock('data: one\ndata: two').message?.data).toBe('one\ntwo')
    expect(parseBlock('retry: 2000')).toEqual({ retryMs: 2000 })
    expect(parseBlock(': ping')).toEqual({ retryMs: undefined })
  })

  it("turns the API's error bodies into one line", () => {
    expect(detailOf('{"detail":"Project not found","code":"ORC_X"}', { statusText: 'Not Found' })).toBe(
      'Project not found',
    )
    expect(
      detailOf('{"detail":[{"type":"missing","loc":["body","git_url"],"msg":"Field required"}]}', {
        statusText: '',
      }),
    ).toBe('body.git_url: Field required')
    expect(detailOf('', { statusText: 'Bad Gateway' })).toBe('Bad Gateway')
  })

  it('builds query strings without undefined values', () => {
    expect(queryString({ a: 1, b: undefined, c: 'x y' })).toBe('?a=1&c=x+y')
    expect(queryString({})).toBe('')
  })
})
