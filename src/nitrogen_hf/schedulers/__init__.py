"""Noise schedulers (Diffusers interface) for the generative action heads."""

from .scheduling_flow_matching import FlowMatchingScheduler

__all__ = ["FlowMatchingScheduler"]
