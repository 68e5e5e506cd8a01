import { isPostStep } from './action/job-cancel.js';
import { run } from './action/main.js';
import { post } from './action/post.js';

// The action's entry (action.yml runs dist/index.js as main, then again as post); importing main.ts has no side effects.
void (isPostStep() ? post() : run());
