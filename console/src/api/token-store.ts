/**
 * Where the console keeps credentials. The API token lives in sessionStorage (gone with the tab)
 * unless the user ticks "remember me", which moves it and the project tokens to localStorage.
 */
export interface KeyValueStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

export const TOKEN_KEY = 'tgz_token'
export const PROJECT_TOKENS_KEY = 'tgz_project_tokens'
export const API_BASE_KEY = 'tgz_api_base'

export interface TokenStore {
  apiToken(): string | undefined
  projectToken(projectId: number): string | undefined
  remembered(): boolean
  apiBase(): string | undefined
  setApiToken(token: string | undefined, remember: boolean): void
  setProjectToken(projectId: number, token: string | undefined): void
  setApiBase(base: string | undefined): void
  forgetAll(): void
}

export const createTokenStore = (session: KeyValueStorage, local: KeyValueStorage): TokenStore => {
  const current = (): KeyValueStorage => (local.getItem(TOKEN_KEY) !== null ? local : session)
  const readMap = (): Record<string, string> => parseMap(current().getItem(PROJECT_TOKENS_KEY))
  const writeMap = (map: Record<string, string>, storage: KeyValueStorage) => {
    if (Object.keys(map).length === 0) storage.removeItem(PROJECT_TOKENS_KEY)
    else storage.setItem(PROJECT_TOKENS_KEY, JSON.stringify(map))
  }
  return {
    apiToken: () => nonEmpty(current().getItem(TOKEN_KEY)),
    projectToken: (projectId) => nonEmpty(readMap()[String(projectId)]),
    remembered: () => local.getItem(TOKEN_KEY) !== null,
    apiBase: () => nonEmpty(local.getItem(API_BASE_KEY)),
    setApiToken(token, remember) {
      const map = readMap()
      for (const storage of [session, local]) {
        storage.removeItem(TOKEN_KEY)
        storage.removeItem(PROJECT_TOKENS_KEY)
      }
      const target = remember ? local : session
      // An empty token is still written when remembered, so the choice of storage survives a reload.
      if (token || remember) target.setItem(TOKEN_KEY, token ?? '')
      writeMap(map, target)
    },
    setProjectToken(projectId, token) {
      const map = readMap()
      if (token) map[String(projectId)] = token
      else delete map[String(projectId)]
      writeMap(map, current())
    },
    setApiBase(base) {
      if (base) local.setItem(API_BASE_KEY, base)
      else local.removeItem(API_BASE_KEY)
    },
    forgetAll() {
      for (const storage of [session, local]) {
        for (const key of [TOKEN_KEY, PROJECT_TOKENS_KEY, API_BASE_KEY]) storage.removeItem(key)
      }
    },
  }
}

const nonEmpty = (value: string | null | undefined): string | undefined =>
  value === null || value === undefined || value === '' ? undefined : value

const parseMap = (text: string | null): Record<string, string> => {
  if (!text) return {}
  try {
    const value: unknown = JSON.parse(text)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return {}
    return Object.fromEntries(
      Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    )
  } catch {
    return {}
  }
}

/** A Storage stand-in for browsers that refuse storage (private modes) and for tests. */
export const memoryStorage = (): KeyValueStorage => {
  const map = new Map<string, string>()
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  }
}
