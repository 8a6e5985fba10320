/**
 * The Content-Security-Policy of the renderer, in one place: the built index.html
 * carries it as a meta tag (Electron loads the file directly) and `serve` also sends it
 * as a header. Nothing remote, no inline script or style, no eval.
 */
const directives: Record<string, string> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data: blob:",
  'font-src': "'self'",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
}

const join = (d: Record<string, string>): string =>
  Object.entries(d)
    .map(([k, v]) => `${k} ${v}`)
    .join('; ')

/** For the <meta> tag (which may not carry frame-ancestors). */
export const contentSecurityPolicy = join(directives)

/** For the HTTP header, which can also forbid framing. */
export const contentSecurityPolicyHeader = join({ ...directives, 'frame-ancestors': "'none'" })
