/**
 * Test helper: clients that POST 1 KiB messages to a node as fast as it answers and remember
 * every message it acknowledged, for durability checks (crash test, kill -9 trials).
 *
 * @module
 */

/** A running load; `stop()` ends the clients and waits for them. */
export interface AckingLoad {
  /** Acknowledged message id → what was posted. */
  readonly acked: Map<string, { tag: string; payload: string }>;
  /** Answers other than 201. */
  readonly refused: () => number;
  stop(): Promise<void>;
}

/** Starts `clients` concurrent posting loops against `url`. */
export function ackingLoad(url: string, clients: number): AckingLoad {
  const acked = new Map<string, { tag: string; payload: string }>();
  let stop = false;
  let refused = 0;
  const client = async () => {
    while (!stop) {
      const tag = crypto.getRandomValues(new Uint8Array(20)).toHex();
      const payload = crypto.getRandomValues(new Uint8Array(1024)).toBase64();
      try {
        const res = await fetch(`${url}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ tag, payload }),
        });
        if (res.status === 201) acked.set((await res.json()).id, { tag, payload });
        else {
          refused++;
          await res.body?.cancel();
        }
      } catch {
        // The connection died with the process: not acknowledged, so nothing is owed.
      }
    }
  };
  const running = Array.from({ length: clients }, client);
  return {
    acked,
    refused: () => refused,
    async stop() {
      stop = true;
      await Promise.all(running);
    },
  };
}
