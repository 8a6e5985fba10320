import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  ngramsFromObject,
  parseEldNgrams,
  type EldNgramsObject,
} from '../../../src/worker/data/rules/eld-ngrams'
import { loadEldScorer } from '../../../src/worker/data/rules/eld-scorer'
import { detectLanguage, eldScores, loadEld } from '../../../src/worker/data/rules/language'
import { takeDocs } from '../../helpers/synthetic-corpus'

/** A sentence or two per script and language family eld knows, and cases at its edges. */
const samples = [
  'The keeper climbed the spiral stairs at dusk to light the lamp.',
  'Le gardien montait l’escalier à la tombée de la nuit pour allumer la lampe.',
  "L'homme qu'on voyait au phare n'était pas d'ici, c'est sûr.",
  'El guardián subía la escalera al anochecer para encender la lámpara.',
  'Der Wärter stieg bei Einbruch der Dunkelheit die Treppe hinauf, um die Lampe anzuzünden.',
  'Il guardiano saliva le scale al tramonto per accendere la lampada.',
  'O faroleiro subia a escada ao anoitecer para acender a lâmpada.',
  'De wachter beklom bij zonsondergang de trap om de lamp aan te steken.',
  'Smotritel’ podnimalsya po lestnitse.',
  'Смотритель поднимался по винтовой лестнице в сумерках, чтобы зажечь лампу.',
  'Доглядач підіймався гвинтовими сходами, щоб запалити лампу.',
  'Ο φύλακας ανέβαινε τη σκάλα το σούρουπο για να ανάψει τη λάμπα.',
  'השומר עלה במדרגות בשעת בין הערביים כדי להדליק את המנורה.',
  'كان الحارس يصعد الدرج عند الغسق ليضيء المصباح.',
  'नगरपालिका ने शाम को दीपक जलाने के लिए सीढ़ियाँ चढ़ीं।',
  '看守人在黄昏时爬上螺旋楼梯去点亮灯塔的灯。',
  '灯台守は夕暮れにらせん階段を上ってランプを灯した。',
  '등대지기는 해질녘에 나선형 계단을 올라 등불을 켰다.',
  'ผู้ดูแลประภาคารปีนบันไดวนตอนพลบค่ำเพื่อจุดตะเกียง',
  'Strażnik wspinał się po schodach o zmierzchu, żeby zapalić lampę.',
  'Vartija kiipesi portaita hämärissä sytyttääkseen lampun.',
  'Őr felment a csigalépcsőn alkonyatkor, hogy meggyújtsa a lámpát.',
  'Bekçi alacakaranlıkta lambayı yakmak için merdivenleri tırmandı.',
  'Người gác hải đăng leo cầu thang xoắn lúc hoàng hôn để thắp đèn.',
  'Rock ’n’ roll isn’t dead, y’all — don`t `quote` me.',
  '',
  '   ',
  '12 34 56 !!! ??',
  'a b c',
  'ab abc abcd abcde abcdef abcdefg',
  // Words past eld's 70-byte cap end in one long n-gram.
  `${'x'.repeat(120)} ${'é'.repeat(50)} ${'x'.repeat(120)} tail`,
  'Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft ist lang.',
  // Past the 350- and 380-byte cuts, ASCII and multi-byte.
  'word '.repeat(200),
  'слово '.repeat(120),
  '字'.repeat(400),
  // Surrogate pairs, and a lone surrogate at the end.
  'Emoji 😀 text 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \uD83D',
  'İstanbul’da ŞEHİR ve DİL',
]

/** Deterministic strings over letters of several scripts, spaces, digits and apostrophes. */
function* fuzz(count: number): Generator<string> {
  const alphabet = [
    ...'abcdefghijklmnopqrstuvwxyz',
    ...'éèàçñöüßøå',
    ...'абвгдежзиклмнопрст',
    ...'αβγδεζηθ',
    ...'的一是不了人我在有他',
    ...'あいうえおかきくけこ',
    ...'ابتثجحخد',
    ...'     ',
    "'",
    '’',
    '`',
    '1',
    '.',
    '😀',
  ]
  let seed = 12345
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed
  }
  for (let i = 0; i < count; i++) {
    const length = next() % 420
    let s = ''
    // Mostly one script per string (as real text is), sometimes mixed.
    const base = next() % alphabet.length
    const spread = next() % 4 === 0 ? alphabet.length : 12
    for (let j = 0; j < length; j++) s += alphabet[(base + (next() % spread)) % alphabet.length]
    yield s
  }
}

describe('language detection', () => {
  it('reads eld’s n-gram module as text into the same arrays as importing it', async () => {
    const url = new URL('../ngrams/extrasmall.js', import.meta.resolve('eld/extrasmall'))
    const parsed = parseEldNgrams(readFileSync(fileURLToPath(url), 'utf8'))
    const imported = (await import(url.href)) as { ngramsData: EldNgramsObject }
    expect(parsed).toEqual(ngramsFromObject(imported.ngramsData))
    // The escapes are in the real file, not only in the cases below.
    expect(parsed.grams.length).toBeGreaterThan(40_000)
    expect(parsed.grams.some((g) => g.includes("'"))).toBe(true)
  })

  it('reads quoted and bare keys and escapes, and refuses text of any other shape', () => {
    const head = "export const ngramsData = {type:'XS',languages:{0:'en',1:'fr'},isSubset:false,"
    expect(
      parseEldNgrams(`${head}ngrams:{' l\\'a':{1:5},ab_c:{0:-2,1:3},'x\\\\y':{0:1}}};`),
    ).toEqual({
      languages: ['en', 'fr'],
      grams: [" l'a", 'ab_c', 'x\\y'],
      runStart: Int32Array.from([0, 1, 3, 4]),
      runLang: Uint8Array.from([1, 0, 1, 0]),
      runWeight: Int32Array.from([5, -2, 3, 1]),
    })
    for (const bad of [
      `${head}ngrams:{'ab':{0:1}`, // cut short
      `${head}ngrams:{'ab':{2:1}}};`, // no language 2
      `${head}ngrams:{'a\\nb':{0:1}}};`, // an escape eld's data does not use
      `${head}ngrams:{1ab:{0:1}}};`, // not an identifier
      `${head}ngrams:{'ab':{0:1.5}}};`, // not an integer
      "export const ngramsData = {languages:{1:'en'},ngrams:{'ab':{0:1}}};", // index gap
      'export default {}',
    ])
      expect(() => parseEldNgrams(bad), bad).toThrow(/eld n-gram data/)
  })

  it('gives exactly eld’s language, scores and reliability from its data in typed arrays', async () => {
    const scorer = await loadEldScorer()
    const eld = await loadEld()
    // The fast path must be the one in use, not a silent fallback to eld.
    expect(scorer).not.toBeNull()
    const texts = [...samples, ...takeDocs(400, 7).map((d) => d.text.slice(0, 400)), ...fuzz(3000)]
    const differing = texts.filter(
      (t) => JSON.stringify(scorer!.score(t)) !== JSON.stringify(eldScores(eld, t)),
    )
    expect(differing.slice(0, 3).map((t) => [t, scorer!.score(t), eldScores(eld, t)])).toEqual([])
    // The samples exercise both verdicts, several languages and the empty case.
    const results = samples.map((t) => scorer!.score(t))
    expect(new Set(results.map((r) => r.language)).size).toBeGreaterThan(15)
    expect(results.some((r) => r.reliable)).toBe(true)
    expect(results.some((r) => !r.reliable && r.language !== '')).toBe(true)
    expect(results.some((r) => r.language === '')).toBe(true)
  })

  it('reports the language, its score and the runner-up', () => {
    const d = detectLanguage(samples[9])
    expect(d).toMatchObject({ language: 'ru', reliable: true })
    expect(d.score).toBeGreaterThan(d.second)
    expect(detectLanguage('12 34 56')).toEqual({
      language: null,
      score: 0,
      second: 0,
      reliable: false,
    })
  })
})
