import type { Db } from '../../../store/database'
import { bandKeys, estimatedJaccard, type Signature } from './minhash'

export interface ClusterMember {
  id: number
  /** 'exact' when its normalized text hashes the same as the kept document's. */
  kind: 'exact' | 'near'
  /** Estimated Jaccard similarity with the kept document (1 for exact copies). */
  similarity: number
}

export interface Cluster {
  /** The document kept: the first imported (lowest id). */
  keep: number
  /** The others, removed as duplicates. */
  duplicates: ClusterMember[]
}

export interface DedupOptions {
  exact: boolean
  near: boolean
  bands: number
  rows: number
  minSimilarity: number
}

/**
 * Finds duplicate clusters without holding the corpus in memory: hashes, MinHash
 * signatures and LSH band keys go into temporary SQLite tables (a temporary file, sorted
 * by SQLite, gone with the run), and only documents that share a key are compared, by
 * their signatures. Candidate pairs that pass the similarity check are merged with
 * union-find. Signatures live only here: they serve this run's clustering and nothing
 * after it, and left out of the documents table they keep its rows within a page.
 */
export class DedupIndex {
  private readonly insertDoc
  private readonly insertBands
  /** The band statement's parameters, reused: (band, key, id) per band. */
  private readonly bandParams: number[]
  private readonly readSignature
  private readonly readEntry

  constructor(
    private readonly db: Db,
    private readonly options: DedupOptions,
  ) {
    db.exec(`
      DROP TABLE IF EXISTS temp.dedup_doc;
      DROP TABLE IF EXISTS temp.dedup_band;
      CREATE TEMP TABLE dedup_doc (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, signature BLOB);
      CREATE TEMP TABLE dedup_band (band INTEGER NOT NULL, key INTEGER NOT NULL, id INTEGER NOT NULL);
    `)
    this.insertDoc = db.prepare<[number, string, Buffer | null]>(
      'INSERT OR REPLACE INTO temp.dedup_doc (id, hash, signature) VALUES (?, ?, ?)',
    )
    // All of a document's band keys in one statement: one bind-and-step instead of one per band.
    this.insertBands = db.prepare(
      `INSERT INTO temp.dedup_band (band, key, id) VALUES ${Array.from({ length: options.bands }, () => '(?, ?, ?)').join(', ')}`,
    )
    this.bandParams = new Array<number>(options.bands * 3).fill(0)
    this.readSignature = db
      .prepare<[number], Buffer | null>('SELECT signature FROM temp.dedup_doc WHERE id = ?')
      .pluck()
    this.readEntry = db.prepare<[number], { hash: string; signature: Buffer | null }>(
      'SELECT hash, signature FROM temp.dedup_doc WHERE id = ?',
    )
  }

  /** Register a document that survived the rules (call inside the caller's transaction). */
  add(id: number, hash: string, signature: Signature | null): void {
    const keep = this.options.near && signature
    this.insertDoc.run(
      id,
      hash,
      keep ? Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength) : null,
    )
    if (keep) {
      const keys = bandKeys(signature, this.options.bands, this.options.rows)
      for (let band = 0; band < keys.length; band++) {
        this.bandParams[3 * band] = band
        this.bandParams[3 * band + 1] = keys[band]
        this.bandParams[3 * band + 2] = id
      }
      this.insertBands.run(this.bandParams)
    }
  }

  private signature(id: number): Signature | null {
    return toSignature(this.readSignature.get(id) ?? null)
  }

  /** The clusters, each with its kept document and its duplicates. */
  clusters(throwIfCancelled: () => void): Cluster[] {
    const parent = new Map<number, number>()
    const find = (x: number): number => {
      let root = x
      while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!
      // Path compression keeps later finds short.
      while (x !== root) {
        const next = parent.get(x) ?? root
        parent.set(x, root)
        x = next
      }
      return root
    }
    const union = (a: number, b: number): void => {
      const ra = find(a)
      const rb = find(b)
      if (ra === rb) return
      // The lower id becomes the root: the first imported document is the one kept.
      if (ra < rb) parent.set(rb, ra)
      else parent.set(ra, rb)
      if (!parent.has(ra)) parent.set(ra, ra)
      if (!parent.has(rb)) parent.set(rb, rb)
    }
    const idsOf = (list: string): number[] =>
      list
        .split(',')
        .map(Number)
        .sort((a, b) => a - b)

    if (this.options.exact) {
      const groups = this.db
        .prepare<[], { ids: string }>(
          'SELECT group_concat(id) AS ids FROM temp.dedup_doc GROUP BY hash HAVING COUNT(*) > 1',
        )
        .iterate()
      for (const { ids } of groups) {
        const members = idsOf(ids)
        for (const id of members.slice(1)) union(members[0], id)
      }
    }

    const cache = new SignatureCache((id) => this.signature(id))
    if (this.options.near) {
      const buckets = this.db
        .prepare<[], { ids: string }>(
          'SELECT group_concat(id) AS ids FROM temp.dedup_band GROUP BY band, key HAVING COUNT(*) > 1',
        )
        .iterate()
      let n = 0
      for (const { ids } of buckets) {
        if (++n % 1000 === 0) throwIfCancelled()
        const members = idsOf(ids)
        // A pair shares several bands: once joined, its later buckets need no signatures.
        let first: Signature | null | undefined
        for (const id of members.slice(1)) {
          if (find(id) === find(members[0])) continue
          first ??= cache.get(members[0])
          if (!first) break
          const other = cache.get(id)
          if (other && estimatedJaccard(first, other) >= this.options.minSimilarity)
            union(members[0], id)
        }
      }
    }

    const byRoot = new Map<number, number[]>()
    for (const id of parent.keys()) {
      const root = find(id)
      if (root === id) continue
      let list = byRoot.get(root)
      if (!list) byRoot.set(root, (list = []))
      list.push(id)
    }
    const clusters: Cluster[] = []
    // One read per member for both its hash and its signature (random ids: a cache would miss).
    for (const [keep, members] of [...byRoot].sort((a, b) => a[0] - b[0])) {
      const kept = this.readEntry.get(keep)
      const keepSig = toSignature(kept?.signature ?? null)
      clusters.push({
        keep,
        duplicates: members
          .sort((a, b) => a - b)
          .map((id) => {
            const entry = this.readEntry.get(id)
            if (kept && entry?.hash === kept.hash)
              return { id, kind: 'exact' as const, similarity: 1 }
            const sig = toSignature(entry?.signature ?? null)
            const similarity = keepSig && sig ? estimatedJaccard(keepSig, sig) : 0
            return { id, kind: 'near' as const, similarity }
          }),
      })
    }
    return clusters
  }

  dispose(): void {
    this.db.exec('DROP TABLE IF EXISTS temp.dedup_doc; DROP TABLE IF EXISTS temp.dedup_band;')
  }
}

/** A stored signature back as 32-bit words (copied: the blob need not be 4-byte aligned). */
function toSignature(blob: Buffer | null): Signature | null {
  if (!blob) return null
  const copy = new Uint32Array(blob.byteLength / 4)
  new Uint8Array(copy.buffer).set(blob)
  return copy
}

/** Recently read signatures: a bucket's first member is compared with every other. */
class SignatureCache {
  private readonly map = new Map<number, Signature | null>()
  constructor(
    private readonly load: (id: number) => Signature | null,
    private readonly limit = 4096,
  ) {}

  get(id: number): Signature | null {
    if (this.map.has(id)) return this.map.get(id)!
    const sig = this.load(id)
    if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value!)
    this.map.set(id, sig)
    return sig
  }
}
