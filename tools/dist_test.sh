#!/usr/bin/env bash
# Multi-process test with torchrun: tools/dist_test.sh CONFIG NPROC [args...]
# (NNODES, NODE_RANK, MASTER_ADDR, PORT as in mmseg's scripts.)
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
torchrun \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    $(dirname "$0")/test.py \
    $CONFIG \
    --launcher pytorch ${@:3}
