"""Evaluation: voice fidelity of model versions against the approved writing, and benchmark scores."""
