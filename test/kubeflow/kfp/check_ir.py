"""Checks IR files written by lolpop-deploy with the real kfp SDK (the venv of scripts/kfp-venv.sh).

Usage: python check_ir.py FILE...   Prints one JSON object per file: {"file", "errors": [...]}.
Each check is the SDK's own, strict (unknown fields and wrong types refused):
  proto     json_format.ParseDict(doc, PipelineSpec())
  deploy    ParseDict(deploymentSpec, PipelineDeploymentConfig()): PipelineSpec types it as a Struct,
            so the first check never looks inside the executors
  platform  ParseDict(doc2, PlatformSpec()) and each kubernetes executor config with
            kfp-kubernetes' KubernetesExecutorConfig (also a Struct in PlatformSpec)
  server    what the KFP API server 2.17 checks on upload: schemaVersion 2.1.0, a name, a root
  sdk       kfp.components.load_component_from_text loads it as a component
"""
import json
import sys

import yaml
from google.protobuf import json_format
from kfp import components
from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s
from kfp.pipeline_spec import pipeline_spec_pb2 as pb


def one_line(e):
    return ' '.join(str(e).split())


def check(text):
    errors = []
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    spec, platforms = docs[0], docs[1:]
    for name, run in (
        ('proto', lambda: json_format.ParseDict(spec, pb.PipelineSpec())),
        ('deploy', lambda: json_format.ParseDict(spec.get('deploymentSpec') or {}, pb.PipelineDeploymentConfig())),
    ):
        try:
            run()
        except json_format.ParseError as e:
            errors.append(f'{name}: {one_line(e)}')
    for doc in platforms:
        try:
            json_format.ParseDict(doc, pb.PlatformSpec())
            executors = doc['platforms']['kubernetes']['deploymentSpec']['executors']
            for label, config in executors.items():
                json_format.ParseDict(config, k8s.KubernetesExecutorConfig())
        except (json_format.ParseError, KeyError) as e:
            errors.append(f'platform: {one_line(e)}')
    if spec.get('schemaVersion') != '2.1.0':
        errors.append(f"server: KFP only supports schema version 2.1.0, got {spec.get('schemaVersion')}")
    if not (spec.get('pipelineInfo') or {}).get('name'):
        errors.append('server: invalid v2 pipeline spec: name is empty')
    if not spec.get('root'):
        errors.append('server: invalid v2 pipeline spec: root component is empty')
    if not errors:
        try:
            components.load_component_from_text(text)
        except Exception as e:  # noqa: BLE001 - whatever the SDK raises is the finding
            errors.append(f'sdk: {type(e).__name__}: {one_line(e)}')
    return errors


for path in sys.argv[1:]:
    with open(path, encoding='utf-8') as f:
        print(json.dumps({'file': path, 'errors': check(f.read())}))
