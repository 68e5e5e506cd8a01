import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { prefectFlowName, renderEntrypoint } from '../../src/packaging/entrypoint.js';
import { quickstartKwargs, quickstartServeKwargs, SERVE_DEPLOYMENT } from './quickstart.js';

const options = { deploymentName: 'quickstart' };

/**
 * Parses `source` with the real Python parser, as Python 3.9 grammar (lolpop's images);
 * throws with Python's message on a syntax error.
 */
function assertValidPython(source: string): void {
  const file = join(mkdtempSync(join(tmpdir(), 'lolpop-entrypoint-')), 'run.py');
  writeFileSync(file, source);
  const check = 'import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1], feature_version=(3, 9))';
  execFileSync('python3', ['-c', check, file], {
    stdio: 'pipe',
  });
}

describe('renderEntrypoint', () => {
  const cases = [
    { name: 'quickstart', kwargs: quickstartKwargs(), deploymentName: 'quickstart' },
    { name: 'quickstart-serve', kwargs: quickstartServeKwargs(), deploymentName: SERVE_DEPLOYMENT },
  ];

  it.each(cases)('$name: matches the reviewed run.py', async ({ name, kwargs, deploymentName }) => {
    await expect(renderEntrypoint(kwargs, { deploymentName })).toMatchFileSnapshot(`./__snapshots__/${name}.run.py`);
  });

  it.each(cases)('$name: is valid Python', ({ kwargs, deploymentName }) => {
    assertValidPython(renderEntrypoint(kwargs, { deploymentName }));
  });

  it('lolpop bug 4: renders flow_kwargs as quoted Python keyword arguments, nested values included', () => {
    const flowKwargs = {
      log_prints: true,
      retries: 2,
      retry_delay_seconds: 1.5,
      name: 'it\'s "quoted"\n',
      description: null,
      tags: ['ml', 'lolpop'],
      nested: { a: [1, { b: false }] },
    };
    const text = renderEntrypoint(quickstartKwargs({ flow_kwargs: flowKwargs }), options);
    expect(text).toContain(
      '@flow(log_prints=True, retries=2, retry_delay_seconds=1.5, name="it\'s \\"quoted\\"\\n", description=None, ' +
        'tags=["ml", "lolpop"], nested={"a": [1, {"b": False}]})',
    );
    assertValidPython(text);
  });

  it("uses lolpop's flow_kwargs default, log_prints=True, and a bare @flow for an empty mapping", () => {
    expect(renderEntrypoint(quickstartKwargs(), options)).toContain('\n@flow(log_prints=True)\n');
    expect(renderEntrypoint(quickstartKwargs({ flow_kwargs: {} }), options)).toContain('\n@flow\ndef ');
  });

  it('lolpop bug 5: does not import DeploymentImage (gone in Prefect 3); prefect gives only flow', () => {
    const text = renderEntrypoint(quickstartServeKwargs(), { deploymentName: SERVE_DEPLOYMENT });
    expect(text).not.toContain('DeploymentImage');
    expect(text.split('\n').filter((l) => /^(from|import) /.test(l))).toEqual([
      'from typing import Any, Dict, Optional',
      'from prefect_files.quickstart_runner import QuickstartRunner',
      'from prefect import flow',
    ]);
  });

  it('lolpop bug 6: serves under the deployment name the tool looks up, as flow prefect-entrypoint', () => {
    const text = renderEntrypoint(quickstartServeKwargs(), { deploymentName: 'my-deployment' });
    expect(text).toContain('    prefect_entrypoint.serve(name="my-deployment")\n');
    expect(prefectFlowName(quickstartServeKwargs())).toBe('prefect-entrypoint');
    expect(prefectFlowName(quickstartKwargs({ flow_kwargs: { name: 'custom' } }))).toBe('custom');
  });

  it('runs the flow directly when create_deployment is false', () => {
    expect(renderEntrypoint(quickstartKwargs(), options)).toMatch(/if __name__ == "__main__":\n {4}prefect_entrypoint\(\)\n$/);
  });

  it.each(['prefect_files/', 'prefect_files', 'prefect_files//', './prefect_files/'])(
    'lolpop bug 9: prefect_files %j gives config prefect_files/dev.yaml, no doubled slash',
    (prefectFiles) => {
      const text = renderEntrypoint(quickstartKwargs({ prefect_files: prefectFiles }), options);
      expect(text).toContain('QuickstartRunner(conf="prefect_files/dev.yaml", skip_config_validation=False)');
      expect(text).not.toContain('//');
    },
  );

  it('passes the flow parameter to the lolpop entrypoint as keyword arguments', () => {
    const text = renderEntrypoint(quickstartKwargs(), options);
    expect(text).toContain('def prefect_entrypoint(\n    params: Optional[Dict[str, Any]] = None,\n    lolpop_secret_parameters: Optional[Dict[str, str]] = None,\n) -> None:');
    expect(text).toContain('    kwargs = dict(params or {})');
    expect(text).toContain('    runner.build_all(**kwargs)');
  });

  it('defaults lolpop_module to lolpop.runner, as lolpop does', () => {
    expect(renderEntrypoint(quickstartKwargs({ lolpop_module: undefined }), options)).toContain(
      'from lolpop.runner import QuickstartRunner',
    );
  });

  const invalid: Array<[string, Record<string, unknown>, string, string]> = [
    ['lolpop_class', { lolpop_class: 'Quickstart-Runner' }, "Invalid lolpop_class 'Quickstart-Runner'", 'Python identifier'],
    ['lolpop_class', { lolpop_class: undefined }, 'lolpop_class is required', 'QuickstartRunner'],
    ['lolpop_entrypoint', { lolpop_entrypoint: 'build all' }, "Invalid lolpop_entrypoint 'build all'", 'Python identifier'],
    ['flow_name', { flow_name: 'class' }, "Invalid flow_name 'class'", 'not a keyword'],
    ['flow_name', { flow_name: '2flow' }, "Invalid flow_name '2flow'", 'not starting with a digit'],
    ['lolpop_module', { lolpop_module: 'quickstart_runner.py' }, "Invalid lolpop_module 'quickstart_runner.py'", 'module path'],
    ['lolpop_module', { lolpop_module: 'prefect-files.runner' }, "Invalid lolpop_module 'prefect-files.runner'", 'module path'],
    ['flow_kwargs key', { flow_kwargs: { 'log-prints': true } }, "Invalid key 'log-prints' in flow_kwargs", 'keyword-argument'],
    ['flow_kwargs value', { flow_kwargs: { retries: Infinity } }, 'Invalid value in flow_kwargs.retries', 'finite number'],
  ];
  it.each(invalid)('rejects an invalid %s with a ConfigError naming it', (_what, overrides, message, expected) => {
    const render = () => renderEntrypoint(quickstartKwargs(overrides), options);
    expect(render).toThrow(ConfigError);
    expect(render).toThrow(message);
    expect(render).toThrow(expected);
  });

  it('rejects a deployment name Prefect would refuse, only when it serves', () => {
    const render = (deploymentName: string) => () => renderEntrypoint(quickstartServeKwargs(), { deploymentName });
    expect(render('team/quickstart')).toThrow("Invalid deployment name 'team/quickstart'");
    expect(render('')).toThrow(ConfigError);
    expect(() => renderEntrypoint(quickstartKwargs(), { deploymentName: 'a/b' })).not.toThrow();
  });

  it('generates no wrapper when flow_entrypoint names the user flow', () => {
    expect(() => renderEntrypoint(quickstartKwargs({ flow_entrypoint: 'flows/train.py:train' }), options)).toThrow(
      /flow_entrypoint 'flows\/train.py:train' is set/,
    );
  });
});
