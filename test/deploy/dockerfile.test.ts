import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCli, readRoot, ROOT } from './deploy-files.js'

interface Instruction {
  readonly keyword: string
  readonly args: string
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
const instructions = (text: string): Instruction[] =>
  text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/)
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') }
    })

const all = instructions(readRoot('Dockerfile'))
const finalStage = all.slice(all.findLastIndex((i) => i.keyword === 'FROM'))
const last = (keyword: string) => finalStage.filter((i) => i.keyword === keyword).at(-1)?.args ?? ''
const ignored = readRoot('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))

describe('Dockerfile', () => {
  it('builds in one stage and ships a Node 20 slim stage with production dependencies only', () => {
    expect(all.filter((i) => i.keyword === 'FROM').length).toBeGreaterThanOrEqual(2)
    expect(readRoot('Dockerfile')).toMatch(/ARG NODE_IMAGE=node:20-[a-z]+-slim/)
    expect(finalStage.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci --omit=dev'))).toBe(true)
    expect(finalStage.some((i) => i.keyword === 'RUN' && /install .*\bgit\b/.test(i.args))).toBe(true)
    expect(finalStage.some((i) => i.keyword === 'ARG' && i.args.startsWith('AGENT_CLIS'))).toBe(true)
  })

  it('runs as a non-root user, serve by default, through the CLI entry point', async () => {
    expect(last('USER')).not.toMatch(/^(root|0)$/)
    expect(last('USER')).not.toBe('')
    const entrypoint = JSON.parse(last('ENTRYPOINT')) as string[]
    expect(entrypoint).toContain('/app/bin/tasksgodzilla.js')
    const command = JSON.parse(last('CMD')) as string[]
    expect((await parseCli(command)).command).toBe('serve')
  })

  it('checks health on /health/live', () => {
    expect(last('HEALTHCHECK')).toContain('/health/live')
  })

  it('copies only files that exist and that .dockerignore lets through', () => {
    const sources = all
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true)
      expect(ignored, source).not.toContain(source)
    }
    for (const needed of ['**/node_modules', 'dist', '.git']) expect(ignored).toContain(needed)
  })
})
