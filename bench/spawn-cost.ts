// npx tsx bench/spawn-cost.ts [MB ...] — what starting a process costs its parent, by the parent's
// memory: 50 × execFile('/bin/true') after allocating (and touching) each given number of MB.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)
const SPAWNS = 50
const sizes = process.argv.slice(2).map(Number)
const held: Buffer[] = []
let allocated = 0
for (const mb of sizes.length > 0 ? sizes : [0, 100, 300]) {
  for (; allocated < mb; allocated++) held.push(Buffer.alloc(1 << 20, 1))
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < SPAWNS; i++) await run('/bin/true')
  const cpu = process.cpuUsage(cpuBefore)
  const rss = (process.memoryUsage().rss / 1e6).toFixed(0)
  const wall = ((performance.now() - started) / SPAWNS).toFixed(2)
  const parent = ((cpu.user + cpu.system) / 1000 / SPAWNS).toFixed(2)
  console.log(`parent RSS ${rss} MB: ${wall} ms wall, ${parent} ms of the parent's CPU per spawn`)
}
