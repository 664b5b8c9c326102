from .fashion_mnist import FASHION_MNIST_ROOT, FashionMNISTIdx, read_idx
from .transforms import Corrupt

__all__ = ['FASHION_MNIST_ROOT', 'FashionMNISTIdx', 'read_idx', 'Corrupt']
