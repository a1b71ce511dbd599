import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let resolved: string | undefined

/**
 * The TasksGodzilla package root (the folder holding `package.json`, `prompts/`, `schemas/` and
 * `assets/`), found once by walking up from this module: the same code runs from `src/` under
 * tsx and from `dist/` once built, at different depths.
 */
export const packageRoot = (): string => {
  resolved ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)))
  return resolved
}

const findPackageRoot = (start: string): string => {
  let dir = start
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'prompts', 'protocol-plan.md')) && existsSync(join(dir, 'schemas'))) return dir
    dir = dirname(dir)
  }
  throw new Error(`the TasksGodzilla package root (with prompts/ and schemas/) was not found above ${start}`)
}
