#!/usr/bin/env bash
# Multi-process test with torchrun. Both orders work:
#   tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]   (mmseg's order)
#   tools/dist_test.sh CONFIG NPROC [CHECKPOINT] [test.py args]
# CHECKPOINT may be left out for training-free configs (maskclip_*.py).
# (NNODES, NODE_RANK, MASTER_ADDR, PORT as in mmseg's scripts.)
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG [CHECKPOINT] NPROC [test.py args]" >&2
    exit 2
fi
CONFIG=$1
if [[ $2 =~ ^[0-9]+$ ]]; then
    NPROC=$2
    shift 2
else
    CHECKPOINT=$2
    NPROC=$3
    if ! [[ $NPROC =~ ^[0-9]+$ ]]; then
        echo "$0: NPROC must be a number, got '$NPROC'" \
            "(usage: $0 CONFIG [CHECKPOINT] NPROC [test.py args])" >&2
        exit 2
    fi
    shift 3
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

# Every argument keeps its place and its spaces: CONFIG, CHECKPOINT and the
# rest go to test.py in that order, --launcher last.
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
torchrun \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    ${CHECKPOINT:+"$CHECKPOINT"} \
    "$@" \
    --launcher pytorch
