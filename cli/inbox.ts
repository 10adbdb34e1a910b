/**
 * `subspace inbox`: reads the servers under the wallet's prefix, trial-decrypts every envelope
 * and prints the messages addressed to the wallet; `--watch` keeps long-polling.
 *
 * @module
 */
import { formatSeconds, networkOf, utf8 } from "../client/mod.ts";
import { parseFlags } from "./_args.ts";
import {
  clientFrom,
  cliErrors,
  clock,
  durationFlag,
  formatDuration,
  intFlag,
  loadWallet,
  maybeHelp,
  messageJson,
  messageLine,
  NETWORK_OPTIONS,
  noPositional,
  serversFrom,
  walletOption,
} from "./_client.ts";
import { helpText } from "./_help.ts";
import { cursorPath, FileCursorStore } from "./_wallet.ts";

const HELP = helpText({
  usage: ["subspace inbox [--server URL ...] [--wallet FILE] [options]"],
  about: "Prints the messages addressed to the wallet: when the node received each and when the " +
    "sender wrote it, what it is, and who sent it ('(signed)' only when a signature proves the " +
    "reply-to address; otherwise UNVERIFIED). Without --watch it reads every stored message " +
    "under the wallet's prefix and exits; with --watch it resumes where the last run stopped " +
    "(cursor saved in FILE.cursors.json) and long-polls for new messages until interrupted, " +
    "saying when a node cannot be reached and when it tries again.",
  options: [
    [
      "--server URL",
      'node to read, repeatable: messages found on several are shown once (default: "servers" or "server" in the config file)',
    ],
    NETWORK_OPTIONS[1]!,
    walletOption("the wallet"),
    ["--passphrase-env VAR", "passphrase of an encrypted wallet (else asked on the terminal)"],
    ["--watch", "keep long-polling for new messages"],
    ["--from-start", "with --watch: ignore the saved cursor"],
    ["--wait DURATION", "long-poll wait: 30, 45s, 2m (default 30s)"],
    ["--json", "one JSON object per line (all fields: docs/client.md)"],
    [
      "--progress",
      "always draw the progress bar on stderr (default: on a terminal, once more than 200 envelopes were scanned)",
    ],
  ],
});

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
  const servers = serversFrom(flags);
  const waitSeconds = durationFlag(flags, "wait", 1, 3600) ?? 30;
  const limit = intFlag(flags, "limit", 1, 1000) ?? 500;
  const { wallet, keys } = await loadWallet(flags);
  const network = networkOf(wallet.address.version) === "testnet" ? "test" : "main";
  const watch = flags.booleans.has("watch");
  const json = flags.booleans.has("json");
  const client = await clientFrom(flags, undefined, (n) => {
    clearBar();
    console.error(
      `subspace inbox: ${clock()} ${n.url}: ${n.error.message}; trying again in ${
        formatSeconds(n.delayMs)
      }${
        Number.isFinite(n.attempts)
          ? ` (attempt ${n.attempt + 1} of ${n.attempts})`
          : ` (failure ${n.attempt})`
      }`,
    );
  });
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  if (watch) Deno.addSignalListener("SIGINT", onSigint);

  const forced = flags.booleans.has("progress");
  const showBar = forced || Deno.stderr.isTerminal();
  let barDrawn = false;
  const started = performance.now();
  let frame = 0;
  const caughtUp = new Set<string>();
  let finished = false;
  // While reading, the total is unknown: a block sweeps the bar. Once every server is caught
  // up the bar is drawn full, once, and put away.
  const drawBar = (p: { server: string; scanned: number; matched: number; caughtUp: boolean }) => {
    if (p.caughtUp) caughtUp.add(p.server);
    const done = caughtUp.size === servers.length;
    if (finished || !showBar || (p.scanned < 200 && !forced)) return;
    const rate = Math.round(p.scanned / Math.max(0.001, (performance.now() - started) / 1000));
    let bar: string;
    if (done) {
      bar = "█".repeat(BAR_WIDTH);
    } else {
      frame = (frame + 1) % (BAR_WIDTH * 2);
      const pos = frame < BAR_WIDTH ? frame : BAR_WIDTH * 2 - frame - 1;
      bar = Array.from({ length: BAR_WIDTH }, (_, i) => (Math.abs(i - pos) <= 2 ? "█" : "░"))
        .join("");
    }
    const label = done ? "scanned" : "scanning";
    Deno.stderr.writeSync(
      utf8.encode(
        `\r${label} ${bar} ${p.scanned} envelopes, ${p.matched} for you, ${rate}/s${
          done ? " 100%" : ""
        }  `,
      ),
    );
    barDrawn = true;
    if (done) {
      finished = true;
      clearBar();
    }
  };
  function clearBar() {
    if (barDrawn) Deno.stderr.writeSync(utf8.encode("\n"));
    barDrawn = false;
  }

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
            onProgress: drawBar,
            onError: (e, server) => {
              clearBar();
              console.error(`subspace inbox: ${clock()} ${server}: ${e.message}`);
            },
          },
        )
      ) {
        clearBar();
        count++;
        console.log(json ? JSON.stringify(messageJson(m, network)) : messageLine(m, network));
      }
    });
  } finally {
    clearBar();
    if (watch) Deno.removeSignalListener("SIGINT", onSigint);
  }
  if (!json && !watch && count === 0) {
    console.error(
      `no messages (read ${servers.join(", ")}; long-poll wait ${formatDuration(waitSeconds)})`,
    );
  }
  return 0;
}
