import { createHash } from 'node:crypto'
import type { Assets } from '../assets.port.js'

/** Our own prompt templates, in `prompts/` of the package (read through {@link Assets}). */
export const PROMPT_FILES = {
  plan: 'protocol-plan.md',
  decompose: 'step-decompose.md',
  execute: 'step-execute.md',
  qa: 'quality-check.md',
} as const

export type PromptName = keyof typeof PROMPT_FILES

export interface PromptTemplate {
  readonly text: string
  /** Short hash of the template text, recorded in events as the prompt version. */
  readonly version: string
}

/** Templates already read, per assets root. */
const caches = new WeakMap<Assets, Map<PromptName, PromptTemplate>>()

/** Reads (once per assets root) one of our prompt templates. */
export const loadPrompt = (assets: Assets, name: PromptName): PromptTemplate => {
  let cache = caches.get(assets)
  if (!cache) caches.set(assets, (cache = new Map()))
  const cached = cache.get(name)
  if (cached) return cached
  const text = assets.readText(`prompts/${PROMPT_FILES[name]}`)
  const template = { text, version: createHash('sha256').update(text).digest('hex').slice(0, 12) }
  cache.set(name, template)
  return template
}

/** Joins titled sections with real newlines: `## Title\n\nbody`. */
export const promptSections = (head: string, sections: ReadonlyArray<readonly [string, string]>): string =>
  [head.trimEnd(), ...sections.map(([title, body]) => `## ${title}\n\n${body.trimEnd()}`)].join('\n\n') + '\n'
