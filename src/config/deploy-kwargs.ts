import { ConfigError } from '../errors.js';
import { entrypointFor } from '../packaging/files.js';
import type { DeployKwargs, PackageKwargs } from './schema.js';

/**
 * lolpop's deploy kwargs in the form every step reads: `flow_class` (a module,
 * `prefect_files.run`) + `flow_entrypoint` (a function in it) become a Prefect entrypoint
 * `prefect_files/run.py:prefect_entrypoint`; when that is the generated wrapper, nothing is
 * set (the wrapper is the default). Keys lolpop's deploy reads that belong to the package
 * step here are refused with where they belong.
 */
export function resolveLolpopDeployKwargs<D extends DeployKwargs>(pkg: PackageKwargs, deploy: D, at: (key: string) => string): D {
  const resolved: D = { ...deploy };
  const refused: Array<[keyof DeployKwargs, string]> = [
    ['dockerfile', 'lolpop-deploy builds the image in the package step: set package.dockerfile_path'],
    ['push_image', 'lolpop-deploy pushes the image in the package step: set package.push_image'],
    ['flow_kwargs', "the flow's @flow(...) arguments are written into the generated entrypoint: set package.flow_kwargs (or orchestrator.config.flow_kwargs)"],
  ];
  for (const [key, reason] of refused) {
    if (deploy[key] !== undefined) throw new ConfigError(`${at(key)}: deploy.${key}: ${reason}`);
  }
  const entry = deploy.flow_entrypoint;
  if (deploy.flow_class !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(deploy.flow_class)) {
      throw new ConfigError(`${at('flow_class')}: deploy.flow_class: '${deploy.flow_class}' is not a Python module path; expected e.g. prefect_files.run`);
    }
    if (entry === undefined || entry.includes(':')) {
      throw new ConfigError(
        `${at('flow_class')}: deploy.flow_class: needs flow_entrypoint, the name of the flow function in ${deploy.flow_class} (e.g. prefect_entrypoint)`,
      );
    }
    const candidate = `${deploy.flow_class.replace(/\./g, '/')}.py:${entry}`;
    resolved.flow_entrypoint = candidate === entrypointFor({ ...pkg, flow_entrypoint: undefined }) ? undefined : candidate;
  } else if (entry !== undefined && !entry.includes(':')) {
    throw new ConfigError(
      `${at('flow_entrypoint')}: deploy.flow_entrypoint: '${entry}' is a function name; give flow_class (its module, e.g. prefect_files.run) too, or path/to/file.py:${entry}`,
    );
  }
  return resolved;
}
