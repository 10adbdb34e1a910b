/**
 * The public page at `/`, for people who find the server: what it is, its limits and prices
 * (the values `/v1/info` and `/v1/pricing` answer), how to get an account, the API document
 * and the operator's contact. Plain HTML and the console's stylesheet: readable without
 * JavaScript.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import type { LandingData } from "../node/console/mod.ts";
import { formatBytesExact, formatCount, formatSeconds } from "../components/format.ts";

/** Page title. */
export const title = "Subspace server";

function Row({ k, children }: { k: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{k}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** The whole document. */
export default function Landing({ data }: { data: LandingData }) {
  const p = data.pricing;
  const host = new URL(data.origin).host;
  const contact = data.operatorContact;
  const contactHref = contact === undefined
    ? undefined
    : /^[^@\s]+@[^@\s]+$/.test(contact)
    ? `mailto:${contact}`
    : /^https?:\/\//.test(contact)
    ? contact
    : undefined;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${host} · ${title}`}</title>
        <meta
          name="description"
          content="A Subspace server: private store-and-forward messages for Bitcoin wallets."
        />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={data.styleUrl} />
      </head>
      <body class="landing">
        <header class="top">
          <a class="brand" href="/">
            <span class="logo" aria-hidden="true">◆</span> Subspace
          </a>
        </header>
        <main>
          <h1>{host}</h1>
          <p class="lead">
            This is a <strong>Subspace</strong>{" "}
            server: a private store-and-forward channel for Bitcoin wallets. Wallets leave encrypted
            messages here — payments, payment requests (BIP70), PSBTs for coordinating transactions,
            short notes — addressed to a stealth address, and the recipient's wallet picks them up
            from this or any other server of the federation. The server sees only a random-looking
            tag, a size and an expiry; it cannot read a message or tell who it is for.
          </p>
          <section class="card" id="limits">
            <h2>Limits</h2>
            <dl class="facts">
              <Row k="Largest message">{formatBytesExact(data.maxPayloadBytes)}</Row>
              <Row k="Kept for">
                {formatSeconds(data.defaultTtlSeconds)} by default, at most{" "}
                {formatSeconds(data.maxTtlSeconds)}
              </Row>
              <Row k="Longest wait (long poll)">{formatSeconds(data.maxWaitSeconds)}</Row>
              <Row k="Posting">
                {data.quota === "open"
                  ? "open: anyone may post"
                  : "one anonymous token per message (Privacy Pass)"}
              </Row>
            </dl>
          </section>
          {p !== undefined && (
            <section class="card" id="pricing">
              <h2>Pricing</h2>
              <dl class="facts">
                <Row k="Free">
                  {formatCount(p.freeTokens)} messages per account every{" "}
                  {formatSeconds(p.periodSeconds)}
                </Row>
                <Row k="More">
                  {p.feesEnabled
                    ? `${formatCount(p.tokensPerBundle)} messages for ${
                      formatCount(p.bundlePriceSats)
                    } sats`
                    : "not sold here"}
                </Row>
              </dl>
              <p class="muted">
                Live values: <a href="/v1/pricing">/v1/pricing</a>.
              </p>
            </section>
          )}
          <section class="card" id="signup">
            <h2>Use it</h2>
            {data.quota === "open"
              ? <p>No account is needed: wallets post and read directly.</p>
              : (
                <p>
                  Sign up for a free account (a captcha, no e-mail, nothing personal): in a wallet
                  that speaks Subspace, or with the command line{" "}
                  <code>{`subspace signup --server ${data.origin}`}</code>; the API steps are{" "}
                  <code>GET /v1/captcha</code> then <code>POST /v1/accounts</code>.
                </p>
              )}
            <p>
              API: <a href="/openapi.json">/openapi.json</a> (OpenAPI) ·{" "}
              <a href="/v1/info">/v1/info</a> (this server's limits
              {data.nodeId ? ` and node id ${data.nodeId.slice(0, 12)}…` : ""}).
            </p>
          </section>
          <section class="card" id="operator">
            <h2>Operator</h2>
            {contact === undefined
              ? <p class="muted">The operator has not published a contact.</p>
              : (
                <p>
                  Contact:{" "}
                  {contactHref === undefined ? contact : <a href={contactHref}>{contact}</a>}
                </p>
              )}
          </section>
        </main>
        <footer>
          {`Subspace ${data.version}`} · <a href="/console">operator console</a>
        </footer>
      </body>
    </html>
  );
}
