export { Store, type StoreOptions } from './store'
export { backupProject } from './backup'
export { latestSchemaVersion } from './migrations'
