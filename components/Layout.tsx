/**
 * The console's page frame: head, navigation, notices and the logout form.
 *
 * @module
 */
import type { LayoutProps } from "../node/console/mod.ts";
import { CsrfField } from "./Form.tsx";

/** The whole HTML document of a console page; the navigation is the manifest's pages. */
export function Layout({ title, page, bare, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · Subspace console`}</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={page.styleUrl} />
        {page.scriptUrl && <script type="module" src={page.scriptUrl} />}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/console">
            <span class="logo" aria-hidden="true">◆</span> Subspace
          </a>
          {!bare && (
            <nav aria-label="Console">
              {page.nav.map((n) => (
                <a
                  key={n.href}
                  href={n.href}
                  aria-current={page.path === n.href ? "page" : undefined}
                >
                  {n.label}
                </a>
              ))}
            </nav>
          )}
          {!bare && (
            <form method="post" action="/console/logout" class="logout">
              <CsrfField token={page.csrf} />
              <button type="submit" class="link">Log out</button>
            </form>
          )}
        </header>
        <main>
          {!bare && page.problems !== undefined && page.problems.length > 0 && (
            <div
              class={`health-banner health-${
                page.problems.some((p) => p.status === "fail") ? "fail" : "warn"
              }`}
              role="alert"
            >
              <strong>
                {page.problems.some((p) => p.status === "fail")
                  ? "Needs attention:"
                  : "Check soon:"}
              </strong>
              <ul>
                {page.problems.map((p) => (
                  <li key={p.id} data-check={p.id} data-status={p.status}>{p.summary}</li>
                ))}
              </ul>
              <a href="/console#health">Health details</a>
            </div>
          )}
          {!bare && <h1>{title}</h1>}
          {page.flash && (
            <p
              class={`flash flash-${page.flash.kind}`}
              role={page.flash.kind === "error" ? "alert" : "status"}
            >
              {page.flash.text}
            </p>
          )}
          {children}
        </main>
        <footer>
          {`Subspace ${page.version}`}
          {page.nodeId && ` · node ${page.nodeId.slice(0, 12)}…`}
        </footer>
      </body>
    </html>
  );
}
