import logging

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


def class_name_mismatch(model_names, dataset_names) -> list:
    """``(index, model name, dataset name)`` where the two lists disagree.

    A model entry may be a list of synonyms: it matches if the dataset's
    name is one of them.
    """
    out = []
    for i, (ours, theirs) in enumerate(zip(model_names, dataset_names)):
        names = [ours] if isinstance(ours, str) else list(ours)
        if theirs not in names:
            out.append((i, ours, theirs))
    return out


def predicted_classes(model, head):
    """``(count, names)`` of the classes ``model`` predicts.

    The head's ``num_classes`` / ``class_names``, then through the
    segmentor's test chains (``postprocess``, ``postprocess_merged``): a step
    may change the count (``out_channels``), and one that merges one query
    per synonym into classes (``SynonymSoftmax``, whose ``class_index`` gives
    each query's class) regroups the head's names into synonym lists.
    """
    num, names = head.num_classes, getattr(head, 'class_names', None)
    for chain in (getattr(model, 'postprocess', None),
                  getattr(model, 'postprocess_merged', None)):
        for step in getattr(chain, 'steps', ()):
            index = getattr(step, 'class_index', None)
            if index is not None and names is not None and \
                    len(index) == len(names):
                groups = [[] for _ in range(int(index.max()) + 1)]
                for name, k in zip(names, index.tolist()):
                    groups[k].append(name)
                names = [g[0] if len(g) == 1 else g for g in groups]
            if hasattr(step, 'out_channels'):
                num = step.out_channels(num)
    return num, names


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Fail early when the model's classes do not match a dataset's.

    Before training, validation and testing, compares
    ``model.decode_head.num_classes`` with ``len(dataset.metainfo['classes'])``
    of the loop's dataset, then the head's ``class_names`` with the dataset's
    class names by value and order (the metric table names classes by the
    dataset's list), and raises a ``ValueError`` naming the differences.
    Both are taken after the segmentor's test chains
    (:func:`predicted_classes`): a head with one query per synonym predicts
    the classes its ``SynonymSoftmax`` step merges them into.
    If you mean other prompt texts than the dataset's names, give a list of
    synonyms that includes the dataset's name, or set the config key
    ``allow_class_name_mismatch = True`` (a warning instead).
    """

    priority = 'VERY_HIGH'

    def _check(self, runner, loop_name: str) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'decode_head', None)
        loop = getattr(runner, loop_name, None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if head is None or dataset is None:
            return
        classes = dataset.metainfo.get('classes')
        if classes is None:
            return
        num, names = predicted_classes(model, head)
        if len(classes) == num:
            self._check_names(runner, names, dataset, list(classes))
            return
        raise ValueError(
            f'{type(dataset).__name__} (data_root '
            f"{getattr(dataset, 'data_root', None)!r}) has {len(classes)} "
            f'classes but model.decode_head.num_classes is '
            f'{head.num_classes}' + (
                f' ({num} classes after the test post-processing)'
                if num != head.num_classes else '') +
            f' (class_names: {names}). Set '
            'model.decode_head.class_names to the dataset\'s classes.')

    @staticmethod
    def _check_names(runner, names, dataset, classes) -> None:
        if names is None:
            return
        wrong = class_name_mismatch(names, classes)
        if not wrong:
            return
        shown = '; '.join(f'#{i}: model {ours!r}, dataset {theirs!r}'
                          for i, ours, theirs in wrong[:6])
        more = f' (+{len(wrong) - 6} more)' if len(wrong) > 6 else ''
        msg = (f'model.decode_head.class_names differ from the classes of '
               f'{type(dataset).__name__} (data_root '
               f"{getattr(dataset, 'data_root', None)!r}) at {len(wrong)} "
               f'position(s): {shown}{more}. The metric table would name '
               'the wrong classes. Set class_names to the dataset name (e.g. '
               f"class_names='{type(dataset).__name__}') or to its classes "
               'in its order')
        if runner.cfg.get('allow_class_name_mismatch', False):
            print_log(msg + ' (allowed by allow_class_name_mismatch).',
                      'current', logging.WARNING)
            return
        raise ValueError(msg + '; if you mean other prompt texts, give '
                         'synonym lists that include the dataset\'s names, '
                         'or set allow_class_name_mismatch=True.')

    def before_train(self, runner) -> None:
        self._check(runner, 'train_loop')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_loop')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_loop')
