"""SupportGym: a stateful customer-support world for training and evaluating LLM agents.

Packages, in dependency order (nothing imports back up the chain):
``supportgym.schema`` and ``supportgym.policy`` (the leaf) -> ``supportgym.world_seed`` (fills
the schema) -> ``supportgym.services`` (tools and the HTTP service) -> ``supportgym.tasks`` and
``supportgym.rubrics`` (task set and grading) -> ``supportgym.env`` (the Gymnasium environment).
"""

__version__ = "0.1.0"
