import {
  dialog,
  type BrowserWindow,
  type OpenDialogOptions,
  type SaveDialogOptions,
} from 'electron'
import type { NativeDialogs } from '../api/context'

const projectFilter = [{ name: 'Frugal project', extensions: ['frugal'] }]

/** The OS's own open and save dialogs, attached to the app window. */
export function electronDialogs(window: () => BrowserWindow | null): NativeDialogs {
  const open = async (options: OpenDialogOptions): Promise<string | null> => {
    const win = window()
    const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options)
    return r.canceled ? null : (r.filePaths[0] ?? null)
  }
  const save = async (options: SaveDialogOptions): Promise<string | null> => {
    const win = window()
    const r = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options)
    return r.canceled ? null : (r.filePath ?? null)
  }
  return {
    pickPath(purpose, defaultPath) {
      const base = defaultPath ? { defaultPath } : {}
      switch (purpose) {
        case 'openProject':
          return open({
            ...base,
            title: 'Open project',
            properties: ['openFile'],
            filters: projectFilter,
          })
        case 'createProject':
          return save({
            ...base,
            title: 'New project',
            buttonLabel: 'Create',
            filters: projectFilter,
          })
        case 'saveBackup':
          return save({
            ...base,
            title: 'Back up project',
            buttonLabel: 'Back up',
            filters: projectFilter,
          })
        case 'importData':
          return open({ ...base, title: 'Import data', properties: ['openFile', 'openDirectory'] })
        case 'exportData':
          return save({
            ...base,
            title: 'Export dataset',
            buttonLabel: 'Export',
            filters: [{ name: 'JSON Lines', extensions: ['jsonl'] }],
          })
        case 'exportModel':
          return open({
            ...base,
            title: 'Export model to a new or empty folder',
            buttonLabel: 'Export here',
            properties: ['openDirectory', 'createDirectory'],
          })
        case 'exportGguf':
          return save({
            ...base,
            title: 'Export model as a GGUF file',
            buttonLabel: 'Export',
            filters: [{ name: 'GGUF (llama.cpp, Ollama, LM Studio)', extensions: ['gguf'] }],
          })
        case 'importModel':
          return open({ ...base, title: 'Import a model folder', properties: ['openDirectory'] })
        case 'benchmarkFolder':
          return open({
            ...base,
            title: 'Multiple-choice benchmark folder',
            properties: ['openDirectory'],
          })
      }
    },
  }
}
