import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigSync } from '../../src/config/load.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { tempDir } from '../helpers/services.js';

/** The tail every message of a config chosen by --orchestrator ends with. */
export const CHOSEN = " (checked as AirflowOrchestrator's config, chosen by --orchestrator)";

/**
 * Loads an AirflowOrchestrator config whose orchestrator.config is `config` (lines indented
 * by four spaces): the error's message with the file shown as lolpop.yaml, or '' when it loads.
 */
export function airflowConfigError(config: string): string {
  const file = path.join(tempDir('airflow-config'), 'lolpop.yaml');
  writeFileSync(file, `orchestrator:\n  config:\n${config}\n  deployment:\n    name: d\n    type: local\n    package: {lolpop_class: R, lolpop_module: r}\n`);
  try {
    loadConfigSync(file, { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } }, orchestratorLookup, {});
    return '';
  } catch (error) {
    return (error as Error).message.replaceAll(path.relative(process.cwd(), file), 'lolpop.yaml');
  }
}
