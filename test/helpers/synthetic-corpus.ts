/**
 * A seeded generator of web-like English documents for tests and the data benchmark:
 * prose built from sentence templates over a few hundred words, plus the things a real
 * crawl holds and a pipeline must handle: exact and near duplicates, navigation junk,
 * spam, placeholder pages, other languages, and personal data. Same seed, same corpus.
 */

const nouns = `river town council school garden library bridge market harbour museum farm village
station forest mountain island festival kitchen workshop hospital factory island valley road
museum tower castle church park beach lake orchard vineyard meadow bakery cafe theatre gallery
studio office company project budget report plan meeting committee community neighbour family
child teacher student doctor nurse farmer engineer artist writer musician baker driver worker
volunteer visitor resident owner manager leader journalist scientist researcher historian
bicycle train bus ferry boat car tractor engine machine computer network signal lamp window
door wall roof floor garden fence path stair field hedge tree flower seed fruit bread cheese
soup coffee tea water rain snow wind storm winter summer spring autumn morning evening night
week month year century history story letter book map photograph record song concert game
match team season race prize ticket price cost wage tax grant loan shop street square corner
neighbourhood district region country border coast cliff cave stream pond well mill barn`.split(
  /\s+/,
)
const verbs = `built opened closed repaired painted visited planned moved carried bought sold
found lost kept changed raised lowered started finished described explained studied measured
counted watched followed crossed reached joined left supported protected improved replaced
collected shared borrowed cooked baked planted harvested cleaned recorded published printed
welcomed organised discussed approved rejected questioned remembered celebrated restored`.split(
  /\s+/,
)
const adjectives = `old new small large quiet busy narrow wide early late warm cold bright dark
local public private famous simple careful heavy light green red blue golden wooden stone
modern ancient gentle rough steep flat short long fresh dry wet clear open empty crowded
friendly patient curious proud tired young elderly useful expensive cheap strong weak`.split(/\s+/)
const adverbs = `slowly quickly carefully quietly often rarely always sometimes finally suddenly
gradually recently already nearly almost easily`.split(/\s+/)
const places = `near the harbour|beside the river|across the valley|behind the old mill|on the
edge of town|along the coast|in the village square|at the end of the road|under the bridge|
next to the station`
  .split('|')
  .map((s) => s.replace(/\s+/g, ' ').trim())
const people = `Maria|Tom|Aisha|Jonas|Priya|Ben|Chen|Fatima|Lucas|Grace|Oskar|Leila|Sam|Nora`.split(
  '|',
)

const templates: ((r: Random) => string)[] = [
  (r) =>
    `The ${r.pick(adjectives)} ${r.pick(nouns)} was ${r.pick(verbs)} ${r.pick(places)} in ${1850 + r.int(170)}.`,
  (r) =>
    `${r.pick(people)} ${r.pick(verbs)} the ${r.pick(nouns)} and ${r.pick(verbs)} the ${r.pick(adjectives)} ${r.pick(nouns)} with the help of a ${r.pick(nouns)}.`,
  (r) =>
    `Most of the ${r.pick(nouns)}s in the ${r.pick(nouns)} were ${r.pick(adverbs)} ${r.pick(verbs)} by people who had lived there for years.`,
  (r) =>
    `When the ${r.pick(nouns)} ${r.pick(verbs)} the ${r.pick(nouns)}, many ${r.pick(nouns)}s feared that the ${r.pick(adjectives)} ${r.pick(nouns)} would be lost.`,
  (r) =>
    `It took ${2 + r.int(20)} ${r.pick(['days', 'weeks', 'months', 'years'])} to finish the work, and the ${r.pick(nouns)} is still ${r.pick(adjectives)} today.`,
  (r) =>
    `According to the ${r.pick(nouns)}, the ${r.pick(nouns)} should be ${r.pick(verbs)} before the ${r.pick(['winter', 'summer', 'spring', 'autumn'])} of next year.`,
  (r) =>
    `"We have ${r.pick(verbs)} the ${r.pick(nouns)} for a long time," said ${r.pick(people)}, who ${r.pick(verbs)} the ${r.pick(nouns)} ${r.pick(places)}.`,
  (r) =>
    `There is a ${r.pick(adjectives)} ${r.pick(nouns)} ${r.pick(places)}, and on ${r.pick(['clear', 'quiet', 'busy', 'wet'])} days you can see the ${r.pick(nouns)} from the ${r.pick(nouns)}.`,
  (r) =>
    `Visitors who want to see the ${r.pick(nouns)} should come in the ${r.pick(['morning', 'evening', 'afternoon'])}, when the ${r.pick(nouns)} is ${r.pick(adverbs)} ${r.pick(adjectives)}.`,
  (r) =>
    `The ${r.pick(nouns)} has ${r.pick(verbs)} ${2 + r.int(400)} ${r.pick(nouns)}s since it ${r.pick(verbs)} the ${r.pick(adjectives)} ${r.pick(nouns)}.`,
]

const foreign = {
  fr: `Le marché de la ville a rouvert après deux ans de travaux. Les habitants sont venus nombreux dès le premier samedi, et les commerçants ont retrouvé leurs étals sous la grande charpente. On y trouve des légumes des fermes voisines, du fromage et du poisson arrivé le matin même du port. La mairie espère que le marché attirera aussi les touristes pendant tout l'été.`,
  de: `Die alte Brücke über den Fluss wurde im letzten Jahr gründlich renoviert. Viele Menschen aus der Stadt kamen zur Eröffnung, und die Kinder der Schule sangen ein Lied. Die Arbeiten dauerten länger als geplant, weil im Winter viel Schnee fiel. Jetzt können Fußgänger und Radfahrer den Fluss wieder sicher überqueren.`,
  es: `La biblioteca del barrio abrió sus puertas hace más de cien años gracias a la donación de un ingeniero local. Durante décadas fue el lugar donde los niños aprendían a leer y los mayores leían el periódico. Hoy los voluntarios organizan talleres, lecturas y clases de informática para todas las edades.`,
}

const junk = [
  () =>
    'Home\nAbout us\nServices\nPortfolio\nBlog\nContact\nLogin\nRegister\nFAQ\nSitemap\nCareers\nPress',
  (r: Random) =>
    Array.from(
      { length: 15 },
      () =>
        `BEST PRICE ${r.pick(['WATCHES', 'SHOES', 'PHONES'])} buy now cheap best price free shipping`,
    ).join('\n'),
  () =>
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris. This page is a template and the real text will follow soon, so please check back later.',
  (r: Random) => `Thanks ${r.pick(people)}! See you at the ${r.pick(nouns)} tomorrow.`,
  (r: Random) =>
    Array.from(
      { length: 30 },
      () => `#${r.pick(nouns)} #${r.pick(adjectives)} ${r.int(1000)}`,
    ).join(' '),
]

export class Random {
  private a: number
  constructor(seed: number) {
    this.a = seed >>> 0
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) | 0
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
}

export type DocKind = 'prose' | 'exact-duplicate' | 'near-duplicate' | 'junk' | 'foreign' | 'pii'

export interface SyntheticDoc {
  id: string
  kind: DocKind
  text: string
  /** For duplicates: the id of the document copied. */
  copyOf?: string
}

/** How long the prose documents are: paragraphs per document, sentences per paragraph (inclusive ranges). */
export interface CorpusShape {
  paragraphs: readonly [number, number]
  sentences: readonly [number, number]
}
/** About 2 KB a document: articles, blog posts. */
export const LONG_DOCUMENTS: CorpusShape = { paragraphs: [2, 6], sentences: [4, 8] }
/** About 700 bytes a document: forum posts, reviews, chat. */
export const SHORT_DOCUMENTS: CorpusShape = { paragraphs: [1, 2], sentences: [3, 7] }

const between = (r: Random, [least, most]: readonly [number, number]) =>
  least + r.int(most - least + 1)

function prose(r: Random, shape: CorpusShape = LONG_DOCUMENTS): string {
  return Array.from({ length: between(r, shape.paragraphs) }, () =>
    Array.from({ length: between(r, shape.sentences) }, () => r.pick(templates)(r)).join(' '),
  ).join('\n\n')
}

/** Replace about `rate` of the words (at least one): the "same text with small edits" of a near duplicate. */
export function editWords(text: string, rate: number, r: Random): string {
  const words = text.split(' ')
  const editable = words.flatMap((w, i) => (/^[a-z]+$/.test(w) ? [i] : []))
  let edits = 0
  for (const i of editable)
    if (r.next() < rate) {
      words[i] = r.pick(nouns.filter((n) => n !== words[i]))
      edits++
    }
  if (edits === 0 && editable.length) {
    const i = r.pick(editable)
    words[i] = r.pick(nouns.filter((n) => n !== words[i]))
  }
  return words.join(' ')
}

/**
 * Documents, one at a time (memory stays flat however many are drawn). Roughly: 80%
 * prose, 5% exact and 5% near duplicates of recent documents, 4% junk, 3% other
 * languages, 3% prose with personal data.
 */
export function* syntheticCorpus(
  seed = 42,
  shape: CorpusShape = LONG_DOCUMENTS,
): Generator<SyntheticDoc> {
  const r = new Random(seed)
  const recent: SyntheticDoc[] = []
  for (let i = 0; ; i++) {
    const roll = r.next()
    const id = `doc-${i}`
    let doc: SyntheticDoc
    if (roll < 0.05 && recent.length > 10) {
      const original = r.pick(recent)
      doc = { id, kind: 'exact-duplicate', text: original.text, copyOf: original.id }
    } else if (roll < 0.1 && recent.length > 10) {
      const original = r.pick(recent)
      doc = {
        id,
        kind: 'near-duplicate',
        text: editWords(original.text, 0.015, r),
        copyOf: original.id,
      }
    } else if (roll < 0.14) doc = { id, kind: 'junk', text: r.pick(junk)(r) }
    else if (roll < 0.17)
      doc = { id, kind: 'foreign', text: r.pick(Object.values(foreign)) + `\n\n${r.int(1e6)}` }
    else if (roll < 0.2) {
      const who = r.pick(people).toLowerCase()
      doc = {
        id,
        kind: 'pii',
        text: `${prose(r, shape)}\n\nFor questions write to ${who}.${r.int(100)}@example-mail.org or call +44 20 7946 ${String(r.int(10000)).padStart(4, '0')} during office hours. ${prose(r, shape)}`,
      }
    } else doc = { id, kind: 'prose', text: prose(r, shape) }
    if (doc.kind === 'prose' || doc.kind === 'pii') {
      recent.push(doc)
      if (recent.length > 500) recent.shift()
    }
    yield doc
  }
}

/** The first `n` documents. */
export function takeDocs(n: number, seed = 42): SyntheticDoc[] {
  const out: SyntheticDoc[] = []
  for (const doc of syntheticCorpus(seed)) {
    if (out.length >= n) break
    out.push(doc)
  }
  return out
}
