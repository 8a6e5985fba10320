import { describe, expect, it } from 'vitest'
import { extractMainContent } from '../../../src/worker/data/import/html'

/**
 * The shapes of page that lost their article or kept furniture on the html-eval benchmark
 * (docs/DATA.md, `npm run bench:html`), written small: each test is one way a real site
 * is built.
 */
const story = [
  'The harbour authority confirmed on Tuesday that the northern breakwater will be rebuilt over the next two summers, after storms in the winter opened three breaches that let swell into the inner basin and damaged a dozen moorings.',
  'Engineers proposed a rubble mound with a concrete crown wall, the design used at the southern entrance since the nineteen-eighties, because it can be repaired stone by stone and does not need the basin to be closed while the work goes on.',
  'Fishing crews, who lost eleven days of landings in February alone, asked that the work pause during the herring season; the authority agreed to stop the heavy barges from late August to the end of September.',
  'The cost, estimated at fourteen million, is to be shared between the regional fund and the port, whose fees for visiting yachts will rise by a tenth next year to pay its part of the loan.',
]
const paragraphsHtml = story.map((p) => `<p>${p}</p>`).join('\n')
const page = (body: string, head = '') =>
  `<!doctype html><html><head><title>Breakwater to be rebuilt</title>${head}</head><body>${body}</body></html>`
const siteChrome = `
  <div class="topbar"><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a> <a href="/weather">Weather</a></div>
`

describe('main content of web pages', () => {
  it('keeps an article whose theme wrapper is named like a widget (share, menu, form)', () => {
    for (const wrap of [
      (inner: string) => `<div class="entry themeform share">${inner}</div>`,
      (inner: string) => `<div class="single-page hidden-contents-menu">${inner}</div>`,
      (inner: string) => `<form id="aspnetForm" method="post">${inner}</form>`,
    ]) {
      const html = page(
        `${siteChrome}${wrap(
          `<h1>Breakwater to be rebuilt</h1>${paragraphsHtml}<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Tweet this</a></div>`,
        )}`,
      )
      const { text } = extractMainContent(html)
      for (const sentence of story) expect(text).toContain(sentence)
      // The real share bar inside still goes.
      expect(text).not.toContain('Share on Facebook')
    }
  })

  it("takes the page's marked-up article body when Readability settles on a fragment", () => {
    // Readability drops a wrapper whose class reads like a comment section ("community"),
    // and with it the article; the schema.org markup says where the article is.
    const html = page(`
      ${siteChrome}
      <div class="teaser"><p>Short teaser for another story on this site: the football club won on Sunday afternoon in the rain, two goals to one, with a late header from the captain.</p>
        <p>The coach said after the match that the squad had worked all week on set pieces and that the result was a reward for the players who travelled to every away game.</p></div>
      <div class="community-layout"><div itemprop="articleBody">${paragraphsHtml}</div></div>`)
    const result = extractMainContent(html)
    expect(result.method).toBe('container')
    for (const sentence of story) expect(result.text).toContain(sentence)
    expect(result.text).not.toContain('Short teaser for another story')
  })

  it("takes the JSON-LD articleBody when the page's HTML carries only a stub of the story", () => {
    const ld = {
      '@context': 'https://schema.org',
      '@graph': [
        { '@type': 'WebSite', name: 'Harbour News' },
        { '@type': 'NewsArticle', headline: 'Breakwater', articleBody: story.join('\n') },
      ],
    }
    const html = page(
      `${siteChrome}<main><h1>Breakwater to be rebuilt</h1><p>Loading the article&hellip; enable JavaScript to read it.</p></main>`,
      `<script type="application/ld+json">${JSON.stringify(ld)}</script>`,
    )
    const result = extractMainContent(html)
    expect(result.method).toBe('json-ld')
    expect(result.text.split('\n\n').slice(1)).toEqual(story)
  })

  it('drops teaser links and captions but keeps a sentence that carries a link', () => {
    const html = page(`${siteChrome}<article><h1>Breakwater to be rebuilt</h1>
      <p>${story[0]}</p>
      <p>Read also: <a href="/other">Ferry timetable changes for the winter season</a></p>
      <figure><img src="wall.jpg"><figcaption>Photo: Harbour Authority / J. Smith</figcaption></figure>
      <p>${story[1]} The <a href="/plans">full plans</a> are on display at the harbour office.</p>
      <p>${story[2]}</p><p>${story[3]}</p></article>`)
    const { text } = extractMainContent(html)
    expect(text).not.toContain('Ferry timetable changes')
    expect(text).not.toContain('Photo: Harbour Authority')
    expect(text).toContain('The full plans are on display at the harbour office.')
  })

  it('drops the furniture after the last paragraph, never a closing sentence or code', () => {
    const html = page(`${siteChrome}<article><h1>Breakwater to be rebuilt</h1>${paragraphsHtml}
      <p>Questions can be sent to the harbour office.</p>
      <p>More on this topic</p><p>Tags: harbour, storms</p><p>12.03.2024</p></article>`)
    const { text } = extractMainContent(html)
    expect(text.endsWith('Questions can be sent to the harbour office.')).toBe(true)

    const code = page(`<article><h1>Rebuilding the index</h1>${paragraphsHtml}
      <pre>frugal data clean --dataset web\nfrugal data export</pre></article>`)
    expect(
      extractMainContent(code).text.endsWith('frugal data clean --dataset web\nfrugal data export'),
    ).toBe(true)
  })
})
