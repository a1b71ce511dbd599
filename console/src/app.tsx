import { useCallback, useEffect, useMemo, useState } from 'preact/hooks'
import { createApiClient, defaultApiBase } from './api/client.js'
import { createEndpoints } from './api/endpoints.js'
import { createTokenStore, memoryStorage, type KeyValueStorage } from './api/token-store.js'
import { Ctx, type ConsoleContext, type Toast } from './context.js'
import { parseRoute, type Route } from './router.js'
import { Shell } from './shell.js'
import { RouteView } from './views/route-view.js'

const storage = (pick: () => Storage): KeyValueStorage => {
  try {
    const s = pick()
    s.getItem('probe')
    return s
  } catch {
    return memoryStorage()
  }
}

const tokens = createTokenStore(
  storage(() => window.sessionStorage),
  storage(() => window.localStorage),
)
const boundFetch = (url: string, init: RequestInit) => window.fetch(url, init)

const useRoute = (): Route => {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const onHash = () => {
      setRoute(parseRoute(window.location.hash))
      window.scrollTo(0, 0)
    }
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  return route
}

let toastSeq = 0

export const App = () => {
  const route = useRoute()
  const [generation, setGeneration] = useState(0)
  const [toasts, setToasts] = useState<Toast[]>([])
  const notify = useCallback((tone: Toast['tone'], text: string) => {
    const toast = { id: ++toastSeq, tone, text }
    setToasts((all) => [...all.slice(-3), toast])
    setTimeout(() => setToasts((all) => all.filter((t) => t.id !== toast.id)), tone === 'bad' ? 9000 : 4500)
  }, [])
  const context = useMemo<ConsoleContext>(() => {
    const api = createApiClient(tokens.apiBase() ?? defaultApiBase(window.location.href), tokens, boundFetch)
    return {
      api,
      endpoints: createEndpoints(api),
      tokens,
      fetch: boundFetch,
      notify,
      reconnect: () => setGeneration((g) => g + 1),
    }
  }, [generation, notify])
  return (
    <Ctx.Provider value={context}>
      <Shell
        route={route}
        toasts={toasts}
        onDismiss={(id) => setToasts((all) => all.filter((t) => t.id !== id))}
      >
        <RouteView key={generation} route={route} />
      </Shell>
    </Ctx.Provider>
  )
}
