import { parseHTML } from 'linkedom'

/**
 * The part of the DOM the HTML reader uses. The worker is compiled without the DOM
 * library, so linkedom's types are not visible; these are what its objects provide.
 */
export interface DomNode {
  nodeType: number
  nodeName: string
  textContent: string | null
  childNodes: ArrayLike<DomNode>
}

export interface DomElement extends DomNode {
  tagName: string
  id: string
  getAttribute(name: string): string | null
  closest(selector: string): DomElement | null
  querySelector(selector: string): DomElement | null
  querySelectorAll(selector: string): Iterable<DomElement>
  parentElement: DomElement | null
  remove(): void
}

export interface DomDocument {
  body: DomElement | null
  querySelector(selector: string): DomElement | null
  querySelectorAll(selector: string): Iterable<DomElement>
}

export function parseDocument(html: string): DomDocument {
  return (parseHTML(html) as unknown as { document: DomDocument }).document
}

/** One paragraph of extracted text; `pre` when it is a <pre> block, kept verbatim. */
export interface Paragraph {
  text: string
  pre: boolean
}

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
 * The paragraphs of a DOM subtree: a break at every block element, "\n" at <br>, flowing
 * text whitespace-collapsed, <pre> kept verbatim (code keeps its indentation).
 */
export function paragraphs(root: DomNode): Paragraph[] {
  const chunks: Paragraph[] = []
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
  const flowing = (text: string) =>
    text
      .split('\n')
      .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
      .join('\n')
      .split(/\n{2,}/)
      .map((paragraph) => paragraph.replace(/^\n+|\n+$/g, ''))
  return chunks
    .flatMap((c) => (c.pre ? [c] : flowing(c.text).map((text) => ({ text, pre: false }))))
    .filter((p) => p.text.trim() !== '')
}

export const joinParagraphs = (list: readonly Paragraph[]): string =>
  list.map((p) => p.text).join('\n\n')

/**
 * Characters of running text under an element: the text of its <p> elements. Menus,
 * link lists and widgets have little of it; an article has most of the page's.
 */
export function paragraphTextLength(el: DomElement | null): number {
  if (!el) return 0
  let n = 0
  for (const p of el.querySelectorAll('p')) n += (p.textContent ?? '').length
  return n
}
