import type { PackageKwargs } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_LOLPOP_MODULE, WRAPPER_PARAMETER } from './entrypoint.js';
import { configFileFor, joinPosix, prefectFilesDir } from './paths.js';

/**
 * What the launcher runs, as JSON. Either lolpop's runner class directly (what the
 * generated `prefect_files/run.py` wraps in a flow) or the user's own flow function.
 */
export interface LaunchSpec {
  workdir: string;
  parameters: Record<string, unknown>;
  runner?: { module: string; class: string; entrypoint: string; config_file: string; skip_validation: boolean };
  flow?: { file: string; function: string };
  /** Set when the run may go through Prefect (use_prefect), if prefect is importable. */
  prefect?: { file: string; function: string; parameter?: string };
  /** Secret parameter → the environment variable that holds its value (never the value: the spec is a file). */
  secret_parameters?: Record<string, string>;
}

/**
 * The environment variables a launcher reads secret parameters from, by position
 * (`LOLPOP_DEPLOY_SECRET_0`, …): parameter names need not be valid variable names.
 */
export function secretParameterVariables(names: Iterable<string>): Record<string, string> {
  return Object.fromEntries([...names].map((name, i) => [name, `LOLPOP_DEPLOY_SECRET_${i}`]));
}

/** Splits `path/to/file.py:function`. */
export function splitEntrypoint(entrypoint: string): { file: string; function: string } {
  const colon = entrypoint.lastIndexOf(':');
  if (colon <= 0 || !entrypoint.slice(0, colon).endsWith('.py')) {
    throw new ConfigError(`Invalid flow entrypoint '${entrypoint}'. Expected path/to/file.py:function.`);
  }
  return { file: entrypoint.slice(0, colon), function: entrypoint.slice(colon + 1) };
}

/**
 * The spec for one run. `entrypoint` is the deployment's; when it is the user's own
 * flow (flow_entrypoint), that function is called with the parameters, else the
 * lolpop class is instantiated and its entrypoint method called, as run.py does.
 */
export function launchSpec(
  pkg: PackageKwargs,
  entrypoint: string,
  workdir: string,
  parameters: Record<string, unknown>,
  usePrefect: boolean,
  secretVariables: Record<string, string> = {},
): LaunchSpec {
  const target = splitEntrypoint(entrypoint);
  const spec: LaunchSpec = { workdir, parameters };
  if (Object.keys(secretVariables).length > 0) spec.secret_parameters = secretVariables;
  if (isGeneratedWrapper(pkg, entrypoint)) {
    if (!pkg.lolpop_class) {
      throw new ConfigError(
        'lolpop_class is required to run the deployment. Expected the runner class in package.lolpop_class, e.g. QuickstartRunner (or set flow_entrypoint).',
      );
    }
    spec.runner = {
      module: pkg.lolpop_module ?? DEFAULT_LOLPOP_MODULE,
      class: pkg.lolpop_class,
      entrypoint: pkg.lolpop_entrypoint,
      config_file: configFileFor(pkg),
      skip_validation: pkg.skip_validation,
    };
    if (usePrefect) spec.prefect = { ...target, parameter: WRAPPER_PARAMETER };
  } else {
    spec.flow = target;
    if (usePrefect) spec.prefect = target;
  }
  return spec;
}

/** `prefect_files/run.py:prefect_entrypoint`: the wrapper `package` generates. */
export function generatedEntrypoint(pkg: PackageKwargs): string {
  return `${joinPosix(prefectFilesDir(pkg), 'run.py')}:${pkg.flow_name}`;
}

function isGeneratedWrapper(pkg: PackageKwargs, entrypoint: string): boolean {
  return pkg.flow_entrypoint === undefined && entrypoint === generatedEntrypoint(pkg);
}

/**
 * The Python side: standard library only, Python 3.8+. A plain Prefect `@flow` object
 * is called through `.fn` unless the spec asks for Prefect, so a run needs no server.
 */
export const LAUNCHER_PY = `"""lolpop-deploy local launcher: runs one deployment's entrypoint (standard library only)."""
import importlib
import importlib.util
import json
import os
import signal
import sys
import threading
import time


def watch_parent():
    """Ends this run's process group when lolpop-deploy is gone (killed with SIGKILL, say)."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    try:
        # Nobody may read this any more: its pipe is likely closed.
        print("lolpop-deploy: the lolpop-deploy process that started this run is gone; stopping", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    os.killpg(os.getpgrp(), signal.SIGTERM)
    time.sleep(5)
    os.killpg(os.getpgrp(), signal.SIGKILL)


def load_function(path, name):
    module_name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise SystemExit("lolpop-deploy: cannot load %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise SystemExit("lolpop-deploy: %s has no function %s" % (path, name))
    return getattr(module, name)


def secret_parameters(spec):
    """Secret parameters, from the environment variables the spec names (never from the spec itself)."""
    found = {}
    for name, variable in (spec.get("secret_parameters") or {}).items():
        if variable not in os.environ:
            raise SystemExit("lolpop-deploy: the secret parameter %s has no value: %s is not set" % (name, variable))
        found[name] = os.environ[variable]
    return found


def main():
    # Only when lolpop-deploy made this process the leader of its own group.
    if hasattr(os, "killpg") and os.getpgrp() == os.getpid():
        threading.Thread(target=watch_parent, daemon=True).start()
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    os.chdir(spec["workdir"])
    sys.path.insert(0, spec["workdir"])
    secrets = secret_parameters(spec)
    # What is printed (and so kept in the run's log) shows secret parameters as ***.
    shown = json.dumps(dict(spec["parameters"], **{name: "***" for name in secrets}))
    params = dict(spec["parameters"], **secrets)

    prefect = spec.get("prefect")
    if prefect and importlib.util.find_spec("prefect") is not None:
        print("lolpop-deploy: running the Prefect flow %s:%s" % (prefect["file"], prefect["function"]), flush=True)
        flow = load_function(prefect["file"], prefect["function"])
        flow(**({prefect["parameter"]: params} if prefect.get("parameter") else params))
        return

    if spec.get("flow"):
        target = spec["flow"]
        print("lolpop-deploy: calling %s:%s(**%s)" % (target["file"], target["function"], shown), flush=True)
        fn = load_function(target["file"], target["function"])
        getattr(fn, "fn", fn)(**params)
        return

    runner_spec = spec["runner"]
    print(
        "lolpop-deploy: %s(conf=%r).%s(**%s)"
        % (runner_spec["class"], runner_spec["config_file"], runner_spec["entrypoint"], shown),
        flush=True,
    )
    module = importlib.import_module(runner_spec["module"])
    cls = getattr(module, runner_spec["class"])
    runner = cls(conf=runner_spec["config_file"], skip_config_validation=runner_spec["skip_validation"])
    getattr(runner, runner_spec["entrypoint"])(**params)
    if hasattr(runner, "log"):
        runner.log("Workflow completed!")


if __name__ == "__main__":
    main()
`;
