/**
 * A small Markdown subset parsed into plain data, which the renderer turns into elements with
 * text nodes only. No HTML from the source is ever interpreted: `<img onerror>` stays text.
 */
export type Inline =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'strong' | 'em'; readonly children: Inline[] }
  | { readonly kind: 'link'; readonly href: string; readonly children: Inline[] }

export type Block =
  | { readonly kind: 'heading'; readonly level: number; readonly children: Inline[] }
  | { readonly kind: 'paragraph'; readonly children: Inline[] }
  | { readonly kind: 'code'; readonly lang: string; readonly text: string }
  | { readonly kind: 'list'; readonly ordered: boolean; readonly items: Inline[][] }
  | { readonly kind: 'quote'; readonly children: Block[] }
  | { readonly kind: 'rule' }

const FENCE = /^\s{0,3}(```|~~~)\s*([\w+-]*)/
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/
const ORDERED = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/

export const parseMarkdown = (source: string): Block[] => {
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
    } else if (HEADING.test(line)) {
      const [, hashes = '#', text = ''] = HEADING.exec(line) ?? []
      blocks.push({ kind: 'heading', level: hashes.length, children: parseInline(text) })
      i++
    } else if (RULE.test(line)) {
      blocks.push({ kind: 'rule' })
      i++
    } else if (/^\s{0,3}>/.test(line)) {
      const quoted: string[] = []
      for (; i < lines.length && /^\s{0,3}>/.test(lines[i] ?? ''); i++)
        quoted.push((lines[i] ?? '').replace(/^\s{0,3}>\s?/, ''))
      blocks.push({ kind: 'quote', children: parseMarkdown(quoted.join('\n')) })
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
      for (; i < lines.length && startsParagraphLine(lines[i] ?? ''); i++) para.push((lines[i] ?? '').trim())
      blocks.push({ kind: 'paragraph', children: parseInline(para.join(' ')) })
    }
  }
  return blocks
}

const startsParagraphLine = (line: string): boolean =>
  line.trim() !== '' &&
  !FENCE.test(line) &&
  !HEADING.test(line) &&
  !RULE.test(line) &&
  !BULLET.test(line) &&
  !ORDERED.test(line) &&
  !/^\s{0,3}>/.test(line)

/** Links may only go to http(s), mailto or a relative path; anything else (javascript:, data:) is text. */
export const safeHref = (href: string): string | undefined => {
  const trimmed = href.trim()
  if (/^(https?:|mailto:)/i.test(trimmed)) return trimmed
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) || trimmed.startsWith('//')) return undefined
  return trimmed === '' ? undefined : trimmed
}

export const parseInline = (text: string): Inline[] => {
  const out: Inline[] = []
  let plain = ''
  const flush = () => {
    if (plain) out.push({ kind: 'text', text: plain })
    plain = ''
  }
  let i = 0
  while (i < text.length) {
    const rest = text.slice(i)
    const code = /^(`+)([\s\S]*?[^`])\1(?!`)/.exec(rest)
    const strong = /^(\*\*|__)(?=\S)([\s\S]*?\S)\1/.exec(rest)
    const em = /^([*_])(?=\S)([\s\S]*?\S)\1(?![*_])/.exec(rest)
    const link = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(rest)
    if (text[i] === '\\' && i + 1 < text.length && /[\\`*_[\]()#>-]/.test(text[i + 1] ?? '')) {
      plain += text[i + 1]
      i += 2
    } else if (code) {
      flush()
      out.push({ kind: 'code', text: (code[2] ?? '').trim() })
      i += code[0].length
    } else if (strong) {
      flush()
      out.push({ kind: 'strong', children: parseInline(strong[2] ?? '') })
      i += strong[0].length
    } else if (em) {
      flush()
      out.push({ kind: 'em', children: parseInline(em[2] ?? '') })
      i += em[0].length
    } else if (link) {
      const href = safeHref(link[2] ?? '')
      if (href) {
        flush()
        out.push({ kind: 'link', href, children: parseInline(link[1] ?? '') })
      } else plain += link[0]
      i += link[0].length
    } else {
      plain += text[i]
      i++
    }
  }
  flush()
  return out
}

/** A link to somewhere else (a PR, a CI page): only http(s) is followed. */
export const externalHref = (url: string | null | undefined): string | undefined =>
  url && /^https?:\/\//i.test(url.trim()) ? url.trim() : undefined
