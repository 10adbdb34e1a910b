/**
 * `subspace inbox`: reads the servers under the wallet's prefix, trial-decrypts every envelope
 * and prints the messages addressed to the wallet; `--watch` keeps long-polling.
 *
 * @module
 */
import { utf8 } from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import {
  checkServer,
  clientFrom,
  cliErrors,
  intFlag,
  loadWallet,
  maybeHelp,
  messageJson,
  messageLine,
  noPositional,
} from "./_client.ts";
import { cursorPath, FileCursorStore } from "./_wallet.ts";

const HELP = `
Usage: subspace inbox --server URL [--server URL ...] --wallet FILE [options]

Prints the messages addressed to the wallet. Without --watch it reads every stored message
under the wallet's prefix and exits; with --watch it resumes where the last run stopped
(cursor saved in FILE.cursors.json) and long-polls for new messages until interrupted.

  --server URL           server to read (repeatable: messages found on several are shown once)
  --wallet FILE          the wallet
  --passphrase-env VAR   passphrase of an encrypted wallet (else asked on the terminal)
  --watch                keep long-polling for new messages
  --from-start           with --watch: ignore the saved cursor
  --wait SECONDS         long-poll wait (default 30)
  --json                 one JSON object per line (id, tag, type, memo, body base64, ...)
  --progress             always draw the progress bar on stderr (default: on a terminal,
                         once more than 200 envelopes were scanned)
  --proxy URL            tunnel through socks5://host:port (Tor) or http://host:port
`;

const BAR_WIDTH = 24;

/** Runs `subspace inbox`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: ["wallet", "passphrase-env", "wait", "proxy", "limit"],
    collect: ["server"],
    boolean: ["watch", "json", "from-start", "progress"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const servers = (flags.collected.get("server") ?? []).map(checkServer);
  if (servers.length === 0) throw new CliError("missing required flag --server", 2);
  const waitSeconds = intFlag(flags, "wait", 1, 3600) ?? 30;
  const limit = intFlag(flags, "limit", 1, 1000) ?? 500;
  const { wallet, keys } = await loadWallet(flags);
  const watch = flags.booleans.has("watch");
  const json = flags.booleans.has("json");
  const client = await clientFrom(flags);
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  if (watch) Deno.addSignalListener("SIGINT", onSigint);

  const showBar = flags.booleans.has("progress") || Deno.stderr.isTerminal();
  let barDrawn = false;
  const started = performance.now();
  let frame = 0;
  const drawBar = (scanned: number, matched: number) => {
    if (!showBar || (scanned < 200 && !flags.booleans.has("progress"))) return;
    const rate = Math.round(scanned / Math.max(0.001, (performance.now() - started) / 1000));
    frame = (frame + 1) % (BAR_WIDTH * 2);
    const pos = frame < BAR_WIDTH ? frame : BAR_WIDTH * 2 - frame - 1;
    const bar = Array.from({ length: BAR_WIDTH }, (_, i) => (Math.abs(i - pos) <= 2 ? "█" : "░"))
      .join("");
    Deno.stderr.writeSync(
      utf8.encode(`\rscanning ${bar} ${scanned} envelopes, ${matched} for you, ${rate}/s  `),
    );
    barDrawn = true;
  };
  const clearBar = () => {
    if (barDrawn) Deno.stderr.writeSync(utf8.encode("\n"));
    barDrawn = false;
  };

  let count = 0;
  try {
    await cliErrors(async () => {
      for await (
        const m of client.watch(
          { ...keys, prefix: wallet.address.prefix, prefixBits: wallet.address.prefixBits },
          {
            servers,
            cursors: new FileCursorStore(cursorPath(wallet.path)),
            fromStart: !watch || flags.booleans.has("from-start"),
            follow: watch,
            waitSeconds,
            limit,
            signal: stop.signal,
            onProgress: (p) => drawBar(p.scanned, p.matched),
            onError: (e, server) => {
              clearBar();
              console.error(`subspace inbox: ${server}: ${e.message}`);
            },
          },
        )
      ) {
        clearBar();
        count++;
        console.log(json ? JSON.stringify(messageJson(m)) : messageLine(m));
      }
    });
  } finally {
    clearBar();
    if (watch) Deno.removeSignalListener("SIGINT", onSigint);
  }
  if (!json && !watch && count === 0) console.error("no messages");
  return 0;
}
