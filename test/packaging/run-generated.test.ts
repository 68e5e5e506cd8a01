import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PackageKwargs } from '../../src/config/schema.js';
import { packageFiles, writePackageFiles } from '../../src/packaging/files.js';
import { quickstartKwargs, quickstartServeKwargs } from './quickstart.js';

// Fakes of prefect (a pass-through @flow) and of lolpop's runner that record their calls.
// Running the generated run.py against them checks the code Python actually executes,
// without installing Prefect or lolpop.
const FAKES = fileURLToPath(new URL('../fixtures/packaging/python', import.meta.url));

interface Event {
  event: string;
  [field: string]: unknown;
}

/**
 * Writes the package for `kwargs` into a fresh directory and runs `python3 <args>` there
 * with the fakes importable; returns what the fakes recorded.
 */
function runPackage(kwargs: PackageKwargs, deploymentName: string, pythonArgs: (runPy: string) => string[]): Event[] {
  const dir = mkdtempSync(join(tmpdir(), 'lolpop-run-'));
  const files = packageFiles(kwargs, { deploymentName, exists: () => true });
  writePackageFiles(dir, files);
  const runPy = files[0]?.path ?? '';
  const log = join(dir, 'events.jsonl');
  execFileSync('python3', pythonArgs(runPy), {
    cwd: dir,
    env: { ...process.env, PYTHONPATH: FAKES, FAKE_PREFECT_LOG: log, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: 'pipe',
  });
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event);
}

/** Python that loads run.py without running its __main__ block, then calls the flow. */
function callFlow(flowName: string, call: string): (runPy: string) => string[] {
  return (runPy) => ['-c', `import runpy; runpy.run_path(${JSON.stringify(runPy)})[${JSON.stringify(flowName)}](${call})`];
}

describe('the generated run.py, executed against fake prefect and lolpop modules', () => {
  it('passes the run parameters to the lolpop entrypoint as keyword arguments (lolpop bug 8)', () => {
    const events = runPackage(
      quickstartKwargs({ flow_kwargs: { log_prints: true, retries: 2, tags: ['a "b"'], description: null } }),
      'quickstart',
      callFlow('prefect_entrypoint', 'params={"n_estimators": 5, "target": "Survived"}'),
    );
    expect(events).toEqual([
      {
        event: 'flow',
        function: 'prefect_entrypoint',
        kwargs: { log_prints: true, retries: 2, tags: ['a "b"'], description: null },
      },
      { event: 'init', conf: 'prefect_files/dev.yaml', skip_config_validation: false },
      { event: 'build_all', kwargs: { n_estimators: 5, target: 'Survived' } },
      { event: 'log', message: 'Workflow completed!' },
    ]);
  });

  it('runs the flow with no parameters when executed as a script', () => {
    const events = runPackage(quickstartKwargs(), 'quickstart', (runPy) => [runPy]);
    expect(events.map((e) => e.event)).toEqual(['flow', 'init', 'build_all', 'log']);
    expect(events[2]).toEqual({ event: 'build_all', kwargs: {} });
  });

  it('serves under the given deployment name when create_deployment is set (lolpop bug 6)', () => {
    const events = runPackage(
      quickstartServeKwargs({ lolpop_module: 'quickstart_runner' }),
      'lolpop-quickstartrunner-build-all-serve',
      (runPy) => [runPy],
    );
    expect(events).toEqual([
      { event: 'flow', function: 'prefect_entrypoint', kwargs: { log_prints: true } },
      { event: 'serve', args: [], kwargs: { name: 'lolpop-quickstartrunner-build-all-serve' } },
    ]);
  });

  it('works with a runner that has no log() method', () => {
    const events = runPackage(
      quickstartKwargs({ lolpop_class: 'PlainRunner', lolpop_entrypoint: 'train', skip_validation: true }),
      'plain',
      callFlow('prefect_entrypoint', 'params={"epochs": 1}'),
    );
    expect(events.slice(1)).toEqual([
      { event: 'init', conf: 'prefect_files/dev.yaml', skip_config_validation: true },
      { event: 'train', kwargs: { epochs: 1 } },
    ]);
  });
});
