"""SupportGym's task set as a verifiers 0.4 taskset (``vf-eval supportgym-verifiers``).

**Why the episode runs on ``supportgym serve`` (HTTP), not in process.** In verifiers 0.4 a
rollout is split across processes: the task's hooks (``setup``, ``finalize``, ``@vf.reward``,
``@vf.metric``) run in an environment worker, while the model's tools are an MCP server that
verifiers launches as a process of its own (``python -m supportgym_verifiers.toolset``). An
episode opened in process by ``setup`` would be out of the tool server's reach, so ``setup``
opens it on a SupportGym service and puts its id and token in the rollout's state
(:class:`EpisodeState`), which verifiers hands to the tool server on every call. The service is
``--env.taskset.task.base-url`` when given; otherwise :class:`SupportGymEnv` starts one
``supportgym serve`` on a free loopback port per environment worker and stops it at the end.

The reward is SupportGym's grade (gated by default), read in ``finalize`` once the agent is done;
the metrics are its pass rate per rubric category and one flag per gate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import cast

import verifiers.v1 as vf
from pydantic import Field

from supportgym.integrations.splits import system_prompt
from supportgym.services.launch import ServerProcess, start_server
from supportgym.tasks import prepare_task
from supportgym.tasks.splits import FIXED_SPLITS, load_split
from supportgym_verifiers.episode_client import EpisodeState, create_episode, delete_episode, read_grade
from supportgym_verifiers.scores import category_metrics, gate_metrics, reward_of
from supportgym_verifiers.toolset import SupportGymToolset, SupportGymToolsetConfig

SPLITS: tuple[str, ...] = (*FIXED_SPLITS, "train")


class UnknownSplit(ValueError):
    """A split name outside :data:`SPLITS`."""


class SupportGymTaskConfig(vf.TaskConfig):
    base_url: str | None = Field(
        None, description="A running `supportgym serve` (e.g. http://127.0.0.1:8000); None: start one."
    )
    service_token: str | None = Field(None, description="The service's token, when it was started with one.")
    max_steps: int | None = Field(None, ge=1, description="Step budget override (default: the task's).")


class SupportGymConfig(vf.TasksetConfig):
    split: str = Field("dev", description=f"Which tasks: one of {', '.join(SPLITS)}.")
    task_ids: list[str] = Field(
        default_factory=list, description="These task ids instead of a split (e.g. refund_within_window-01)."
    )
    train_seed: int = Field(0, description="split=train: the generator's seed.")
    train_per_family: int = Field(2, ge=1, description="split=train: generated tasks per family.")
    tools: SupportGymToolsetConfig = SupportGymToolsetConfig()
    task: SupportGymTaskConfig = SupportGymTaskConfig()


class SupportGymData(vf.TaskData):
    task_id: str
    split: str


class SupportGymTask(vf.Task[SupportGymData, EpisodeState, SupportGymTaskConfig]):
    """One SupportGym task: an episode per rollout, graded by SupportGym's rubric."""

    @property
    def key(self) -> str:
        return self.data.task_id

    async def setup(self, trace: vf.Trace, runtime: vf.Runtime) -> None:
        base_url = self.config.base_url
        if not base_url:
            raise RuntimeError(
                "base_url: no SupportGym service; pass --env.taskset.task.base-url or run under SupportGymEnv"
            )
        created = await create_episode(base_url, self.data.task_id, self.config.max_steps, self.config.service_token)
        state = cast(EpisodeState, trace.state)
        state.base_url = base_url.rstrip("/")
        state.episode_id = created["episode_id"]
        state.episode_token = created["episode_token"]

    @vf.stop
    async def episode_over(self, trace: vf.Trace) -> bool:
        """End the rollout once the episode has ended: no model turn can change it any more."""
        return cast(EpisodeState, trace.state).done

    async def finalize(self, trace: vf.Trace, runtime: vf.Runtime) -> None:
        state = cast(EpisodeState, trace.state)
        if not state.episode_id:
            return
        state.grade = await read_grade(state)
        await delete_episode(state)

    @vf.reward(weight=1.0)
    async def supportgym_reward(self, trace: vf.Trace) -> float:
        """SupportGym's reward for the episode (0.0 when the agent never submitted a reply)."""
        return reward_of(cast(EpisodeState, trace.state).grade)

    @vf.metric
    async def categories(self, trace: vf.Trace) -> dict[str, float]:
        """Pass rate of the graded criteria per rubric category."""
        return category_metrics(cast(EpisodeState, trace.state).grade)

    @vf.metric
    async def gates(self, trace: vf.Trace) -> dict[str, float]:
        """1.0 per gate (critical criterion) that tripped, and how many did."""
        return gate_metrics(cast(EpisodeState, trace.state).grade)


def split_task_ids(config: SupportGymConfig) -> list[str]:
    if config.task_ids:
        return list(config.task_ids)
    if config.split not in SPLITS:
        raise UnknownSplit(f"split: unknown split {config.split!r}; allowed: {', '.join(SPLITS)}")
    return load_split(config.split, seed=config.train_seed, n=config.train_per_family)


class SupportGymTaskset(vf.Taskset[SupportGymTask, SupportGymConfig]):
    """SupportGym's tasks of one split (``dev``, ``test``, ``heldout-families`` or ``train``)."""

    @classmethod
    def toolsets(cls, config: SupportGymConfig) -> list[vf.Toolset]:
        return [SupportGymToolset(config.tools)]

    def load(self) -> Iterator[SupportGymTask]:
        prompt = system_prompt()
        for task_id in split_task_ids(self.config):
            prepared = prepare_task(task_id)
            yield SupportGymTask(
                SupportGymData(
                    id=task_id,
                    name=task_id,
                    task_id=task_id,
                    split=self.config.split if not self.config.task_ids else "chosen",
                    prompt=prepared.instruction,
                    system_prompt=prompt,
                ),
                self.config.task,
            )


class SupportGymEnv(vf.SingleAgentEnv):
    """The single-agent env, plus one ``supportgym serve`` per worker when no service is given."""

    _service: ServerProcess | None = None

    async def start(self) -> None:
        await super().start()
        task_config = cast(SupportGymConfig, self.taskset.config).task
        if task_config.base_url:
            return
        service = await asyncio.to_thread(start_server, warm="")
        self._service = service
        task_config.base_url = service.url

    async def stop(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            cast(SupportGymConfig, self.taskset.config).task.base_url = None
            await asyncio.to_thread(service.stop)
        await super().stop()
