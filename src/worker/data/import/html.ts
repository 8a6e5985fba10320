import { Readability } from '@mozilla/readability'
import { parseHTML } from 'linkedom'
import { isUtf8 } from 'node:buffer'
import type { RawRecord, ReaderOptions } from './records'
import type { SourceFile } from './sources'
import { MAX_WHOLE_FILE_BYTES, readWhole } from './text'
import { looksBinary } from './lines'

/**
 * Boilerplate removed before Readability looks at the page: navigation, banners,
 * sidebars, footers, and the cookie/newsletter/share widgets Readability's own
 * heuristics do not know by name.
 */
const BOILERPLATE_SELECTOR = [
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'iframe',
  'nav',
  'aside',
  'footer',
  'dialog',
  'form',
  '[role="navigation"]',
  '[role="banner"]',
  '[role="contentinfo"]',
  '[role="complementary"]',
  '[role="dialog"]',
  '[role="alertdialog"]',
  '[aria-hidden="true"]',
  '[hidden]',
].join(',')
const WIDGET_RE =
  /(^|[-_\s])(cookie|consent|gdpr|newsletter|subscribe|signup|sign-up|popup|modal|share|sharing|social|promo|advert|ads?|sponsor|breadcrumbs?|related|recommended|skip-link|toolbar|menu|masthead|site-header|site-footer|comments?|feedback|byline|post-meta|entry-meta|edit-this-page|prev-next|pagination)([-_\s]|$)/i

const BLOCK_TAGS = new Set([
  'ADDRESS',
  'ARTICLE',
  'BLOCKQUOTE',
  'DD',
  'DIV',
  'DL',
  'DT',
  'FIGCAPTION',
  'FIGURE',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'HEADER',
  'HR',
  'LI',
  'MAIN',
  'OL',
  'P',
  'PRE',
  'SECTION',
  'TABLE',
  'TR',
  'UL',
  'CAPTION',
  'DETAILS',
  'SUMMARY',
])

/**
 * The part of the DOM this module uses. The worker is compiled without the DOM library,
 * so linkedom's types are not visible; these are what its objects provide.
 */
interface DomNode {
  nodeType: number
  nodeName: string
  textContent: string | null
  childNodes: ArrayLike<DomNode>
}

interface DomElement extends DomNode {
  tagName: string
  id: string
  getAttribute(name: string): string | null
  closest(selector: string): DomElement | null
  querySelectorAll(selector: string): Iterable<DomElement>
  parentElement: DomElement | null
  remove(): void
}

interface DomDocument {
  body: DomElement | null
  querySelector(selector: string): DomElement | null
  querySelectorAll(selector: string): Iterable<DomElement>
}

function parse(html: string): DomDocument {
  return (parseHTML(html) as unknown as { document: DomDocument }).document
}

/** Text of a DOM subtree with paragraph breaks at block elements, "\n" at <br>; <pre> kept verbatim. */
export function blockText(root: DomNode): string {
  // Flowing text is whitespace-collapsed; preformatted text (code) keeps its indentation.
  const chunks: { text: string; pre: boolean }[] = []
  const push = (text: string, pre = false): void => {
    const last = chunks.at(-1)
    if (last && !last.pre && !pre) last.text += text
    else chunks.push({ text, pre })
  }
  const visit = (node: DomNode): void => {
    if (node.nodeType === 3) return void push((node.textContent ?? '').replace(/\s+/g, ' '))
    if (node.nodeType !== 1) return
    const tag = node.nodeName.toUpperCase()
    if (tag === 'BR') return void push('\n')
    if (tag === 'PRE') {
      push('\n\n')
      push((node.textContent ?? '').replace(/^\n+/, '').trimEnd(), true)
      return void push('\n\n')
    }
    if (tag === 'TD' || tag === 'TH') push(' ')
    const block = BLOCK_TAGS.has(tag)
    if (block) push('\n\n')
    for (let i = 0; i < node.childNodes.length; i++) visit(node.childNodes[i])
    if (block) push('\n\n')
  }
  visit(root)
  const flow = (t: string) =>
    t
      .split('\n')
      .map((l) => l.replace(/[ \t\u00a0]+/g, ' ').trim())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
  return chunks
    .map((c) => (c.pre ? c.text : flow(c.text)))
    .join('')
    .replace(/^\n+/, '')
    .trimEnd()
}

/**
 * Removes link lists: menus, tables of contents and link farms that survive as blocks
 * (old table layouts put the whole site menu inside the "article"). A block goes when
 * it has at least 4 links and link text is over 70% of its text, the link-density test
 * of boilerplate detectors (boilerpipe, jusText, trafilatura). Innermost blocks first.
 */
function removeLinkLists(root: DomElement): void {
  const norm = (t: string | null) => (t ?? '').replace(/\s+/g, ' ').trim().length
  // Blocks that lost a link list: what is left of them is often just its heading.
  const emptied = new Set<DomElement>()
  const remove = (el: DomElement) => {
    if (el.parentElement) emptied.add(el.parentElement)
    el.remove()
  }
  const blocks = [...root.querySelectorAll('ul, ol, dl, table, tr, td, div, section, p')]
  for (const el of blocks.reverse()) {
    const text = norm(el.textContent)
    if (emptied.has(el) && text < 40) {
      remove(el)
      continue
    }
    const links = [...el.querySelectorAll('a')]
    if (links.length < 4) continue
    const linkText = links.reduce((n, a) => n + norm(a.textContent), 0)
    if (text > 0 && linkText / text > 0.7) remove(el)
  }
}

export interface ExtractedPage {
  title: string | null
  text: string
  /** 'readability' when the article was found, 'fallback' when the page body was used. */
  method: 'readability' | 'fallback'
}

/** The main content of an HTML page, its title first: Readability over linkedom. */
export function extractMainContent(html: string): ExtractedPage {
  const document = parse(html)
  const pageTitle = document.querySelector('title')?.textContent?.trim() || null
  for (const el of [...document.querySelectorAll(BOILERPLATE_SELECTOR)]) el.remove()
  for (const el of [...document.querySelectorAll('[id],[class]')]) {
    const tag = el.tagName.toUpperCase()
    if (tag === 'BODY' || tag === 'HTML' || tag === 'MAIN' || tag === 'ARTICLE') continue
    if (WIDGET_RE.test(`${el.id} ${el.getAttribute('class') ?? ''}`)) el.remove()
  }
  // A page-level <header> is the masthead; one inside an article holds its title.
  for (const el of [...document.querySelectorAll('header')])
    if (!el.closest('article, main')) el.remove()

  // The article as Readability's own element, not serialized to HTML and parsed again.
  const article = new Readability<DomElement>(
    document as unknown as ConstructorParameters<typeof Readability>[0],
    { charThreshold: 200, serializer: (node: unknown) => node as DomElement },
  ).parse()
  let text = ''
  let method: ExtractedPage['method'] = 'readability'
  if (article?.content) {
    removeLinkLists(article.content)
    text = blockText(article.content)
  }
  if (text.length < 50) {
    const again = parse(html)
    for (const el of [...again.querySelectorAll(BOILERPLATE_SELECTOR)]) el.remove()
    const main = again.querySelector('main, article, [role="main"]') ?? again.body
    if (main) {
      removeLinkLists(main)
      text = blockText(main)
    }
    method = 'fallback'
  }
  const title = (article?.title || pageTitle)?.trim() || null
  if (title && !text.startsWith(title)) text = `${title}\n\n${text}`
  return { title, text, method }
}

/** One document per HTML page: its main content, with the title first. */
export async function* readHtml(file: SourceFile, opts: ReaderOptions): AsyncGenerator<RawRecord> {
  if (file.size > MAX_WHOLE_FILE_BYTES) {
    yield { kind: 'issue', line: null, message: 'HTML file too large to parse (over 64 MB).' }
    return
  }
  const bytes = await readWhole(file, opts.onRead)
  if (looksBinary(bytes)) {
    yield { kind: 'issue', line: null, message: 'Binary file (contains NUL bytes): not HTML.' }
    return
  }
  // Pages in legacy encodings are read as Latin-1 rather than refused.
  const html = isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1')
  const page = extractMainContent(html)
  if (page.text.trim() === '') {
    yield { kind: 'issue', line: null, message: 'No readable text in this page.' }
    return
  }
  yield {
    kind: 'doc',
    text: page.text,
    source: file.path,
    meta: { ...(page.title ? { title: page.title } : {}), extraction: page.method },
  }
}
