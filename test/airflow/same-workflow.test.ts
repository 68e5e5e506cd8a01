import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// lolpop's promise: a workflow moves between orchestrators by a configuration change.
// The two quickstart files are run by the tests on a real Prefect 2 worker and a real
// Airflow; here: they are the same workflow, apart from the orchestrator section.
describe('examples/lolpop-quickstart on Prefect and on Airflow', () => {
  const read = (file: string) => parse(readFileSync(`examples/lolpop-quickstart/${file}`, 'utf8')) as Record<string, unknown>;

  it('differ only in the orchestrator section (and lolpop’s decorator, which has no Airflow class)', () => {
    const prefect = read('quickstart-prefect.yaml');
    const airflow = read('quickstart-airflow.yaml');
    expect(prefect.decorator).toEqual({ orchestrator: 'PrefectOrchestrator' });
    expect(airflow.decorator).toBeUndefined();
    const workflowOf = (file: Record<string, unknown>) => Object.fromEntries(Object.entries(file).filter(([key]) => key !== 'orchestrator' && key !== 'decorator'));
    const prefectWorkflow = workflowOf(prefect);
    const airflowWorkflow = workflowOf(airflow);
    expect(airflowWorkflow).toEqual(prefectWorkflow);
    expect(Object.keys(prefectWorkflow).length).toBeGreaterThan(2);
  });
});
