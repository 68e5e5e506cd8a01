import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { ConfigError, OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { DagBundle } from './bundle.js';
import { bundleLayout, fingerprintOf } from './deliver.js';
import { RELEASES_DIR } from './dag-file.js';
import type { S3DeliveryConfig } from './s3-config.js';
import { s3RequestHandler } from './s3-transport.js';
import { proxyConfigured } from '../../http/proxy.js';

/** Budget of one request, its connection included: a store that never answers fails within it (after the SDK's 3 attempts). */
const CONNECT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** DeleteObjects takes at most this many keys a call. */
const DELETE_BATCH = 1000;

export interface S3Delivered {
  /** The DAG file relative to the bundle's prefix: Airflow's relative_fileloc. */
  relativeFile: string;
  changed: boolean;
}

/**
 * Delivery by S3: the DAG and its release are uploaded under `s3.prefix/<dag_id>/`, which
 * an S3DagBundle (or MWAA) copies to the dag-processor. Objects appear one by one, so the
 * order is what keeps a refresh from catching half a deploy: the .airflowignore and the
 * release first, the DAG file (which points at that release) last. The previous release
 * stays for the runs still using it; older ones are deleted. Credentials come from the AWS
 * SDK's default chain; the secret parts are registered with the logger as soon as resolved.
 */
export class S3Delivery {
  private readonly client: S3Client;

  constructor(
    private readonly config: S3DeliveryConfig,
    private readonly logger: Logger,
  ) {
    const chain = fromNodeProviderChain(config.profile ? { profile: config.profile } : {});
    const endpoint = config.endpoint_url;
    this.client = new S3Client({
      // An S3-compatible store rarely cares about the region, but the signature needs one.
      region: config.region ?? (endpoint ? 'us-east-1' : undefined),
      ...(endpoint
        ? {
            endpoint,
            // Such stores are addressed by path (no bucket.host DNS), and many reject the
            // SDK's newer default checksums: send them only where S3 requires one.
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
      credentials: async () => {
        const credentials = await chain();
        logger.addSecret(credentials.secretAccessKey);
        if (credentials.sessionToken) logger.addSecret(credentials.sessionToken);
        return credentials;
      },
      requestHandler: s3RequestHandler(CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS),
    });
  }

  /** Fails with one clear line when the prefix cannot be listed with these credentials; before anything is written. */
  async checkAccess(): Promise<void> {
    await this.send('list', () => this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: this.prefix(), MaxKeys: 1 })));
  }

  async deliver(bundle: DagBundle): Promise<S3Delivered> {
    const base = this.folder(bundle.dagId);
    const existing = new Set(await this.list(base));
    const dagKey = `${base}${bundle.dagFileName}`;
    const previous = existing.has(dagKey) ? await this.read(dagKey) : undefined;
    const changed = previous !== bundle.dagFile;
    for (const file of bundleLayout(bundle)) {
      const key = `${base}${file.path}`;
      // A release's objects never change (its name is their hash); the DAG file is the one that does.
      if (key === dagKey ? !changed : existing.has(key) && key.startsWith(`${base}${RELEASES_DIR}/`)) continue;
      await this.send('write', () => this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: file.content })));
    }
    const keep = [bundle.fingerprint, previous && fingerprintOf(previous)].filter((f) => f).map((f) => `${base}${RELEASES_DIR}/${f}/`);
    const stale = [...existing].filter((key) => key.startsWith(`${base}${RELEASES_DIR}/`) && !keep.some((k) => key.startsWith(k)));
    await this.delete(stale);
    return { relativeFile: `${bundle.dagId}/${bundle.dagFileName}`, changed };
  }

  /** Deletes the deployment's objects, the DAG file first; false when there were none. */
  async remove(dagId: string): Promise<boolean> {
    const base = this.folder(dagId);
    const keys = await this.list(base);
    if (keys.length === 0) return false;
    const dagKey = `${base}${dagId}.py`;
    // A refresh between the two calls sees no DAG pointing at a half-deleted release.
    if (keys.includes(dagKey)) await this.delete([dagKey]);
    await this.delete(keys.filter((k) => k !== dagKey));
    return true;
  }

  /** Where the deployment's objects are, for messages. */
  where(dagId: string): string {
    return `s3://${this.config.bucket}/${this.folder(dagId)}${this.config.endpoint_url ? ` on ${this.config.endpoint_url}` : ''}`;
  }

  /** `<prefix>/` ('' for the bucket's root). */
  private prefix(): string {
    const trimmed = this.config.prefix.replace(/\/+$/, '');
    return trimmed === '' ? '' : `${trimmed}/`;
  }

  private folder(dagId: string): string {
    return `${this.prefix()}${dagId}/`;
  }

  private async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.send('list', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async read(key: string): Promise<string | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return await object.Body?.transformToString('utf8');
    } catch (error) {
      // Deleted between the listing and the read: as if it were not there.
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw this.failure('read', error);
    }
  }

  private async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const result = await this.send('delete', () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.config.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new OrchestratorError(`S3 did not delete ${failed.length} object(s) of s3://${this.config.bucket}, e.g. ${first.Key}: ${first.Code ?? 'error'} ${first.Message ?? ''}`.trim());
      }
    }
  }

  private async send<T>(what: Action, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  /** An SDK error as one line naming the bucket, what was refused and the fix. */
  private failure(what: Action, error: unknown): Error {
    const e = error as Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const target = `s3://${this.config.bucket}/${this.prefix()}${this.config.endpoint_url ? ` on ${this.config.endpoint_url}` : ''}`;
    const reason = this.logger.redact(`${e.name}: ${e.message}`.split('\n')[0]!);
    const status = e.$metadata?.httpStatusCode;
    if (e.name === 'CredentialsProviderError') {
      return new ConfigError(
        `No AWS credentials for ${target}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (orchestrator.config.s3.profile or AWS_PROFILE), or web identity (GitHub OIDC: aws-actions/configure-aws-credentials) (${reason})`,
      );
    }
    if (/^Region is missing/.test(e.message)) {
      return new ConfigError(`No AWS region for ${target}: set orchestrator.config.s3.region or AWS_REGION`);
    }
    if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'InvalidClientTokenId'].includes(e.name)) {
      return new ConfigError(`S3 refused the credentials for ${target} (${reason}): set AWS credentials (env, profile or web identity) that this store accepts`);
    }
    if (e.name === 'AccessDenied' || status === 403) {
      return new ConfigError(`S3 refused to let these credentials ${what} ${target} (${reason}): allow s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on it`);
    }
    if (e.name === 'NoSuchBucket') return new ConfigError(`There is no bucket ${this.config.bucket}${this.config.endpoint_url ? ` on ${this.config.endpoint_url}` : ''} (orchestrator.config.s3.bucket): create it or fix the name`);
    if (e.name === 'TimeoutError' || /timed? ?out/i.test(e.message)) {
      return new OrchestratorError(`S3 ${what} of ${target} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s; is the store up?`);
    }
    return new OrchestratorError(`S3 ${what} of ${target} failed: ${reason}${status ? ` (HTTP ${status})` : ''}${unreachableHint(e, status)}`);
  }
}

type Action = 'list' | 'read' | 'write' | 'delete';

/** The fix for a store that could not be reached: directly, or through the proxy (which answers for it with a bare 5xx). */
function unreachableHint(e: Error, status: number | undefined): string {
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH/.test(`${e.message} ${String((e as { cause?: unknown }).cause)}`)) return '; is the store up, at that address?';
  if (proxyConfigured() && e.name === 'Unknown' && status !== undefined && status >= 500) {
    return '; the HTTP proxy (HTTP_PROXY/HTTPS_PROXY) may have answered for it: can the proxy reach the store, or should NO_PROXY list it?';
  }
  return '';
}
