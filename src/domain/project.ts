import type { EngineChain } from './engine-chain.js'
import type { JsonObject } from './json.js'
import type { ReviewMode } from './review-mode.js'

/** Phase → model id overrides a project may carry. */
export const MODEL_PHASES = ['planning', 'decompose', 'exec', 'qa'] as const
export type ModelPhase = (typeof MODEL_PHASES)[number]

/**
 * A project as every reader sees it. Secret values (the project API token, webhook secrets)
 * are deliberately absent: only whether they exist is visible.
 */
export interface Project {
  readonly id: number
  readonly name: string
  readonly gitUrl: string
  readonly baseBranch: string
  readonly localPath: string | null
  readonly ciProvider: string | null
  readonly defaultModels: JsonObject | null
  /** Engine/model fallback chain for step execution, or null (engine-chain.ts). */
  readonly engines: EngineChain | null
  /** Names of the keys held in the write-only secrets bag, never their values. */
  readonly secretKeys: readonly string[]
  readonly hasApiToken: boolean
  /** Answers to onboarding clarification questions, keyed by question key. */
  readonly clarifications: JsonObject | null
  /** What review comments do to this project's runs; null: the server default. */
  readonly reviewMode: ReviewMode | null
  readonly createdAt: string
  readonly updatedAt: string
}

/** The only read model that carries credentials; used by auth and webhook checks alone. */
export interface ProjectCredentials {
  readonly projectId: number
  /** SHA-256 hex of the project API token, or null when the project has none. */
  readonly apiTokenHash: string | null
  readonly secrets: JsonObject
}

export interface NewProject {
  readonly name: string
  readonly gitUrl: string
  readonly baseBranch: string
  readonly localPath: string | null
  readonly ciProvider: string | null
  readonly defaultModels: JsonObject | null
  readonly engines?: EngineChain | null
  readonly secrets: JsonObject | null
  readonly apiTokenHash: string | null
  readonly reviewMode?: ReviewMode | null
}

export type ProjectPatch = Partial<
  Pick<
    NewProject,
    | 'name'
    | 'baseBranch'
    | 'localPath'
    | 'ciProvider'
    | 'defaultModels'
    | 'engines'
    | 'apiTokenHash'
    | 'reviewMode'
  >
> & { readonly clarifications?: JsonObject | null; readonly secrets?: JsonObject | null }
