/**
 * The decomposition pass of planning refines step files only: the numbered step files the planner
 * wrote, in name order, never step zero (setup) and never plan.md, context.md or log.md (the
 * original rewrote those too, in directory order, from a stale plan).
 */
export const decomposeTargets = (stepFileNames: readonly string[]): string[] =>
  stepFileNames.filter((name) => /^\d+-/.test(name) && !/^0+-/.test(name)).sort()

/** A step this short is left as it is when `PROTOCOL_SKIP_SIMPLE_DECOMPOSE` is on. */
const SIMPLE_STEP_MAX_CHARS = 400
const SIMPLE_STEP_MAX_TASKS = 3

/** At most three list items and under 400 characters: nothing worth splitting further. */
export const isSimpleStep = (text: string): boolean => {
  const tasks = text.split(/\r?\n/).filter((line) => /^\s*(?:[-*+]|\d+[.)])\s+\S/.test(line))
  return text.trim().length < SIMPLE_STEP_MAX_CHARS && tasks.length <= SIMPLE_STEP_MAX_TASKS
}

/**
 * The refined step file from a decompose answer: the Markdown itself, without a code fence the
 * agent may have wrapped it in; undefined when nothing usable came back.
 */
export const refinedStepText = (answer: string): string | undefined => {
  const fenced = /^\s*(`{3,}|~{3,})[\w-]*\n([\s\S]*?)\n\1\s*$/.exec(answer)
  const text = (fenced ? fenced[2]! : answer).trim()
  return text === '' ? undefined : `${text}\n`
}
