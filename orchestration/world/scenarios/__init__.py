"""Planted scenarios of the synthetic world and their truth oracles, one module per model.

Each ``smNN.py`` provides ``plant(world)`` (adds the model's positives and decoys as clean
canonical rows and registers them with ``World.plant``) and ``truth(tables, params)`` (an
independent implementation of the model's rules in ``models.md`` over all clean rows). Shared
oracle definitions live in ``_relations.py``; ``_frames.py`` turns a World into polars frames.
"""
