import { parseInline as parseInlineWith, type Inline } from './markdown-inline.js'

export type { Inline }

/**
 * A small Markdown subset parsed into plain data, which the renderer turns into elements with
 * text nodes only. No HTML from the source is ever interpreted: `<img onerror>` stays text.
 * Agent output is untrusted, so parsing is linear in the input: lines are recognised by anchored
 * patterns with bounded repetition or by plain scans, and quotes nest at most MAX_QUOTE_DEPTH deep.
 */
export type Block =
  | { readonly kind: 'heading'; readonly level: number; readonly children: Inline[] }
  | { readonly kind: 'paragraph'; readonly children: Inline[] }
  | { readonly kind: 'code'; readonly lang: string; readonly text: string }
  | { readonly kind: 'list'; readonly ordered: boolean; readonly items: Inline[][] }
  | { readonly kind: 'quote'; readonly children: Block[] }
  | { readonly kind: 'rule' }

const FENCE = /^\s{0,3}(```|~~~)\s*([\w+-]*)/
const HEADING_OPEN = /^\s{0,3}(#{1,6})\s/
const RULE_OPEN = /^\s{0,3}([-*_])/
const QUOTE = /^\s{0,3}>/
const MAX_QUOTE_DEPTH = 8
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/
const ORDERED = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/

export const parseMarkdown = (source: string): Block[] => parseBlocks(source, 0)

const parseBlocks = (source: string, depth: number): Block[] => {
  const lines = source.replace(/\r\n?/g, '\n').split('\n')
  const blocks: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i] ?? ''
    const fence = FENCE.exec(line)
    if (line.trim() === '') {
      i++
    } else if (fence) {
      const body: string[] = []
      for (i++; i < lines.length && !(lines[i] ?? '').trim().startsWith(fence[1] ?? '```'); i++)
        body.push(lines[i] ?? '')
      blocks.push({ kind: 'code', lang: fence[2] ?? '', text: body.join('\n') })
      i++
    } else if (HEADING_OPEN.test(line)) {
      blocks.push(heading(line))
      i++
    } else if (isRule(line)) {
      blocks.push({ kind: 'rule' })
      i++
    } else if (depth < MAX_QUOTE_DEPTH && QUOTE.test(line)) {
      const quoted: string[] = []
      for (; i < lines.length && QUOTE.test(lines[i] ?? ''); i++)
        quoted.push((lines[i] ?? '').replace(/^\s{0,3}>\s?/, ''))
      blocks.push({ kind: 'quote', children: parseBlocks(quoted.join('\n'), depth + 1) })
    } else if (BULLET.test(line) || ORDERED.test(line)) {
      const ordered = !BULLET.test(line)
      const pattern = ordered ? ORDERED : BULLET
      const items: Inline[][] = []
      for (; i < lines.length && pattern.test(lines[i] ?? ''); i++) {
        let text = pattern.exec(lines[i] ?? '')?.[1] ?? ''
        // Indented continuation lines belong to the item above.
        while (/^\s{2,}\S/.test(lines[i + 1] ?? '') && !pattern.test(lines[i + 1] ?? ''))
          text += ` ${(lines[++i] ?? '').trim()}`
        items.push(parseInline(text))
      }
      blocks.push({ kind: 'list', ordered, items })
    } else {
      const para: string[] = []
      para.push(line.trim())
      for (i++; i < lines.length && continuesParagraph(lines[i] ?? '', depth); i++)
        para.push((lines[i] ?? '').trim())
      blocks.push({ kind: 'paragraph', children: parseInline(para.join(' ')) })
    }
  }
  return blocks
}

const continuesParagraph = (line: string, depth: number): boolean =>
  line.trim() !== '' &&
  !FENCE.test(line) &&
  !HEADING_OPEN.test(line) &&
  !isRule(line) &&
  !BULLET.test(line) &&
  !ORDERED.test(line) &&
  !(depth < MAX_QUOTE_DEPTH && QUOTE.test(line))

/** `# Title ##`: one to six hashes and a space; trailing hashes and spaces are dropped. */
const heading = (line: string): Block => {
  const open = HEADING_OPEN.exec(line) ?? ['# ', '#']
  let end = line.trimEnd().length
  while (end > open[0].length && line[end - 1] === '#') end--
  const text = line.slice(open[0].length, end).trim()
  return { kind: 'heading', level: (open[1] ?? '#').length, children: parseInline(text) }
}

/** `---`, `* * *`, `___`: three or more of one marker with only spaces between. */
const isRule = (line: string): boolean => {
  const open = RULE_OPEN.exec(line)
  if (!open) return false
  let count = 0
  for (const char of line.slice(open[0].length - 1)) {
    if (char === open[1]) count++
    else if (!/\s/.test(char)) return false
  }
  return count >= 3
}

/**
 * Links may only go to http(s), mailto or a relative path; anything else (javascript:, data:) is
 * text. Browsers drop control characters and whitespace inside a URL before reading its scheme
 * (`\u0001javascript:` runs as javascript:) and read `\` as `/`, so such hrefs are refused whole.
 */
export const safeHref = (href: string): string | undefined => {
  const trimmed = href.trim()
  if (trimmed === '' || /[\s\p{Cc}\p{Cf}\\]/u.test(trimmed)) return undefined
  if (/^(https?:|mailto:)/i.test(trimmed)) return trimmed
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) || trimmed.startsWith('//')) return undefined
  return trimmed
}

export const parseInline = (text: string): Inline[] => parseInlineWith(text, safeHref)

/** A link to somewhere else (a PR, a CI page): only http(s) is followed. */
export const externalHref = (url: string | null | undefined): string | undefined =>
  url && /^https?:\/\//i.test(url.trim()) ? url.trim() : undefined
