from ...utils.moved import moved_attribute
from .mix_image_classifier import MixImageClassifier

__all__ = ['MixImageClassifier']


def __getattr__(name):
    # CompiledForward, compile_forwards moved to mmsmmix.engine (deprecated
    # aliases)
    return moved_attribute(__name__, name)
