"""The GPU engine: descriptor tables, kernels and their NumPy references, blosc on the device.

Nothing here imports CuPy at module level; ``cuda_ops`` does so lazily when a CUDA backend is made.
"""
