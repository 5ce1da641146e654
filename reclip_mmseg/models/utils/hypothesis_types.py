"""Hypothesis generators by short name, and their configs derived from a
model's ``hypothesis`` setting (``tools/analyze_hypotheses.py``,
``tools/benchmark.py --hyp-types``)."""
from typing import Dict, Sequence

#: Short names of the registered generators; adding one touches this table.
HYPOTHESIS_TYPES: Dict[str, str] = {
    'window': 'SlidingWindowHypothesis',
    'pixel': 'PixelTagHypothesis',
    'global': 'GlobalThresholdHypothesis',
}
#: Keys every generator takes that do not change what it computes for a
#: type, shared from the model's setting with the other types.
SHARED_KEYS = ('clip_size', 'batch_size', 'backend_args')


def generator_configs(model_hyp: dict,
                      types: Sequence[str],
                      hyp_options: dict = None) -> Dict[str, dict]:
    """``{short name: generator config}`` for ``types``.

    A type is the model's own ``hypothesis`` config if it is of that type
    (its ``file`` dropped: results are recomputed), else the type's
    defaults plus the model's :data:`SHARED_KEYS`. ``hyp_options``
    ``{'TYPE.key': value}`` then override single keys.

    Raises:
        KeyError: For an unknown type or a malformed option key.
    """
    model_hyp = dict(model_hyp)
    model_hyp.pop('file', None)
    shared = {k: model_hyp[k] for k in SHARED_KEYS if k in model_hyp}
    cfgs = {}
    for name in types:
        if name not in HYPOTHESIS_TYPES:
            raise KeyError(f'unknown hypothesis type {name!r}; known: '
                           f'{list(HYPOTHESIS_TYPES)}')
        if model_hyp.get('type') == HYPOTHESIS_TYPES[name]:
            cfgs[name] = dict(model_hyp)
        else:
            cfgs[name] = dict(shared, type=HYPOTHESIS_TYPES[name])
    for key, value in (hyp_options or {}).items():
        name, _, k = key.partition('.')
        if name not in cfgs or not k:
            raise KeyError(f'hypothesis option {key}: expected TYPE.key with '
                           f'TYPE one of {list(cfgs)}')
        cfgs[name][k] = value
    return cfgs


__all__ = ['HYPOTHESIS_TYPES', 'SHARED_KEYS', 'generator_configs']
