"""Runs an IR written by lolpop-deploy with kfp.local's DockerRunner on the real Docker engine.

Usage: python run_local.py IR.yaml PARAMS_JSON PIPELINE_ROOT LABEL
Prints, as its last line, {"state": <what kfp.local reported>, "exit_codes": [<each container's real exit code>]}.
Pitfalls handled (KFP.md section 6): kfp.local can report success for a failed step (its
auto_remove'd container is gone when it asks for the exit code), so the real exit codes are
read from the engine's `die` events by a label on the containers; an image ENTRYPOINT stays in
front of command+args under Docker, so entrypoint=[] runs the command as Kubernetes (and KFP)
does; network_mode=host lets the container reach the host's loopback.
"""
import json
import sys
import time

import docker
import yaml
from google.protobuf import json_format
from kfp import local
from kfp.local import pipeline_orchestrator
from kfp.pipeline_spec import pipeline_spec_pb2

ir_file, params_json, pipeline_root, label = sys.argv[1:5]
with open(ir_file, encoding='utf-8') as f:
    spec = json_format.ParseDict(next(yaml.safe_load_all(f)), pipeline_spec_pb2.PipelineSpec())

local.init(runner=local.DockerRunner(network_mode='host', entrypoint=[], labels={'lolpop-kfp-test': label}),
           pipeline_root=pipeline_root, raise_on_error=True)
started = int(time.time()) - 1
try:
    pipeline_orchestrator.run_local_pipeline(pipeline_spec=spec, arguments={'params_json': params_json})
    verdict = 'SUCCESS'
except RuntimeError as e:  # raise_on_error: kfp.local's own "pipeline failed"
    verdict = 'FAILURE: ' + ' '.join(str(e).split())[:300]
events = docker.from_env().events(since=started, until=int(time.time()) + 1, decode=True,
                                  filters={'label': f'lolpop-kfp-test={label}', 'event': 'die'})
codes = [int(e['Actor']['Attributes']['exitCode']) for e in events]
sys.stdout.flush()
print(json.dumps({'verdict': verdict, 'exit_codes': codes}))
