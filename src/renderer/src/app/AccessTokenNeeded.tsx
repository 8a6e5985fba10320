/**
 * A browser that opened `frugal serve` without its access token: the server answers no
 * API call without it, so say where to find the address that carries it.
 */
export function AccessTokenNeeded() {
  return (
    <main className="token-needed">
      <h1>Access token needed</h1>
      <p>
        This Frugal server only answers the address it printed when it started, which carries an
        access token (<code>…/?token=…</code>). Open that address, or restart{' '}
        <code>frugal serve</code> to get a new one. The token stays in this tab; open the printed
        address again in a new tab.
      </p>
    </main>
  )
}
