import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { renderDockerfile, runCommandFor } from '../../src/packaging/dockerfile.js';
import { quickstartKwargs, quickstartServeKwargs } from './quickstart.js';

/** The Dockerfile's instructions, without comments. */
function instructions(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

/** Index of the first instruction starting with `prefix`; fails the test when absent. */
function indexOf(lines: string[], prefix: string): number {
  const i = lines.findIndex((l) => l.startsWith(prefix));
  expect(i, `no instruction starting with ${prefix}`).toBeGreaterThanOrEqual(0);
  return i;
}

describe('renderDockerfile', () => {
  it.each([
    { name: 'quickstart', kwargs: quickstartKwargs() },
    { name: 'quickstart-serve', kwargs: quickstartServeKwargs() },
  ])('$name: matches the reviewed Dockerfile', async ({ name, kwargs }) => {
    await expect(renderDockerfile(kwargs)).toMatchFileSnapshot(`./__snapshots__/${name}.Dockerfile`);
  });

  it('installs dependencies before copying the code, so a code change keeps the pip layers cached', () => {
    const lines = instructions(renderDockerfile(quickstartKwargs({ copy_files: ['train.csv', 'requirements.txt', 'src/app.py'] })));
    const lolpop = indexOf(lines, "RUN pip install --no-cache-dir 'lolpop[prefect,mlflow,xgboost]>=0.2.0'");
    const copyRequirements = indexOf(lines, 'COPY requirements.txt ./');
    const requirements = indexOf(lines, 'RUN pip install --no-cache-dir -r requirements.txt');
    const code = indexOf(lines, 'COPY train.csv src/app.py ./');
    const workflow = indexOf(lines, 'COPY prefect_files prefect_files/');
    expect(lolpop).toBeLessThan(copyRequirements);
    expect(copyRequirements).toBeLessThan(requirements);
    expect(requirements).toBeLessThan(code);
    expect(code).toBeLessThan(workflow);
  });

  it.each(['', '   '])('skips the lolpop install when lolpop_install_location is %j', (location) => {
    const text = renderDockerfile(quickstartKwargs({ lolpop_install_location: location }));
    expect(text).not.toContain('pip install');
  });

  it('copies a local lolpop build into the image before installing it from the same path', () => {
    const lines = instructions(renderDockerfile(quickstartServeKwargs()));
    const copyTarball = indexOf(lines, 'COPY prefect_files/lolpop-testing.tar.gz prefect_files/lolpop-testing.tar.gz');
    const install = indexOf(lines, "RUN pip install --no-cache-dir 'prefect_files/lolpop-testing.tar.gz[cli,prefect,mlflow,xgboost]'");
    expect(copyTarball).toBeLessThan(install);
  });

  it.each([
    ["'lolpop[cli]==0.2.0'", []],
    ['git+https://github.com/jordanvolz/lolpop.git', []],
    ['-e .', ['COPY . .']],
    ['-r deps/requirements.txt lolpop', ['COPY deps/requirements.txt deps/requirements.txt']],
    ['./dist/lolpop-0.2.0-py3-none-any.whl', ['COPY dist/lolpop-0.2.0-py3-none-any.whl dist/lolpop-0.2.0-py3-none-any.whl']],
  ])('lolpop_install_location %s copies %j first', (location, copies) => {
    const lines = instructions(renderDockerfile(quickstartKwargs({ lolpop_install_location: location, copy_files: [] })));
    const install = indexOf(lines, 'RUN pip install');
    expect(lines.slice(indexOf(lines, 'ENV '), install).filter((l) => l.startsWith('COPY'))).toEqual(copies);
  });

  it.each([
    ['python prefect_files/run.py', '["python", "prefect_files/run.py"]'],
    ['python  "my flows/run.py" --flag=\'a b\'', '["python", "my flows/run.py", "--flag=a b"]'],
    ['python -c "print(1)"', '["python", "-c", "print(1)"]'],
    ['cd prefect_files && python run.py', '["/bin/sh", "-c", "cd prefect_files && python run.py"]'],
    ['python run.py --out "$HOME/x"', '["/bin/sh", "-c", "python run.py --out \\"$HOME/x\\""]'],
    ['PREFECT_LOGGING_LEVEL=DEBUG python run.py', '["/bin/sh", "-c", "PREFECT_LOGGING_LEVEL=DEBUG python run.py"]'],
  ])('run_cmd %s → CMD %s', (runCmd, cmd) => {
    expect(renderDockerfile(quickstartKwargs({ run_cmd: runCmd }))).toContain(`\nCMD ${cmd}\n`);
  });

  it('rejects a run_cmd with an unclosed quote, naming the key', () => {
    expect(() => renderDockerfile(quickstartKwargs({ run_cmd: 'python "run.py' }))).toThrow(
      `Invalid run_cmd 'python "run.py'. Expected balanced quotes`,
    );
  });

  it('lolpop bug 9: derives paths from prefect_files without doubled slashes', () => {
    const kwargs = quickstartKwargs({ prefect_files: 'deploy/prefect//' });
    const text = renderDockerfile(kwargs);
    expect(runCommandFor(kwargs)).toBe('python deploy/prefect/run.py');
    expect(text).toContain('\nCOPY deploy/prefect deploy/prefect/\n');
    expect(text).toContain('\nCMD ["python", "deploy/prefect/run.py"]\n');
    expect(text.replace('https://', '')).not.toContain('//');
  });

  it("prepends the workdir to PYTHONPATH without an empty entry when the base image has none", () => {
    expect(renderDockerfile(quickstartKwargs())).toContain('\nENV PYTHONPATH="/opt/prefect${PYTHONPATH:+:${PYTHONPATH}}"\n');
  });

  it('copies paths with spaces in the JSON form', () => {
    expect(renderDockerfile(quickstartKwargs({ copy_files: ['data/train set.csv'] }))).toContain(
      '\nCOPY ["data/train set.csv", "./"]\n',
    );
  });

  it("copies the user's flow directory and runs its file when flow_entrypoint is set", () => {
    const text = renderDockerfile(quickstartKwargs({ flow_entrypoint: 'flows/train.py:train' }));
    expect(text).toContain('\nCOPY flows flows/\n');
    expect(text).not.toContain('prefect_files');
    expect(text).toContain('\nCMD ["python", "flows/train.py"]\n');
  });

  it.each([
    [{ copy_files: ['../secrets.env'] }, "Invalid copy_files '../secrets.env'. Expected a relative path inside the working directory"],
    [{ prefect_files: '/abs/prefect' }, "Invalid prefect_files '/abs/prefect'"],
    [{ base_image: '' }, "Invalid base_image ''. Expected an image reference"],
    [{ run_cmd: '  ' }, "Invalid run_cmd ''. Expected a command"],
  ])('rejects %j with a ConfigError', (overrides, message) => {
    const render = () => renderDockerfile(quickstartKwargs(overrides));
    expect(render).toThrow(ConfigError);
    expect(render).toThrow(message);
  });

  it('writes no LABEL (labels are passed at build time)', () => {
    expect(renderDockerfile(quickstartServeKwargs())).not.toMatch(/^LABEL/m);
  });
});
