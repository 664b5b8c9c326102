from .attention_probe import AttentionRecord, build_attention_probe

__all__ = ['AttentionRecord', 'build_attention_probe']
