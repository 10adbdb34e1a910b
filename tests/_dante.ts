/**
 * Test helper: Debian's dante-server (a real SOCKS5 proxy) on 127.0.0.1, logging every tunnel
 * it opens to stderr, which {@linkcode startDante} collects.
 *
 * @module
 */

/** Where Debian's dante-server package installs the daemon. */
export const DANTED = "/usr/sbin/danted";

/** True when dante is installed; otherwise SOCKS5 tests skip (and say why). */
export const hasDante: boolean = (() => {
  try {
    Deno.statSync(DANTED);
    return true;
  } catch {
    console.warn(`SKIP SOCKS5 tests: ${DANTED} is missing (apt-get install -y dante-server)`);
    return false;
  }
})();

/** A free TCP port on 127.0.0.1 (closed again at once). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts dante; resolves once it accepts connections (10 s deadline). */
export async function startDante(): Promise<{
  url: string;
  port: number;
  /** Stops dante and returns its log (one "tcp/connect" line per tunnel). */
  stop(): Promise<string>;
}> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "subspace-danted-" });
  const conf = `${dir}/danted.conf`;
  await Deno.writeTextFile(
    conf,
    [
      "logoutput: stderr",
      `internal: 127.0.0.1 port = ${port}`,
      "external: 127.0.0.1",
      "clientmethod: none",
      "socksmethod: none",
      "user.privileged: root",
      "user.unprivileged: nobody",
      "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
      "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect",
      "  log: connect",
      "}",
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(DANTED, {
    args: ["-f", conf, "-p", `${dir}/danted.pid`, "-N", "1"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log = new Response(child.stderr).text();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    return await log;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        throw new Error(`dante did not listen: ${(e as Error).message}\n${await stop()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url: `socks5://127.0.0.1:${port}`, port, stop };
}
