import { readCiContext, type CiContext } from '../ci-context.js';
import { findConfigFiles } from '../config/find.js';
import { ConfigError, describeError, UserError } from '../errors.js';
import type { Exec } from '../exec.js';
import type { Logger } from '../logger.js';
import { workflowError, type FinishedRun, type Shell, type WorkflowsRequest } from '../run-workflows.js';
import { formatJsonResult, formatSummary } from './output.js';
import type { CliInvocation } from './program.js';

/** What the CLI's run writes to and reaches; tests may replace exec and fetch. */
export interface CliWorld {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  exec?: Exec;
  fetch?: typeof globalThis.fetch;
}

/**
 * The CLI's side of the run (src/run-workflows.ts runs it): the parsed command line →
 * what to run; at the end a summary (or --json) on stdout, errors on stderr, and the
 * exit code: 0 success, 1 a config error or a failed step or run.
 */
export class CliShell implements Shell<number> {
  readonly ci: CiContext;
  readonly env: NodeJS.ProcessEnv;
  readonly exec?: Exec;
  readonly fetch?: typeof globalThis.fetch;

  constructor(
    private readonly invocation: CliInvocation,
    private readonly world: CliWorld,
    readonly logger: Logger,
  ) {
    this.env = world.env;
    this.ci = readCiContext(world.env);
    this.exec = world.exec;
    this.fetch = world.fetch;
  }

  request(): WorkflowsRequest {
    const { invocation, world } = this;
    const files = findConfigFiles([invocation.configFile], world.cwd, '-c');
    if (files.length > 1 && invocation.command !== 'up' && invocation.command !== 'plan') {
      throw new ConfigError(`-c names ${files.length} files: only up and plan take several`);
    }
    return {
      files,
      steps: invocation.steps,
      overrides: { ...invocation.overrides, source: 'flag' },
      maxParallel: invocation.maxParallel,
      failFast: invocation.failFast,
      // lolpop resolves every path in its kwargs against the current directory.
      workdir: world.cwd,
      unknownOrchestrator: 'warn',
    };
  }

  async finish(run: FinishedRun): Promise<number> {
    const { stdout, stderr } = this.world;
    if (run.several) {
      // Several workflows: a summary each, under its name.
      if (this.invocation.json) {
        const json = run.outcomes.map((o) => ({ config: o.file, name: o.name, status: o.status, ...(o.result ?? {}), error: o.error ? describeError(o.error) : undefined }));
        stdout(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        for (const o of run.outcomes) {
          stdout(`== ${o.name ?? o.file}: ${o.status}\n`);
          if (o.result) stdout(formatSummary(o.result));
        }
      }
      for (const o of run.outcomes.filter((o) => o.status === 'failed')) stderr(`error: ${workflowError(o)}\n`);
    } else {
      const result = run.outcomes[0]?.result;
      const message = run.failure === undefined ? undefined : describeError(run.failure);
      // Without a result (a config error) nothing was built or deployed: the error alone.
      if (this.invocation.json) stdout(result ? formatJsonResult(result, message) : `${JSON.stringify({ error: message }, null, 2)}\n`);
      else if (result) stdout(formatSummary(result));
    }
    if (run.failure === undefined) return 0;
    stderr(`error: ${describeError(run.failure)}\n`);
    // Not a UserError: a bug, whose stack goes to the debug lines.
    if (!(run.failure instanceof UserError)) this.logger.debug(run.failure instanceof Error ? (run.failure.stack ?? run.failure.message) : String(run.failure));
    return 1;
  }
}
