import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readFileSync, writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import { MemoryLogger } from '../../src/logger.js';
import { cleanDockerEnv, dockerServices } from '../docker/helpers.js';
import { service, tempDir } from '../helpers/services.js';
import { copyExample } from '../local/example.js';
import { kfpPythonAsync, ROOT } from './helpers.js';

const PYTHON = service('LOLPOP_TEST_KFP_PYTHON');
const services = dockerServices();
// The default base image (prefecthq/prefect:2-python3.11, Python 3.11 + lolpop 0.2.0's needs), built locally by scripts/docker-services.sh.
const defaultBase = service('LOLPOP_TEST_LOLPOP_BASE_IMAGE');

interface LocalRun {
  verdict: string;
  exit_codes: number[];
}

/**
 * examples/lolpop-quickstart moved to Kubeflow Pipelines by its orchestrator section only
 * (quickstart-kubeflow.yaml): our package step builds the image and writes the IR, and
 * kfp.local's DockerRunner (the SDK's own runner of a PipelineSpec) executes that IR with
 * that image on the real Docker engine, running the real lolpop 0.2.0.
 */
describe.skipIf(!PYTHON || !services || !defaultBase)('our IR runs: kfp.local DockerRunner executes the packaged lolpop quickstart', () => {
  it('succeeds with the run parameters (min_accuracy 0.9 reaches build_all); a failing runner fails it (min_accuracy 0.99)', { timeout: 900_000 }, async () => {
    const uid = randomUUID().slice(0, 8);
    const dir = copyExample('lolpop-quickstart');
    const config = parse(readFileSync(path.join(dir, 'quickstart-kubeflow.yaml'), 'utf8')) as { orchestrator: { deployment: Record<string, Record<string, unknown>> } };
    const deployment = config.orchestrator.deployment;
    // Built here and run by the same engine: not pushed; host network for pip at build time.
    deployment.package = { ...deployment.package, docker_image_tag: `ci/lolpop-quickstart-kfp-${uid}:v1`, push_image: false, docker_kwargs: ['--network', 'host'] };
    writeFileSync(path.join(dir, 'lolpop.yaml'), stringify(config));
    // Our CLI, in-process, as a user runs the package step (no server needed for it).
    const logger = new MemoryLogger();
    let stderr = '';
    const code = await main(['up', '-c', 'lolpop.yaml', '--orchestrator', 'KubeflowPipelinesOrchestrator', '--steps', 'package'], {
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      env: cleanDockerEnv(),
      cwd: dir,
      logger,
    });
    expect(code, stderr + logger.lines.join('\n').slice(-4000)).toBe(0);
    const ir = path.join(dir, 'prefect_files/kubeflow/lolpop-quickstart-kubeflow.yaml');
    expect(readFileSync(ir, 'utf8')).toContain(`image: ci/lolpop-quickstart-kfp-${uid}:v1`);

    const run = async (params: unknown, label: string): Promise<{ log: string; result: LocalRun }> => {
      const out = await kfpPythonAsync(PYTHON!, [path.join(ROOT, 'test/kubeflow/kfp/run_local.py'), ir, JSON.stringify(params), tempDir('kfp-root'), `${uid}-${label}`], { timeout: 600_000 });
      return { log: out, result: JSON.parse(out.trim().split('\n').at(-1)!) as LocalRun };
    };
    const good = await run({ min_accuracy: 0.9 }, 'ok');
    expect(good.result, good.log.slice(-3000)).toEqual({ verdict: 'SUCCESS', exit_codes: [0] });
    expect(good.log).toContain('Test accuracy: 0.950 (min_accuracy: 0.900)');

    const bad = await run({ min_accuracy: 0.99 }, 'fail');
    expect(bad.result.exit_codes, bad.log.slice(-3000)).toEqual([1]);
    expect(bad.result.verdict).toMatch(/^FAILURE/);
    expect(bad.log).toMatch(/Test accuracy 0\.950 is below min_accuracy 0\.990/);
  });
});
