#!/usr/bin/env node
// Start-up and scale, side by side in one run, against the real Prefect server the
// test services start (bash scripts/services.sh start; LOLPOP_TEST_PREFECT_URL):
//
//   bare `node -e 0`                            the floor: what any Node program pays
//   bare node's first request                   `node -e "fetch(url)"`: the floor for a program that talks
//   the action's start-up                       spawn of dist/index.js (as the runner runs it) → its first HTTP request
//   our deploy + run                            the action, and the CLI (`up --steps deploy,run`), spawn → exit
//   `prefect deploy` + `prefect deployment run` the Prefect CLI, from the cached venv of the test services
//   1 vs 10 vs 50 workflows in one step         the action with `config: teams/*/lolpop.yaml`
//
// Every request goes through a counting proxy in front of Prefect: requests per
// deployment are counted, not estimated. Figures are medians of --runs runs (default 5);
// ratios are printed beside them, and a figure that misses its target says so.
// Deployments go to a work pool of their own with no worker (created here, removed at
// the end with everything deployed into it), so no flow run executes and the figures
// are the client's and the API's, not a worker's. The scale rows delete their flow runs
// after each run, outside its time (unpicked runs turn Late, which the server would be
// busy marking during the next run).
//
// Usage: node bench/startup-and-scale.mjs [--runs 5] [--bundle dist] [--node path]
//          [--startup-runs 3×runs] [--workflows 1,10,50] [--max-parallel all,4] [--no-prefect-cli] [--keep] [--trace]
//          [--servers main,sqlite,postgres] [--only scale]
//   --bundle   a directory with index.js (the action) and cli/index.js (the CLI), default dist/
//   --node     the Node that runs the action, default $LOLPOP_TEST_NODE24, else this Node
//   --max-parallel  the max-parallel inputs to run several workflows with, default all,4 (all at once;
//              4, the input's default); one row each
//   --servers  the Prefect servers to run the scale rows against, side by side (default main):
//              main     $LOLPOP_TEST_PREFECT_URL, the test services' (SQLite, shared with the tests)
//              sqlite   $LOLPOP_BENCH_PREFECT_SQLITE_URL   } bash scripts/bench-services.sh start:
//              postgres $LOLPOP_BENCH_PREFECT_POSTGRES_URL } the same Prefect, nothing else on them
//              the start-up rows use the first one
//   --only scale    the scale rows only (no start-up, single deploy or Prefect CLI rows)
//   --capacity 1,4  before the scale rows, what each server sustains without our client: 50
//              POST /flows/, 50 POST /deployments/, 50 create_flow_run, sent straight from
//              here (kept-alive connections) that many at once; accepted requests/s and the
//              median time of one ('none' skips)
//   Each scale row notes what the proxy saw of the server: the median time a request took
//   there (arrival at the proxy → end of the answer), the requests per second over the
//   run (first request → last answer), and the most requests in flight at once; and of the
//   client: spawn → its first request, its last answer → exit, and the TCP connections it
//   opened (fewer than its requests: kept alive and reused).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = { startupMs: 150, scale50: 3, requestsPerDeployment: 4 };

// ---------- options ----------
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const flag = (name) => args.includes(`--${name}`);
if (flag('help')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}
const RUNS = Number(opt('runs', '5'));
/** Start-up runs are short: three times as many, so their medians hold still. */
const STARTUP_RUNS = Number(opt('startup-runs', String(RUNS * 3)));
const BUNDLE = path.resolve(ROOT, opt('bundle', 'dist'));
const NODE = opt('node', process.env.LOLPOP_TEST_NODE24 || process.execPath);
const WORKFLOWS = opt('workflows', '1,10,50').split(',').map(Number).filter((n) => n > 0);
/** The max-parallel inputs to run each scale row with: 'all' (every workflow at once) and numbers. */
const MAX_PARALLEL = opt('max-parallel', 'all,4').split(',').map((v) => v.trim()).filter(Boolean);
/** --trace: every request through the proxy on stderr, with its answer's status. */
const TRACE = flag('trace');
/** --capacity c1,c2: what each server sustains, by endpoint, at these concurrencies (default 1,4; 'none' skips). */
const CAPACITY = opt('capacity', '1,4') === 'none' ? [] : opt('capacity', '1,4').split(',').map(Number).filter((n) => n >= 1);
/** The servers --servers can name, and where their URL comes from. */
const SERVER_SOURCES = {
  main: ['LOLPOP_TEST_PREFECT_URL', 'bash scripts/services.sh start'],
  sqlite: ['LOLPOP_BENCH_PREFECT_SQLITE_URL', 'bash scripts/bench-services.sh start'],
  postgres: ['LOLPOP_BENCH_PREFECT_POSTGRES_URL', 'bash scripts/bench-services.sh start'],
};
const SERVER_NAMES = opt('servers', 'main').split(',').map((v) => v.trim()).filter(Boolean);
for (const name of SERVER_NAMES) {
  const [variable, how] = SERVER_SOURCES[name] ?? fail(`--servers: unknown server '${name}' (known: ${Object.keys(SERVER_SOURCES).join(', ')})`);
  if (!process.env[variable]) fail(`${variable} is not set: start the servers (${how}) and load their env`);
}
if (SERVER_NAMES.length === 0) fail('--servers names no server');
const ONLY = opt('only', undefined);
if (ONLY !== undefined && ONLY !== 'scale') fail('--only takes one value: scale');
if (!existsSync(path.join(BUNDLE, 'index.js'))) fail(`${BUNDLE}/index.js does not exist: npm run bundle, or --bundle <dir>`);
if (!(RUNS >= 1)) fail('--runs must be a positive number');

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

// ---------- the counting proxy in front of Prefect ----------
/** Counts requests (by phase) and notes when the first one of a phase arrives. */
class CountingProxy {
  constructor(upstream) {
    this.upstream = new URL(upstream);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    this.reset();
    this.server = http.createServer((req, res) => this.forward(req, res));
    // TCP connections the client opened: fewer than requests means it reused them (keep-alive).
    this.server.on('connection', () => (this.connections += 1));
  }
  reset(onFirst) {
    this.count = 0;
    /** The run step's own requests (create_flow_run), counted apart from the deployment's. */
    this.runCount = 0;
    this.firstAt = undefined;
    /** Answers that were not 2xx/3xx, by status (a 503 is retried by the client: it counts twice). */
    this.errors = {};
    this.onFirst = onFirst;
    /** Per request: ms from its arrival to the end of the answer. */
    this.latencies = [];
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.lastEnd = undefined;
    this.connections = 0;
  }
  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const url = new URL(this.upstream);
    url.host = `127.0.0.1:${this.server.address().port}`;
    return url.href.replace(/\/$/, '');
  }
  forward(req, res) {
    if (this.firstAt === undefined) {
      this.firstAt = performance.now();
      this.firstRequest = `${req.method} ${req.url?.split('?')[0]}`;
      this.onFirst?.();
    }
    this.count += 1;
    const arrived = performance.now();
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.inFlight -= 1;
      this.lastEnd = performance.now();
      this.latencies.push(this.lastEnd - arrived);
    };
    res.on('finish', finish);
    res.on('close', finish);
    if (/\/create_flow_run\/?(\?|$)/.test(req.url ?? '')) this.runCount += 1;
    const upstream = http.request(
      { host: this.upstream.hostname, port: this.upstream.port || 80, method: req.method, path: req.url, headers: { ...req.headers, host: this.upstream.host }, agent: this.agent },
      (answer) => {
        if (TRACE) console.error(`  ${req.method} ${req.url} → ${answer.statusCode}`);
        if ((answer.statusCode ?? 502) >= 400) this.errors[answer.statusCode] = (this.errors[answer.statusCode] ?? 0) + 1;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstream);
  }
  close() {
    this.agent.destroy();
    this.server.closeAllConnections?.();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

// ---------- helpers ----------
const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Spawns a command; resolves with its wall time (spawn → exit), status and output. */
function timed(command, argv, options, onSpawn) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(command, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    onSpawn?.(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => resolve({ ms: NaN, t0, status: -1, output: String(error) }));
    child.on('close', (status) => resolve({ ms: performance.now() - t0, t0, status, output }));
  });
}

async function prefect(api, method, route, body) {
  let response;
  // A busy server (SQLite) answers 503 at times: retry, as every client does.
  for (let attempt = 0; ; attempt += 1) {
    response = await fetch(`${api}/${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (![429, 503].includes(response.status) || attempt === 5) break;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
  }
  const text = await response.text();
  if (!response.ok && response.status !== 404) throw new Error(`${method} ${route} → ${response.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** The action's inputs as the runner passes them: action.yml's defaults, then `with:`. */
function actionEnv(cwd, inputs, extra) {
  const action = parseYaml(readFileSync(path.join(ROOT, 'action.yml'), 'utf8'));
  const all = { ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ''])), ...inputs };
  const files = mkdtempSync(path.join(os.tmpdir(), 'bench-gh-'));
  writeFileSync(path.join(files, 'output'), '');
  writeFileSync(path.join(files, 'summary'), '');
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: path.join(files, 'output'),
    GITHUB_STEP_SUMMARY: path.join(files, 'summary'),
    GITHUB_WORKSPACE: cwd,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_SHA: createHash('sha1').update('bench').digest('hex'),
    GITHUB_REPOSITORY: 'acme/bench',
    // A new workflow run each time: the run step's idempotency key is per run attempt.
    GITHUB_RUN_ID: String(Date.now() * 1000 + Math.floor(Math.random() * 1000)),
    GITHUB_RUN_ATTEMPT: '1',
    ...Object.fromEntries(Object.entries(all).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])),
    ...extra,
  };
}

const FLOWS_PY = 'from prefect import flow\n\n\n@flow\ndef hello(name: str = "world"):\n    print(f"hello, {name}!")\n';
const workflowYaml = (name, pool, dir) => `decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  deployment:
    name: ${name}
    deploy:
      work_pool: ${pool}
      flow_entrypoint: flows/flows.py:hello
      pull_steps: [{prefect.deployments.steps.set_working_directory: {directory: "${dir}"}}]
`;

/** A checkout with teams/tNN/lolpop.yaml for n workflows (and lolpop.yaml for one). */
function project(root, n, pool, tag) {
  const dir = path.join(root, `p-${tag}`);
  mkdirSync(path.join(dir, 'flows'), { recursive: true });
  writeFileSync(path.join(dir, 'flows', 'flows.py'), FLOWS_PY);
  writeFileSync(path.join(dir, 'lolpop.yaml'), workflowYaml(`bench-${tag}`, pool, dir));
  for (let i = 1; i <= n; i += 1) {
    const team = `t${String(i).padStart(2, '0')}`;
    mkdirSync(path.join(dir, 'teams', team), { recursive: true });
    writeFileSync(path.join(dir, 'teams', team, 'lolpop.yaml'), workflowYaml(`bench-${tag}-${team}`, pool, dir));
  }
  return dir;
}

/** The Prefect CLI the test services installed (scripts/services.sh), keyed like there. */
function prefectCli() {
  const requirements = path.join(ROOT, 'scripts', 'prefect-requirements.txt');
  const key = createHash('sha256').update(readFileSync(requirements)).digest('hex').slice(0, 12);
  const candidates = [process.env.PREFECT_VENV, path.join(process.env.LOLPOP_CI_CACHE || '/opt/lolpop-deploy-ci', `prefect-${key}`)].filter(Boolean);
  return candidates.map((venv) => path.join(venv, 'bin', 'prefect')).find((bin) => existsSync(bin));
}

/** Deletes the flow runs in the bench's pool on a server (straight, not through its proxy). */
async function deleteRuns(api) {
  for (;;) {
    const runs = await prefect(api, 'POST', 'flow_runs/filter', { work_pools: { name: { any_: [pool] } }, limit: 200 });
    if (!runs?.length) break;
    for (const r of runs) await prefect(api, 'DELETE', `flow_runs/${r.id}`);
  }
}

// ---------- the bench ----------
const uid = Math.random().toString(36).slice(2, 8);
const pool = `lolpop-bench-${uid}`;
/** Each server with a counting proxy of its own; the first is also the start-up rows'. */
const servers = [];
for (const name of SERVER_NAMES) {
  const api = process.env[SERVER_SOURCES[name][0]];
  const proxy = new CountingProxy(api);
  servers.push({ name, api, proxy, proxyUrl: await proxy.start(), version: (await prefect(api, 'GET', 'admin/version').catch(() => '?')) });
}
const { api: API, proxy, proxyUrl: PROXY_URL } = servers[0];
const work = mkdtempSync(path.join(os.tmpdir(), 'lolpop-bench-'));
const rows = [];
const problems = [];
const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();

/** One measured phase: runs `once` RUNS times (or `runs`), the proxy's counter reset each time. */
async function measure(label, once, { runs = RUNS, untilFirstRequest = false, proxy = servers[0].proxy, after } = {}) {
  const results = [];
  const errors = {};
  const server = { latencyMs: [], perSecond: [], maxInFlight: [], connections: [], headMs: [], tailMs: [] };
  for (let i = 0; i < runs; i += 1) {
    let child;
    // Start-up only: the process is stopped once its first request has arrived.
    proxy.reset(untilFirstRequest ? () => child?.kill('SIGKILL') : undefined);
    const r = await once((c) => (child = c));
    // The deploy's requests and the run's: a command that says (the Prefect CLI's two), else by endpoint.
    const deployRequests = r.deployRequests ?? proxy.count - proxy.runCount;
    results.push({ ...r, requests: deployRequests, runRequests: proxy.count - deployRequests, firstMs: proxy.firstAt === undefined ? NaN : proxy.firstAt - r.t0 });
    for (const [status, n] of Object.entries(proxy.errors)) errors[status] = (errors[status] ?? 0) + n;
    server.latencyMs.push(median(proxy.latencies));
    if (proxy.count > 1) server.perSecond.push((proxy.count / (proxy.lastEnd - proxy.firstAt)) * 1000);
    server.maxInFlight.push(proxy.maxInFlight);
    server.connections.push(proxy.connections);
    // The client's own time: spawn → first request, last answer → exit.
    if (proxy.firstAt !== undefined) {
      server.headMs.push(proxy.firstAt - r.t0);
      server.tailMs.push(r.t0 + r.ms - proxy.lastEnd);
    }
    const stopped = untilFirstRequest && proxy.firstAt !== undefined;
    await after?.();
    if (r.status !== 0 && !stopped) problems.push(`${label} (run ${i + 1}) exited ${r.status}:\n${r.output.trim().split('\n').slice(-8).join('\n')}`);
  }
  return {
    ms: median(results.map((r) => r.ms)),
    firstMs: median(results.map((r) => r.firstMs)),
    requests: median(results.map((r) => r.requests)),
    runRequests: median(results.map((r) => r.runRequests)),
    /** e.g. "3 × 503" over all runs: the server was busy and the client retried. */
    errors: Object.entries(errors).map(([status, n]) => `${n} × ${status}`).join(', '),
    /** What the proxy saw of the server: median per-request time, requests/s over a run, most in flight at once. */
    server: Object.fromEntries(Object.entries(server).map(([k, v]) => [k, median(v)])),
  };
}

/** requests: the deployment's (deploy step), runRequests: the run step's, both for `deployments` deployments. */
function row(what, ms, { ratio, requests, runRequests, deployments = 1, target, ok, note } = {}) {
  const per = (n) => Math.round((n / deployments) * 10) / 10;
  const perDeployment = requests === undefined ? undefined : `${per(requests)}${runRequests ? ` + ${per(runRequests)} run` : ''}`;
  rows.push({ what, ms, ratio, perDeployment, target, ok, note });
}

try {
  for (const server of servers) await prefect(server.api, 'POST', 'work_pools/', { name: pool, type: 'process', description: 'lolpop-deploy bench: no worker, runs stay scheduled' });
  const one = project(work, 0, pool, uid);
  const actionMain = path.join(BUNDLE, 'index.js');
  if (ONLY !== 'scale') {
    // 1. Start-up: bare Node, bare Node's first request, the action's first request,
    // interleaved (the three see the same machine) and STARTUP_RUNS of each, as they are
    // short. The action is stopped once its first request has arrived.
    const startup = { bare: [], fetch: [], action: [], pr: [] };
    const firstOnPr = new Set();
    // A pull_request run with its PR comment: the comment (Octokit, loaded on first use) may be
    // the first request. GITHUB_API_URL points at the proxy too; the run is stopped at the first.
    const prEvent = path.join(one, 'event.json');
    writeFileSync(prEvent, JSON.stringify({ action: 'synchronize', number: 7, pull_request: { number: 7, head: { sha: createHash('sha1').update('bench').digest('hex') } }, repository: { full_name: 'acme/bench', default_branch: 'main' } }));
    const prEnv = { PREFECT_API_URL: PROXY_URL, GITHUB_API_URL: PROXY_URL, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: prEvent, GITHUB_REF: 'refs/pull/7/merge' };
    for (let i = 0; i < STARTUP_RUNS; i += 1) {
      startup.bare.push((await measure('bare node', () => timed(NODE, ['-e', '0']), { runs: 1 })).ms);
      const fetchUrl = JSON.stringify(`${PROXY_URL}/health`);
      startup.fetch.push((await measure('node -e fetch', (onSpawn) => timed(NODE, ['-e', `fetch(${fetchUrl}).then((r) => r.text())`], {}, onSpawn), { runs: 1 })).firstMs);
      const first = await measure(
        'action start-up',
        (onSpawn) => timed(NODE, [actionMain], { cwd: one, env: actionEnv(one, { steps: 'deploy,run', comment: 'never', config: 'lolpop.yaml' }, { PREFECT_API_URL: PROXY_URL }) }, onSpawn),
        { runs: 1, untilFirstRequest: true },
      );
      startup.action.push(first.firstMs);
      const pr = await measure(
        'action start-up on a pull_request',
        (onSpawn) => timed(NODE, [actionMain], { cwd: one, env: actionEnv(one, { steps: 'deploy,run', comment: 'auto', 'github-token': 'bench-token', config: 'lolpop.yaml' }, prEnv) }, onSpawn),
        { runs: 1, untilFirstRequest: true },
      );
      startup.pr.push(pr.firstMs);
      if (proxy.firstRequest) firstOnPr.add(proxy.firstRequest.replace(/\/api\//, '/').replace(/[0-9a-f-]{36}/g, ':id'));
    }
    const bare = { ms: median(startup.bare) };
    const bareFetchMs = median(startup.fetch);
    const startupMs = median(startup.action);
    row('bare `node -e 0` (spawn → exit)', bare.ms, { ratio: 1, note: `median of ${STARTUP_RUNS}` });
    row('bare node, first request (`node -e "fetch(…)"`)', bareFetchMs, { ratio: bareFetchMs / bare.ms, note: `median of ${STARTUP_RUNS}` });
    row("the action's start-up (spawn → first request)", startupMs, {
      ratio: startupMs / bare.ms,
      target: `≤ ${TARGETS.startupMs} ms`,
      ok: startupMs <= TARGETS.startupMs,
      note: `median of ${STARTUP_RUNS}`,
    });
    const prMs = median(startup.pr);
    row("the action's start-up on a pull_request, PR comment on", prMs, {
      ratio: prMs / bare.ms,
      target: `≤ ${TARGETS.startupMs} ms`,
      ok: prMs <= TARGETS.startupMs,
      note: `median of ${STARTUP_RUNS}; first request: ${[...firstOnPr].join(' or ') || 'none'}`,
    });

    // 2. The action, deploy + run to the end.
    const action = await measure('action deploy,run', () =>
      timed(NODE, [actionMain], {
        cwd: one,
        env: actionEnv(one, { steps: 'deploy,run', comment: 'never', config: 'lolpop.yaml' }, { PREFECT_API_URL: PROXY_URL }),
      }),
    );
    row('the action: deploy + run (spawn → exit)', action.ms, {
      ratio: action.ms / bare.ms,
      requests: action.requests,
      runRequests: action.runRequests,
      target: `≤ ${TARGETS.requestsPerDeployment} per deployment`,
      ok: action.requests <= TARGETS.requestsPerDeployment,
      note: action.errors && `server answered ${action.errors}`,
    });

    // 3. The CLI, same deploy + run.
    const cliEntry = path.join(BUNDLE, 'cli', 'index.js');
    let ours = action.ms;
    if (existsSync(cliEntry)) {
      const cli = await measure('cli up', () =>
        timed(NODE, [cliEntry, 'up', '-c', 'lolpop.yaml', '--steps', 'deploy,run'], { cwd: one, env: { PATH: process.env.PATH, HOME: process.env.HOME, PREFECT_API_URL: PROXY_URL } }),
      );
      ours = cli.ms;
      row('the CLI: `up --steps deploy,run` (spawn → exit)', cli.ms, {
        ratio: cli.ms / bare.ms,
        requests: cli.requests,
        runRequests: cli.runRequests,
        target: `≤ ${TARGETS.requestsPerDeployment} per deployment`,
        ok: cli.requests <= TARGETS.requestsPerDeployment,
        note: cli.errors && `server answered ${cli.errors}`,
      });
    } else {
      row('the CLI: `up --steps deploy,run`', NaN, { note: `no ${cliEntry}` });
    }

    // 4. The Prefect CLI: prefect deploy + prefect deployment run.
    const bin = flag('no-prefect-cli') ? undefined : prefectCli();
    if (bin) {
      const env = {
        PATH: process.env.PATH,
        HOME: mkdtempSync(path.join(work, 'prefect-home-')),
        PREFECT_API_URL: PROXY_URL,
        PREFECT_CLI_PROMPT: 'false',
        PREFECT_TELEMETRY_ENABLED: 'false',
        DO_NOT_TRACK: '1',
      };
      const cli = await measure('prefect CLI', async () => {
        const deploy = await timed(bin, ['--no-prompt', 'deploy', 'flows/flows.py:hello', '-n', `bench-cli-${uid}`, '-p', pool], { cwd: one, env });
        if (deploy.status !== 0) return deploy;
        const deployRequests = proxy.count;
        const run = await timed(bin, ['deployment', 'run', `hello/bench-cli-${uid}`], { cwd: one, env });
        return { ...run, ms: deploy.ms + run.ms, t0: deploy.t0, deployRequests };
      });
      row('`prefect deploy` + `prefect deployment run`', cli.ms, {
        ratio: cli.ms / bare.ms,
        requests: cli.requests,
        runRequests: cli.runRequests,
        note: [`${(cli.ms / ours).toFixed(1)}× ours (the CLI row)`, cli.errors && `server answered ${cli.errors}`].filter(Boolean).join("; "),
      });
    } else {
      row('`prefect deploy` + `prefect deployment run`', NaN, { note: flag('no-prefect-cli') ? 'skipped (--no-prefect-cli)' : 'no Prefect CLI venv (bash scripts/services.sh start installs it)' });
    }

  }

  // 4b. What each server sustains, without our client: the requests a workflow sends, 50
  // of each, from here over kept-alive connections, `concurrency` at once.
  const capacity = [];
  for (const concurrency of CAPACITY) {
    for (const server of servers) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
      const send = (method, route, body) =>
        new Promise((resolve, reject) => {
          const url = new URL(`${server.api}/${route}`);
          const data = body === undefined ? undefined : JSON.stringify(body);
          const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
            let text = '';
            res.on('error', reject);
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
          });
          req.on('error', reject);
          req.end(data);
        });
      const tag = `cap-${uid}-c${concurrency}-${server.name}`;
      const flowId = (await prefect(server.api, 'POST', 'flows/', { name: tag })).id;
      const deployment = (i) => ({ name: `${tag}-${i}`, flow_id: flowId, work_pool_name: pool, entrypoint: 'flows/flows.py:hello', path: work, parameter_openapi_schema: { type: 'object', properties: {} } });
      // Runs of one deployment (made with retries): the runs' cost does not depend on the deployments' fate.
      const target = (await prefect(server.api, 'POST', 'deployments/', deployment('runs'))).id;
      const kinds = [
        ['POST /flows/', () => send('POST', 'flows/', { name: tag })],
        ['POST /deployments/', (i) => send('POST', 'deployments/', deployment(i))],
        ['create_flow_run', () => send('POST', `deployments/${target}/create_flow_run`, { parameters: {} })],
      ];
      for (const [kind, call] of kinds) {
        const N = 50;
        let next = 0;
        const times = [];
        const statuses = {};
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < N) {
              const i = next++;
              const t = performance.now();
              // A dropped connection counts as a refusal, as a status would.
              const r = await call(i).catch(() => ({ status: 'a dropped connection' }));
              times.push(performance.now() - t);
              statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            }
          }),
        );
        const ms = performance.now() - t0;
        const refused = Object.entries(statuses).filter(([status]) => !(Number(status) < 400)).map(([status, n]) => `${n} × ${status}`).join(', ');
        const accepted = Object.entries(statuses).filter(([status]) => Number(status) < 400).reduce((sum, [, n]) => sum + n, 0);
        capacity.push({ server: server.name, concurrency, kind, perSecond: (accepted / ms) * 1000, medianMs: median(times), refused });
      }
      agent.destroy();
      await deleteRuns(server.api);
    }
  }
  for (const c of capacity) {
    row(`server capacity: ${c.kind}, ${c.concurrency} at once${servers.length > 1 ? `, ${c.server}` : ''}`, c.medianMs, {
      note: [`${Math.round(c.perSecond)} accepted/s (50 requests straight to the server; time: their median)`, c.refused && `answered ${c.refused}`].filter(Boolean).join('; '),
    });
  }

  // 5. 1 vs 10 vs 50 workflows in one step: the action with a glob, on each server in
  // turn (row by row, so the servers see the same machine); ratios to the same server's.
  const one1 = new Map();
  const scaleRows = new Map(servers.map((s) => [s.name, []]));
  for (const n of WORKFLOWS) {
    const dir = project(work, n, pool, `${uid}-n${n}`);
    const parallels = [...new Set(MAX_PARALLEL.map((v) => (v === 'all' ? n : Math.min(Number(v), n))).filter((v) => v >= 1))];
    for (const maxParallel of parallels) {
      for (const server of servers) {
        const r = await measure(
          `${n} workflows, max-parallel ${maxParallel}, ${server.name}`,
          () =>
            timed(NODE, [actionMain], {
              cwd: dir,
              env: actionEnv(dir, { steps: 'deploy,run', comment: 'never', config: 'teams/*/lolpop.yaml', 'max-parallel': String(maxParallel) }, { PREFECT_API_URL: server.proxyUrl }),
            }),
          // The runs made go before the next run, outside its time: with no worker they would turn
          // Late 15 s later, and the server's late-runs service would mark them during the next one.
          { proxy: server.proxy, after: () => deleteRuns(server.api) },
        );
        if (!one1.has(server.name)) one1.set(server.name, { n, ms: r.ms });
        const base = one1.get(server.name);
        const ratio = r.ms / base.ms;
        const seen = r.server;
        scaleRows.get(server.name).push([
          `${n} workflow${n === 1 ? '' : 's'} in one step (max-parallel ${maxParallel})${servers.length > 1 ? `, ${server.name}` : ''}`,
          r.ms,
          {
            ratio,
            requests: r.requests,
            runRequests: r.runRequests,
            deployments: n,
            target: n === 50 ? `≤ ${TARGETS.scale50}× one, ≤ ${TARGETS.requestsPerDeployment} per dep.` : `≤ ${TARGETS.requestsPerDeployment} per deployment`,
            ok: (n !== 50 || ratio <= TARGETS.scale50) && r.requests / n <= TARGETS.requestsPerDeployment,
            note: [
              base.n === n ? 'ratio: to this row' : `ratio: to ${base.n} workflow${base.n === 1 ? '' : 's'}`,
              `client: ${Math.round(seen.headMs)} ms to the first request, ${Math.round(seen.tailMs)} ms from the last answer to exit, ${seen.connections} connections`,
              `server: ${Math.round(seen.latencyMs)} ms a request, ${Math.round(seen.perSecond)}/s, ≤ ${seen.maxInFlight} at once`,
              r.errors && `answered ${r.errors}`,
            ]
              .filter(Boolean)
              .join('; '),
          },
        ]);
      }
    }
  }
  // One block per server, in --servers order.
  for (const server of servers) for (const args of scaleRows.get(server.name)) row(...args);
} finally {
  // Everything deployed into the bench pool goes, then the pool.
  if (!flag('keep')) {
    for (const { api } of servers) {
      try {
        for (;;) {
          const deployments = await prefect(api, 'POST', 'deployments/filter', { work_pools: { name: { any_: [pool] } }, limit: 200 });
          if (!deployments?.length) break;
          for (const d of deployments) await prefect(api, 'DELETE', `deployments/${d.id}`);
        }
        await deleteRuns(api);
        await prefect(api, 'DELETE', `work_pools/${pool}`);
      } catch (error) {
        console.error(`bench: cleaning up the work pool ${pool} at ${api} failed: ${error.message}`);
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
  for (const server of servers) await server.proxy.close();
}

// ---------- the table ----------
const fmt = (ms) => (Number.isFinite(ms) ? (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`) : '—');
const lines = [
  `lolpop-deploy start-up and scale — ${os.type()} ${os.release()}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${nodeVersion} (${NODE})`,
  `bundle ${path.relative(process.cwd(), BUNDLE) || '.'}; Prefect ${servers.map((s) => `${s.name} ${s.api} (${s.version})`).join(', ')}, each through a counting proxy; median of ${RUNS} run${RUNS === 1 ? '' : 's'}; ratios to bare \`node -e 0\` unless the note says otherwise`,
  '',
];
const header = ['', 'median', 'ratio', 'requests per deployment', 'target', ''];
const table = [header, ...rows.map((r) => [
  r.what,
  fmt(r.ms),
  r.ratio === undefined || !Number.isFinite(r.ratio) ? '' : `${r.ratio.toFixed(2)}×`,
  r.perDeployment ?? '',
  r.target ?? '',
  [r.target ? (r.ok ? 'ok' : 'MISSED') : '', r.note ?? ''].filter(Boolean).join('  '),
])];
const widths = header.map((_, i) => Math.max(...table.map((cells) => cells[i].length)));
for (const cells of table) lines.push(cells.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
console.log(lines.join('\n'));
if (problems.length) {
  console.log(`\n${problems.length} run(s) failed (their times are in the medians):`);
  for (const p of problems.slice(0, 5)) console.log(`- ${p}`);
}
process.exitCode = problems.length ? 1 : 0;
