import { spawnSync } from 'node:child_process';

/**
 * A secret as users hold them: a service-account JSON with a PEM key inside — quotes,
 * backslashes, newlines, non-ASCII letters and an apostrophe — and the forms in which
 * the project itself prints such a value, each made by its real producer (JavaScript's
 * JSON and URL functions, Python's json.dumps and repr), not by the code under test.
 */
export const HOSTILE_SECRET = [
  '{"type": "service_account",',
  ' "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\"q\\\\\\n-----END PRIVATE KEY-----\\n",',
  ` "client_name": "Jürgen's ключ <ops&ml>"}`,
].join('\n');

/** name → the secret as that producer prints it (the inside of the quotes where there are quotes). */
export function encodingsOf(secret: string): Record<string, string> {
  const python = spawnSync('python3', ['-c', 'import json,sys; s=sys.stdin.read(); print(json.dumps([json.dumps(s)[1:-1], repr(s)[1:-1]]))'], {
    input: secret,
    encoding: 'utf8',
  });
  if (python.status !== 0) throw new Error(`python3 failed: ${python.stderr}`);
  const [pythonJson, pythonRepr] = JSON.parse(python.stdout) as [string, string];
  const url = new URL('http://host');
  url.password = secret;
  const json = JSON.stringify(secret).slice(1, -1);
  return {
    raw: secret,
    'JSON.stringify': json,
    'JSON inside JSON (--json of the plan)': JSON.stringify(json).slice(1, -1),
    'Python json.dumps (the launcher)': pythonJson,
    'Python repr': pythonRepr,
    encodeURIComponent: encodeURIComponent(secret),
    'form (URLSearchParams)': new URLSearchParams({ v: secret }).toString().slice(2),
    'URL userinfo': url.password,
    'shell single-quoted': secret.replaceAll("'", "'\\''"),
    'a line of it (the runner masks line by line)': secret.split('\n')[1]!.trim(),
  };
}
