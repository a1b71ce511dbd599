// tsx bench/cpu-profile-top.ts file.cpuprofile [rows] — functions of a V8 CPU profile by self time
// and by inclusive time (time with everything they called), as percentages of the whole profile.
import { readFileSync } from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  readonly children?: number[]
}
interface Profile {
  readonly nodes: ProfileNode[]
  readonly samples: number[]
  readonly timeDeltas: number[]
}

const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Profile
const rows = Number(process.argv[3] ?? 30)
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const selfTime = new Map<number, number>()
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

// Generated positions (tsx compiles each file to one line), enough to find the function again.
const nameOf = ({ callFrame: f }: ProfileNode): string =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${f.lineNumber + 1}:${f.columnNumber + 1}`

const totalOf = new Map<number, number>()
const total = (node: ProfileNode): number => {
  const sum = (node.children ?? []).reduce(
    (acc, id) => acc + total(byId.get(id)!),
    selfTime.get(node.id) ?? 0,
  )
  totalOf.set(node.id, sum)
  return sum
}
const all = total(profile.nodes[0]!)

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const visit = (node: ProfileNode, onStack: ReadonlySet<string>): void => {
  const name = nameOf(node)
  self.set(name, (self.get(name) ?? 0) + (selfTime.get(node.id) ?? 0))
  // A recursive function's time is counted once, at its outermost frame.
  if (!onStack.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + totalOf.get(node.id)!)
  const below = new Set(onStack).add(name)
  for (const id of node.children ?? []) visit(byId.get(id)!, below)
}
visit(profile.nodes[0]!, new Set())

const print = (title: string, times: Map<string, number>): void => {
  console.log(`\n${title}`)
  for (const [name, time] of [...times].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${((100 * time) / all).toFixed(1).padStart(5)}%  ${name}`)
  }
}
print('self time', self)
print('inclusive time', inclusive)
