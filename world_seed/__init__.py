"""Seeded world generator for SupportGym.

``generate.build_world(seed, scale)`` builds a world from scratch; ``cache.load_world`` serves
it from memory / disk; ``check.check_world`` verifies its invariants; ``traps.trap_examples``
lists example ids of the deliberate traps documented in ``generate``.
"""
