#!/usr/bin/env node
import packageJson from '../package.json' with { type: 'json' };
import { main } from './cli/main.js';

// The command line's only side effects: read argv and the environment, write, exit.
main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  version: packageJson.version,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
