import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ConfigOverrides } from '../config/load.js';
import { OVERRIDE_SECTIONS, type StepSection } from '../config/schema.js';
import { buildJsonSchema } from '../config/json-schema.js';
import { ConfigError } from '../errors.js';
import { describeOrchestrators } from '../orchestrators/registry.js';
import { KWARGS_EXAMPLES, parseJsonObject } from '../kwargs-json.js';
import { parseSteps, type StepName } from '../steps.js';

export type CliCommand = 'package' | 'build' | 'run' | 'stop' | 'up' | 'plan';

/** Everything a command line asks for, decided before anything is read or run. */
export interface CliInvocation {
  command: CliCommand;
  /** The -c value as typed; resolved against the current directory by the caller. */
  configFile: string;
  steps: StepName[];
  overrides: ConfigOverrides;
  json: boolean;
  verbose: boolean;
  /** Several config files (-c with commas or globs): how many at once, and fail-fast. */
  maxParallel: number;
  failFast: boolean;
}

/** A parsed command line: something to run, or an exit (help, version, usage error). */
export type ParseOutcome = { kind: 'invoke'; invocation: CliInvocation } | { kind: 'exit'; code: number };

export interface ParseOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const USAGE_EXIT_CODE = 2;

// The built-in orchestrators as the registry has them, so --help never lists a stale set.
const ORCHESTRATORS = describeOrchestrators();
const ORCHESTRATOR_HELP =
  `orchestrator: ${ORCHESTRATORS.map((o) => o.name).join(', ')} or ./module.mjs ` +
  `(default: the file's decorator.orchestrator when known, else ${ORCHESTRATORS.find((o) => o.default)?.name})`;
const NAME_WIDTH = Math.max(...ORCHESTRATORS.map((o) => o.name.length)) + 2;
const NAME_HELP = "deployment name (default: orchestrator.deployment.name, else lolpop's lolpop-deployment)";
const RUN_KWARGS_HELP = "JSON object of flow-run parameters, as in lolpop (merged over the file's run.parameters)";
const LOCAL_FILE_HELP = 'an orchestrator module of your own (.mjs), instead of a built-in one';
const SKIP_VALIDATION_HELP =
  "lolpop's: skip the orchestrator class's config validation (lolpop's PrefectOrchestrator requires none, so it changes nothing here)";
export const DEFAULT_CONFIG = 'lolpop.yaml';

/**
 * Parses argv (without node and the script) into a CliInvocation. Pure apart from
 * writing help and usage errors to `out`, so flags are table-tested without running.
 */
export function parseCommandLine(argv: readonly string[], out: ParseOutput, version?: string): ParseOutcome {
  let invocation: CliInvocation | undefined;
  let printed = false;
  const program = buildProgram(version, (inv) => (invocation = inv), out, () => (printed = true));
  try {
    program.parse(normaliseLongFlags(argv), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; help shown because no command was given does not.
      return { kind: 'exit', code: error.exitCode === 0 ? 0 : USAGE_EXIT_CODE };
    }
    if (error instanceof ConfigError) {
      out.stderr(`error: ${error.message}\n`);
      return { kind: 'exit', code: USAGE_EXIT_CODE };
    }
    throw error;
  }
  if (printed) return { kind: 'exit', code: 0 };
  if (!invocation) return { kind: 'exit', code: USAGE_EXIT_CODE };
  return { kind: 'invoke', invocation };
}

/** lolpop's docs spell flags both ways (--packaging_kwargs, --packaging-kwargs): accept both. */
function normaliseLongFlags(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((arg, i) => {
    if ((end !== -1 && i > end) || !/^--[a-z]/.test(arg)) return arg;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    return flag.replace(/_/g, '-') + (eq === -1 ? '' : arg.slice(eq));
  });
}

interface CommonOptions {
  configFile: string;
  maxParallel?: number;
  failFast?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** `printedOutput`: a command that only prints (schema) calls it, so parsing ends with exit 0. */
function buildProgram(version: string | undefined, done: (inv: CliInvocation) => void, out: ParseOutput, printedOutput: () => void): Command {
  const program = new Command('lolpop-deploy')
    .description("Package, deploy and run lolpop workflows on an orchestrator (lolpop's `lolpop deployment` commands, plus `up`).")
    .exitOverride()
    .configureOutput({ writeOut: out.stdout, writeErr: out.stderr })
    .showHelpAfterError("(run 'lolpop-deploy --help' for usage)")
    .addHelpText('after', `\nOrchestrators (lolpop-deploy orchestrators):\n${ORCHESTRATORS.map((o) => `  ${o.name.padEnd(NAME_WIDTH)}${o.description}`).join('\n')}\n`);
  if (version) program.version(version, '-V, --version');

  const command = (name: string, description: string): Command => {
    const cmd = program
      .command(name)
      .description(description)
      .exitOverride()
      .configureOutput({ writeOut: out.stdout, writeErr: out.stderr })
      .option('-c, --config-file <path>', 'the lolpop workflow YAML (up and plan: several, as a,b or a quoted glob)', DEFAULT_CONFIG);
    return cmd;
  };
  const finish = (cmd: Command): Command =>
    cmd
      .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
      .option('-v, --verbose', 'print debug lines')
      .showHelpAfterError(`Usage: lolpop-deploy ${cmd.name()} ${cmd.usage()}\nRun 'lolpop-deploy ${cmd.name()} --help' for all options.`);

  const pkg = command('package', 'write the entrypoint and Dockerfile, and build the image when asked (lolpop deployment package)')
    .argument('<lolpop_class>', 'the lolpop runner class to package, e.g. QuickstartRunner')
    .option('-e, --build-method <method>', 'method of the class the flow calls (lolpop_entrypoint)')
    .option('-m, --module <module>', 'Python module that defines the class (lolpop_module)')
    .option('-f, --flow-name <name>', 'name of the generated flow function (flow_name)')
    .option('--packager <orchestrator>', ORCHESTRATOR_HELP)
    .addOption(methodOption('-p, --packaging-method <method>', 'package'))
    .option('-t, --package-type <type>', 'docker | none (package_type)')
    .option('-n, --deployment-name <name>', 'deployment name (orchestrator.deployment.name)')
    .addOption(kwargsOption('package'))
    .option('--skip-validation', 'the generated entrypoint skips the runner config validation (skip_validation)');
  lolpopOnly(pkg, ['--packager-args', '--packaging-args'], '--packager-kwargs');
  finish(pkg).action((lolpopClass: string, o: CommonOptions & Record<string, unknown>) => {
    const explicit = defined({
      lolpop_class: lolpopClass,
      lolpop_module: o.module,
      lolpop_entrypoint: o.buildMethod,
      flow_name: o.flowName,
      package_type: o.packageType,
      skip_validation: o.skipValidation ? true : undefined,
    });
    done(invocation('package', ['package'], o, {
      deploymentName: o.deploymentName as string | undefined,
      kwargs: { package: { ...(o.packagingKwargs as object | undefined), ...explicit } },
    }, orchestratorFlag(o, 'packager')));
  });

  // lolpop calls this step build, the action and `up --steps` call it deploy: both names work.
  const build = command('build', 'create or update the deployment (lolpop deployment build; `deploy` is the same command)')
    .alias('deploy')
    .option('--deployer <orchestrator>', ORCHESTRATOR_HELP)
    .addOption(methodOption('-d, --deployment-method <method>', 'deploy', ['build']))
    .option('-n, --deployment-name <name>', NAME_HELP)
    .option('-t, --deployment-type <type>', 'docker | kubernetes | local (orchestrator.deployment.type)')
    .addOption(kwargsOption('deploy'))
    .option('--skip-validation', SKIP_VALIDATION_HELP);
  lolpopOnly(build, ['--deployer-args', '--deployment-args'], '--deployer-kwargs');
  finish(build).action((o: CommonOptions & Record<string, unknown>) => {
    done(invocation('build', ['deploy'], o, {
      deploymentName: o.deploymentName as string | undefined,
      deploymentType: o.deploymentType as string | undefined,
      kwargs: sections({ deploy: o.deploymentKwargs }),
    }, orchestratorFlag(o, 'deployer')));
  });

  const run = command('run', 'start a run of the deployment (lolpop deployment run)')
    .argument('<deployment_name>', "the deployment; lolpop's flow/deployment form is accepted")
    .option('--deployer <orchestrator>', ORCHESTRATOR_HELP)
    .addOption(methodOption('-r, --run-method <method>', 'run'))
    .addOption(kwargsOption('run'))
    .option('-w, --wait', 'wait for the run to end; fail when it does not complete')
    .option('--wait-timeout <duration>', 'how long --wait waits, e.g. 30m')
    .option('--skip-validation', SKIP_VALIDATION_HELP);
  lolpopOnly(run, ['--deployer-args', '--run-args'], '--deployer-kwargs');
  finish(run).action((deploymentName: string, o: CommonOptions & Record<string, unknown>) => {
    done(invocation('run', ['run'], o, {
      deploymentName: deploymentName.slice(deploymentName.lastIndexOf('/') + 1),
      kwargs: sections({ run: o.runKwargs }),
      ...runSettings(o),
    }, orchestratorFlag(o, 'deployer')));
  });

  const stop = command('stop', 'undo what build created (lolpop deployment stop)')
    .argument('[deployment_name]', 'the deployment (or -n)')
    .option('--deployer <orchestrator>', ORCHESTRATOR_HELP)
    .addOption(methodOption('-s, --stop-method <method>', 'stop'))
    .option('-n, --deployment-name <name>', NAME_HELP)
    .option('-t, --deployment-type <type>', 'docker | kubernetes | local (orchestrator.deployment.type)')
    .addOption(kwargsOption('stop'))
    .option('--skip-validation', SKIP_VALIDATION_HELP);
  lolpopOnly(stop, ['--deployer-args', '--stop-args'], '--deployer-kwargs');
  finish(stop).action((positional: string | undefined, o: CommonOptions & Record<string, unknown>) => {
    const flagName = o.deploymentName as string | undefined;
    if (positional && flagName && positional !== flagName) {
      throw new ConfigError(`stop: the deployment is named twice ('${positional}' and -n '${flagName}'); give one`);
    }
    const name = positional ?? flagName;
    done(invocation('stop', ['stop'], o, {
      deploymentName: name?.slice(name.lastIndexOf('/') + 1),
      deploymentType: o.deploymentType as string | undefined,
      kwargs: sections({ stop: o.stopKwargs }),
    }, orchestratorFlag(o, 'deployer')));
  });

  // up and plan take the same flags: plan shows what up would do.
  const workflowCommand = (name: 'up' | 'plan', description: string, planOnly: boolean): void => {
    const cmd = command(name, description);
    cmd.option(
      '--steps <steps>',
      !planOnly ? 'comma-separated steps: package, deploy (or build), run; or stop; plan with others shows them' : 'the steps to plan: package, deploy (or build), run',
      'package,deploy,run',
    );
    // plan waits for nothing, so its help does not offer the wait flags; it still takes
    // them, so that an up command line can be planned as it is (the plan shows the wait).
    const waitOption = (option: Option) => (planOnly ? option.hideHelp() : option);
    cmd
      .addOption(waitOption(new Option('-w, --wait', 'wait for the run to end; fail when it does not complete')))
      .addOption(waitOption(new Option('--wait-timeout <duration>', 'how long --wait waits, e.g. 30m or 1h30m')))
      .option('-n, --deployment-name <name>', 'deployment name (orchestrator.deployment.name)')
      .option('-t, --deployment-type <type>', 'docker | kubernetes | local (orchestrator.deployment.type)')
      .option('--orchestrator <orchestrator>', ORCHESTRATOR_HELP)
      .option('--deployer <orchestrator>', "lolpop's name for --orchestrator")
      .option('-l, --local-file <file>', LOCAL_FILE_HELP)
      .addOption(kwargsOption('package'))
      .addOption(kwargsOption('deploy'))
      .addOption(kwargsOption('run'))
      .addOption(kwargsOption('stop'))
      .addOption(new Option('--max-parallel <n>', 'with several config files (-c a.yaml,b.yaml or a quoted glob): how many at once').argParser(parseParallel).default(4))
      .option('--fail-fast', 'with several config files: start no other after the first failure');
    finish(cmd).action((o: CommonOptions & Record<string, unknown>) => {
      const given = parseSteps(String(o.steps), '--steps');
      const steps: StepName[] = planOnly ? ['plan', ...given.filter((s) => s !== 'plan')] : given;
      done(invocation(name, steps, o, {
        deploymentName: o.deploymentName as string | undefined,
        deploymentType: o.deploymentType as string | undefined,
        kwargs: sections({
          package: o.packagingKwargs,
          deploy: o.deploymentKwargs,
          run: o.runKwargs,
          stop: o.stopKwargs,
        }),
        ...runSettings(o),
      }, orchestratorFlag(o, 'orchestrator', 'deployer')));
    });
  };
  workflowCommand('up', 'package → deploy → run from the config alone (what the GitHub Action does)', false);
  workflowCommand('plan', 'show what up would write, build and send, changing nothing (reads the server only when one is configured)', true);

  program
    .command('orchestrators')
    .description('list the built-in orchestrators (--json: name, description, docs, default)')
    .option('--json', 'print them as JSON')
    .exitOverride()
    .action((o: { json?: boolean }) => {
      const lines = ORCHESTRATORS.map((x) => `${x.name}${x.default ? ' (default)' : ''}\n  ${x.description}\n  ${x.docs}`);
      out.stdout(o.json ? `${JSON.stringify(ORCHESTRATORS, null, 2)}\n` : `${lines.join('\n')}\n`);
      printedOutput();
    });

  program
    .command('schema')
    .description("print the config file's JSON Schema (for editors; also published as schema/lolpop-deploy.schema.json)")
    .exitOverride()
    .action(() => {
      out.stdout(`${JSON.stringify(buildJsonSchema(), null, 2)}\n`);
      printedOutput();
    });

  return program;
}

function invocation(
  command: CliCommand,
  steps: StepName[],
  o: CommonOptions,
  overrides: ConfigOverrides,
  orchestrator: ConfigOverrides['orchestrator'],
): CliInvocation {
  const clean: ConfigOverrides = {};
  if (overrides.deploymentName) clean.deploymentName = overrides.deploymentName;
  if (overrides.deploymentType) clean.deploymentType = overrides.deploymentType;
  if (overrides.kwargs && Object.keys(overrides.kwargs).length > 0) clean.kwargs = overrides.kwargs;
  if (overrides.runSettings) clean.runSettings = overrides.runSettings;
  if (orchestrator) clean.orchestrator = orchestrator;
  return {
    command,
    configFile: o.configFile,
    steps,
    overrides: clean,
    json: o.json === true,
    verbose: o.verbose === true,
    maxParallel: typeof o.maxParallel === 'number' ? o.maxParallel : 4,
    failFast: o.failFast === true,
  };
}

/** A step section's `--…-kwargs '<json object>'` flag; bad JSON is refused naming the flag, with an example of what belongs in it. */
function kwargsOption(section: StepSection): Option {
  const flag = `--${OVERRIDE_SECTIONS[section]}`;
  const help = section === 'run' ? RUN_KWARGS_HELP : 'JSON object merged over the file, key by key';
  return new Option(`${flag} <json>`, help).argParser((text: string) => parseJsonObject(text, flag, KWARGS_EXAMPLES[section]));
}

/**
 * lolpop lets a custom orchestrator name the method to call (-p/-d/-r/-s). Here an
 * orchestrator has exactly one method per step, so only that name (or lolpop's
 * own alias) is accepted, and anything else is a usage error rather than ignored.
 */
function methodOption(flags: string, method: string, aliases: string[] = []): Option {
  const allowed = [method, ...aliases];
  return new Option(flags, `orchestrator method for this step (only '${method}')`).argParser((value: string) => {
    if (!allowed.includes(value)) {
      throw new InvalidArgumentError(`Only '${allowed.join("' or '")}' is available: every lolpop-deploy orchestrator has one method per step.`);
    }
    return value;
  });
}

/** --wait / --wait-timeout: run settings, merged over the file's run block. */
function runSettings(o: Record<string, unknown>): Pick<ConfigOverrides, 'runSettings'> {
  const settings = defined({ wait: o.wait ? true : undefined, wait_timeout: o.waitTimeout });
  return Object.keys(settings).length > 0 ? { runSettings: settings } : {};
}

function sections(values: Partial<Record<StepSection, unknown>>): ConfigOverrides['kwargs'] {
  const out: NonNullable<ConfigOverrides['kwargs']> = {};
  for (const [section, value] of Object.entries(values) as Array<[StepSection, unknown]>) {
    if (value) out[section] = value as Record<string, unknown>;
  }
  return out;
}

/**
 * The orchestrator the command line names: --packager/--deployer/--orchestrator (up and
 * plan: --orchestrator or lolpop's --deployer), or
 * lolpop's -l/--local-file. lolpop's -l loads a Python file defining the class; here
 * an orchestrator is a JavaScript module, so -l takes one (.mjs/.js) and a Python file
 * is refused with the reason.
 */
function orchestratorFlag(o: Record<string, unknown>, ...flags: Array<'packager' | 'deployer' | 'orchestrator'>): ConfigOverrides['orchestrator'] {
  const file = o.localFile;
  if (typeof file === 'string' && file !== '') {
    if (!/\.(m?js|cjs)$/.test(file)) {
      throw new ConfigError(
        `-l/--local-file '${file}': lolpop-deploy runs no Python orchestrator class; give a JavaScript module that exports an orchestrator plugin (e.g. ./my_orchestrator.mjs)`,
      );
    }
    return { name: file.startsWith('.') || file.startsWith('/') ? file : `./${file}`, label: '-l/--local-file' };
  }
  // up and plan take lolpop's --deployer as well as --orchestrator: two different names are refused, not one dropped.
  const given = flags.flatMap((flag) => (typeof o[flag] === 'string' && o[flag] !== '' ? [{ name: o[flag], label: `--${flag}` }] : []));
  const [first, other] = given;
  if (first && other && other.name !== first.name) {
    throw new ConfigError(`${first.label} '${first.name}' and ${other.label} '${other.name}' name different orchestrators; give one`);
  }
  return first;
}

/**
 * lolpop flags that pass values straight into a Python orchestrator: positional
 * arguments (--*-args) and its constructor's kwargs (--packager-kwargs/--deployer-kwargs,
 * BaseIntegration's parent, plugin_mods, …). Nothing here takes them, so they are
 * accepted only empty, and anything else is refused with the reason, never dropped.
 */
function lolpopOnly(cmd: Command, argsFlags: string[], constructorFlag: string): void {
  for (const flag of argsFlags) {
    cmd.addOption(
      new Option(`${flag} <value>`, 'lolpop: positional arguments for a Python orchestrator (refused; use the --…-kwargs flags)').hideHelp().argParser(() => {
        throw new InvalidArgumentError(`lolpop passes ${flag} positionally to a Python orchestrator method; lolpop-deploy takes named values only: use the matching --…-kwargs flag.`);
      }),
    );
  }
  cmd.addOption(
    new Option(`${constructorFlag} <json>`, "lolpop: kwargs for the orchestrator class's constructor (only {} is accepted)").argParser((text: string) => {
      const value = parseJsonObject(text, constructorFlag, '{}');
      if (Object.keys(value).length > 0) {
        throw new InvalidArgumentError(
          `lolpop passes these to the Python orchestrator class's constructor (${Object.keys(value).join(', ')}); lolpop-deploy has no such constructor. ` +
            'Put orchestrator settings in orchestrator.config, and step settings in --packaging-kwargs/--deployment-kwargs.',
        );
      }
      return value;
    }),
  );
  cmd.option('-l, --local-file <file>', LOCAL_FILE_HELP);
}

function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

function parseParallel(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('Expected a whole number from 1 to 64.');
  return n;
}
