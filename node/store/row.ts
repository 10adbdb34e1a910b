/**
 * The `messages` row as the drivers return it, its mapping to {@linkcode StoredMessage}, and the
 * stored form of a message just inserted.
 *
 * @module
 */
import type { InsertOutcome, NewMessage, StoredMessage } from "./store.ts";

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

/** `m` as stored under `seq`. */
export function storedAs(m: NewMessage, seq: number): StoredMessage {
  return {
    seq,
    id: m.id,
    tag: m.tag,
    payload: m.payload,
    size: m.size,
    receivedAt: m.receivedAt,
    expiresAt: m.expiresAt,
    origin: m.origin,
  };
}

/** The outcome of a message not stored because its nonce was spent before. */
export function spentOutcome(m: NewMessage): InsertOutcome {
  return { message: storedAs(m, 0), inserted: false, spent: true };
}
