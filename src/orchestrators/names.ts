import type { DeployKwargs, PackageKwargs } from '../config/schema.js';
import { flowRunParameters, prefectFlowName } from '../packaging/entrypoint.js';
import { entrypointFor } from '../packaging/files.js';

/*
 * Names every orchestrator derives from lolpop's config (package and deploy kwargs): the
 * flow entrypoint, the flow's name and the shape of its run parameters. They live here,
 * not in one orchestrator's folder, so no orchestrator imports another's.
 */

/**
 * The package kwargs as the deployment sees them: deploy.flow_entrypoint (lolpop's
 * deploy kwarg) names the user's own flow just as package.flow_entrypoint does.
 */
function effective(pkg: PackageKwargs, deploy: DeployKwargs): PackageKwargs {
  return { ...pkg, flow_entrypoint: deploy.flow_entrypoint ?? pkg.flow_entrypoint };
}

/** `path/file.py:function` the deployment points at. */
export function flowEntrypoint(pkg: PackageKwargs, deploy: DeployKwargs): string {
  return entrypointFor(effective(pkg, deploy));
}

/** The flow's name as Prefect registers it, so `flow/deployment` lookups match. */
export function flowName(pkg: PackageKwargs, deploy: DeployKwargs): string {
  return prefectFlowName(effective(pkg, deploy));
}

/** Run parameters in the shape the flow takes (nested for lolpop's wrapper). */
export function runParameters(pkg: PackageKwargs, deploy: DeployKwargs, parameters: Record<string, unknown>): Record<string, unknown> {
  return flowRunParameters(effective(pkg, deploy), parameters);
}
