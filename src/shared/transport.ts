import type { MethodName, Params, Result } from './api'
import type { ApiResult } from './errors'
import type { EventMap, Topic } from './events'

/**
 * The client side of any transport (Electron IPC or HTTP + WebSocket). The renderer
 * is handed one at start-up and never learns which it has.
 */
export interface Transport {
  invoke<M extends MethodName>(method: M, params: Params<M>): Promise<ApiResult<Result<M>>>
  subscribe<T extends Topic>(topic: T, listener: (payload: EventMap[T]) => void): () => void
}

/** What the preload script exposes as `window.frugal`: untyped at the bridge, typed here. */
export interface FrugalBridge {
  invoke(method: string, params: unknown): Promise<unknown>
  subscribe(topic: string, listener: (payload: unknown) => void): () => void
  /**
   * The path on disk of a file the user dropped or picked (Electron's
   * webUtils.getPathForFile); '' when it has none. The argument is a DOM File.
   */
  getPathForFile(file: unknown): string
}

/** IPC channel names, shared by preload and main so they cannot drift apart. */
export const ipcChannels = {
  invoke: 'frugal:invoke',
  event: 'frugal:event',
} as const
