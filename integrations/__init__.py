"""Adapters for the RL stacks people already use: TRL, OpenEnv, SkyRL (and verifiers, as its own
distribution under ``integrations/supportgym-verifiers``).

This package sits in the env layer (above tasks and rubrics): each adapter drives episodes through
:class:`supportgym.env.support_env.SupportEnv` or the services it wraps. The libraries themselves are
optional extras (``supportgym[trl]``, ``supportgym[openenv]``, ``supportgym[skyrl]``); a module
imports its library at the top, so importing it without the extra fails with the library's name.
"""
