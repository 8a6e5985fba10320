/**
 * Preload: the only bridge between the sandboxed renderer and the main process. It
 * exposes exactly two functions, typed on the renderer side by the API contract.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { ipcChannels, type FrugalBridge } from '../shared/transport'

const bridge: FrugalBridge = {
  invoke: (method, params) => ipcRenderer.invoke(ipcChannels.invoke, method, params),
  subscribe: (topic, listener) => {
    const handler = (_event: IpcRendererEvent, eventTopic: string, payload: unknown): void => {
      if (eventTopic === topic) listener(payload)
    }
    ipcRenderer.on(ipcChannels.event, handler)
    return () => {
      ipcRenderer.off(ipcChannels.event, handler)
    }
  },
}

contextBridge.exposeInMainWorld('frugal', bridge)
