import type { JsonObject } from '../../../domain/json.js'

/** The onboarding questions (keys as the original; wording ours). */
export const ONBOARDING_QUESTIONS: ReadonlyArray<{ readonly key: string; readonly question: string }> = [
  { key: 'ci_provider', question: 'Which CI runs on this repository: GitHub Actions, GitLab CI, or none?' },
  { key: 'prefer_ssh', question: 'Should git talk to the remote over SSH rather than HTTPS?' },
  { key: 'git_identity', question: 'Which name and email should protocol commits carry?' },
  { key: 'branch_naming', question: 'Is the default branch naming (<NNNN>-<short-name>) acceptable?' },
  { key: 'required_checks', question: 'Which checks must pass before a step counts as done?' },
  { key: 'pr_policy', question: 'Should pull requests open as drafts, and when should they open?' },
  { key: 'default_models', question: 'Which engines and models should planning, execution and QA use?' },
  { key: 'secrets', question: 'Which credentials do agents need, and where are they kept?' },
  { key: 'codex_discovery', question: 'Should an agent survey the repository before the first protocol?' },
]

/** The event metadata listing the questions. */
export const questionsMetadata = (blocking: boolean): JsonObject => ({
  questions: ONBOARDING_QUESTIONS.map(({ key, question }) => ({ key, question })),
  blocking,
})

/** True when the project has at least one answer recorded. */
export const hasAnswers = (clarifications: JsonObject | null): boolean =>
  clarifications !== null && Object.keys(clarifications).length > 0
