import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadKubeconfig } from '../../src/kubernetes/kubeconfig.js';
import { tempDir } from '../helpers/services.js';

function kubeconfig(cluster: string): string {
  const file = path.join(tempDir('kubeconfig'), 'config');
  writeFileSync(file, `apiVersion: v1\nkind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: ${cluster}}]\nusers: [{name: u, user: {token: t0ken}}]\n`);
  return file;
}

describe('kubeconfig proxy-url', () => {
  it('is read from the context cluster as written (credentials kept for the proxy)', () => {
    const access = loadKubeconfig(kubeconfig(`{server: "https://10.0.0.1:6443", proxy-url: "http://ann:pw@proxy.example:3128"}`));
    expect(access.proxyUrl).toBe('http://ann:pw@proxy.example:3128');
    expect(loadKubeconfig(kubeconfig(`{server: "https://10.0.0.1:6443", proxy-url: "https://proxy.example"}`)).proxyUrl).toBe('https://proxy.example');
    expect(loadKubeconfig(kubeconfig(`{server: "https://10.0.0.1:6443"}`)).proxyUrl).toBeUndefined();
  });

  it('socks5 is refused by name with the file and the key, its password left out', () => {
    const file = kubeconfig(`{server: "https://10.0.0.1:6443", proxy-url: "socks5://ann:s3cret@proxy.example:1080"}`);
    let error: Error | undefined;
    try {
      loadKubeconfig(file);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toBe(
      `kubeconfig ${file}: clusters[c].cluster.proxy-url is a socks5 proxy (socks5://proxy.example:1080), which is not supported; use an http:// or https:// proxy`,
    );
  });

  it('another scheme, a value that is not a URL, or not a string: one line naming the key, no password', () => {
    for (const [value, says] of [
      ['"ftp://ann:s3cret@proxy.example"', 'has the scheme ftp; use an http:// or https:// proxy'],
      ['"ann:s3cret@proxy.example:3128"', 'must be a URL starting with http:// or https://, such as http://proxy.example:3128'],
      ['"http://ann:s3cret@proxy example:3128"', 'is not a valid URL (not shown: it may hold a password)'],
      ['{host: proxy}', 'must be a URL such as http://proxy.example:3128, not object'],
    ]) {
      const file = kubeconfig(`{server: "https://10.0.0.1:6443", proxy-url: ${value}}`);
      expect(() => loadKubeconfig(file)).toThrow(`kubeconfig ${file}: clusters[c].cluster.proxy-url ${says}`);
      try {
        loadKubeconfig(file);
      } catch (e) {
        expect((e as Error).message).not.toContain('s3cret');
        expect((e as Error).message.split('\n')).toHaveLength(1);
      }
    }
  });
});

