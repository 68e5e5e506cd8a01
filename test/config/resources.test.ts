import { describe, expect, it } from 'vitest';
import { Resources, unsupportedResources } from '../../src/config/resources.js';

describe('deploy.resources', () => {
  it('takes a bare request or a request and limit, in Kubernetes quantities', () => {
    const parsed = Resources.parse({ cpu: 0.5, memory: { request: '512Mi', limit: '1Gi' }, gpu: { count: 1 } });
    expect(parsed.cpu).toEqual({ request: '0.5', limit: undefined });
    expect(parsed.memory).toEqual({ request: '512Mi', limit: '1Gi' });
    expect(parsed.gpu).toEqual({ count: 1, resource: 'nvidia.com/gpu' });
  });

  it('refuses a quantity Kubernetes would refuse, and an unknown key', () => {
    expect(Resources.safeParse({ memory: '1 GB' }).success).toBe(false);
    expect(Resources.safeParse({ cpu: '500 millicores' }).success).toBe(false);
    expect(Resources.safeParse({ cpus: '1' }).success).toBe(false);
  });

  it('names the keys an orchestrator cannot honour', () => {
    const parsed = Resources.parse({ cpu: '1', gpu: { count: 2 }, node_selector: { pool: 'gpu' } });
    expect(unsupportedResources(parsed, ['cpu', 'memory'])).toEqual(['gpu', 'node_selector']);
    expect(unsupportedResources(undefined, [])).toEqual([]);
  });
});
