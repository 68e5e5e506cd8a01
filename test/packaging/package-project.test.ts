import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployKwargs } from '../../src/config/schema.js';
import { planFiles } from '../../src/packaging/package-project.js';
import { writePackageFiles } from '../../src/packaging/files.js';
import { quickstartKwargs } from './quickstart.js';
import { resolvedFrom } from '../helpers/requests.js';

const request = resolvedFrom('LocalOrchestrator', { package: quickstartKwargs(), deploy: DeployKwargs.parse({}) });
const summary = (dir: string, dockerfile = true) => {
  const plan = planFiles(request, dir, dockerfile);
  return { files: plan.files.map((f) => `${f.path}:${f.change}`), kept: plan.kept };
};

describe('planFiles: what package would write, read from the working directory', () => {
  it('new files, then unchanged after writing them, then updated when they differ', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plan-files-'));
    expect(summary(dir)).toEqual({ files: ['prefect_files/run.py:new', 'Dockerfile:new'], kept: [] });
    writePackageFiles(dir, planFiles(request, dir).files);
    expect(summary(dir)).toEqual({ files: ['prefect_files/run.py:unchanged', 'Dockerfile:unchanged'], kept: [] });
    writeFileSync(path.join(dir, 'prefect_files/run.py'), '# an older version\n');
    expect(summary(dir).files).toEqual(['prefect_files/run.py:updated', 'Dockerfile:unchanged']);
  });

  it("names the user's own Dockerfile as kept, and never plans to overwrite it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plan-files-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM python:3.11-slim\n');
    expect(summary(dir)).toEqual({ files: ['prefect_files/run.py:new'], kept: ['Dockerfile'] });
  });

  it('writes no Dockerfile when no image will be built from it (a process pool)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plan-files-'));
    expect(summary(dir, false)).toEqual({ files: ['prefect_files/run.py:new'], kept: [] });
  });
});
