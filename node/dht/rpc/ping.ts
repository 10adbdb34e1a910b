/**
 * `ping`: proves liveness and key ownership (the signed response). Body `{}` → `{}`.
 *
 * @module
 */
import type { DhtServices, RpcResult } from "./_shared.ts";

/** Answers a ping. */
export function handlePing(_services: DhtServices, _body: unknown): RpcResult {
  return { status: 200, body: {} };
}
