import { describe, expect, it } from 'vitest'
import { externalHref, parseInline, parseMarkdown, safeHref } from './markdown.js'

describe('markdown', () => {
  it('parses headings, lists, code fences, quotes and rules', () => {
    const blocks = parseMarkdown(
      '# Report\n\n- one\n- **two**\n\n```ts\nconst x = 1\n```\n> note\n\n---\n1. a\n2. b',
    )
    expect(blocks.map((b) => b.kind)).toEqual(['heading', 'list', 'code', 'quote', 'rule', 'list'])
    expect(blocks[2]).toEqual({ kind: 'code', lang: 'ts', text: 'const x = 1' })
  })

  it('keeps HTML as text', () => {
    const blocks = parseMarkdown('<img src=x onerror=alert(1)> and <script>x</script>')
    expect(blocks).toEqual([
      {
        kind: 'paragraph',
        children: [{ kind: 'text', text: '<img src=x onerror=alert(1)> and <script>x</script>' }],
      },
    ])
  })

  it('never links to javascript: or data: URLs', () => {
    expect(parseInline('[click](javascript:alert(1))')).toEqual([
      { kind: 'text', text: '[click](javascript:alert(1))' },
    ])
    expect(safeHref('data:text/html,x')).toBeUndefined()
    expect(safeHref('//evil.example')).toBeUndefined()
    expect(safeHref('https://ok.example/a')).toBe('https://ok.example/a')
    expect(externalHref('javascript:alert(1)')).toBeUndefined()
    expect(externalHref('https://github.com/o/r/pull/1')).toBe('https://github.com/o/r/pull/1')
  })

  it('parses inline code, emphasis and escapes', () => {
    expect(parseInline('`a*b*` *em* __strong__ \\*lit\\*')).toEqual([
      { kind: 'code', text: 'a*b*' },
      { kind: 'text', text: ' ' },
      { kind: 'em', children: [{ kind: 'text', text: 'em' }] },
      { kind: 'text', text: ' ' },
      { kind: 'strong', children: [{ kind: 'text', text: 'strong' }] },
      { kind: 'text', text: ' *lit*' },
    ])
  })
})
