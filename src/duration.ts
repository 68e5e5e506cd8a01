import { ConfigError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** One or more number+unit parts: "90s", "30m", "1h30m", "1h 30m", "1500ms"; a bare number is seconds. */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d)\s*)+$|^\d+(?:\.\d+)?$/;

/** Node's timers overflow above 2^31-1 ms (about 24.8 days) and then fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export const DURATION_EXAMPLES = 'e.g. 90s, 30m, 1h30m';

/** Milliseconds of a duration; a ConfigError naming `key` when it is not one or is too long. */
export function parseDuration(text: string, key: string): number {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) throw new ConfigError(`${key}: '${text}' is not a duration; expected ${DURATION_EXAMPLES}`);
  let ms = 0;
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else for (const [, n, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(n) * UNITS[unit!]!;
  if (ms > MAX_DURATION_MS) throw new ConfigError(`${key}: '${text}' is longer than the 24 days a timer can wait`);
  return Math.round(ms);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
