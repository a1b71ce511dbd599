import type { JSX } from 'preact'
import { parseMarkdown, type Block, type Inline } from '../logic/markdown.js'

/** Markdown rendered to elements whose content is text nodes only; no HTML is ever interpreted. */
export const Markdown = ({ source }: { source: string }) => (
  <div class="markdown">{parseMarkdown(source).map((block, i) => renderBlock(block, i))}</div>
)

const renderBlock = (block: Block, key: number): JSX.Element => {
  switch (block.kind) {
    case 'heading': {
      const Tag = `h${Math.min(6, block.level + 2)}` as 'h3'
      return <Tag key={key}>{renderInlines(block.children)}</Tag>
    }
    case 'paragraph':
      return <p key={key}>{renderInlines(block.children)}</p>
    case 'code':
      return (
        <pre key={key} data-lang={block.lang}>
          <code>{block.text}</code>
        </pre>
      )
    case 'list': {
      const items = block.items.map((item, i) => <li key={i}>{renderInlines(item)}</li>)
      return block.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>
    }
    case 'quote':
      return <blockquote key={key}>{block.children.map((child, i) => renderBlock(child, i))}</blockquote>
    case 'rule':
      return <hr key={key} />
  }
}

const renderInlines = (inlines: Inline[]) => inlines.map((inline, i) => renderInline(inline, i))

const renderInline = (inline: Inline, key: number): JSX.Element | string => {
  switch (inline.kind) {
    case 'text':
      return inline.text
    case 'code':
      return <code key={key}>{inline.text}</code>
    case 'strong':
      return <strong key={key}>{renderInlines(inline.children)}</strong>
    case 'em':
      return <em key={key}>{renderInlines(inline.children)}</em>
    case 'link':
      return (
        <a key={key} href={inline.href} rel="noopener noreferrer nofollow" target="_blank">
          {renderInlines(inline.children)}
        </a>
      )
  }
}
