/**
 * What review comments do to a run: re-open the step executed last (its spec, engine and QA
 * policy stay) or append a new step after the last one whose prompt is the comments.
 */
export const REVIEW_MODES = ['reopen_last_step', 'new_step'] as const
export type ReviewMode = (typeof REVIEW_MODES)[number]

export const isReviewMode = (value: unknown): value is ReviewMode =>
  typeof value === 'string' && (REVIEW_MODES as readonly string[]).includes(value)

/** Why `value` is not a review mode (for a 422 quoting it), or undefined when it is one or absent. */
export const reviewModeIssue = (value: unknown): string | undefined => {
  if (value === undefined || value === null || isReviewMode(value)) return undefined
  const given = typeof value === 'string' ? `"${value.slice(0, 60)}"` : `a ${typeof value}`
  return `review_mode must be one of ${REVIEW_MODES.join(', ')} (got ${given})`
}

/** The mode in force: the protocol spec's, else the project's, else the server default. */
export const resolveReviewMode = (
  spec: unknown,
  project: ReviewMode | null,
  fallback: ReviewMode,
): ReviewMode => (isReviewMode(spec) ? spec : (project ?? fallback))
