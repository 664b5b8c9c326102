from .mix_image_classifier import MixImageClassifier

__all__ = ['MixImageClassifier']
