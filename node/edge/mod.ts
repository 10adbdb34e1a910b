/**
 * The edge: the node's listener with connection caps, deadlines and descriptor hygiene
 * (`http_server.ts`), and {@linkcode serveNode}, which starts it from the node's configuration.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Registry } from "../metrics.ts";
import { type EdgeHandler, type EdgeServer, raiseFdLimit, serve } from "./http_server.ts";

export { addressGroup } from "./address.ts";
export {
  type EdgeHandler,
  type EdgeRequestInfo,
  type EdgeServer,
  type EdgeStats,
  type FdLimits,
  openFdCount,
  raiseFdLimit,
  readFdLimits,
  serve,
  type ServeOptions,
} from "./http_server.ts";

/**
 * Raises the descriptor limit where allowed, logs the limit in force, and serves `handler` on
 * `config.host`/`config.port` (HTTPS with `--tls-cert`/`--tls-key`) with the edge limits of
 * the configuration.
 *
 * @example
 * ```ts ignore
 * const server = await serveNode(config, (req, info) => app.fetch(req, info), { log, metrics });
 * await server.shutdown();
 * ```
 */
export async function serveNode(
  config: Config,
  handler: EdgeHandler,
  opts: { log: Logger; metrics: Registry; onError?: (err: unknown) => Response },
): Promise<EdgeServer> {
  const fd = await raiseFdLimit();
  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined;
  const server = await serve(handler, {
    hostname: config.host,
    port: config.port,
    ...(tls
      ? {
        cert: await Deno.readTextFile(config.tlsCert!),
        key: await Deno.readTextFile(config.tlsKey!),
      }
      : {}),
    headersTimeoutMs: config.headersTimeout * 1000,
    bodyTimeoutMs: config.bodyTimeout * 1000,
    keepAliveTimeoutMs: config.keepAliveTimeout * 1000,
    maxConnectionsPerAddress: config.maxAddressConnections,
    maxOpenConnections: config.maxOpenConnections,
    log: opts.log,
    metrics: opts.metrics,
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
  const fields: Record<string, unknown> = {
    soft: fd.after?.soft,
    hard: fd.after?.hard,
    maxOpenConnections: server.maxOpenConnections,
  };
  if (fd.before !== undefined && fd.after !== undefined && fd.after.soft > fd.before.soft) {
    fields.raisedFrom = fd.before.soft;
  }
  if (fd.reason !== undefined) fields.notRaised = fd.reason;
  opts.log.info("file descriptor limit", fields);
  return server;
}
