import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Assets } from '../../app/assets.port.js'

/** {@link Assets} over the package root `root`, read straight from disk. */
export const createPackageAssets = (root: string): Assets => {
  const at = (path: string): string => join(root, ...path.split('/'))
  return {
    readText: (path) => readFileSync(at(path), 'utf8'),
    modeOf: (path) => (existsSync(at(path)) ? statSync(at(path)).mode & 0o777 : undefined),
    list: (path) => (existsSync(at(path)) && statSync(at(path)).isDirectory() ? readdirSync(at(path)) : []),
    absolutePath: at,
  }
}
