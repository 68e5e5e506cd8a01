import { describe, expect, it } from 'vitest';
import { airflowConfigError, CHOSEN } from './config-error.js';

describe('orchestrator.config delivery: s3, the messages a user sees', () => {
  it('loads an s3 delivery, with or without an S3-compatible endpoint', () => {
    expect(airflowConfigError('    delivery: s3\n    s3: {bucket: acme-airflow-dags}')).toBe('');
    expect(airflowConfigError('    delivery: s3\n    s3: {bucket: dags, prefix: team/dags, endpoint_url: "http://127.0.0.1:18120", region: eu-west-1, profile: ci, bundle_name: lolpop-s3}')).toBe('');
  });

  it('delivery: s3 without a bucket, and an s3 block another delivery would ignore', () => {
    expect(airflowConfigError('    delivery: s3')).toBe(`lolpop.yaml:2:3: orchestrator.config.s3: delivery is s3: name the bucket (s3: {bucket: acme-airflow-dags, prefix: dags})${CHOSEN}`);
    expect(airflowConfigError('    s3: {bucket: acme-airflow-dags}')).toBe(
      `lolpop.yaml:3:5: orchestrator.config.s3: only read with delivery: s3 (delivery is folder); set delivery: s3 or remove it${CHOSEN}`,
    );
    expect(airflowConfigError('    delivery: s3\n    dags_folder: /srv/dags\n    s3: {bucket: acme-airflow-dags}')).toMatch(
      /^lolpop\.yaml:4:5: orchestrator\.config\.dags_folder: only read with delivery: folder; delivery s3 writes no local folder/,
    );
  });

  it('an s3:// bucket, an endpoint with credentials in it and a key unknown to s3 delivery, each at its line', () => {
    expect(airflowConfigError('    delivery: s3\n    s3:\n      bucket: "s3://acme"\n      endpoint_url: "http://key:secret@minio:9000"\n      secret_access_key: x')).toBe(
      [
        'lolpop.yaml:5:7: orchestrator.config.s3.bucket: expected a bucket name (3-63 lowercase letters, digits, dots and hyphens), e.g. acme-airflow-dags; without s3://',
        'lolpop.yaml:6:7: orchestrator.config.s3.endpoint_url: expected the store as an http(s) URL without a path or credentials, e.g. https://s3.example.com:9000',
        `lolpop.yaml:7:7: orchestrator.config.s3.secret_access_key: unknown key; check its spelling${CHOSEN}`,
      ].join('\n'),
    );
  });
});
