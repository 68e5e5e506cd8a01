import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const API_KEY = 'pnu_hostile0123456789abcdef';

/** A Prefect stand-in that echoes the caller's API key back in every answer, with terminal sequences. */
function echoingServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ detail: `bad request for ${key} \u001b]0;owned\u0007\u001b[2J\u001b[31mred` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const CONFIG = `decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  deployment:
    name: echo
    deploy:
      work_pool: pool
      flow_entrypoint: flows.py:hello
`;

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-redact-cli-'));
  writeFileSync(path.join(dir, 'lolpop.yaml'), CONFIG);
  writeFileSync(path.join(dir, 'flows.py'), 'def hello():\n    pass\n');
  let stdout = '';
  let stderr = '';
  // No io.logger: the CLI's own ConsoleLogger, as a user runs it; its lines go to process.stderr.
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { PATH: process.env.PATH, ...env }, cwd: dir });
    return { code, stdout, stderr };
  } finally {
    write.mockRestore();
  }
}

// The CLI masked only ${VAR} values: an API key a server echoed back reached stdout,
// --json and the error: line; and a server's terminal sequences reached the terminal.
describe('the CLI prints no secret any part registered, and no terminal control sequence', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = await echoingServer();
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterAll(() => server.close());

  it('a server-echoed API key is not in the error: line', async () => {
    const { code, stderr } = await cli(['plan', '-c', 'lolpop.yaml'], { PREFECT_API_URL: url, PREFECT_API_KEY: API_KEY });
    expect(code).toBe(1);
    expect(stderr).toContain('bad request for ***');
    expect(stderr).not.toContain(API_KEY);
  });

  it('a server-echoed API key is not in --json', async () => {
    const { code, stdout } = await cli(['plan', '-c', 'lolpop.yaml', '--json'], { PREFECT_API_URL: url, PREFECT_API_KEY: API_KEY });
    expect(code).toBe(1);
    expect(stdout).toContain('bad request for ***');
    expect(stdout).not.toContain(API_KEY);
  });

  it('a server-echoed API key is not in the human summary on stdout', async () => {
    const { stdout } = await cli(['plan', '-c', 'lolpop.yaml'], { PREFECT_API_URL: url, PREFECT_API_KEY: API_KEY });
    expect(stdout).toContain('bad request for ***');
    expect(stdout).not.toContain(API_KEY);
  });

  it("a server's terminal sequences do not reach the terminal", async () => {
    const { stdout, stderr } = await cli(['plan', '-c', 'lolpop.yaml', '--verbose'], { PREFECT_API_URL: url, PREFECT_API_KEY: API_KEY });
    for (const printed of [stdout, stderr]) {
      expect(printed).toContain('bad request for *** red');
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      expect(printed).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
  });
});
