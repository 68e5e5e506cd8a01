import { run } from './main.js';

// The action's entry (action.yml runs dist/index.js); importing main.ts has no side effects.
void run();
