"""Benchmarks and experiments on the methods (what ``tools/benchmark/`` and
the visualisers run; nothing here is registered, and importing the package
leaves it out):

- ``comparison``: every method on the same model, data, schedule and
  seeds, in parallel processes, with a table and a chart;
- ``step_time``, ``compile_timing``, ``timing``: training-step time and
  torch.compile speed-ups, and the helpers they measure with;
- ``cuda_check``: the few-minute check of the GPU training path;
- ``motivating_pass``: how often a bfloat16 motivating pass picks SMMix's
  float32 windows;
- ``smmix_pairs``, ``mixing_pairs``: the pairs the visualisers draw, as
  training mixes them.

Evaluation of a trained model (metrics, test loops, robustness) is in
:mod:`mmsmmix.evaluation`.
"""
