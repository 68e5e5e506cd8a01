import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './services.js';

/** A throwaway self-signed certificate for 127.0.0.1 (openssl), and the file a client trusts it by (NODE_EXTRA_CA_CERTS). */
export function selfSignedFor127(): { key: Buffer; cert: Buffer; certFile: string } {
  const dir = tempDir('tls');
  const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}
