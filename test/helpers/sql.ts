import type { Store } from '../../src/store'
import { openDatabase, type Db } from '../../src/store/database'

const connections = new WeakMap<Store, Db>()

/**
 * A second connection to a project's file, opened as every Frugal connection is (WAL,
 * foreign keys, busy timeout), for a test to set up or look at rows the app has no call
 * for. The store keeps its own connection private: application code asks it questions by
 * name (its repositories), and tests reach past them only here.
 */
export function sqlOf(store: Store): Db {
  let db = connections.get(store)
  if (!db?.open) {
    db = openDatabase(store.path, { create: false })
    connections.set(store, db)
  }
  return db
}
