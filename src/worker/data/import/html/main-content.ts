import { Readability } from '@mozilla/readability'
import { dropTrailer, removeBoilerplate, removeLinkLists } from './boilerplate'
import type { DomDocument, DomElement } from './dom'
import { joinParagraphs, paragraphs, paragraphTextLength, parseDocument } from './dom'

export interface ExtractedPage {
  title: string | null
  text: string
  /**
   * Where the text came from: Readability's article; the page's marked-up article body
   * (`container`) or its JSON-LD `articleBody` (`json-ld`) where Readability found a small
   * part of it; the page's `main` or body (`fallback`) where neither found an article.
   */
  method: 'readability' | 'container' | 'json-ld' | 'fallback'
}

/**
 * Elements that mark the article body by name: schema.org's `itemprop="articleBody"` and
 * the class names of common publishing systems and themes (WordPress `entry-content`,
 * `post-content`, news sites' `article-body`, `story-body`, …).
 */
const ARTICLE_BODY_SELECTOR = [
  '[itemprop="articleBody"]',
  '[class*="entry-content"]',
  '[id*="entry-content"]',
  '[class*="article-body"]',
  '[id*="article-body"]',
  '[class*="article__body"]',
  '[class*="articleBody"]',
  '[class*="article-content"]',
  '[class*="article-text"]',
  '[class*="post-content"]',
  '[class*="post-body"]',
  '[class*="post-entry"]',
  '[class*="story-body"]',
  '[class*="content-body"]',
  '[class*="single-content"]',
  '[class*="text-content"]',
  '[class*="page-content"]',
].join(',')

/**
 * Readability scores blocks and sometimes picks a fragment (a teaser, one section, the
 * comments) beside the real article. The page's own markup is taken instead when it holds
 * this many times more running text than Readability kept.
 */
const MARKED_BODY_RATIO = 2
/** JSON-LD `articleBody` is taken when this many times longer than the extracted text. */
const JSON_LD_RATIO = 3
/** Less extracted text than this (characters) means no article was found. */
const MIN_ARTICLE_CHARS = 50

/** `articleBody` from the page's JSON-LD (schema.org NewsArticle, BlogPosting, …), if any. */
function jsonLdArticleBody(document: DomDocument): string {
  for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
    let data: unknown
    try {
      data = JSON.parse(script.textContent ?? '')
    } catch {
      continue
    }
    const body = findArticleBody(data, 0)
    if (body) return body
  }
  return ''
}

/** Text of a JSON-LD `articleBody`: a paragraph per line, entities and any markup read as HTML. */
function articleBodyText(body: string): string {
  const html = body
    .split(/\n+/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => `<p>${line}</p>`)
    .join('')
  const root = parseDocument(`<html><body>${html}</body></html>`).body
  return root ? joinParagraphs(paragraphs(root)) : ''
}

function findArticleBody(value: unknown, depth: number): string | null {
  if (depth > 6 || value === null || typeof value !== 'object') return null
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findArticleBody(item, depth + 1)
      if (found) return found
    }
    return null
  }
  const record = value as Record<string, unknown>
  if (typeof record.articleBody === 'string' && record.articleBody.trim()) return record.articleBody
  for (const key of ['@graph', 'mainEntity', 'mainEntityOfPage'])
    if (key in record) {
      const found = findArticleBody(record[key], depth + 1)
      if (found) return found
    }
  return null
}

/** The text of `root` once link lists and teasers are gone, without its trailing furniture. */
function articleText(root: DomElement): string {
  removeLinkLists(root)
  return joinParagraphs(dropTrailer(paragraphs(root)))
}

/**
 * The main content of an HTML page, its title first: Readability over linkedom after the
 * page's boilerplate is removed, checked against the page's own article markup and
 * JSON-LD, and the page's `main` or body where no article is found.
 */
export function extractMainContent(html: string): ExtractedPage {
  const document = parseDocument(html)
  const pageTitle = document.querySelector('title')?.textContent?.trim() || null
  // Both measured before anything is removed: Readability rewrites the document.
  const ldBody = jsonLdArticleBody(document)
  const markedBodyText = paragraphTextLength(document.querySelector(ARTICLE_BODY_SELECTOR))
  removeBoilerplate(document)

  // The article as Readability's own element, not serialized to HTML and parsed again.
  const article = new Readability<DomElement>(
    document as unknown as ConstructorParameters<typeof Readability>[0],
    { charThreshold: 200, serializer: (node: unknown) => node as DomElement },
  ).parse()
  let text = article?.content ? articleText(article.content) : ''
  let method: ExtractedPage['method'] = 'readability'

  if (markedBodyText > MARKED_BODY_RATIO * text.length) {
    const again = parseDocument(html)
    removeBoilerplate(again, false)
    const body = again.querySelector(ARTICLE_BODY_SELECTOR)
    if (body) {
      text = articleText(body)
      method = 'container'
    }
  }
  if (ldBody.length > JSON_LD_RATIO * text.length) {
    text = articleBodyText(ldBody)
    method = 'json-ld'
  }
  if (text.length < MIN_ARTICLE_CHARS) {
    const again = parseDocument(html)
    removeBoilerplate(again, false)
    const main = again.querySelector('main, article, [role="main"]') ?? again.body
    if (main) text = articleText(main)
    method = 'fallback'
  }
  const title = (article?.title || pageTitle)?.trim() || null
  if (title && !text.startsWith(title)) text = `${title}\n\n${text}`
  return { title, text, method }
}
