#!/usr/bin/env bash
# Multi-process train with torchrun: tools/dist_train.sh CONFIG NPROC [args...]
# (NNODES, NODE_RANK, MASTER_ADDR, PORT as in mmseg's scripts.)
if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 CONFIG NPROC [train.py args]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

# Every argument keeps its place and its spaces; --launcher last.
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
torchrun \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    "$@" \
    --launcher pytorch
