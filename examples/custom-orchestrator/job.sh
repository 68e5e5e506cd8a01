#!/bin/sh
# What a run of the shell-demo deployment executes (orchestrator.config.command).
set -eu
echo "job: deployment ${LOLPOP_DEPLOYMENT}"
echo "job: parameters ${LOLPOP_PARAMETERS}"
echo "job: $(wc -l < data.csv | tr -d ' ') lines in data.csv"
echo "job: done"
