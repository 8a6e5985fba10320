import type { DomDocument, DomElement, Paragraph } from './dom'
import { paragraphTextLength } from './dom'

/**
 * Boilerplate removed before the article is looked for: navigation, banners, sidebars,
 * footers, dialogs, hidden parts, and image captions (photo credits, not prose).
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
  'figcaption',
  '[role="navigation"]',
  '[role="banner"]',
  '[role="contentinfo"]',
  '[role="complementary"]',
  '[role="dialog"]',
  '[role="alertdialog"]',
  '[aria-hidden="true"]',
  '[hidden]',
].join(',')

/** Elements that never hold the page's text: removed without measuring them. */
const NEVER_TEXT = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'IFRAME'])

/** Widgets by id or class name: what Readability's own heuristics do not know by name. */
const WIDGET_RE =
  /(^|[-_\s])(cookie|consent|gdpr|newsletter|subscribe|signup|sign-up|popup|modal|share|sharing|social|promo|advert|ads?|sponsor|breadcrumbs?|related|recommended|skip-link|toolbar|menu|masthead|site-header|site-footer|comments?|feedback|byline|post-meta|entry-meta|edit-this-page|prev-next|pagination)([-_\s]|$)/i

/**
 * An element named like boilerplate that holds more than this share of the page's running
 * text is a wrapper, not a widget: a theme's `<div class="entry share">` around the post, an
 * ASP.NET page inside one `<form>`, a `<header>` that wraps the whole page. Removing it by
 * its name lost the whole article on about 2% of the benchmark pages (docs/DATA.md).
 */
const WRAPPER_SHARE = 0.5

/**
 * Removes boilerplate by tag, role and (with `byName`) id or class name, keeping any
 * element that holds most of the page's running text.
 */
export function removeBoilerplate(document: DomDocument, byName = true): void {
  const pageText = paragraphTextLength(document.body)
  const wrapper = (el: DomElement) => paragraphTextLength(el) > WRAPPER_SHARE * pageText
  for (const el of [...document.querySelectorAll(BOILERPLATE_SELECTOR)])
    if (NEVER_TEXT.has(el.tagName.toUpperCase()) || !wrapper(el)) el.remove()
  if (!byName) return
  for (const el of [...document.querySelectorAll('[id],[class]')]) {
    const tag = el.tagName.toUpperCase()
    if (tag === 'BODY' || tag === 'HTML' || tag === 'MAIN' || tag === 'ARTICLE') continue
    if (WIDGET_RE.test(`${el.id} ${el.getAttribute('class') ?? ''}`) && !wrapper(el)) el.remove()
  }
  // A page-level <header> is the masthead; one inside an article holds its title.
  for (const el of [...document.querySelectorAll('header')])
    if (!el.closest('article, main') && !wrapper(el)) el.remove()
}

/** A block shorter than this (characters) whose text is mostly a link is a teaser link. */
const TEASER_MAX_CHARS = 200

/**
 * Removes link lists and teaser links. A list goes when it has at least 4 links and link
 * text is over 70% of its text, the link-density test of boilerplate detectors (boilerpipe,
 * jusText, trafilatura): menus, tables of contents, link farms (old table layouts put the
 * site menu inside the "article"). A short block (under 200 characters) that is over half
 * link text goes too: "Read more: <a>other story</a>", a linked teaser headline. Innermost
 * blocks first.
 */
export function removeLinkLists(root: DomElement): void {
  const norm = (t: string | null) => (t ?? '').replace(/\s+/g, ' ').trim().length
  // Blocks that lost a link list: what is left of them is often just its heading.
  const emptied = new Set<DomElement>()
  const remove = (el: DomElement) => {
    if (el.parentElement) emptied.add(el.parentElement)
    el.remove()
  }
  const blocks = [
    ...root.querySelectorAll(
      'ul, ol, dl, table, tr, td, div, section, p, li, h1, h2, h3, h4, h5, h6',
    ),
  ]
  for (const el of blocks.reverse()) {
    const text = norm(el.textContent)
    if (emptied.has(el) && text < 40) {
      remove(el)
      continue
    }
    const links = [...el.querySelectorAll('a')]
    if (links.length === 0 || text === 0) continue
    const linkShare = links.reduce((n, a) => n + norm(a.textContent), 0) / text
    if ((links.length >= 4 && linkShare > 0.7) || (text < TEASER_MAX_CHARS && linkShare > 0.5))
      remove(el)
  }
}

/** Paragraphs of at least this many characters are the article's own prose. */
const PROSE_MIN_CHARS = 200
/** Trailing lines shorter than this without sentence punctuation are page furniture. */
const TRAILER_MAX_CHARS = 80

/**
 * Drops the short lines an article's container carries after its last paragraph of prose:
 * "More on this topic", "Tags: …", "Photo: …", a date, a rating widget's label. Only lines
 * under 80 characters that do not end like a sentence, only after the last paragraph of
 * 200 characters or more, and only from the end back to the first line that is kept;
 * code blocks are never dropped.
 */
export function dropTrailer(list: readonly Paragraph[]): Paragraph[] {
  let lastProse = -1
  list.forEach((p, i) => {
    if (p.text.trim().length >= PROSE_MIN_CHARS) lastProse = i
  })
  if (lastProse < 0) return [...list]
  let end = list.length
  const trailer = (p: Paragraph) => {
    const text = p.text.trim()
    return !p.pre && text.length < TRAILER_MAX_CHARS && !/[.!?…"”»)]$/.test(text)
  }
  while (end > lastProse + 1 && trailer(list[end - 1])) end--
  return list.slice(0, end)
}
