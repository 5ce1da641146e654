#!/usr/bin/env bash
# Test on a Slurm cluster (mmseg's tools/slurm_test.sh):
#   [GPUS=8] tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
#   [GPUS=8] tools/slurm_test.sh PARTITION JOB_NAME CONFIG [test.py args]
# (the second for training-free configs, maskclip_*.py: no checkpoint).
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS as in mmseg's script.

set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
shift 3
# the next argument is the checkpoint unless it is an option (or absent)
CHECKPOINT=
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
    CHECKPOINT=$1
    shift
fi

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u "$(dirname "$0")/test.py" "${CONFIG}" ${CHECKPOINT:+"$CHECKPOINT"} \
    --launcher="slurm" "$@"
