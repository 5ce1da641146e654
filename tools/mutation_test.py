"""Mutation testing: does the fast test suite catch plausible one-line bugs?

    OMP_NUM_THREADS=1 python tools/mutation_test.py [--only NAME ...]
        [--group issue16|all] [--tests PATH ...] [--list]

Each mutation in ``mutations.py`` (next to this file) replaces one exact
snippet of one file of ``reclip_mmseg/``. The package is copied to a
temporary directory, the mutation is applied there (the working tree is
never touched), and the mutation's tests run with that copy first on
``PYTHONPATH`` (``pytest -x``). A mutant is *killed* when the tests fail,
*survives* when they pass, and is *stale* when its snippet is no longer in
the source (update the table); a mutant marked ``equivalent`` (with the
reason) that survives is reported as EQUIV and not counted. Prints one line
per mutant and the kill rate; exits 1 if any mutant survives. Not part of CI (minutes of CPU).
"""
import argparse
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from mutations import MUTATIONS  # noqa: E402


def run_tests(pkg_parent: str, tests, timeout: int) -> str:
    env = dict(
        os.environ,
        PYTHONPATH=pkg_parent + os.pathsep + os.environ.get('PYTHONPATH', ''),
        OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'),
        MKL_NUM_THREADS=os.environ.get('MKL_NUM_THREADS', '1'),
        HF_HUB_OFFLINE='1')
    cmd = [
        osp.join(osp.dirname(sys.executable), 'pytest'), '-x', '-q',
        '-p', 'no:cacheprovider', *tests
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=timeout)
    except subprocess.TimeoutExpired:
        return 'killed (timeout)'
    if proc.returncode == 0:
        return 'SURVIVED'
    if proc.returncode == 1:
        failed = [ln for ln in proc.stdout.splitlines()
                  if ln.startswith('FAILED')]
        return 'killed' + (f' ({failed[0][7:].split(" - ")[0]})'
                           if failed else '')
    return f'killed (pytest exit {proc.returncode})'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--group', default='all')
    parser.add_argument('--only', nargs='+', help='mutation names')
    parser.add_argument('--tests', nargs='+', help='override test paths')
    parser.add_argument('--timeout', type=int, default=300)
    parser.add_argument('--list', action='store_true')
    args = parser.parse_args()
    todo = [
        m for m in MUTATIONS
        if (args.group == 'all' or args.group in m.get('groups', ()))
        and (not args.only or m['name'] in args.only)
    ]
    if args.list:
        for m in todo:
            print(f"{m['name']}: {m['file']}: {m['old']!r} -> {m['new']!r}")
        return
    tmp = tempfile.mkdtemp(prefix='reclip_mut_')
    pkg = osp.join(tmp, 'reclip_mmseg')
    shutil.copytree(
        osp.join(ROOT, 'reclip_mmseg'), pkg,
        ignore=shutil.ignore_patterns('__pycache__'))
    counts = dict(killed=0, survived=0, stale=0, equivalent=0)
    try:
        for m in todo:
            path = osp.join(pkg, m['file'])
            with open(osp.join(ROOT, 'reclip_mmseg', m['file'])) as f:
                source = f.read()
            if source.count(m['old']) != 1:
                counts['stale'] += 1
                print(f"STALE     {m['name']} (snippet found "
                      f"{source.count(m['old'])} times)", flush=True)
                continue
            with open(path, 'w') as f:
                f.write(source.replace(m['old'], m['new']))
            start = time.time()
            verdict = run_tests(tmp, args.tests or m['tests'], args.timeout)
            with open(path, 'w') as f:
                f.write(source)
            if verdict == 'SURVIVED' and m.get('equivalent'):
                counts['equivalent'] += 1
                print(f"EQUIV     {m['name']} ({m['equivalent']})",
                      flush=True)
                continue
            counts['survived' if verdict == 'SURVIVED' else 'killed'] += 1
            print(f"{verdict:<9} {m['name']} [{time.time() - start:.0f}s]"
                  if verdict == 'SURVIVED' else
                  f"killed    {m['name']} [{time.time() - start:.0f}s] "
                  f'{verdict[7:]}',
                  flush=True)
    finally:
        shutil.rmtree(tmp)
    tested = counts['killed'] + counts['survived']
    print(f"\n{counts['killed']}/{tested} killed "
          f"({100 * counts['killed'] / max(tested, 1):.0f}%), "
          f"{counts['survived']} survived, {counts['stale']} stale, "
          f"{counts['equivalent']} equivalent (survived as expected)")
    sys.exit(1 if counts['survived'] else 0)


if __name__ == '__main__':
    main()
