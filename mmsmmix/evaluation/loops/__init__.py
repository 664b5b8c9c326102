"""Registered test loops (MMPretrain ``LOOPS``) for robustness evaluation."""
from .corruption_loop import CorruptionTestLoop, insert_corruption
from .occlusion_loop import OcclusionTestLoop

__all__ = ['CorruptionTestLoop', 'OcclusionTestLoop', 'insert_corruption']
