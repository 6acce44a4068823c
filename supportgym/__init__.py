"""SupportGym: a stateful customer-support world for training and evaluating LLM agents.

This folder holds the bottom of the stack: the contracts (simulated clock, trail and trajectory
formats, ids, money, operators) and the world schema. Layers above, each a folder of its own:
``world_seed`` -> ``services`` -> ``rubrics`` -> ``tasks`` -> ``env`` -> ``integrations`` ->
``bench`` and ``cli``; nothing imports up (docs/architecture.md, tests/test_layers.py).
"""

__version__ = "0.1.0"
