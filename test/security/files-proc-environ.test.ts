import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import { deliverBundle } from '../../src/orchestrators/airflow/deliver.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { resolvedOf } from '../helpers/requests.js';
import { tempDir } from '../helpers/services.js';
import { filesUnder, hostileProject } from './files-project.js';

describe('a committed train.csv -> /proc/self/environ', () => {
  it("never copies the process's environment into the Airflow DAGs folder", () => {
    const { dir } = hostileProject();
    rmSync(path.join(dir, 'train.csv'));
    symlinkSync('/proc/self/environ', path.join(dir, 'train.csv'));
    const config = loadConfigSync(path.join(dir, 'lolpop.yaml'), { orchestrator: { name: 'AirflowOrchestrator', label: '--deployer' } }, orchestratorLookup, {});
    const dags = tempDir('dags');
    let refused: unknown;
    try {
      deliverBundle(dags, buildBundle({ deployment: resolvedOf(config), workdir: dir, task: { kind: 'bash' }, extraTags: [] }));
    } catch (error) {
      refused = error;
    }
    const copied = filesUnder(dags).map((f) => readFileSync(path.join(dags, f), 'utf8'));
    expect(copied.filter((text) => text.includes(`PATH=${process.env.PATH}`))).toEqual([]);
    expect((refused as Error | undefined)?.message).toBe(
      `Refusing to deliver 'train.csv' to Airflow: it leads to /proc/${process.pid}/environ through a symbolic link, outside the working directory ${dir}`,
    );
  });
});
