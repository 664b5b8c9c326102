from .compiled_forward import CompiledForward, compile_forwards
from .mix_image_classifier import MixImageClassifier

__all__ = ['CompiledForward', 'MixImageClassifier', 'compile_forwards']
