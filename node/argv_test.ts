import assert from "node:assert/strict";
import { type FlagArity, tokenizeArgv } from "./argv.ts";

const SPEC: Record<string, FlagArity> = { port: "required", ipv6: "optional", json: "none" };
const tokens = (args: string[], endOfFlags = false) => [
  ...tokenizeArgv(args, { arity: (n) => SPEC[n], aliases: { "-h": "help" }, endOfFlags }),
];

Deno.test("tokenizeArgv: --name value, --name=value, booleans, repeats, positionals", () => {
  assert.deepEqual(tokens(["--port", "80", "--port=81", "--json", "a", "-h", "-x"]), [
    { type: "flag", name: "port", value: "80" },
    { type: "flag", name: "port", value: "81" },
    { type: "flag", name: "json" },
    { type: "positional", value: "a" },
    { type: "flag", name: "help" },
    { type: "positional", value: "-x" },
  ]);
  // A required value is taken whatever it looks like; "=" may give an empty one.
  assert.deepEqual(tokens(["--port", "--json", "--port="]), [
    { type: "flag", name: "port", value: "--json" },
    { type: "flag", name: "port", value: "" },
  ]);
});

Deno.test("tokenizeArgv: optional values stop at the next flag", () => {
  assert.deepEqual(tokens(["--ipv6", "--json", "--ipv6", "false", "--ipv6=no", "--ipv6"]), [
    { type: "flag", name: "ipv6" },
    { type: "flag", name: "json" },
    { type: "flag", name: "ipv6", value: "false" },
    { type: "flag", name: "ipv6", value: "no" },
    { type: "flag", name: "ipv6" },
  ]);
});

Deno.test("tokenizeArgv: problems are tokens; an unknown flag swallows its value", () => {
  assert.deepEqual(tokens(["--prot", "80", "--json=1", "--port"]), [
    { type: "error", name: "prot", error: "unknown" },
    { type: "error", name: "json", error: "takes-no-value" },
    { type: "error", name: "port", error: "needs-value" },
  ]);
  assert.deepEqual(tokens(["--prot=80", "x", "--nope", "--json"]), [
    { type: "error", name: "prot", error: "unknown" },
    { type: "positional", value: "x" },
    { type: "error", name: "nope", error: "unknown" },
    { type: "flag", name: "json" },
  ]);
});

Deno.test("tokenizeArgv: -- ends the flags only when asked", () => {
  assert.deepEqual(tokens(["--json", "--", "--port", "x"], true), [
    { type: "flag", name: "json" },
    { type: "positional", value: "--port" },
    { type: "positional", value: "x" },
  ]);
  assert.deepEqual(tokens(["--", "x"]), [{ type: "error", name: "", error: "unknown" }]);
});
