/**
 * Preload: the only bridge between the sandboxed renderer and the main process. It
 * exposes three functions, typed on the renderer side by the API contract: invoke,
 * subscribe, and getPathForFile (a dropped file's real path, so imports need no copy).
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron'
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
  getPathForFile: (file) =>
    webUtils.getPathForFile(file as Parameters<typeof webUtils.getPathForFile>[0]),
}

contextBridge.exposeInMainWorld('frugal', bridge)
