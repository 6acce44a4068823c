"""SupportGym for verifiers 0.4: ``vf-eval supportgym-verifiers -m MODEL ...``.

verifiers finds a taskset by importing the package named like its id and taking the one
``vf.Taskset`` subclass in ``__all__`` (and the one ``vf.Env`` subclass, when there is one).
"""

from supportgym_verifiers.taskset import SupportGymConfig, SupportGymEnv, SupportGymTask, SupportGymTaskset

__all__ = ["SupportGymConfig", "SupportGymEnv", "SupportGymTask", "SupportGymTaskset"]
