import type { Db } from '../database'
import { fromJson } from '../json'
import { UserError } from '../../shared/errors'
import type { OutputSource, Preference, Rating } from '../../shared/review'

interface RatingRow {
  id: number
  prompt: string
  output: string
  source: string | null
  score: number
  reasons: string
  note: string
  created_at: string
}

interface PreferenceRow {
  id: number
  prompt: string
  output_a: string
  output_b: string
  source_a: string | null
  source_b: string | null
  choice: Preference['choice']
  note: string
  created_at: string
}

const toRating = (r: RatingRow): Rating => ({
  id: r.id,
  prompt: r.prompt,
  output: r.output,
  source: fromJson<OutputSource>(r.source),
  score: r.score,
  reasons: fromJson<string[]>(r.reasons) ?? [],
  note: r.note,
  createdAt: r.created_at,
})

const toPreference = (r: PreferenceRow): Preference => ({
  id: r.id,
  prompt: r.prompt,
  outputA: r.output_a,
  outputB: r.output_b,
  sourceA: fromJson<OutputSource>(r.source_a),
  sourceB: fromJson<OutputSource>(r.source_b),
  choice: r.choice,
  note: r.note,
  createdAt: r.created_at,
})

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v))

/**
 * Ratings of model outputs (1-5, with reasons) and pairwise preferences (A, B or a tie)
 * for one prompt: what the evaluation screens record and preference training reads.
 */
export class RatingsRepo {
  constructor(private readonly db: Db) {}

  rate(
    input: {
      prompt: string
      output: string
      source?: OutputSource | null | undefined
      score: number
      reasons?: string[] | undefined
      note?: string | undefined
    },
    now: string,
  ): Rating {
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO ratings (prompt, output, source, score, reasons, note, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.prompt,
          input.output,
          json(input.source),
          input.score,
          JSON.stringify(input.reasons ?? []),
          input.note ?? '',
          now,
        ).lastInsertRowid,
    )
    return this.rating(id)!
  }

  prefer(
    input: {
      prompt: string
      outputA: string
      outputB: string
      sourceA?: OutputSource | null | undefined
      sourceB?: OutputSource | null | undefined
      choice: Preference['choice']
      note?: string | undefined
    },
    now: string,
  ): Preference {
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO preferences (prompt, output_a, output_b, source_a, source_b, choice, note, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.prompt,
          input.outputA,
          input.outputB,
          json(input.sourceA),
          json(input.sourceB),
          input.choice,
          input.note ?? '',
          now,
        ).lastInsertRowid,
    )
    return this.preference(id)!
  }

  rating(id: number): Rating | null {
    const row = this.db.prepare<[number], RatingRow>('SELECT * FROM ratings WHERE id = ?').get(id)
    return row ? toRating(row) : null
  }

  preference(id: number): Preference | null {
    const row = this.db
      .prepare<[number], PreferenceRow>('SELECT * FROM preferences WHERE id = ?')
      .get(id)
    return row ? toPreference(row) : null
  }

  /** Newest first. */
  ratings(limit = 200, offset = 0): { total: number; items: Rating[] } {
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM ratings').get() as { n: number }).n
    const items = this.db
      .prepare<[number, number], RatingRow>(
        'SELECT * FROM ratings ORDER BY id DESC LIMIT ? OFFSET ?',
      )
      .all(limit, offset)
      .map(toRating)
    return { total, items }
  }

  preferences(limit = 200, offset = 0): { total: number; items: Preference[] } {
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM preferences').get() as { n: number })
      .n
    const items = this.db
      .prepare<[number, number], PreferenceRow>(
        'SELECT * FROM preferences ORDER BY id DESC LIMIT ? OFFSET ?',
      )
      .all(limit, offset)
      .map(toPreference)
    return { total, items }
  }

  delete(kind: 'rating' | 'preference', id: number): void {
    const table = kind === 'rating' ? 'ratings' : 'preferences'
    if (this.db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id).changes === 0)
      throw new UserError('not_found', `There is no ${kind} ${id}.`, 'id')
  }

  /**
   * Wins, losses and ties between two sources (by label, or run and checkpoint): the
   * running win rate of an A/B comparison, whichever side each was shown on.
   */
  winRate(a: string, b: string): { a: number; b: number; ties: number } {
    const key = `coalesce(json_extract(%s, '$.label'), json_extract(%s, '$.runId') || '@' || json_extract(%s, '$.checkpointId'))`
    const ka = key.replaceAll('%s', 'source_a')
    const kb = key.replaceAll('%s', 'source_b')
    const row = this.db
      .prepare<
        { a: string; b: string },
        { a: number | null; b: number | null; ties: number | null }
      >(
        `SELECT
           SUM((${ka} = @a AND ${kb} = @b AND choice = 'a') OR (${ka} = @b AND ${kb} = @a AND choice = 'b')) AS a,
           SUM((${ka} = @a AND ${kb} = @b AND choice = 'b') OR (${ka} = @b AND ${kb} = @a AND choice = 'a')) AS b,
           SUM(((${ka} = @a AND ${kb} = @b) OR (${ka} = @b AND ${kb} = @a)) AND choice = 'tie') AS ties
         FROM preferences`,
      )
      .get({ a, b })!
    return { a: row.a ?? 0, b: row.b ?? 0, ties: row.ties ?? 0 }
  }

  /** Preference pairs for training: the chosen and the rejected output (ties left out). */
  *preferencePairs(): Generator<{ prompt: string; chosen: string; rejected: string }> {
    const rows = this.db
      .prepare<[], PreferenceRow>(`SELECT * FROM preferences WHERE choice != 'tie' ORDER BY id`)
      .iterate()
    for (const r of rows)
      yield r.choice === 'a'
        ? { prompt: r.prompt, chosen: r.output_a, rejected: r.output_b }
        : { prompt: r.prompt, chosen: r.output_b, rejected: r.output_a }
  }

  *allPreferences(): Generator<Preference> {
    for (const r of this.db
      .prepare<[], PreferenceRow>('SELECT * FROM preferences ORDER BY id')
      .iterate())
      yield toPreference(r)
  }

  *allRatings(): Generator<Rating> {
    for (const r of this.db.prepare<[], RatingRow>('SELECT * FROM ratings ORDER BY id').iterate())
      yield toRating(r)
  }
}
