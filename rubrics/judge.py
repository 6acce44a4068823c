"""The LLM judge: grades the criteria that have no program check.

Any OpenAI-compatible chat-completions endpoint works (OpenAI, vLLM, llama.cpp, Ollama, ...).
For each criterion (or batch of ``criteria_per_call`` criteria) the judge sends the task
instruction, the tool trail, the net world diff, the money moved and the final reply
(:mod:`.judge_context`), asks for a structured answer ``{"reason": str, "verdict": "met" |
"unmet" | "cannot_assess"}`` through ``response_format`` (reason first), and validates it.
Dodged bullets are asked as the mistake itself and the answer is turned around here
(:func:`.judge_prompt.question_for`): :attr:`JudgeVerdict.met` is always "the criterion is met".

* **Status.** Each verdict is ``ok`` (``met`` is a bool), ``cannot_assess`` (the judge said the
  evidence does not decide it; ``met`` is None) or ``error`` (see below). Neither of the last
  two is ever turned into a score; the grade marks such an episode not valid for training.
* **Robust.** Timeouts, retries with backoff on 429/5xx/connection errors (the ``openai`` SDK's)
  and a bound on concurrent requests come from :class:`supportgym.services.openai_client.ChatClient`. A verdict
  that is not valid JSON of the schema is asked for again (``parse_retries``). When the endpoint
  keeps failing the criterion gets ``met=None`` and ``error`` set (a *judge_error*): never a
  silent 0 or 1.
* **Policy** (``on_error``). ``"exclude"`` (the default) leaves an errored criterion out of the
  reward, as if it were not in the rubric, and the grade reports it; ``"fail_episode"`` makes
  the whole grade fail (:func:`check_policy` raises :class:`JudgeEpisodeError`). The default is
  ``exclude`` because a judge outage is an infrastructure fault, not agent behaviour: scoring it
  0 or 1 would put noise in the reward, while excluding keeps the other criteria's signal and
  the grade still says which criteria were not judged. Use ``fail_episode`` for evaluations
  that must not report partial grades.
* **Cache.** Verdicts are stored on disk under a key of (judge model, prompt version,
  criterion, evidence, sample index), so re-grading the same trajectory makes no request.
  Errors are never cached.
* **Ensembles.** ``samples`` verdicts per model and several ``models`` are combined by majority
  vote (a tie goes against the agent: *not met*, a dodged bullet *hit*). A criterion is a
  judge_error when fewer than half of its votes are valid, and cannot_assess when at least half
  of the valid ones say so.
* **Cost.** Every verdict carries the tokens in and out its requests used (cached: 0).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from supportgym.rubrics.judge_context import JudgeContext
from supportgym.rubrics.judge_prompt import (
    ANSWERS,
    PROMPT_VERSION,
    Answer,
    CriterionVerdict,
    build_messages,
    parse_verdicts,
    question_for,
    render_evidence,
    response_format,
)
from supportgym.services.openai_client import ChatClient, ChatError, endpoint_from_env

ENV_PREFIX = "SUPPORTGYM_JUDGE"
ResponseFormatMode = Literal["auto", "json_schema", "json_object", "none"]


def default_cache_dir() -> Path:
    root = os.environ.get("SUPPORTGYM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "supportgym")
    return Path(root) / "judge"


@runtime_checkable
class CriterionLike(Protocol):
    # Read-only, so that a rubric Criterion (whose category and type are str enums) is one.
    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def type(self) -> str: ...


class SimpleCriterion(BaseModel):
    """A criterion for tests and tools that have no rubric object at hand."""

    id: str
    text: str
    category: str = "correctness"
    type: str = "standard"


VerdictStatus = Literal["ok", "cannot_assess", "error"]


class JudgeVote(BaseModel):
    """One answer of one model. ``answer`` is what the judge said about the statement it was
    shown; ``met`` is that answer turned into the criterion's verdict (inverted for a dodged
    bullet, which the judge sees as the mistake), None for cannot_assess and errors."""

    model: str
    sample: int
    answer: Answer | None = None
    met: bool | None
    reason: str = ""
    error: str | None = None
    cached: bool = False
    tokens_in: int = 0
    tokens_out: int = 0


class JudgeVerdict(BaseModel):
    """The judge's decision on one criterion. ``met`` is a bool exactly when ``status`` is
    ``ok``; ``error`` is set exactly when it is ``error``."""

    criterion_id: str
    status: VerdictStatus = "ok"
    met: bool | None
    reason: str
    error: str | None = None
    asked: str = Field("", description="The statement the judge was shown (a dodged bullet: the mistake).")
    votes: list[JudgeVote] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cached: bool = False

    @property
    def judge_error(self) -> bool:
        return self.error is not None

    @property
    def cannot_assess(self) -> bool:
        return self.status == "cannot_assess"

    @property
    def evidence(self) -> str:
        """The reason, or the error (the name program checks' verdicts use)."""
        return self.error or self.reason


class JudgeConfig(BaseModel):
    """Where the judge is and how it behaves. :meth:`from_env` reads ``SUPPORTGYM_JUDGE_*``
    (``BASE_URL``, ``MODEL``, ``API_KEY``) with ``OPENAI_*`` fallbacks."""

    model_config = ConfigDict(extra="forbid")
    base_url: str = "https://api.openai.com/v1"
    model: str | None = Field(None, description="Judge model; `models` overrides it for ensembles.")
    api_key: SecretStr | None = Field(None, exclude=True, repr=False)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    max_concurrency: int = Field(4, ge=1, le=256)
    criteria_per_call: int = Field(1, ge=1, le=32)
    samples: int = Field(1, ge=1, le=32, description="Verdicts per model, combined by majority.")
    models: list[str] = Field(default_factory=list)
    temperature: float | None = Field(None, description="Default: 0 for one sample, 0.7 for several.")
    max_tokens_per_criterion: int = Field(160, ge=16)
    response_format: ResponseFormatMode = "auto"
    parse_retries: int = Field(1, ge=0, le=5)
    cache_dir: Path | None = Field(default_factory=default_cache_dir, description="None disables the cache.")
    on_error: Literal["exclude", "fail_episode"] = "exclude"
    prompt_version: str = PROMPT_VERSION
    max_evidence_chars: int = Field(12_000, ge=1000)
    seed: int | None = None

    @field_validator("base_url")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.rstrip("/")

    @classmethod
    def from_env(cls, **overrides: Any) -> JudgeConfig:
        ep = endpoint_from_env(
            ENV_PREFIX,
            base_url=overrides.pop("base_url", None),
            api_key=(lambda k: k.get_secret_value() if isinstance(k, SecretStr) else k)(overrides.pop("api_key", None)),
            model=overrides.pop("model", None),
        )
        return cls(base_url=ep.base_url, model=ep.model, api_key=ep.api_key, **overrides)

    def judge_models(self) -> list[str]:
        models = list(self.models) or ([self.model] if self.model else [])
        if not models:
            raise ValueError(
                "no judge model configured: set SUPPORTGYM_JUDGE_MODEL (or OPENAI_MODEL), or pass model=/--judge-model"
            )
        return models

    def sample_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.samples == 1 else 0.7


class JudgeEpisodeError(RuntimeError):
    """Raised by :func:`check_policy` under ``on_error="fail_episode"`` when a criterion could
    not be judged. The grade must fail (an infrastructure fault), not become a reward."""

    def __init__(self, verdicts: list[JudgeVerdict]) -> None:
        self.verdicts = verdicts
        ids = ", ".join(f"{v.criterion_id} ({v.error})" for v in verdicts[:5])
        more = f" and {len(verdicts) - 5} more" if len(verdicts) > 5 else ""
        super().__init__(f"the judge could not grade {len(verdicts)} criterion(s): {ids}{more}")


def check_policy(verdicts: Sequence[JudgeVerdict], on_error: str) -> list[JudgeVerdict]:
    """Apply the judge-error policy. Returns the verdicts that count in the reward (errored ones
    are left out under ``exclude``); raises :class:`JudgeEpisodeError` under ``fail_episode``."""
    errors = [v for v in verdicts if v.error is not None]
    if errors and on_error == "fail_episode":
        raise JudgeEpisodeError(errors)
    return [v for v in verdicts if v.error is None]


class JudgeCache:
    """One JSON file per verdict under ``root/<2 hex>/<sha256>.json``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(
        model: str, prompt_version: str, criterion: Any, evidence: str, sample: int, extra: dict[str, Any] | None = None
    ) -> str:
        doc = {
            "model": model,
            "prompt_version": prompt_version,
            "criterion": {k: str(getattr(criterion, k, "")) for k in ("id", "text", "category", "type")},
            "evidence": hashlib.sha256(evidence.encode("utf-8")).hexdigest(),
            "sample": sample,
            **(extra or {}),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            with self._lock:
                self.misses += 1
            return None
        if not isinstance(data, dict) or data.get("answer") not in ANSWERS:
            with self._lock:
                self.misses += 1
            return None
        with self._lock:
            self.hits += 1
        return data

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


def _refuses_format(err: ChatError) -> bool:
    """The endpoint rejected the request's ``response_format`` (llama.cpp answers 500 with a
    validation error; others 400 or 422)."""
    return err.kind == "http" and (err.status in (400, 422) or "response_format" in err.message)


class _Job(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    model: str
    sample: int
    indexes: list[int]


class LLMJudge:
    """Grades criteria with an LLM. Thread-safe; reuse one judge for many episodes.

    ``judge(criteria, context)`` returns one :class:`JudgeVerdict` per criterion, in order.
    """

    def __init__(
        self, config: JudgeConfig | None = None, *, client: ChatClient | None = None, **overrides: Any
    ) -> None:
        if config is None:
            config = JudgeConfig.from_env(**overrides)
        elif overrides:
            config = config.model_copy(update=overrides)
        self.config = config
        self.models = config.judge_models()
        self.client = client or ChatClient(
            config.base_url,
            config.api_key.get_secret_value() if config.api_key else None,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            max_concurrency=config.max_concurrency,
        )
        self.cache = JudgeCache(config.cache_dir) if config.cache_dir is not None else None
        self._format_mode: str = "json_schema" if config.response_format == "auto" else config.response_format
        self._lock = threading.Lock()
        self.tokens_in = 0
        self.tokens_out = 0
        self.calls = 0  # chat completions asked for (not counting HTTP retries)

    # --- public --------------------------------------------------------------------------------

    def judge(self, criteria: Sequence[CriterionLike], context: JudgeContext | dict[str, Any]) -> list[JudgeVerdict]:
        criteria = list(criteria)
        if not criteria:
            return []
        context = JudgeContext.coerce(context)
        cfg = self.config
        evidence = render_evidence(context, max_chars=cfg.max_evidence_chars)
        # votes[i] collects the votes of criterion i.
        votes: list[list[JudgeVote]] = [[] for _ in criteria]
        jobs: list[_Job] = []
        for model in self.models:
            for sample in range(cfg.samples):
                todo = []
                for i, c in enumerate(criteria):
                    hit = self._cache_get(model, c, evidence, sample)
                    if hit is not None:
                        votes[i].append(_vote(c, model, sample, hit["answer"], hit.get("reason", ""), cached=True))
                    else:
                        todo.append(i)
                for start in range(0, len(todo), cfg.criteria_per_call):
                    jobs.append(_Job(model=model, sample=sample, indexes=todo[start : start + cfg.criteria_per_call]))
        if jobs:
            workers = min(len(jobs), cfg.max_concurrency)
            if workers == 1:
                results = [self._run_job(j, criteria, evidence) for j in jobs]
            else:
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="judge") as pool:
                    results = list(pool.map(lambda j: self._run_job(j, criteria, evidence), jobs))
            for job, job_votes in zip(jobs, results, strict=True):
                for i, vote in zip(job.indexes, job_votes, strict=True):  # a vote per index of the job
                    votes[i].append(vote)
        return [self._combine(c, v) for c, v in zip(criteria, votes, strict=True)]

    def judge_one(self, criterion: CriterionLike, context: JudgeContext) -> JudgeVerdict:
        return self.judge([criterion], context)[0]

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> LLMJudge:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------------

    def _cache_key(self, model: str, criterion: Any, evidence: str, sample: int) -> str:
        return JudgeCache.key(model, self.config.prompt_version, criterion, evidence, sample)

    def _cache_get(self, model: str, criterion: Any, evidence: str, sample: int) -> dict[str, Any] | None:
        if self.cache is None:
            return None
        return self.cache.get(self._cache_key(model, criterion, evidence, sample))

    def _request(self, model: str, messages: list[dict[str, str]], n: int, sample: int):
        cfg = self.config
        temperature = cfg.sample_temperature()
        seed = None if cfg.seed is None else cfg.seed + sample
        while True:
            mode = self._format_mode
            try:
                return self.client.chat(
                    model=model,
                    messages=messages,
                    response_format=response_format(mode, n),
                    max_tokens=cfg.max_tokens_per_criterion * n + 32,
                    temperature=temperature,
                    seed=seed,
                    giveup=_refuses_format if cfg.response_format == "auto" and mode != "none" else None,
                )
            except ChatError as err:
                # "auto": an endpoint that refuses OpenAI's json_schema (llama.cpp answers 422)
                # gets llama.cpp's json_object+schema, then plain JSON mode.
                if cfg.response_format == "auto" and mode != "none" and _refuses_format(err):
                    nxt = {"json_schema": "json_object", "json_object": "none"}[mode]
                    with self._lock:
                        if self._format_mode == mode:
                            self._format_mode = nxt
                    continue
                raise

    def _run_job(self, job: _Job, criteria: list[Any], evidence: str) -> list[JudgeVote]:
        cfg = self.config
        batch = [criteria[i] for i in job.indexes]
        messages = build_messages(batch, evidence)
        tin = tout = 0
        problem = "no answer"
        parsed: list[CriterionVerdict | str] | None = None
        for _ in range(cfg.parse_retries + 1):
            with self._lock:
                self.calls += 1
            try:
                resp = self._request(job.model, messages, len(batch), job.sample)
            except ChatError as err:
                problem = f"judge endpoint failed: {err}"
                parsed = None
                break
            tin += resp.tokens_in
            tout += resp.tokens_out
            try:
                parsed = parse_verdicts(resp.content, len(batch))
            except ValueError as exc:
                problem = f"judge answer is not a valid verdict: {exc}"
                parsed = None
                continue
            if all(isinstance(p, CriterionVerdict) for p in parsed):
                break
        with self._lock:
            self.tokens_in += tin
            self.tokens_out += tout
        # Tokens of a batched call are split over its criteria (the remainder goes to the first).
        share_in = [tin // len(batch)] * len(batch)
        share_out = [tout // len(batch)] * len(batch)
        share_in[0] += tin - sum(share_in)
        share_out[0] += tout - sum(share_out)
        out = []
        for k, c in enumerate(batch):
            p = parsed[k] if parsed is not None else problem
            if isinstance(p, CriterionVerdict):
                if self.cache is not None:
                    self.cache.put(
                        self._cache_key(job.model, c, evidence, job.sample),
                        {
                            "answer": p.verdict,
                            "reason": p.reason,
                            "model": job.model,
                            "prompt_version": cfg.prompt_version,
                            "criterion_id": str(c.id),
                        },
                    )
                out.append(
                    _vote(c, job.model, job.sample, p.verdict, p.reason, tokens_in=share_in[k], tokens_out=share_out[k])
                )
            else:
                msg = p if p.startswith("judge") else f"judge answer is not a valid verdict: {p}"
                out.append(
                    JudgeVote(
                        model=job.model,
                        sample=job.sample,
                        met=None,
                        error=msg,
                        tokens_in=share_in[k],
                        tokens_out=share_out[k],
                    )
                )
        return out

    def _combine(self, criterion: Any, votes: list[JudgeVote]) -> JudgeVerdict:
        tin = sum(v.tokens_in for v in votes)
        tout = sum(v.tokens_out for v in votes)
        cached = bool(votes) and all(v.cached for v in votes)
        answered = [v for v in votes if v.answer is not None]
        common = dict(
            criterion_id=str(criterion.id),
            votes=votes,
            tokens_in=tin,
            tokens_out=tout,
            asked=question_for(criterion).text,
        )
        if not answered or len(answered) * 2 < len(votes):
            errors = sorted({v.error for v in votes if v.error})
            return JudgeVerdict(
                **common,
                status="error",
                met=None,
                reason="",
                error=f"judge_error: {len(votes) - len(answered)} of {len(votes)} vote(s) failed: "
                + "; ".join(errors)[:600],
                cached=False,
            )
        unsure = [v for v in answered if v.answer == "cannot_assess"]
        if len(unsure) * 2 >= len(answered):
            # At least half the answers say the evidence does not decide it: not a score.
            reason = (
                unsure[0].reason
                if len(answered) == 1
                else (f"{len(unsure)} of {len(answered)} votes could not assess. {unsure[0].reason}".strip())
            )
            return JudgeVerdict(**common, status="cannot_assess", met=None, reason=reason, cached=cached)
        decided = [v for v in answered if v.met is not None]
        yes = sum(1 for v in decided if v.met)
        no = len(decided) - yes
        # A tie goes against the agent: the criterion is not met (a dodged bullet counts as hit).
        met = yes > no
        if len(answered) == 1:
            reason = decided[0].reason
        else:
            side = next((v.reason for v in decided if v.met == met and v.reason), "")
            tie = " (tie: not met)" if yes == no else ""
            reason = f"{yes} of {len(decided)} votes met{tie}. {side}".strip()
        return JudgeVerdict(**common, status="ok", met=met, reason=reason, cached=cached)


def _vote(criterion: Any, model: str, sample: int, answer: str, reason: str, **kw: Any) -> JudgeVote:
    """A vote from the judge's answer, with the criterion's polarity applied."""
    if answer == "cannot_assess":
        met = None
    else:
        said_true = answer == "met"
        met = not said_true if question_for(criterion).inverted else said_true
    return JudgeVote(model=model, sample=sample, answer=answer, met=met, reason=reason, **kw)


def usage_totals(verdicts: Sequence[JudgeVerdict]) -> dict[str, int]:
    """Tokens and counts over a grade's verdicts, for the grade object."""
    return {
        "judge_tokens_in": sum(v.tokens_in for v in verdicts),
        "judge_tokens_out": sum(v.tokens_out for v in verdicts),
        "judge_errors": sum(1 for v in verdicts if v.error is not None),
        "judge_cannot_assess": sum(1 for v in verdicts if v.status == "cannot_assess"),
        "judge_cached": sum(1 for v in verdicts if v.cached),
    }


_SHARED: LLMJudge | None = None
_SHARED_LOCK = threading.Lock()


def shared_judge() -> LLMJudge:
    """The process's judge, configured from ``SUPPORTGYM_JUDGE_*`` on first use: episodes share
    its HTTP connections and its verdict cache."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = LLMJudge(JudgeConfig.from_env())
        return _SHARED
