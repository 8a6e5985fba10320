import type { DedupCandidates } from '../../../store/repos/dedup-candidates'
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
 * signatures and LSH band keys go to the store's temporary candidate tables
 * (DedupCandidates), and only documents that share a key are compared, by their
 * signatures. Candidate pairs that pass the similarity check are merged with union-find.
 */
export class DedupIndex {
  constructor(
    private readonly candidates: DedupCandidates,
    private readonly options: DedupOptions,
  ) {}

  /** Register a document that survived the rules (call inside the caller's transaction). */
  add(id: number, hash: string, signature: Signature | null): void {
    const near = this.options.near && signature
    this.candidates.add(
      id,
      hash,
      near ? Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength) : null,
      near ? bandKeys(signature, this.options.bands, this.options.rows) : null,
    )
  }

  private signature(id: number): Signature | null {
    return toSignature(this.candidates.signature(id))
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
    if (this.options.exact)
      for (const members of this.candidates.sameHash())
        for (const id of members.slice(1)) union(members[0], id)

    const cache = new SignatureCache((id) => this.signature(id))
    if (this.options.near) {
      let n = 0
      for (const members of this.candidates.sameBandKey()) {
        if (++n % 1000 === 0) throwIfCancelled()
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
      const kept = this.candidates.entry(keep)
      const keepSig = toSignature(kept?.signature ?? null)
      clusters.push({
        keep,
        duplicates: members
          .sort((a, b) => a - b)
          .map((id) => {
            const entry = this.candidates.entry(id)
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
    this.candidates.dispose()
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
