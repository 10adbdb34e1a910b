/**
 * Form and section pieces shared by console pages.
 *
 * @module
 */
import type { ComponentChildren } from "preact";

/** The hidden CSRF field every console form carries. */
export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** A titled section of a page. */
export function Section(
  { title, children, id }: { title: string; children: ComponentChildren; id?: string },
) {
  return (
    <section class="card" id={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** What a section shows while the feature behind it is not part of this node (yet). */
export function NotAvailable({ what }: { what: string }) {
  return (
    <p class="not-available">
      Not available: {what} is not running on this node.
    </p>
  );
}

/** A label/value list. */
export function Facts({ items }: { items: readonly [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
