import assert from "node:assert/strict";
import { CliError, parseFlags, requireFlag } from "./_args.ts";

const SPEC = { string: ["server", "to"], boolean: ["json"], collect: ["server-list"] } as const;

Deno.test("parseFlags: values, booleans, repeats, -h and --", () => {
  const f = parseFlags(
    [
      "--server",
      "http://a",
      "--to=x",
      "--json",
      "-h",
      "--server-list",
      "1",
      "--server-list=2",
      "p",
    ],
    SPEC,
  );
  assert.equal(f.strings.get("server"), "http://a");
  assert.equal(f.strings.get("to"), "x");
  assert.deepEqual([...f.booleans].sort(), ["help", "json"]);
  assert.deepEqual(f.collected.get("server-list"), ["1", "2"]);
  assert.deepEqual(f.positional, ["p"]);
  assert.deepEqual(parseFlags(["--", "--json", "x"], SPEC).positional, ["--json", "x"]);
  assert.equal(parseFlags(["--to", "--json"], SPEC).strings.get("to"), "--json");
  assert.equal(requireFlag(f, "server"), "http://a");
});

Deno.test("parseFlags: one-line usage errors with exit code 2", () => {
  const fails = (args: string[], message: string) =>
    assert.throws(() => parseFlags(args, SPEC), (e) => {
      assert.ok(e instanceof CliError);
      assert.equal(e.message, message);
      assert.equal(e.exitCode, 2);
      return true;
    });
  fails(["--sever", "x"], "unknown flag --sever");
  fails(["--json=yes"], "flag --json takes no value");
  fails(["--server"], "flag --server needs a value");
  assert.throws(() => requireFlag(parseFlags([], SPEC), "to"), /missing required flag --to/);
});
