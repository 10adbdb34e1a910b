/**
 * Server side of islands: renders an island's component and marks it for hydration by the
 * client bundle (`islands/client_entry.ts`), which finds `data-island` elements and hydrates them
 * with the same props.
 *
 * @module
 */
import type { FunctionComponent } from "preact";
import { type IslandName, ISLANDS } from "../islands/registry.ts";

/** Props of {@linkcode Island}. */
export type IslandProps<N extends IslandName> = {
  name: N;
  props: Parameters<(typeof ISLANDS)[N]>[0];
};

/** Renders island `name` with `props` inside its hydration marker. */
export function Island<N extends IslandName>({ name, props }: IslandProps<N>) {
  const C = ISLANDS[name] as FunctionComponent<typeof props>;
  return (
    <div data-island={name} data-props={JSON.stringify(props)}>
      <C {...props} />
    </div>
  );
}
