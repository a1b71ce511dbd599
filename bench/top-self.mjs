// node bench/top-self.mjs file.cpuprofile [n] — top functions by self time in a V8 CPU profile.
import { readFileSync } from 'node:fs'
const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const n = Number(process.argv[3] ?? 40)
const dt = new Map()
for (let i = 0; i < profile.samples.length; i++)
  dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
const byKey = new Map()
let total = 0
for (const node of profile.nodes) {
  const t = dt.get(node.id) ?? 0
  total += t
  const f = node.callFrame
  const key = `${f.functionName || '(anon)'} ${f.url.replace(/.*node_modules\//, 'nm/').replace(/.*wt-api-fast\//, '')}:${f.lineNumber + 1}:${f.columnNumber + 1}`
  byKey.set(key, (byKey.get(key) ?? 0) + t)
}
const rows = [...byKey].sort((a, b) => b[1] - a[1]).slice(0, n)
for (const [k, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`)
