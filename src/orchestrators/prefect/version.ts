/** A Prefect server version, for choosing which fields a request may carry. */
export interface ServerVersion {
  major: number;
  minor: number;
  raw: string;
}

export function parseServerVersion(raw: string): ServerVersion {
  const match = /^(\d+)\.(\d+)/.exec(raw.trim());
  if (!match) return { major: 3, minor: 0, raw };
  return { major: Number(match[1]), minor: Number(match[2]), raw };
}

export function atLeast(v: ServerVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}
