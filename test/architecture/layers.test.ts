import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The repository's own eslint.config.js on a line put into a real source file: only the
 * import rules run (the type-aware ones need a program and are not what is tested here).
 */
const eslint = new ESLint({
  cwd: process.cwd(),
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
});

async function importProblems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => `${m.line}: ${m.message}`);
}

// The first lint loads eslint.config.js and typescript-eslint: seconds on a busy machine.
describe('the layers (shell → core → orchestrators → http/util): nothing imports upward', { timeout: 60_000 }, () => {
  it('refuses a type-only import from the core into src/errors.ts (how the 17-file cycle closed)', async () => {
    expect(await importProblems('src/errors.ts', "import type { LoadedConfig } from './config/load.js';\nexport type X = LoadedConfig;\n")).toEqual([
      "1: './config/load.js' import is restricted from being used. src/errors.ts is in the http/util layer and src/config/load.ts in the core layer above it: " +
        'nothing imports upward (shell → core → orchestrators → http/util; docs/architecture.md); move what both need down.',
    ]);
  });

  it.each([
    ['an orchestrator importing the registry', 'src/orchestrators/prefect/plugin.ts', "import { knownOrchestrators } from '../registry.js';", 'src/orchestrators/registry.ts in the core layer'],
    ['an orchestrator importing the pipeline', 'src/orchestrators/airflow/orchestrator.ts', "import { runPipeline } from '../../pipeline.js';", 'src/pipeline.ts in the core layer'],
    ['packaging importing the CLI', 'src/packaging/files.ts', "import { DEFAULT_CONFIG } from '../cli/program.js';", 'src/cli/program.ts in the shell layer'],
    ['the core importing the action shell', 'src/pipeline.ts', "export { setOutputs } from './action/outputs.js';", 'src/action/outputs.ts in the shell layer'],
    ['http importing an orchestrator', 'src/http/retry.ts', "import type { PrefectClient } from '../orchestrators/prefect/client.js';", 'src/orchestrators/prefect/client.ts in the orchestrators layer'],
  ])('refuses %s', async (_what, file, line, names) => {
    const problems = await importProblems(file, `${line}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(names);
  });

  it('allows imports within a layer and downward', async () => {
    expect(await importProblems('src/pipeline.ts', "import { UserError } from './errors.js';\nimport type { Orchestrator } from './orchestrators/orchestrator.js';\nimport { runConfig } from './run-config.js';\n")).toEqual([]);
    expect(await importProblems('src/action/main.ts', "import { runPipeline } from '../pipeline.js';\n")).toEqual([]);
    expect(await importProblems('src/orchestrators/local/plugin.ts', "import type { BuiltInOrchestrator } from '../orchestrator.js';\nimport { packageProject } from '../../packaging/package-project.js';\n")).toEqual([]);
  });

  it('keeps the older boundaries in the same rule: @actions/* outside the shell, another orchestrator folder', async () => {
    expect(await importProblems('src/pipeline.ts', "import * as core from '@actions/core';\n")).toEqual([expect.stringContaining('Only src/action/ (the GitHub Action shell) may import @actions/*')]);
    expect(await importProblems('src/orchestrators/airflow/names.ts', "import { PrefectApi } from '../prefect/api.js';\n")).toEqual([
      expect.stringContaining("src/orchestrators/airflow/ imports nothing from another orchestrator's folder"),
    ]);
  });
});
