/**
 * Browser entry of the console: hydrates every `data-island` element with its component and
 * the props the server rendered it with. Built by `deno task build:islands` into
 * `static/bundle.gen.ts`.
 *
 * @module
 */
import { type FunctionComponent, h, hydrate } from "preact";
import { ISLANDS } from "./registry.ts";

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const C = ISLANDS[el.dataset.island as keyof typeof ISLANDS] as unknown as
    | FunctionComponent<Record<string, unknown>>
    | undefined;
  if (C === undefined) continue;
  hydrate(h(C, JSON.parse(el.dataset.props ?? "{}")), el);
}
