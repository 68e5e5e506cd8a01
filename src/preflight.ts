import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';
import type { ResolvedDeployment } from './deployment.js';
import { isModuleReference } from './orchestrators/registry.js';
import { relativePath } from './packaging/paths.js';
import type { Logger } from './logger.js';
import type { StepName } from './steps.js';

/** A file the run will read, as the config names it, and where under a folder it may be. */
interface NeededFile {
  /** `config_file dev.yaml`, `lolpop_module quickstart_runner (quickstart_runner.py)`. */
  label: string;
  /** Paths relative to the working directory; any one of them will do. */
  candidates: string[];
  /** A Python module, which pip may have installed instead (then it is no file of the project). */
  installable?: boolean;
}

/**
 * Before anything is packaged or deployed: the files the run will read are where it will
 * look for them — relative to the working directory, as lolpop resolves them. They are
 * `copy_files` (copied into the image or the Airflow release), and for lolpop's runner the
 * `config_file` it names and its `lolpop_module` when that is a file of the project (a module not
 * found under the working directory may be installed by pip; lolpop's own always is).
 * A built-in orchestrator reads all of them; a user's module decides for itself, and
 * `stop` reads none. Fails in one line naming each missing file and the fix (when they are
 * next to the config instead: to run from there); `plan`, which changes nothing, warns
 * with that line instead, so the preview shows what the real steps would refuse.
 */
export function checkRunFiles(deployment: ResolvedDeployment, steps: readonly StepName[], configFile: string, workdir: string, logger: Logger): void {
  if (isModuleReference(deployment.orchestrator) || steps.every((step) => step === 'stop')) return;
  const problem = missingRunFiles(deployment, configFile, workdir);
  if (problem === undefined) return;
  if (steps.includes('plan')) logger.warning(`plan: ${problem}`);
  else throw new ConfigError(problem);
}

/** The one-line problem with the run's files, or undefined when each is where the run will look. */
function missingRunFiles(deployment: ResolvedDeployment, configFile: string, workdir: string): string | undefined {
  const root = path.resolve(workdir);
  const configDir = path.dirname(path.resolve(configFile));
  const exists = (dir: string, file: NeededFile) => file.candidates.some((c) => existsSync(path.join(dir, c)));
  const missing = neededFiles(deployment).filter((file) => !exists(root, file));
  const beside = missing.filter((file) => exists(configDir, file));
  // A module elsewhere may be installed; one that sits next to the config is the project's, misplaced.
  const reported = missing.filter((file) => !file.installable || beside.includes(file));
  if (reported.length === 0) return undefined;

  const shownRoot = path.relative(process.cwd(), root) || '.';
  const what = `${reported.map((f) => f.label).join(', ')} ${reported.length === 1 ? 'is' : 'are'} not in the working directory ${shownRoot}`;
  if (beside.length === reported.length && configDir !== root) {
    const from = path.relative(root, configDir);
    const config = path.relative(configDir, path.resolve(configFile));
    return (
      `${what} but next to the config, in ${from}: paths in the config resolve against the working directory, as lolpop resolves them; ` +
      `run from ${from} (the action's working-directory: ${from}, config: ${config}; the CLI: cd ${from} && lolpop-deploy … -c ${config})`
    );
  }
  return (
    `${what}, where the run will look for them (paths in the config resolve against it, as lolpop resolves them); ` +
    `add them there, or fix the paths in orchestrator.deployment.package of ${path.relative(process.cwd(), configFile) || configFile}`
  );
}

function neededFiles(deployment: ResolvedDeployment): NeededFile[] {
  const pkg = deployment.package;
  const files: NeededFile[] = [];
  if (!deployment.ownFlow) {
    const module = pkg.lolpop_module;
    // lolpop's own runner (the default, lolpop.runner) comes with lolpop_install_location.
    if (module !== undefined && module.split('.')[0] !== 'lolpop') {
      const base = module.replace(/\./g, '/');
      files.push({ label: `lolpop_module ${module} (${base}.py)`, candidates: [`${base}.py`, path.posix.join(base, '__init__.py')], installable: true });
    }
    // Only one named: lolpop's default (prefect_files/dev.yaml) is handed to runners that may read no config.
    if (pkg.config_file !== undefined) files.push({ label: `config_file ${pkg.config_file}`, candidates: [relativePath('config_file', pkg.config_file)] });
  }
  for (const file of pkg.copy_files) files.push({ label: `copy_files ${file}`, candidates: [relativePath('copy_files', file)] });
  return files;
}
