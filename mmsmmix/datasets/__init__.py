from .fashion_mnist import FASHION_MNIST_ROOT, FashionMNISTIdx, read_idx
from .first_samples import first_training_batch, first_training_batches
from .transforms import Corrupt

__all__ = [
    'FASHION_MNIST_ROOT', 'FashionMNISTIdx', 'read_idx', 'Corrupt',
    'first_training_batch', 'first_training_batches'
]
