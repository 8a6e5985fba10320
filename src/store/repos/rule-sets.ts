import type { Db } from '../database'
import { UserError } from '../../shared/errors'
import { completeRuleSet, defaultRuleSet, type RuleSet } from '../../shared/data/rules'
import type { SavedRuleSet } from '../../shared/data/types'

/** Saved cleaning configurations, and which one each dataset uses. */
export class RuleSetsRepo {
  constructor(private readonly db: Db) {}

  list(): SavedRuleSet[] {
    return this.db
      .prepare<[], SavedRuleSet>(
        'SELECT id, name, updated_at AS updatedAt FROM rule_sets ORDER BY name COLLATE NOCASE',
      )
      .all()
  }

  get(id: number): (SavedRuleSet & { rules: RuleSet }) | null {
    const row = this.db
      .prepare<[number], { id: number; name: string; updatedAt: string; rules: string }>(
        'SELECT id, name, updated_at AS updatedAt, rules FROM rule_sets WHERE id = ?',
      )
      .get(id)
    return row ? { ...row, rules: completeRuleSet(JSON.parse(row.rules)) } : null
  }

  /** Create a rule set, or replace the rules of the one with this name. */
  save(name: string, rules: RuleSet, now: string): number {
    const trimmed = name.trim()
    if (!trimmed) throw new UserError('invalid_params', 'A rule set needs a name.', 'name')
    const json = JSON.stringify(rules)
    const existing = this.db
      .prepare<[string], { id: number }>('SELECT id FROM rule_sets WHERE name = ?')
      .get(trimmed)
    if (existing) {
      this.db
        .prepare('UPDATE rule_sets SET rules = ?, updated_at = ? WHERE id = ?')
        .run(json, now, existing.id)
      return existing.id
    }
    return Number(
      this.db
        .prepare('INSERT INTO rule_sets (name, rules, created_at, updated_at) VALUES (?, ?, ?, ?)')
        .run(trimmed, json, now, now).lastInsertRowid,
    )
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM rule_sets WHERE id = ?').run(id)
  }

  /** Use a rule set (or, with null, the defaults) for a dataset's cleaning. */
  attach(datasetId: number, ruleSetId: number | null): void {
    this.db.prepare('UPDATE datasets SET rule_set_id = ? WHERE id = ?').run(ruleSetId, datasetId)
  }

  /** The rules a dataset's cleaning uses: its rule set, or the defaults. */
  forDataset(datasetId: number): { ruleSetId: number | null; rules: RuleSet } {
    const row = this.db
      .prepare<[number], { rule_set_id: number | null }>(
        'SELECT rule_set_id FROM datasets WHERE id = ?',
      )
      .get(datasetId)
    const saved = row?.rule_set_id ? this.get(row.rule_set_id) : null
    return saved
      ? { ruleSetId: saved.id, rules: saved.rules }
      : { ruleSetId: null, rules: defaultRuleSet() }
  }
}
