from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Fail early when the model's class count does not match a dataset's.

    Before training, validation and testing, compares
    ``model.decode_head.num_classes`` with ``len(dataset.metainfo['classes'])``
    of the loop's dataset and raises a ``ValueError`` naming both.
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
        if classes is None or len(classes) == head.num_classes:
            return
        raise ValueError(
            f'{type(dataset).__name__} (data_root '
            f"{getattr(dataset, 'data_root', None)!r}) has {len(classes)} "
            f'classes but model.decode_head.num_classes is '
            f'{head.num_classes} (class_names: '
            f"{getattr(head, 'class_names', None)}). Set "
            'model.decode_head.class_names to the dataset\'s classes.')

    def before_train(self, runner) -> None:
        self._check(runner, 'train_loop')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_loop')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_loop')
