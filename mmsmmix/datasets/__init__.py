from ..utils.moved import moved_attribute
from .fashion_mnist import FASHION_MNIST_ROOT, FashionMNISTIdx, read_idx
from .first_samples import first_training_batch, first_training_batches

__all__ = [
    'FASHION_MNIST_ROOT', 'FashionMNISTIdx', 'read_idx',
    'first_training_batch', 'first_training_batches'
]


def __getattr__(name):
    # Corrupt moved to mmsmmix.evaluation.robustness (deprecated alias)
    return moved_attribute(__name__, name)
