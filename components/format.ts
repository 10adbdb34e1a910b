/**
 * Number, size, rate and time formatting shared by pages and islands (runs in both).
 *
 * @module
 */

const SIZE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * Formats a byte count with a binary unit.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "–";
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < SIZE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${n < 0 ? "-" : ""}${Number(v.toFixed(digits))} ${SIZE_UNITS[i]}`;
}

/**
 * Formats a count with thousands separators (`12,345`).
 *
 * @example
 * ```ts
 * formatCount(1234567); // "1,234,567"
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Formats a per-second rate compactly (`0.25/s`, `12/s`, `1.2k/s`).
 *
 * @example
 * ```ts
 * formatRate(1234); // "1.2k/s"
 * ```
 */
export function formatRate(perSecond: number): string {
  const v = Math.abs(perSecond);
  if (v === 0) return "0/s";
  if (v >= 1e6) return `${Number((perSecond / 1e6).toFixed(1))}M/s`;
  if (v >= 1e3) return `${Number((perSecond / 1e3).toFixed(1))}k/s`;
  if (v >= 10) return `${Math.round(perSecond)}/s`;
  if (v >= 0.01) return `${Number(perSecond.toFixed(2))}/s`;
  return `${Number(perSecond.toPrecision(1))}/s`;
}

/**
 * Formats a duration in seconds as the two largest units (`3d 4h`, `5m 2s`).
 *
 * @example
 * ```ts
 * formatDuration(90061); // "1d 1h"
 * ```
 */
export function formatDuration(seconds: number): string {
  let s = Math.max(0, Math.floor(seconds));
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (s >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join(" ");
}

/**
 * Formats Unix ms as `YYYY-MM-DD HH:MM:SS` UTC.
 *
 * @example
 * ```ts
 * formatTime(0); // "1970-01-01 00:00:00"
 * ```
 */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * Formats how long ago `ms` was, relative to `now` (`12s ago`).
 *
 * @example
 * ```ts
 * formatAgo(1000, 61000); // "1m ago"
 * ```
 */
export function formatAgo(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return "never";
  return `${formatDuration((now - ms) / 1000)} ago`;
}

/**
 * Formats seconds in the largest unit that divides them exactly, as forms accept them
 * (`7d`, `12h`, `90s`).
 *
 * @example
 * ```ts
 * formatSeconds(604800); // "7d"
 * ```
 */
export function formatSeconds(seconds: number): string {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * Formats a byte count in the largest binary unit that divides it exactly (`10GiB`,
 * `64KiB`), or approximately when none does (`9.31 GiB`).
 *
 * @example
 * ```ts
 * formatBytesExact(10737418240); // "10GiB"
 * ```
 */
export function formatBytesExact(n: number): string {
  for (let i = SIZE_UNITS.length - 1; i >= 1; i--) {
    const size = 1024 ** i;
    if (n >= size && n % size === 0 && n / size < 10_000) return `${n / size}${SIZE_UNITS[i]}`;
  }
  return n < 1024 ? `${n}B` : formatBytes(n);
}
