/**
 * The `messages` row as the drivers return it, and its mapping to {@linkcode StoredMessage}.
 *
 * @module
 */
import type { StoredMessage } from "./store.ts";

/** A `messages` row (PostgreSQL may return bigints as strings, node:sqlite as numbers). */
export type MessageRow = {
  seq: number | string;
  id: Uint8Array;
  tag: Uint8Array;
  payload: Uint8Array | null;
  size: number | string;
  received_at: number | string;
  expires_at: number | string;
  origin: string | null;
};

/** Maps a row to a message (copies the bytes out of driver buffers). */
export function toMessage(r: MessageRow): StoredMessage {
  return {
    seq: Number(r.seq),
    id: new Uint8Array(r.id),
    tag: new Uint8Array(r.tag),
    payload: r.payload === null ? null : new Uint8Array(r.payload),
    size: Number(r.size),
    receivedAt: Number(r.received_at),
    expiresAt: Number(r.expires_at),
    origin: r.origin,
  };
}
