import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localProject } from '../local/project.js';
import { hostileProject } from './files-project.js';

describe('two local workflows whose names differ only in characters the cleaning replaces', () => {
  it("`team/a` runs its own flow, not `team_a`'s, each from its own record", async () => {
    const { dir } = hostileProject();
    mkdirSync(path.join(dir, 'team'));
    const { deployFlow, logger } = localProject({}, {}, dir);
    const slashed = await deployFlow('team/a', 'def main():\n    print("I am team/a")\n');
    await deployFlow('team_a', 'def main():\n    print("I am team_a")\n');
    const result = await slashed.run({ wait: true, wait_timeout: 30_000 });
    expect(result.state).toBe('COMPLETED');
    expect(logger.lines).toContain('info: I am team/a');
    expect(logger.lines).not.toContain('info: I am team_a');
  });
});
