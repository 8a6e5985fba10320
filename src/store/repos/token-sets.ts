import { type Db, writeTransaction } from '../database'

export type TokenDtype = 'uint16' | 'uint32'

export interface TokenSetRow {
  id: number
  datasetId: number
  tokenizerId: number
  valFraction: number
  dtype: TokenDtype
  state: 'building' | 'ready'
  trainTokens: number
  valTokens: number
  trainDocs: number
  valDocs: number
  createdAt: string
}

interface Raw {
  id: number
  dataset_id: number
  tokenizer_id: number
  val_fraction: number
  dtype: TokenDtype
  state: 'building' | 'ready'
  train_tokens: number
  val_tokens: number
  train_docs: number
  val_docs: number
  created_at: string
}

const toRow = (r: Raw): TokenSetRow => ({
  id: r.id,
  datasetId: r.dataset_id,
  tokenizerId: r.tokenizer_id,
  valFraction: r.val_fraction,
  dtype: r.dtype,
  state: r.state,
  trainTokens: r.train_tokens,
  valTokens: r.val_tokens,
  trainDocs: r.train_docs,
  valDocs: r.val_docs,
  createdAt: r.created_at,
})

/**
 * Datasets encoded with a tokenizer: token ids in shards of up to a few million tokens,
 * each a little-endian BLOB. A set is written as 'building' and becomes 'ready' in the
 * transaction that writes its totals, so a cancelled or crashed encode never looks done.
 */
export class TokenSetsRepo {
  constructor(private readonly db: Db) {}

  create(
    datasetId: number,
    tokenizerId: number,
    valFraction: number,
    dtype: TokenDtype,
    now: string,
  ): number {
    const info = this.db
      .prepare(
        `INSERT INTO token_sets (dataset_id, tokenizer_id, val_fraction, dtype, state, created_at)
         VALUES (?, ?, ?, ?, 'building', ?)`,
      )
      .run(datasetId, tokenizerId, valFraction, dtype, now)
    return Number(info.lastInsertRowid)
  }

  appendShard(
    setId: number,
    split: 'train' | 'val',
    part: number,
    tokens: Uint16Array | Uint32Array,
  ): void {
    this.db
      .prepare(
        'INSERT INTO token_shards (token_set_id, split, part, token_count, tokens) VALUES (?, ?, ?, ?, ?)',
      )
      .run(
        setId,
        split,
        part,
        tokens.length,
        Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength),
      )
  }

  /** Mark ready with its totals; any older ready set for the same dataset and tokenizer is replaced. */
  finish(
    setId: number,
    totals: { trainTokens: number; valTokens: number; trainDocs: number; valDocs: number },
  ): void {
    writeTransaction(this.db, () => {
      const set = this.get(setId)!
      this.db
        .prepare(
          `DELETE FROM token_sets WHERE dataset_id = ? AND tokenizer_id = ? AND id <> ? AND id NOT IN (SELECT token_set_id FROM runs WHERE token_set_id IS NOT NULL)`,
        )
        .run(set.datasetId, set.tokenizerId, setId)
      this.db
        .prepare(
          `UPDATE token_sets SET state = 'ready', train_tokens = ?, val_tokens = ?, train_docs = ?, val_docs = ? WHERE id = ?`,
        )
        .run(totals.trainTokens, totals.valTokens, totals.trainDocs, totals.valDocs, setId)
    })
  }

  delete(setId: number): void {
    this.db.prepare('DELETE FROM token_sets WHERE id = ?').run(setId)
  }

  get(id: number): TokenSetRow | null {
    const r = this.db.prepare<[number], Raw>('SELECT * FROM token_sets WHERE id = ?').get(id)
    return r ? toRow(r) : null
  }

  /** The newest ready set for a dataset and tokenizer. */
  latest(datasetId: number, tokenizerId: number): TokenSetRow | null {
    const r = this.db
      .prepare<[number, number], Raw>(
        `SELECT * FROM token_sets WHERE dataset_id = ? AND tokenizer_id = ? AND state = 'ready' ORDER BY id DESC LIMIT 1`,
      )
      .get(datasetId, tokenizerId)
    return r ? toRow(r) : null
  }

  /** Sets left 'building' by a process that died: removed, with their shards. */
  deleteUnfinished(): number {
    return this.db.prepare(`DELETE FROM token_sets WHERE state = 'building'`).run().changes
  }

  /** All tokens of one split, concatenated in shard order. */
  read(setId: number, split: 'train' | 'val'): Uint16Array | Uint32Array {
    const set = this.get(setId)
    if (!set) throw new Error(`There is no token set ${setId}.`)
    const total = split === 'train' ? set.trainTokens : set.valTokens
    const out = set.dtype === 'uint16' ? new Uint16Array(total) : new Uint32Array(total)
    let at = 0
    const rows = this.db
      .prepare<[number, string], { tokens: Buffer; token_count: number }>(
        'SELECT tokens, token_count FROM token_shards WHERE token_set_id = ? AND split = ? ORDER BY part',
      )
      .iterate(setId, split)
    for (const row of rows) {
      const bytes = new Uint8Array(row.tokens.buffer, row.tokens.byteOffset, row.tokens.byteLength)
      new Uint8Array(out.buffer, out.byteOffset + at * out.BYTES_PER_ELEMENT, bytes.length).set(
        bytes,
      )
      at += row.token_count
    }
    return out
  }
}
