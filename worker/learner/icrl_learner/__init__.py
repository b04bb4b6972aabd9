"""ICRL learner: LoRA + GRPO training on the weights of a GGUF file, driven over line-delimited JSON.

Only the standard library and torch are required (Debian's torch 1.13 on CPU, or torch 2.x on CUDA).
"""

__version__ = "0.1.0"
