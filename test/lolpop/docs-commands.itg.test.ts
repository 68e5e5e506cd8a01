import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Exec, ExecOptions } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import { splitShellWords } from '../../src/packaging/shell-words.js';
import { prefectApi } from '../helpers/pipeline.js';
import { service, tempDir } from '../helpers/services.js';
import { kubeStandIn } from '../helpers/kube-stand-in.js';

// Every `lolpop deployment` command line of lolpop's PrefectOrchestrator docs page, in its
// order, run against our CLI from a project laid out as the docs' (prefect_files/ holds
// the runner and its config; the data at the root). Only the docs' shell typos are fixed:
// a stray `}` closing two --packaging-kwargs, `\ ` line continuations, and the run
// commands' missing `\` after the deployment name. Prefect is a real 2.20 server (the
// docs' lolpop runs Prefect 2); docker is recorded, not run, and the Kubernetes API
// is a stand-in (real builds are in test/docker, the real cluster in test/kubernetes). Where the docs itself is inconsistent, the row
// says so and expects the clear error a user then gets.

const prefect2 = service('LOLPOP_TEST_PREFECT2_URL');
// type kubernetes talks to the Kubernetes API: a stand-in records what is applied (the real
// cluster is test/kubernetes/static-deploy.itg.test.ts's).
let kube: Awaited<ReturnType<typeof kubeStandIn>>;
beforeAll(async () => {
  kube = await kubeStandIn();
});
afterAll(() => kube.close());

const PACKAGE_SERVE = `lolpop deployment package QuickstartRunner \\
    -m prefect_files.quickstart_runner \\
    -c prefect_files/quickstart.yaml \\
    --packager PrefectOrchestrator \\
    --packaging-kwargs '{"copy_files":["train.csv","test.csv", "process_titanic.py"], "lolpop_install_location":"prefect_files/lolpop-testing.tar.gz[cli,prefect,mlflow,xgboost]", "config_file":"prefect_files/quickstart.yaml", "skip_validation":true, "create_deployment":true, "docker_image_tag":"lolpop-quickstartrunner-build-all-serve"}'`;

const RUN_SERVE = `lolpop deployment run \\
    prefect-entrypoint/lolpop-quickstartrunner-build-all-serve \\
    -c prefect_files/quickstart.yaml \\
    --deployer PrefectOrchestrator`;

const RUN_POOL = `lolpop deployment run \\
    prefect-entrypoint/lolpop-quickstartrunner-build-all \\
    -c prefect_files/quickstart.yaml \\
    --deployer PrefectOrchestrator`;

interface Row {
  what: string;
  command: string;
  exit: 0 | 1;
  /** Checks on what was done: the recorded docker argv, the server, the files. */
  check?: (run: CommandRun) => Promise<void> | void;
}

interface CommandRun {
  stdout: string;
  stderr: string;
  log: string;
  calls: Array<{ command: string; args: string[]; input?: string }>;
  dir: string;
}

const ROWS: Row[] = [
  {
    what: 'static: package (create_deployment: the image serves the flow)',
    command: PACKAGE_SERVE,
    exit: 0,
    check: ({ calls, dir }) => {
      // The build, then the image check (its Prefect major against the server's).
      expect(calls.map((c) => `${c.command} ${c.args[0]}`)).toEqual(['docker build', 'docker run']);
      expect(calls[0]!.args.join(' ')).toContain('--tag lolpop-quickstartrunner-build-all-serve');
      const runPy = readFileSync(path.join(dir, 'prefect_files/run.py'), 'utf8');
      expect(runPy).toContain('from prefect_files.quickstart_runner import QuickstartRunner');
      expect(runPy).toContain('QuickstartRunner(conf="prefect_files/quickstart.yaml", skip_config_validation=True)');
      expect(runPy).toContain('prefect_entrypoint.serve(name="lolpop-deployment")');
      expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain('COPY train.csv test.csv process_titanic.py ./');
    },
  },
  {
    what: 'static: build (docker run of the image; no real container here, so it never registers)',
    command: `lolpop deployment build \\
    -c prefect_files/quickstart.yaml \\
    --deployer PrefectOrchestrator \\
    --deployment-kwargs='{"docker_image_name":"lolpop-quickstartrunner-build-all-serve"}'`,
    exit: 1,
    check: ({ calls, stderr }) => {
      const run = calls.find((c) => c.args[0] === 'run')!;
      expect(run.args).toContain('lolpop-quickstartrunner-build-all-serve');
      expect(stderr).toMatch(/has not registered it/);
    },
  },
  {
    what: "static: run — the docs' name differs from what .serve() registers (lolpop bug 6)",
    command: RUN_SERVE,
    exit: 1,
    check: ({ stderr }) =>
      expect(stderr).toMatch(/^error: Failed to find the served deployment 'prefect-entrypoint\/lolpop-quickstartrunner-build-all-serve' on \S+ after 2 s: its serving container or pod has not registered it/m),
  },
  { what: 'static kubernetes: package', command: PACKAGE_SERVE, exit: 0 },
  {
    what: 'static kubernetes: build -t kubernetes (Secret + flow Deployment applied; no cluster, so it never registers)',
    command: `lolpop deployment build \\
    -c prefect_files/quickstart.yaml \\
    --deployer PrefectOrchestrator \\
    --deployment-kwargs '{"flow_class":"prefect_files.run", "flow_entrypoint": "prefect_entrypoint","docker_image_name":"lolpop-quickstartrunner-build-all", "job_variables":{"image_pull_policy":"IfNotPresent", "namespace":"lolpop"}}' \\
    -n 'lolpop-quickstartrunner-build-all-serve' \\
    -t kubernetes`,
    exit: 1,
    check: ({ calls, stderr }) => {
      expect(calls).toEqual([]);
      const applied = kube.requests.filter((r) => r.method === 'PATCH' && !r.path.includes('dryRun=All'));
      expect(applied.map((r) => r.path.split('?')[0])).toEqual([
        '/api/v1/namespaces/lolpop/secrets/prefect-secrets',
        '/apis/apps/v1/namespaces/lolpop/deployments/lolpop-quickstartrunner-build-all-serve',
      ]);
      expect(JSON.stringify(applied[1]!.body)).toContain('"image":"lolpop-quickstartrunner-build-all"');
      expect(stderr).toMatch(/has not registered it/);
    },
  },
  { what: 'static kubernetes: run (nothing registered)', command: RUN_SERVE, exit: 1 },
  {
    what: 'docker pool: package (a docker pool runs containers: the image is built)',
    command: `lolpop deployment package QuickstartRunner \\
    -m prefect_files.quickstart_runner \\
    -c prefect_files/quickstart.yaml \\
    --packager PrefectOrchestrator \\
    --packaging-kwargs '{"copy_files":["train.csv","test.csv", "process_titanic.py"],   "lolpop_install_location":"prefect_files/lolpop-testing.tar.gz[cli,prefect,mlflow,xgboost]", "config_file":"prefect_files/quickstart.yaml", "skip_validation":true, "create_deployment":true, "work_pool":"lolpop-docker-pool", "docker_image_tag":"lolpop-quickstartrunner-build-all"}'`,
    exit: 0,
    check: ({ calls }) => expect(calls.map((c) => `${c.command} ${c.args[0]}`)).toEqual(['docker build', 'docker run']),
  },
  {
    what: 'docker pool: build (flow_class/flow_entrypoint name the generated flow; deployment_kwargs.job_variables reach it)',
    command: `lolpop deployment build \\
    -c prefect_files/quickstart.yaml \\
    --deployer PrefectOrchestrator  \\
    --deployment-kwargs='{ "work_pool":"lolpop-docker-pool", "flow_class":"prefect_files.run", "flow_entrypoint": "prefect_entrypoint","docker_image_name":"lolpop-quickstart-runner-build-all", "deployment_kwargs":{"job_variables":{"image_pull_policy":"Never"}}}' -n 'lolpop-quickstartrunner-build_all'`,
    exit: 0,
    check: async () => {
      const deployment = await readDeployment('lolpop-quickstartrunner-build_all');
      expect(deployment).toMatchObject({ work_pool_name: 'lolpop-docker-pool', entrypoint: 'prefect_files/run.py:prefect_entrypoint' });
      expect(deployment.jobVariables).toEqual({ image: 'lolpop-quickstart-runner-build-all', image_pull_policy: 'Never' });
    },
  },
  {
    what: "docker pool: run — the docs deployed '…build_all' and runs '…build-all'",
    command: RUN_POOL,
    exit: 1,
    // `run` is told no pool (the docs passes it to build only), so it looks for the name as a served deployment.
    check: ({ stderr }) => expect(stderr).toMatch(/^error: Failed to find the served deployment 'prefect-entrypoint\/lolpop-quickstartrunner-build-all' on \S+ after 2 s/m),
  },
  {
    what: 'kubernetes pool: package',
    command: `lolpop deployment package QuickstartRunner \\
    -m prefect_files.quickstart_runner \\
    -c prefect_files/quickstart.yaml \\
    --packager PrefectOrchestrator \\
    --packaging-kwargs '{"copy_files":["train.csv","test.csv", "process_titanic.py"], "lolpop_install_location":"prefect_files/lolpop-testing.tar.gz[cli,prefect,mlflow,xgboost]", "config_file":"prefect_files/quickstart.yaml", "skip_validation":true, "create_deployment":true, 
    "work_pool":"lolpop-k8s-pool", "docker_image_tag":"lolpop-quickstartrunner-build-all-serve"}'`,
    exit: 0,
  },
  {
    what: 'kubernetes pool: build -t kubernetes (Secret + worker applied, deployment on the pool)',
    command: `lolpop deployment build \\
    -c prefect_files/quickstart.yaml \\
    --deployer PrefectOrchestrator \\
    --deployment-kwargs '{"work_pool":"lolpop-k8s-pool", "flow_class":"prefect_files.run", "flow_entrypoint": "prefect_entrypoint","docker_image_name":"lolpop-quickstartrunner-build-all", "job_variables":{"image_pull_policy":"IfNotPresent", "namespace":"lolpop"}}' \\
    -n 'lolpop-quickstartrunner-build-all' \\
    -t kubernetes`,
    exit: 0,
    check: async () => {
      const worker = kube.requests.find((r) => r.method === 'PATCH' && r.path.startsWith('/apis/apps/v1/namespaces/lolpop/deployments/lolpop-quickstartrunner-build-all-lolpop-k8s-pool?'));
      expect(JSON.stringify(worker?.body)).toContain('"--pool","lolpop-k8s-pool"');
      const deployment = await readDeployment('lolpop-quickstartrunner-build-all');
      expect(deployment.work_pool_name).toBe('lolpop-k8s-pool');
      expect(deployment.jobVariables).toEqual({ image: 'lolpop-quickstartrunner-build-all', image_pull_policy: 'IfNotPresent', namespace: 'lolpop' });
    },
  },
  {
    what: 'kubernetes pool: run (a flow run is created; no cluster worker picks it up here)',
    command: RUN_POOL,
    exit: 0,
    check: ({ stdout }) => expect(stdout).toMatch(/^Flow run \S+: SCHEDULED$/m),
  },
];

/** A deployment as the server stores it; Prefect 2 reads job variables back as infra_overrides. */
async function readDeployment(name: string): Promise<Record<string, unknown> & { jobVariables: unknown }> {
  const deployment = await prefectApi<Record<string, unknown>>(prefect2!, 'GET', `deployments/name/prefect-entrypoint/${name}`);
  return { ...deployment, jobVariables: deployment.job_variables ?? deployment.infra_overrides };
}

/** The argv our CLI gets for a docs command line: the shell's words, without `lolpop deployment`. */
function argvOf(command: string): string[] {
  const { words } = splitShellWords(command.replace(/\\\n/g, ' '), 'docs command');
  expect(words.slice(0, 2)).toEqual(['lolpop', 'deployment']);
  return words.slice(2);
}

describe.skipIf(!prefect2)("the command lines of lolpop's PrefectOrchestrator docs, run in order against lolpop-deploy and a real Prefect 2 server", () => {
  const dir = tempDir('lolpop-docs');
  const home = tempDir('home');

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'prefect_files'));
    writeFileSync(
      path.join(dir, 'prefect_files/quickstart.yaml'),
      [
        '# The runner config of the docs page, with the decorator its text asks for.',
        'decorator:',
        '  orchestrator: PrefectOrchestrator',
        'orchestrator:',
        '  config: {prefect_profile: default}',
        '  deployment:',
        '    deploy: {serve_timeout: 2s}   # no container or cluster can serve here: fail fast',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'prefect_files/quickstart_runner.py'), 'class QuickstartRunner:\n    pass\n');
    writeFileSync(path.join(dir, 'prefect_files/lolpop-testing.tar.gz'), '');
    for (const file of ['train.csv', 'test.csv', 'process_titanic.py']) writeFileSync(path.join(dir, file), '');
    for (const [name, type] of [
      ['lolpop-docker-pool', 'docker'],
      ['lolpop-k8s-pool', 'kubernetes'],
    ]) {
      const res = await fetch(`${prefect2}/work_pools/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, type }) });
      expect([201, 409]).toContain(res.status);
    }
    // The rows expect the docs' names not to exist yet (the server outlives one run of the suite).
    for (const name of ['lolpop-quickstartrunner-build-all', 'lolpop-quickstartrunner-build_all', 'lolpop-quickstartrunner-build-all-serve', 'lolpop-deployment']) {
      const res = await fetch(`${prefect2}/deployments/name/prefect-entrypoint/${name}`);
      if (res.ok) await fetch(`${prefect2}/deployments/${((await res.json()) as { id: string }).id}`, { method: 'DELETE' });
    }
  });

  it.each(ROWS.map((row, i) => [i + 1, row.what, row] as const))('%i. %s', async (_n, _what, row) => {
    const calls: CommandRun['calls'] = [];
    const exec: Exec = {
      async run(command: string, args: string[], options: ExecOptions = {}) {
        // A Docker CLI without the buildx plugin, as Debian 12's: the classic `docker build`, not recorded.
        if (command === 'docker' && args[0] === 'buildx') return { exitCode: 1, stdout: '', stderr: "docker: 'buildx' is not a docker command." };
        calls.push({ command, args, input: options.input });
        // A started container reports itself running (it would be serving the flow); the
        // image, asked for its versions after the build, has what the docs' image would.
        const stdout =
          args[0] === 'container' && args[1] === 'inspect'
            ? 'running 0\n'
            : args[0] === 'run' && args.includes('python')
              ? '{"python": "3.11.2", "prefect": "2.20.27", "lolpop": "0.2.0"}\n'
              : '';
        return { exitCode: 0, stdout, stderr: '' };
      },
    };
    let stdout = '';
    let stderr = '';
    const logger = new MemoryLogger();
    const code = await main(argvOf(row.command), {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: { PATH: process.env.PATH, HOME: home, PREFECT_API_URL: prefect2, KUBECONFIG: kube.kubeconfig },
      cwd: dir,
      logger,
      exec,
    });
    const log = logger.lines.join('\n');
    expect(code, stderr + log).toBe(row.exit);
    await row.check?.({ stdout, stderr, log, calls, dir });
  });
});
