"""Alternative implementations of the kernel's daily interaction step, to measure against the
numba kernel (:func:`affiliate_sim.kernel.interact`); see ``benchmarks/kernel_options.py``."""
