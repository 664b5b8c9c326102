from .fashion_mnist import FASHION_MNIST_ROOT, FashionMNISTIdx, read_idx

__all__ = ['FASHION_MNIST_ROOT', 'FashionMNISTIdx', 'read_idx']
