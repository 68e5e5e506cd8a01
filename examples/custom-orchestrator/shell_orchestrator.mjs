// A custom lolpop-deploy orchestrator (ZenML calls this a "flavor") in one plain
// ES module with no dependencies: `deploy` writes a JSON file, `run` executes a
// shell command. Choose it with `--orchestrator ./shell_orchestrator.mjs` (the action: its
// `orchestrator` input); each method reads the deployment from `request.resolved`.
// @ts-check
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Optional. Anything with a zod-style `safeParse` validates `orchestrator.config`;
 * lolpop-deploy reports the first issue with the key path. Leave it out and the
 * config reaches create() as written.
 */
const configSchema = {
  /** @param {any} value */
  safeParse(value) {
    const config = { state_dir: '.shell-orchestrator', ...(value ?? {}) };
    if (typeof config.command !== 'string' || config.command.trim() === '') {
      return {
        success: false,
        error: { issues: [{ path: ['command'], message: "required: the shell command a run executes, e.g. 'sh ./job.sh'" }] },
      };
    }
    return { success: true, data: config };
  },
};

/**
 * Optional. The module's own step kwargs, per section (package, deploy, run, stop):
 * each checks the keys of that section the common kwargs do not name, here `run.shell`
 * (the shell a run starts the command with). A key no schema names is refused.
 */
const kwargs = {
  run: {
    /** @param {Record<string, unknown>} value */
    safeParse(value) {
      const unknown = Object.keys(value).find((key) => key !== 'shell');
      if (unknown) return { success: false, error: { issues: [{ path: [unknown], message: 'not a run key of ShellOrchestrator (it has: shell)' }] } };
      if (value.shell !== undefined && typeof value.shell !== 'string') {
        return { success: false, error: { issues: [{ path: ['shell'], message: 'expected the name or path of a shell, e.g. bash' }] } };
      }
      return { success: true, data: { shell: value.shell ?? 'sh' } };
    },
  },
};

/**
 * @param {{ command: string, state_dir: string }} config
 * @param {{ logger: any, exec: any, env: Record<string, string | undefined>, workdir: string }} context
 */
function create(config, context) {
  const { logger, exec, workdir } = context;
  const stateDir = path.resolve(workdir, config.state_dir);
  /** @param {string} name */
  const deploymentFile = (name) => path.join(stateDir, `${name}.json`);

  return {
    /** Nothing to build: check that the files the job needs are there. */
    async package({ resolved }) {
      const copyFiles = resolved.package.copy_files ?? [];
      const missing = copyFiles.filter((/** @type {string} */ f) => !existsSync(path.resolve(workdir, f)));
      if (missing.length > 0) throw new Error(`Failed to package: missing ${missing.join(', ')} in ${workdir}`);
      logger.info(`checked ${copyFiles.length} file(s); nothing to build`);
      return { files: [], entrypoint: config.command };
    },

    /** "Deploys" by recording the command and default parameters in a file. */
    async deploy({ resolved }) {
      mkdirSync(stateDir, { recursive: true });
      const file = deploymentFile(resolved.name);
      const record = { name: resolved.name, command: config.command, parameters: resolved.deploy.parameters ?? {}, deployed: new Date().toISOString() };
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
      logger.info(`wrote ${file}`);
      return { id: resolved.name, name: resolved.name, url: pathToFileURL(file).href };
    },

    /** Runs the command to the end; its output is the run's log. */
    async run({ resolved }) {
      const file = deploymentFile(resolved.name);
      if (!existsSync(file)) throw new Error(`Failed to run: deployment '${resolved.name}' not found (${file}); run the deploy step first`);
      const deployment = JSON.parse(readFileSync(file, 'utf8'));
      const parameters = { ...deployment.parameters, ...resolved.run.parameters };
      const id = `${Date.now()}`;
      const log = path.join(stateDir, 'runs', `${id}.log`);
      mkdirSync(path.dirname(log), { recursive: true });
      const lines = [];
      const env = Object.fromEntries(Object.entries(context.env).filter(([, v]) => v !== undefined));
      const result = await exec.run(resolved.run.shell, ['-c', deployment.command], {
        cwd: workdir,
        env: { ...env, LOLPOP_DEPLOYMENT: resolved.name, LOLPOP_PARAMETERS: JSON.stringify(parameters) },
        onLine: (/** @type {string} */ line) => {
          lines.push(line);
          logger.info(line);
        },
      });
      writeFileSync(log, lines.map((l) => `${l}\n`).join(''));
      return { id, url: pathToFileURL(log).href, state: result.exitCode === 0 ? 'COMPLETED' : 'FAILED', created: true };
    },

    /** The run has ended when run() returns. */
    async wait({ run }) {
      if (run.state !== 'COMPLETED') throw new Error(`Run ${run.id} ended ${run.state}; log: ${run.url}`);
      return run;
    },

    /** Removes the deployment file. */
    async stop({ resolved }) {
      const file = deploymentFile(resolved.name);
      if (!existsSync(file)) return { stopped: false, detail: `deployment '${resolved.name}' not found; nothing to stop` };
      rmSync(file);
      return { stopped: true, detail: `removed ${file}` };
    },
  };
}

export default {
  name: 'ShellOrchestrator',
  description: 'Deploys by writing a file, runs a shell command',
  configSchema,
  kwargs,
  create,
};
