"""Muse's reference diffusion worker: diffusers pipelines behind the worker protocol."""
