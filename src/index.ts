import { run } from './action/main.js';

// The action's entry (action.yml runs dist/index.js); importing main.ts has no side effects.
void run();
