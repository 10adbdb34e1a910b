/**
 * `subspace admin`: operator tasks run on the node's machine, against its database.
 *
 * - `admin passwd` sets the console password (read twice without echo from a terminal, or
 *   one line from piped stdin) and logs out every console session.
 * - `admin logout-all` ends every console session.
 * - `admin token` prints a random token to use as `SUBSPACE_ADMIN_TOKEN`.
 * - `admin backup --to FILE` writes a consistent copy of every SQLite database and the keys
 *   while the node runs; `admin restore --from FILE --data DIR` unpacks one into a new folder.
 *
 * They take the node's `--data`, `--store` and `--config` flags (or `SUBSPACE_*` variables) to
 * find the database, and work while the node runs. A folder that holds no node (no
 * `subspace.db` or `node.key`) is refused, so a mistyped `--data` creates nothing.
 *
 * @module
 */
import { CliError, parseFlags } from "./_args.ts";
import { toBase64Url } from "../client/mod.ts";
import { ConfigError, loadConfig } from "../node/mod.ts";
import { openStore } from "../node/store/mod.ts";
import { assertNodeDataDir, NotADataDirError } from "../node/mod.ts";
import { backupDataDir, restoreDataDir } from "./_backup.ts";

const USAGE = `Usage: subspace admin <task> [--data DIR] [--store URL] [--config FILE]

Tasks:
  passwd       set the operator console password (logs out every console session)
  logout-all   end every console session
  token        print a random admin token for SUBSPACE_ADMIN_TOKEN / --admin-token
  backup --to FILE
               write a consistent copy of every SQLite database and the node's keys to FILE
               (a tar file) while the node runs; PostgreSQL: use pg_dump as well
  restore --from FILE --data DIR
               unpack a backup into DIR (new or empty), then start the node on it

The password is read from the terminal (twice, not echoed) or as one line from stdin:
  printf '%s\\n' "$PASSWORD" | subspace admin passwd --data ./data`;

const encoder = new TextEncoder();

async function readHidden(prompt: string): Promise<string> {
  await Deno.stderr.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const b = buf[0]!;
      if (b === 3) throw new CliError("cancelled", 130); // Ctrl-C
      if (b === 13 || b === 10) break;
      if (b === 127 || b === 8) bytes.pop();
      else bytes.push(b);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

async function readLine(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.split(/\r?\n/)[0] ?? "";
}

/** Reads the new password from a terminal (twice) or from stdin. */
async function readNewPassword(minLength: number): Promise<string> {
  if (Deno.stdin.isTerminal()) {
    const a = await readHidden(
      `New operator password (at least ${minLength} characters): `,
    );
    const b = await readHidden("Repeat it: ");
    if (a !== b) throw new CliError("the two passwords differ; nothing changed");
    return a;
  }
  return await readLine();
}

/** Runs the command. */
export async function run(args: string[]): Promise<number> {
  const [task, ...rest] = args;
  if (task === undefined || task === "--help" || task === "-h" || task === "help") {
    console.log(USAGE);
    return task === undefined ? 2 : 0;
  }
  const flags = parseFlags(rest, { string: ["data", "store", "config", "to", "from"] });
  if (flags.booleans.has("help")) {
    console.log(USAGE);
    return 0;
  }
  if (flags.positional.length > 0) {
    throw new CliError(`unexpected argument '${flags.positional[0]}'`, 2);
  }
  if (task === "token") {
    const token = toBase64Url(crypto.getRandomValues(new Uint8Array(32)), false);
    console.log(token);
    return 0;
  }
  if (!["passwd", "logout-all", "backup", "restore"].includes(task)) {
    throw new CliError(`unknown task '${task}'. Run 'subspace admin --help'.`, 2);
  }
  const to = flags.strings.get("to");
  const from = flags.strings.get("from");
  if (task === "backup" && to === undefined) throw new CliError("backup needs --to FILE", 2);
  if (task === "restore" && from === undefined) throw new CliError("restore needs --from FILE", 2);
  if (task !== "backup" && to !== undefined) throw new CliError("--to is for backup", 2);
  if (task !== "restore" && from !== undefined) throw new CliError("--from is for restore", 2);

  const configArgs: string[] = [];
  for (const [k, v] of flags.strings) if (k !== "to" && k !== "from") configArgs.push(`--${k}`, v);
  let config;
  try {
    config = loadConfig({ args: configArgs, env: Deno.env.toObject() });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.errors.join("; "), 2);
    throw err;
  }

  if (task === "restore") {
    if (!flags.strings.has("data")) {
      throw new CliError("restore needs --data DIR (a new folder)", 2);
    }
    let names;
    try {
      names = await restoreDataDir(from!, config.data);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw new CliError(`${from}: no such file`);
      throw new CliError((err as Error).message);
    }
    console.log(`Restored ${names.join(", ")} into ${config.data}.`);
    return 0;
  }

  // Never create a database in a mistyped folder.
  try {
    await assertNodeDataDir(config.data, config.store === undefined ? {} : { store: config.store });
  } catch (err) {
    if (err instanceof NotADataDirError) throw new CliError(err.message);
    throw err;
  }
  if (task === "backup") {
    let entries;
    try {
      entries = await backupDataDir(config.data, to!);
    } catch (err) {
      throw new CliError(`backup failed: ${(err as Error).message}`);
    }
    const total = entries.reduce((a, e) => a + e.bytes, 0);
    console.log(
      `Backed up ${entries.map((e) => e.name).join(", ")} (${total} bytes) to ${to}.`,
    );
    if (config.store !== undefined) {
      console.log(
        "The messages, accounts and settings are in PostgreSQL: back them up with pg_dump too " +
          "(docs/operations.md).",
      );
    }
    return 0;
  }
  const { checkPassword, hashPassword, openConsoleState, PASSWORD_MIN_LENGTH } = await import(
    "../node/console/mod.ts"
  );
  let password = "";
  if (task === "passwd") {
    password = await readNewPassword(PASSWORD_MIN_LENGTH);
    try {
      checkPassword(password);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const store = await openStore({ url: config.store, dataDir: config.data });
  const { state, close } = await openConsoleState(store, config.data).catch(async (err) => {
    await store.close();
    throw err;
  });
  try {
    if (task === "passwd") {
      const ended = await state.deleteAllSessions();
      await state.setPassword(await hashPassword(password), false, Date.now());
      console.log(
        `Operator password changed; ${ended} console session${ended === 1 ? "" : "s"} ended.`,
      );
    } else {
      const ended = await state.deleteAllSessions();
      console.log(`${ended} console session${ended === 1 ? "" : "s"} ended.`);
    }
  } finally {
    await close();
    await store.close();
  }
  return 0;
}
