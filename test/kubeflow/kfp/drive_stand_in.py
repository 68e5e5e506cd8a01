"""Drives the KFP stand-in with the real kfp.Client (kfp 2.17.3): upload, run, wait, terminate.

Usage: python drive_stand_in.py HOST TOKEN IR.yaml   Prints one JSON object with what the client saw.
Any exception (a request the stand-in refused, an answer the client could not read) fails it.
"""
import json
import sys
import time

import kfp

host, token, ir = sys.argv[1], sys.argv[2], sys.argv[3]
client = kfp.Client(host=host, existing_token=token)
seen = {}

pipeline = client.upload_pipeline(ir, pipeline_name='sdk-churn', description='uploaded by kfp.Client')
seen['pipeline_id'] = pipeline.pipeline_id
version = client.upload_pipeline_version(ir, pipeline_version_name='sdk-churn-v2', pipeline_id=pipeline.pipeline_id)
seen['version_id'] = version.pipeline_version_id
seen['found_pipeline_id'] = client.get_pipeline_id('sdk-churn')
experiment = client.create_experiment('sdk-experiment')

run = client.run_pipeline(experiment_id=experiment.experiment_id, job_name='sdk-run-1', pipeline_id=pipeline.pipeline_id,
                          version_id=version.pipeline_version_id, params={'params_json': json.dumps({'threshold': 0.7})})
done = client.wait_for_run_completion(run.run_id, timeout=60, sleep_duration=0.2)
seen['succeeded'] = done.state

failing = client.create_run_from_pipeline_package(ir, arguments={'params_json': json.dumps({'fail': True})}, run_name='sdk-run-fail',
                                                  experiment_name='sdk-experiment')
seen['failed'] = client.wait_for_run_completion(failing.run_id, timeout=60, sleep_duration=0.2).state

long_run = client.run_pipeline(experiment_id=experiment.experiment_id, job_name='sdk-run-2', pipeline_id=pipeline.pipeline_id,
                               version_id=version.pipeline_version_id, params={'params_json': '{}'})
client.terminate_run(long_run.run_id)
# wait_for_run_completion does not stop on CANCELED (it is not in its list): poll get_run.
for _ in range(50):
    state = client.get_run(long_run.run_id).state
    if state == 'CANCELED':
        break
    time.sleep(0.1)
seen['terminated'] = state
client.archive_run(long_run.run_id)
client.delete_run(long_run.run_id)
client.delete_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id)
print(json.dumps(seen))
