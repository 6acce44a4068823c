"""Rubric grading: program checks, the reward, the structured Grade, lint.

Public API: :func:`grade_episode`, :class:`Grade`, :class:`Criterion`, :func:`reward_terms`,
the check vocabulary in :mod:`supportgym.rubrics.checks`.
"""

from supportgym.rubrics.checks import CHECK_TYPES, CheckContext, Verdict
from supportgym.rubrics.grade import (
    CriterionResult,
    Grade,
    Judge,
    grade_episode,
    reward_terms,
)
from supportgym.rubrics.model import Category, Criterion, CriterionType

__all__ = [
    "CHECK_TYPES",
    "Category",
    "CheckContext",
    "Criterion",
    "CriterionResult",
    "CriterionType",
    "Grade",
    "Judge",
    "Verdict",
    "grade_episode",
    "reward_terms",
]
