import type { PackageKwargs } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { GENERATED_HEADER } from './generated.js';
import { configFileFor } from './paths.js';
import { assertIdentifier, assertModulePath, pyKeywordArgs, pyString } from './python.js';

/** lolpop's default `flow_kwargs` (PrefectOrchestrator config): log lolpop's prints into Prefect. */
export const DEFAULT_FLOW_KWARGS: Readonly<Record<string, unknown>> = { log_prints: true };

/** lolpop's default `lolpop_module` (`_make_entrypoint_script`). */
export const DEFAULT_LOLPOP_MODULE = 'lolpop.runner';

/**
 * The one parameter of the generated flow. Its value, a mapping, is passed to the lolpop
 * entrypoint as keyword arguments.
 *
 * Why not `def flow(**params)`: Prefect derives a deployment's parameter schema from the
 * signature, and a `**params` parameter becomes a property `params` that is *required*
 * (it has no default). Prefect 3 enforces that schema by default, so every run of a
 * served `**params` flow would be refused with "'params' is a required property".
 * A single optional mapping gives a valid schema on Prefect 2 and 3 (and in the UI),
 * runs with no parameters, and still reaches the runner as `**params`. The cost: run
 * parameters travel nested, `{"params": {...}}`; flowRunParameters() does the nesting.
 */
export const WRAPPER_PARAMETER = 'params';

/**
 * The generated flow's second parameter: secret parameter name → the Prefect Secret block
 * that holds its value. The flow loads the blocks when it runs, so deployment and flow-run
 * parameters carry only block names (PrefectOrchestrator's secret-blocks.ts writes them).
 */
export const SECRET_BLOCKS_PARAMETER = 'lolpop_secret_parameters';

/** What renderEntrypoint needs besides the package kwargs. */
export interface EntrypointOptions {
  /**
   * The deployment name the tool will look up. `.serve()` registers the flow under it,
   * so the served deployment is `{prefectFlowName}/{deploymentName}` (LOLPOP bug 6).
   */
  deploymentName: string;
}

/**
 * The text of `{prefect_files}/run.py`: lolpop's generated entrypoint, made correct.
 * It wraps `{lolpop_class}.{lolpop_entrypoint}` in a Prefect flow, runs it when executed
 * directly, or serves it as `options.deploymentName` when `create_deployment` is set.
 * Throws ConfigError for names that are not valid Python, or when `flow_entrypoint` is
 * set (then the user's flow is the entrypoint and no wrapper is generated).
 */
export function renderEntrypoint(kwargs: PackageKwargs, options: EntrypointOptions): string {
  if (kwargs.flow_entrypoint !== undefined) {
    throw new ConfigError(
      `flow_entrypoint '${kwargs.flow_entrypoint}' is set, so no lolpop wrapper is generated; unset it to package lolpop_class.`,
    );
  }
  const cls = requireClass(kwargs);
  const module = kwargs.lolpop_module ?? DEFAULT_LOLPOP_MODULE;
  assertModulePath('lolpop_module', module, 'quickstart_runner or lolpop.runner');
  assertIdentifier('lolpop_entrypoint', kwargs.lolpop_entrypoint, 'build_all');
  assertIdentifier('flow_name', kwargs.flow_name, 'prefect_entrypoint');
  const flowArgs = pyKeywordArgs(kwargs.flow_kwargs ?? DEFAULT_FLOW_KWARGS, 'flow_kwargs');
  const fn = kwargs.flow_name;
  const method = `${cls}.${kwargs.lolpop_entrypoint}`;
  const main = kwargs.create_deployment
    ? `${fn}.serve(name=${pyString(checkDeploymentName(options.deploymentName))})`
    : `${fn}()`;

  // `Optional[Dict[...]]` rather than `dict | None`: lolpop's images run Python 3.9.
  // No DeploymentImage import: Prefect 3 removed it (LOLPOP bug 5) and nothing here needs it.
  // `log` is guarded because a plain runner class (not a lolpop one) may not have it.
  return `${GENERATED_HEADER}
from typing import Any, Dict, Optional

from ${module} import ${cls}
from prefect import flow


@flow${flowArgs === '' ? '' : `(${flowArgs})`}
def ${fn}(
    ${WRAPPER_PARAMETER}: Optional[Dict[str, Any]] = None,
    ${SECRET_BLOCKS_PARAMETER}: Optional[Dict[str, str]] = None,
) -> None:
    """Runs ${method}.

    Args:
        ${WRAPPER_PARAMETER}: keyword arguments for ${method}.
        ${SECRET_BLOCKS_PARAMETER}: more keyword arguments, each the name of the
            Prefect Secret block that holds its value (secret values are never parameters).
    """
    kwargs = dict(${WRAPPER_PARAMETER} or {})
    if ${SECRET_BLOCKS_PARAMETER}:
        from prefect.blocks.system import Secret

        for name, block in ${SECRET_BLOCKS_PARAMETER}.items():
            kwargs[name] = Secret.load(block).get()
    runner = ${cls}(conf=${pyString(configFileFor(kwargs))}, skip_config_validation=${kwargs.skip_validation ? 'True' : 'False'})
    runner.${kwargs.lolpop_entrypoint}(**kwargs)
    if hasattr(runner, "log"):
        runner.log("Workflow completed!")


if __name__ == "__main__":
    ${main}
`;
}

/**
 * The flow's name as Prefect registers it: `flow_kwargs.name`, else the function name
 * with `_` → `-` (Prefect's rule), e.g. `prefect-entrypoint`. A served deployment is
 * looked up as `{prefectFlowName}/{deploymentName}`.
 */
export function prefectFlowName(kwargs: Pick<PackageKwargs, 'flow_name' | 'flow_kwargs' | 'flow_entrypoint'>): string {
  const explicit = kwargs.flow_kwargs?.['name'];
  if (typeof explicit === 'string') return explicit;
  const fn = kwargs.flow_entrypoint?.split(':').pop() ?? kwargs.flow_name;
  return fn.replace(/_/g, '-');
}

function requireClass(kwargs: PackageKwargs): string {
  if (kwargs.lolpop_class === undefined || kwargs.lolpop_class === '') {
    throw new ConfigError(
      'lolpop_class is required to generate the flow entrypoint. Expected the runner class, e.g. QuickstartRunner (or set flow_entrypoint to use your own flow).',
    );
  }
  assertIdentifier('lolpop_class', kwargs.lolpop_class, 'QuickstartRunner');
  return kwargs.lolpop_class;
}

// Prefect refuses deployment names containing these (its BANNED_CHARACTERS); failing
// here is clearer than a serve() that crashes inside the container.
const BANNED_IN_NAMES = /[/%&<>]/;

function checkDeploymentName(name: string): string {
  if (name.trim() === '' || BANNED_IN_NAMES.test(name)) {
    throw new ConfigError(
      `Invalid deployment name '${name}'. Expected a non-empty name without / % & < >, e.g. lolpop-quickstartrunner-build-all.`,
    );
  }
  return name;
}
