import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundledAction } from '../helpers/run-action.js';
import { runBundledCli } from '../helpers/run-cli.js';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { airflowGet, TINY_RUNNER_PY, writeTinyWorkflow } from './helpers.js';

// The services of scripts/airflow-git-services.sh: a real S3-compatible server (versitygw,
// scripts/s3-services.sh) and an Airflow 3 reading its bucket through an S3DagBundle.
const s3 = {
  endpoint: service('LOLPOP_TEST_S3_ENDPOINT'),
  bucket: service('LOLPOP_TEST_S3_BUCKET'),
  accessKey: service('LOLPOP_TEST_S3_ACCESS_KEY'),
  secretKey: service('LOLPOP_TEST_S3_SECRET_KEY'),
};
const prefix = service('LOLPOP_TEST_S3_PREFIX');
const bundleName = service('LOLPOP_TEST_AIRFLOW_S3_BUNDLE');
const airflowUrl = service('LOLPOP_TEST_AIRFLOW_GIT_URL');
const airflow = { url: airflowUrl ?? '', username: service('LOLPOP_TEST_AIRFLOW_GIT_USERNAME') ?? '', password: service('LOLPOP_TEST_AIRFLOW_GIT_PASSWORD') ?? '' };
const node24 = service('LOLPOP_TEST_NODE24');

/** The tiny workflow, delivered to the bucket; the credentials come from the AWS SDK's chain (here AWS_* in the environment). */
function workflow(dir: string, name: string, parameters: Record<string, unknown> = {}, stop = ''): string {
  return writeTinyWorkflow(dir, {
    name,
    parameters,
    stop,
    delivery: `    delivery: s3
    s3:
      bucket: ${s3.bucket}
      prefix: ${prefix}
      endpoint_url: ${s3.endpoint}
      bundle_name: ${bundleName}
    parse_timeout: 120s
    request_timeout: 90s
`,
  });
}

const env = (secretKey = s3.secretKey!): Record<string, string> => ({
  AIRFLOW_API_URL: airflow.url,
  AIRFLOW_USERNAME: airflow.username,
  AIRFLOW_PASSWORD: airflow.password,
  AWS_ACCESS_KEY_ID: s3.accessKey!,
  AWS_SECRET_ACCESS_KEY: secretKey,
  // Nothing of this machine's AWS setup: the chain finds the keys above or nothing.
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
});

/** The bucket as a user with the AWS SDK sees it: the keys under the deployment's folder. */
async function objectsOf(name: string): Promise<string[]> {
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKey!, secretAccessKey: s3.secretKey! } });
  const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/${name}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!.slice(`${prefix}/${name}/`.length)).sort();
}

async function removeObjects(keys: string[]): Promise<void> {
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKey!, secretAccessKey: s3.secretKey! } });
  await client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
}

interface DagBody {
  is_paused: boolean;
  bundle_name: string;
  relative_fileloc: string;
}

const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

describe.skipIf(!s3.endpoint || !airflowUrl)('delivery: s3, against a real S3-compatible server and an Airflow 3 reading it through an S3DagBundle', () => {
  it.skipIf(!node24)('the bundled action under Node 24, from a working directory that shares nothing with Airflow: uploaded, parsed, run to COMPLETED', async () => {
    const dir = tempDir('s3-action');
    const name = `s3-ok-${randomUUID().slice(0, 6)}`;
    const marker = path.join(tempDir('s3-marker'), 'marker.json');
    workflow(dir, name, { greeting: 'from s3', marker });
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { comment: 'never', config: 'lolpop.yaml', orchestrator: 'AirflowOrchestrator', wait: 'true', 'wait-timeout': '150s' },
      env: { ...env(), GITHUB_REPOSITORY: 'acme/tiny', GITHUB_SHA: 'c0ffee0000000000000000000000000000000002', GITHUB_RUN_ID: randomUUID(), GITHUB_RUN_ATTEMPT: '1', GITHUB_EVENT_NAME: 'workflow_dispatch' },
    });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['run-state'] ?? run.log).toContain('COMPLETED');
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toMatchObject({ greeting: 'from s3' });
    expect(run.log).toMatch(new RegExp(`Uploaded s3://${s3.bucket}/${prefix}/${name}/ on ${s3.endpoint} \\(release [0-9a-f]{16}\\)`));
    // The secret key is never printed (only in the ::add-mask:: the runner hides it with).
    expect(run.log.split('\n').filter((l) => l.includes(s3.secretKey!) && !l.startsWith('::add-mask::'))).toEqual([]);

    // The same files the folder delivery writes: the ignore file, the DAG file, one release.
    const objects = await objectsOf(name);
    const release = /^releases\/([0-9a-f]{16})\//.exec(objects.find((k) => k.startsWith('releases/'))!)![1];
    expect(objects).toEqual(
      ['.airflowignore', `${name}.py`, ...['launcher.py', 'run_task.py', 'spec.json', 'workflow/lolpop.yaml', 'workflow/tiny_runner.py'].map((f) => `releases/${release}/${f}`)].sort(),
    );
    const dag = await airflowGet<DagBody>(airflow, `dags/${name}`);
    expect(dag.body).toMatchObject({ is_paused: false, bundle_name: bundleName, relative_fileloc: `${name}/${name}.py` });
  });

  it('stop with mode delete (the bundled CLI) deletes the objects, and the DAG is gone', async () => {
    const dir = tempDir('s3-stop');
    const name = `s3-stop-${randomUUID().slice(0, 6)}`;
    workflow(dir, name, {}, '{mode: delete}');
    const deployed = await runBundledCli(['deploy', '-c', 'lolpop.yaml', '--deployer', 'AirflowOrchestrator'], dir, env());
    expect(deployed.code, deployed.stderr).toBe(0);
    expect((await objectsOf(name)).length).toBeGreaterThan(0);
    const stopped = await runBundledCli(['stop', '-n', name, '-c', 'lolpop.yaml', '--deployer', 'AirflowOrchestrator'], dir, env());
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`removed the files of ${name}; deleted DAG ${name}`);
    expect(await objectsOf(name)).toEqual([]);
    expect((await airflowGet(airflow, `dags/${name}`)).status).toBe(404);
  });

  it('a redeploy of changed content keeps the previous release for its runs and deletes older ones', async () => {
    const dir = tempDir('s3-redeploy');
    const name = `s3-re-${randomUUID().slice(0, 6)}`;
    const releases = async () => [...new Set((await objectsOf(name)).filter((k) => k.startsWith('releases/')).map((k) => k.split('/')[1]))];
    const fingerprints: string[] = [];
    for (const greeting of ['one', 'two', 'three']) {
      workflow(dir, name);
      writeFileSync(path.join(dir, 'tiny_runner.py'), `${TINY_RUNNER_PY}\nGREETING = "${greeting}"\n`);
      const deployed = await runBundledCli(['deploy', '-c', 'lolpop.yaml', '--deployer', 'AirflowOrchestrator'], dir, env());
      expect(deployed.code, deployed.stderr).toBe(0);
      fingerprints.push(/release ([0-9a-f]{16})/.exec(deployed.stderr)![1]!);
    }
    expect((await releases()).sort()).toEqual(fingerprints.slice(1).sort());
    await removeObjects(await objectsOf(name).then((keys) => keys.map((k) => `${prefix}/${name}/${k}`)));
  });

  it('wrong credentials end in one clear line, with nothing uploaded and nothing written to Airflow', async () => {
    const dir = tempDir('s3-badkey');
    const name = `s3-bad-${randomUUID().slice(0, 6)}`;
    workflow(dir, name);
    const run = await runBundledCli(['deploy', '-c', 'lolpop.yaml', '--deployer', 'AirflowOrchestrator'], dir, env('not-the-secret-key'));
    expect(run.code).toBe(1);
    // One line, naming the bucket, the store's own reason and the fix.
    expect(run.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      `error: S3 refused the credentials for s3://${s3.bucket}/${prefix}/ on ${s3.endpoint} (SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.): set AWS credentials (env, profile or web identity) that this store accepts`,
    ]);
    expect(run.stderr + run.stdout).not.toContain('not-the-secret-key');
    expect(await objectsOf(name)).toEqual([]);
    expect((await airflowGet(airflow, `dags/${name}`)).status).toBe(404);
  });

  it('no credentials, a missing bucket and a store that is down: one line each, nothing written to Airflow', async () => {
    const dir = tempDir('s3-faults');
    const name = `s3-fault-${randomUUID().slice(0, 6)}`;
    const yaml = workflow(dir, name);
    const deploy = async (text: string, extra: Record<string, string>) => {
      writeFileSync(path.join(dir, 'lolpop.yaml'), text);
      // No instance metadata lookup (a link-local address): the chain ends at the files.
      const run = await runBundledCli(['deploy', '-c', 'lolpop.yaml', '--deployer', 'AirflowOrchestrator'], dir, { ...env(), AWS_EC2_METADATA_DISABLED: 'true', ...extra });
      expect(run.code).toBe(1);
      return run.stderr.split('\n').filter((l) => l.startsWith('error:'));
    };
    expect(await deploy(yaml, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' })).toEqual([
      `error: No AWS credentials for s3://${s3.bucket}/${prefix}/ on ${s3.endpoint}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (orchestrator.config.s3.profile or AWS_PROFILE), or web identity (GitHub OIDC: aws-actions/configure-aws-credentials) (CredentialsProviderError: Could not load credentials from any providers)`,
    ]);
    expect(await deploy(yaml.replace(`bucket: ${s3.bucket}`, 'bucket: no-such-bucket'), {})).toEqual([
      `error: There is no bucket no-such-bucket on ${s3.endpoint} (orchestrator.config.s3.bucket): create it or fix the name`,
    ]);
    // A port of this test's range where nothing listens.
    expect(await deploy(yaml.replace(`endpoint_url: ${s3.endpoint}`, 'endpoint_url: http://127.0.0.1:18129'), {})).toEqual([
      `error: S3 list of s3://${s3.bucket}/${prefix}/ on http://127.0.0.1:18129 failed: Error: connect ECONNREFUSED 127.0.0.1:18129; is the store up, at that address?`,
    ]);
    expect((await airflowGet(airflow, `dags/${name}`)).status).toBe(404);
  });

  it('plan shows the s3 destination and lists nothing in the bucket', async () => {
    const dir = tempDir('s3-plan');
    const name = `s3-plan-${randomUUID().slice(0, 6)}`;
    const yaml = workflow(dir, name);
    // No AWS credentials at all: a plan does not touch the bucket.
    const { result, logger } = await runConfig({ dir, yaml, env: { PATH: process.env.PATH, AIRFLOW_API_URL: airflow.url, AIRFLOW_USERNAME: airflow.username, AIRFLOW_PASSWORD: airflow.password }, ci: ciContext(), steps: 'plan', overrides: AIRFLOW });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.plan!.actions.join('\n')).toMatch(
      new RegExp(`upload ${name}\\.py and release [0-9a-f]{16} \\(5 files\\) to s3://${s3.bucket}/${prefix}/${name}/ on ${s3.endpoint!.replaceAll('.', '\\.')}, the DAG file last`),
    );
    expect(existsSync(path.join(dir, 'prefect_files'))).toBe(false);
  });
});
