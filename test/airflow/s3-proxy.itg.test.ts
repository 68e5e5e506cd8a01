import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import { bundleLayout } from '../../src/orchestrators/airflow/deliver.js';
import { S3Delivery } from '../../src/orchestrators/airflow/deliver-s3.js';
import { S3DeliveryConfig } from '../../src/orchestrators/airflow/s3-config.js';
import { MemoryLogger } from '../../src/logger.js';
import { resolvedFrom } from '../helpers/requests.js';
import { service, tempDir } from '../helpers/services.js';

// The real S3-compatible server (scripts/s3-services.sh) behind the real forward proxy
// (tinyproxy, scripts/proxy-services.sh): with HTTP_PROXY set, delivery: s3 reaches the
// bucket through the proxy like every other API, not by the AWS SDK's direct connections.
const s3 = {
  endpoint: service('LOLPOP_TEST_S3_ENDPOINT'),
  bucket: service('LOLPOP_TEST_S3_BUCKET'),
  accessKey: service('LOLPOP_TEST_S3_ACCESS_KEY'),
  secretKey: service('LOLPOP_TEST_S3_SECRET_KEY'),
};
const proxyUrl = service('LOLPOP_TEST_PROXY_URL');
const proxyLog = service('LOLPOP_TEST_PROXY_LOG');

/** The S3 requests tinyproxy forwarded since `from` (a log offset), as "METHOD path?query". */
function forwarded(from: number): string[] {
  const host = new URL(s3.endpoint!).host;
  const text = readFileSync(proxyLog!, 'utf8').slice(from);
  return [...text.matchAll(/Request \(file descriptor \d+\): (\S+) http:\/\/(\S+) HTTP/g)]
    .filter((m) => m[2]!.startsWith(`${host}/`))
    .map((m) => `${m[1]} ${m[2]!.slice(host.length)}`);
}

describe.skipIf(!s3.endpoint || !s3.bucket || !s3.accessKey || !s3.secretKey || !proxyUrl || !proxyLog)('delivery: s3 behind HTTP_PROXY', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    // This file's own process: the proxy agent reads the variables at the first request.
    Object.assign(process.env, { HTTP_PROXY: proxyUrl!, AWS_ACCESS_KEY_ID: s3.accessKey!, AWS_SECRET_ACCESS_KEY: s3.secretKey! });
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
  });
  afterAll(() => {
    process.env = saved;
  });

  it('uploads, reads back and deletes through the proxy: every request the SDK sends is one the proxy forwarded', async () => {
    const prefix = `proxied-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('s3-proxy');
    writeFileSync(path.join(dir, 'r.py'), 'class R: pass\n');
    const bundle = buildBundle({
      deployment: resolvedFrom('AirflowOrchestrator', {
        name: 's3-proxied',
        package: PackageKwargs.parse({ lolpop_class: 'R', lolpop_module: 'r', config_file: 'r.py', copy_files: ['r.py'] }),
        deploy: DeployKwargs.parse({}),
      }),
      workdir: dir,
      task: { kind: 'bash' },
      extraTags: [],
    });
    const logger = new MemoryLogger();
    const delivery = new S3Delivery(S3DeliveryConfig.parse({ bucket: s3.bucket, prefix, endpoint_url: s3.endpoint }), logger);
    // What the SDK itself sends, counted where it hands each request to the transport.
    const sent: string[] = [];
    delivery['client'].middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method: string; path: string; query: Record<string, unknown> };
        sent.push(`${request.method} ${request.path}`);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    const from = readFileSync(proxyLog!, 'utf8').length;

    await delivery.checkAccess();
    expect((await delivery.deliver(bundle)).changed).toBe(true);
    // The second deploy reads the DAG file back (a response body through the proxy) and finds it unchanged.
    expect((await delivery.deliver(bundle)).changed).toBe(false);
    const keys = (
      await new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3.accessKey!, secretAccessKey: s3.secretKey! } }).send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/` }),
      )
    ).Contents?.map((o) => o.Key);
    expect(keys?.sort()).toEqual(bundleLayout(bundle).map((f) => `${prefix}/${bundle.dagId}/${f.path}`).sort());
    expect(await delivery.remove(bundle.dagId)).toBe(true);

    const through = forwarded(from);
    // ListObjectsV2, the uploads, the read back, the deletes: each one the proxy forwarded, none sent around it.
    expect(sent.length).toBeGreaterThanOrEqual(bundleLayout(bundle).length + 4);
    expect(through.map((line) => line.split('?')[0])).toEqual(sent.map((line) => line.split('?')[0]));
    // The first deploy puts every file; the second only the .airflowignore (the DAG file is unchanged, the release there).
    const base = `/${s3.bucket}/${prefix}/${bundle.dagId}/`;
    const puts = through.filter((line) => line.startsWith('PUT ')).map((line) => line.slice(`PUT ${base}`.length).split('?')[0]);
    expect(puts.sort()).toEqual([...bundleLayout(bundle).map((f) => f.path), '.airflowignore'].sort());
    expect(logger.rawLines.join('\n')).not.toContain(s3.secretKey!);
    expect(logger.secrets.redact(s3.secretKey!)).not.toContain(s3.secretKey!);
  });

  it('a store the proxy cannot reach: one line saying the proxy may have answered, and what to check', async () => {
    // A port where nothing listens: tinyproxy answers the request itself with a bare 500.
    const delivery = new S3Delivery(S3DeliveryConfig.parse({ bucket: s3.bucket, prefix: 'p', endpoint_url: 'http://127.0.0.1:18199' }), new MemoryLogger());
    await expect(delivery.checkAccess()).rejects.toThrow(
      `S3 list of s3://${s3.bucket}/p/ on http://127.0.0.1:18199 failed: Unknown: UnknownError (HTTP 500); the HTTP proxy (HTTP_PROXY/HTTPS_PROXY) may have answered for it: can the proxy reach the store, or should NO_PROXY list it?`,
    );
  });
});
