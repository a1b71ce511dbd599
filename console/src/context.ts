import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { ApiClient } from './api/client.js'
import type { Endpoints } from './api/endpoints.js'
import type { TokenStore } from './api/token-store.js'

export interface Toast {
  readonly id: number
  readonly tone: 'ok' | 'bad' | 'info'
  readonly text: string
}

/** What every view needs: the API, the credentials and a way to say something briefly. */
export interface ConsoleContext {
  readonly api: ApiClient
  readonly endpoints: Endpoints
  readonly tokens: TokenStore
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>
  readonly notify: (tone: Toast['tone'], text: string) => void
  /** Rebuilds the API client after the settings changed. */
  readonly reconnect: () => void
}

export const Ctx = createContext<ConsoleContext | null>(null)

export const useConsole = (): ConsoleContext => {
  const value = useContext(Ctx)
  if (!value) throw new Error('useConsole outside the console root')
  return value
}
