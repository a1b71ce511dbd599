import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

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
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'static',
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    sourcemap: false,
  },
})
