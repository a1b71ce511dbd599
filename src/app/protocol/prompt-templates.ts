import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Our own prompt templates, in `prompts/` at the project root. */
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

const cache = new Map<PromptName, PromptTemplate>()

/** Reads (once) one of our prompt templates. */
export const loadPrompt = (name: PromptName): PromptTemplate => {
  const cached = cache.get(name)
  if (cached) return cached
  const text = readFileSync(join(findPromptsDir(), PROMPT_FILES[name]), 'utf8')
  const template = { text, version: createHash('sha256').update(text).digest('hex').slice(0, 12) }
  cache.set(name, template)
  return template
}

/** Joins titled sections with real newlines: `## Title\n\nbody`. */
export const promptSections = (head: string, sections: ReadonlyArray<readonly [string, string]>): string =>
  [head.trimEnd(), ...sections.map(([title, body]) => `## ${title}\n\n${body.trimEnd()}`)].join('\n\n') + '\n'

function findPromptsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'prompts')
    if (existsSync(join(candidate, PROMPT_FILES.plan))) return candidate
    dir = dirname(dir)
  }
  throw new Error('prompts/protocol-plan.md was not found above its own folder')
}
