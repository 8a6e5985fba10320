import type { Db } from '../database'
import { UserError } from '../../shared/errors'

export interface TokenizerRow {
  id: number
  name: string
  kind: 'bpe' | 'char'
  vocabSize: number
  datasetId: number | null
  options: unknown
  stats: unknown
  createdAt: string
}

interface Raw {
  id: number
  name: string
  kind: 'bpe' | 'char'
  vocab_size: number
  dataset_id: number | null
  options: string
  stats: string | null
  created_at: string
}

const columns = 'id, name, kind, vocab_size, dataset_id, options, stats, created_at'
const toRow = (r: Raw): TokenizerRow => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  vocabSize: r.vocab_size,
  datasetId: r.dataset_id,
  options: JSON.parse(r.options) as unknown,
  stats: r.stats === null ? null : (JSON.parse(r.stats) as unknown),
  createdAt: r.created_at,
})

/** Trained tokenizers, each stored as its Hugging Face tokenizer.json. */
export class TokenizersRepo {
  constructor(private readonly db: Db) {}

  insert(t: Omit<TokenizerRow, 'id'> & { json: string }): number {
    if (this.byName(t.name))
      throw new UserError('conflict', `A tokenizer named "${t.name}" already exists.`, 'name')
    const info = this.db
      .prepare(
        `INSERT INTO tokenizers (name, kind, vocab_size, dataset_id, options, json, stats, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.name,
        t.kind,
        t.vocabSize,
        t.datasetId,
        JSON.stringify(t.options),
        t.json,
        t.stats === null ? null : JSON.stringify(t.stats),
        t.createdAt,
      )
    return Number(info.lastInsertRowid)
  }

  list(): TokenizerRow[] {
    return this.db
      .prepare<[], Raw>(`SELECT ${columns} FROM tokenizers ORDER BY id DESC`)
      .all()
      .map(toRow)
  }

  get(id: number): TokenizerRow | null {
    const r = this.db
      .prepare<[number], Raw>(`SELECT ${columns} FROM tokenizers WHERE id = ?`)
      .get(id)
    return r ? toRow(r) : null
  }

  byName(name: string): TokenizerRow | null {
    const r = this.db
      .prepare<[string], Raw>(`SELECT ${columns} FROM tokenizers WHERE name = ?`)
      .get(name)
    return r ? toRow(r) : null
  }

  /** The tokenizer.json text. */
  json(id: number): string | null {
    return (
      this.db
        .prepare<[number], { json: string }>('SELECT json FROM tokenizers WHERE id = ?')
        .get(id)?.json ?? null
    )
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM tokenizers WHERE id = ?').run(id)
  }
}
