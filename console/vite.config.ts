import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))
const outDir = fileURLToPath(new URL('../dist/console', import.meta.url))
/** The whole console's JavaScript, gzipped, must stay under this. */
const JS_BUDGET_GZIP_BYTES = 250 * 1024

/** Prints the gzipped size of all JavaScript and fails the build past the budget. */
const sizeBudget = (): Plugin => ({
  name: 'tgz-size-budget',
  apply: 'build',
  closeBundle() {
    const dir = join(outDir, 'static')
    const files = readdirSync(dir).filter((name) => name.endsWith('.js'))
    const gzip = files.reduce((sum, name) => sum + gzipSync(readFileSync(join(dir, name))).length, 0)
    const line = `console JS: ${files.length} file(s), ${(gzip / 1024).toFixed(1)} KB gzipped (budget ${JS_BUDGET_GZIP_BYTES / 1024} KB)`
    if (gzip > JS_BUDGET_GZIP_BYTES) throw new Error(`${line}: over budget`)
    console.log(line)
  },
})

/**
 * The console is built into `dist/console` and served by the API under `/console/`. `base: './'`
 * keeps every asset URL relative, so the console also works behind a path prefix; assets live in
 * `static/` so `/console/static/...` stays the asset path it was in the original.
 */
export default defineConfig({
  root,
  base: './',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [sizeBudget()],
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'static',
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    sourcemap: false,
  },
})
