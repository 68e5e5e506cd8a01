/**
 * The leak detector every run of the bundled action goes through (runBundledAction):
 * the secrets a run was given — secret-named environment variables and inputs, and
 * passwords inside URLs — searched for in what the run produced. The runner masks its
 * log only after `::add-mask::<value>`, so the log may hold a secret only after that
 * line; outputs, the job summary and PR comments never.
 */
const SECRET_NAME = /(TOKEN|PASSWORD|SECRET|API_KEY|AUTH_STRING)$/i;
const SECRET_INPUTS = ['github-token', 'registry-password'];

export function secretsOf(env: Record<string, string | undefined>, inputs: Record<string, string>): string[] {
  const found = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_NAME.test(name) && value.length >= 6) found.add(value);
    for (const match of value.matchAll(/:\/\/[^/:@\s]+:([^/@\s]+)@/g)) if (match[1]!.length >= 6) found.add(decodeURIComponent(match[1]!));
  }
  for (const input of SECRET_INPUTS) if ((inputs[input] ?? '').length >= 6) found.add(inputs[input]!);
  return [...found];
}

/** Where each secret leaked, as "log line 12", "output image", "summary", "comment 3". */
export function findLeaks(secrets: readonly string[], produced: { log: string; outputs: Record<string, string>; summary: string; comments?: readonly string[] }): string[] {
  const leaks: string[] = [];
  const masked = new Set<string>();
  produced.log.split('\n').forEach((line, i) => {
    const mask = /^::add-mask::(.*)$/.exec(line);
    if (mask) {
      masked.add(mask[1]!);
      return;
    }
    for (const s of secrets) if (line.includes(s) && !masked.has(s)) leaks.push(`log line ${i + 1} (before its ::add-mask::)`);
  });
  for (const [name, value] of Object.entries(produced.outputs)) for (const s of secrets) if (value.includes(s)) leaks.push(`output ${name}`);
  for (const s of secrets) if (produced.summary.includes(s)) leaks.push('job summary');
  (produced.comments ?? []).forEach((body, i) => {
    for (const s of secrets) if (body.includes(s)) leaks.push(`PR comment ${i + 1}`);
  });
  return leaks;
}
