import type { ApiResult } from '../../../shared/errors'
import type { FrugalBridge, Transport } from '../../../shared/transport'

/** Desktop: calls go through the preload bridge to the main process. */
export function ipcTransport(bridge: FrugalBridge): Transport {
  return {
    invoke: (method, params) => bridge.invoke(method, params) as Promise<ApiResult<never>>,
    subscribe: (topic, listener) => bridge.subscribe(topic, listener as (payload: unknown) => void),
  }
}
