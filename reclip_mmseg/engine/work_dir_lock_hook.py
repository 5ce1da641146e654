"""One training run per work dir: a pid lock that a crashed run cannot leave
stuck."""
import json
import logging
import os
import os.path as osp
import socket
import time

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

LOCK_NAME = 'train.lock'


class WorkDirInUseError(RuntimeError):
    """Another live training run writes to this work dir."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def acquire_work_dir_lock(work_dir: str) -> str:
    """Create ``work_dir/train.lock`` holding this process's pid and host.

    Raises :class:`WorkDirInUseError` naming the other run if the lock is
    held by a live process on this host (or by any process on another host:
    it cannot be checked from here). A lock left by a process that no longer
    exists, or by this very process, is taken over with a warning.

    Returns:
        str: The lock file's path.
    """
    path = osp.join(work_dir, LOCK_NAME)
    os.makedirs(work_dir, exist_ok=True)
    me = dict(pid=os.getpid(), host=socket.gethostname(), started=time.time())
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(path) as f:
                    other = json.load(f)
                pid, host = int(other['pid']), str(other['host'])
            except (OSError, ValueError, KeyError, TypeError):
                other, pid, host = {}, None, None  # unreadable: stale
            if pid is not None and pid != me['pid'] and (host != me['host']
                                                         or _alive(pid)):
                where = '' if host == me['host'] else f' on host {host}'
                raise WorkDirInUseError(
                    f'work dir {work_dir} is in use by another training run '
                    f'(pid {pid}{where}, lock file {path}): two runs in one '
                    'work dir mix their logs and checkpoints. Use another '
                    '--work-dir, or wait for that run to end. If that '
                    f'process is not a training run, delete {path}.')
            print_log(
                f'work dir {work_dir}: taking over the lock of a run that '
                f'is no longer alive (pid {pid}, {path}).', 'current',
                logging.WARNING)
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, 'w') as f:
            json.dump(me, f)
        return path


def release_work_dir_lock(path: str) -> None:
    """Remove the lock if this process holds it."""
    try:
        with open(path) as f:
            if int(json.load(f)['pid']) != os.getpid():
                return
        os.remove(path)
    except (OSError, ValueError, KeyError, TypeError):
        pass


@HOOKS.register_module()
class WorkDirLockHook(Hook):
    """Refuse to train in a work dir that a live run is training in.

    Before training (before any checkpoint or ``last_checkpoint`` is
    written), the main process creates ``work_dir/train.lock`` with its pid
    and host; see :func:`acquire_work_dir_lock`. The lock is removed after
    training; a crashed run leaves it behind, and the next run takes it
    over because that pid is no longer alive.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._path = None

    def before_train(self, runner) -> None:
        if is_main_process():
            self._path = acquire_work_dir_lock(runner.work_dir)

    def after_train(self, runner) -> None:
        if self._path is not None:
            release_work_dir_lock(self._path)
            self._path = None
