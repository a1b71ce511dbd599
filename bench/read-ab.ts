// tsx bench/read-ab.ts — one computed read (memo off) of bench:mixed's 100 runs, served in turn by
// the API of each checkout named in AB_TREES (default: this one), in alternating rounds on one
// seeded database, so that a change is measured against the code before it moments apart.
//   AB_TREES=/tmp/before,/tmp/after   checkouts with node_modules (a `git archive` copy and a symlink)
//   AB_PATH='/protocols/{run}/steps'  the read; {run} and {project} are drawn at random per request
//   AB_ROUNDS=3, BENCH_DIALECTS=sqlite,postgres, BENCH_SECONDS=5 (each measurement after a warm-up)
import { fileURLToPath } from 'node:url'
import { AUTH_HEADERS, cleanUp, createDatabase, measureLoad, startApi, tempFile } from './load.js'
import type { DatabaseTarget } from '../src/config.js'
import { addPendingSteps } from './writes.js'

const SIZE = { projects: 10, runsPerProject: 10, events: 100_000 }
const TREES = (process.env.AB_TREES ?? fileURLToPath(new URL('..', import.meta.url))).split(',')
const PATH = process.env.AB_PATH ?? '/protocols/{run}/steps'
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3)
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>
/** A port per start: the previous API may still be exiting. */
let nextPort = 18_400

const script = tempFile(
  'read-ab.lua',
  `request = function()
  local run = math.random(1, ${SIZE.projects * SIZE.runsPerProject})
  local project = math.floor((run - 1) / ${SIZE.runsPerProject}) + 1
  return wrk.format("GET", "${PATH.replaceAll('{run}', '" .. run .. "').replaceAll('{project}', '" .. project .. "')}")
end`,
)

/** The API of `tree` on `target` at `port`, once it answers the read itself with a 200. */
const startApiIn = async (tree: string, target: DatabaseTarget, port: number) => {
  const api = await startApi(target, port, { TASKSGODZILLA_READ_CACHE_MB: '0' }, [], tree)
  const probe = PATH.replaceAll('{run}', '5').replaceAll('{project}', '1')
  const status = (await fetch(api.url + probe, { headers: AUTH_HEADERS })).status
  if (status === 200) return api
  api.stop()
  throw new Error(`${tree}: ${probe} answered ${status}`)
}

try {
  for (const dialect of DIALECTS) {
    const target = await createDatabase(dialect, SIZE, addPendingSteps)
    console.log(`\n${dialect}: GET ${PATH}, memo off, ${TREES.length} checkouts alternating`)
    for (let round = 1; round <= ROUNDS; round++)
      for (const tree of TREES) {
        const api = await startApiIn(tree, target, nextPort++)
        try {
          await measureLoad('warm-up', api.url, { wrkScript: script })
          const measured = await measureLoad(tree, api.url, { wrkScript: script })
          console.log(
            `  round ${round}  ${tree.padEnd(24)} ${measured.rps.toFixed(0).padStart(6)} req/s  p50 ${measured.p50} ms  p99 ${measured.p99} ms`,
          )
        } finally {
          api.stop()
        }
      }
  }
} finally {
  await cleanUp()
}
