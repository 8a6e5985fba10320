import type { ApiResult } from '../../../shared/errors'
import type { FrugalBridge } from '../../../shared/transport'
import type { AppTransport } from '.'

/** Desktop: calls go through the preload bridge to the main process. */
export function ipcTransport(bridge: FrugalBridge): AppTransport {
  return {
    invoke: (method, params) => bridge.invoke(method, params) as Promise<ApiResult<never>>,
    subscribe: (topic, listener) => bridge.subscribe(topic, listener as (payload: unknown) => void),
    // A dropped or picked file is on this machine: use it where it is.
    fileToPath(file) {
      const path = bridge.getPathForFile(file)
      return path
        ? Promise.resolve(path)
        : Promise.reject(
            new Error(`"${file.name}" has no path on disk (was it dragged from another app?).`),
          )
    },
  }
}
