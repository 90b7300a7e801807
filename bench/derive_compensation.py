"""Derive the compensation constants of compensated Mitchell multiply and divide.

Mitchell's approximation is biased: over mantissas x, y uniform on [0, 1) the
product underestimates by 3.85% on average and the quotient overestimates by
4.10%.  Adding a constant delta (a fraction of one unit of the exponent field,
i.e. delta * 2**mantissa_bits in the integer domain) to the integer sum shifts
every result up by delta in the mantissa domain.  The delta that makes the mean
relative error zero is found here by integrating the relative error exactly in y
(closed form, piecewise) and numerically in x (midpoint rule, 2**20 nodes),
then bisecting on delta.

Run: python bench/derive_compensation.py   (prints delta and the integer
constants for float16, float32 and float64; python/logsketch/reference.py and
cpp/mitchell/mitchell_formats.hpp hold the same numbers.)
"""

import numpy as np

MANTISSA_BITS = {"float16": 10, "bfloat16": 7, "float32": 23, "float64": 52}


def _clip(v):
    return np.clip(v, 0.0, 1.0)


def mean_product_error(delta, nodes=1 << 20):
    """Mean of (mitchell(a*b) shifted by delta) / (a*b) - 1 over uniform mantissas."""
    x = (np.arange(nodes) + 0.5) / nodes
    t = x + delta
    # Piecewise in y: the mantissa sum t + y crosses 1 at y = 1 - t and 2 at y = 2 - t.
    pieces = (  # (y_lo, y_hi, scale, c) with integrand scale * (1 + (c) / (1 + y)) / (1 + x)
        (_clip(0 * t), _clip(1 - t), 1.0, t),
        (_clip(1 - t), _clip(2 - t), 2.0, t - 1),
        (_clip(2 - t), _clip(0 * t + 1), 4.0, t - 2),
    )
    total = np.zeros_like(x)
    for lo, hi, scale, c in pieces:
        antideriv = lambda y: y + c * np.log1p(y)  # noqa: E731
        total += scale * (antideriv(hi) - antideriv(lo))
    return float(np.mean(total / (1 + x)) - 1.0)


def mean_quotient_error(delta, nodes=1 << 20):
    """Mean of (mitchell(a/b) shifted down by delta) / (a/b) - 1 over uniform mantissas."""
    x = (np.arange(nodes) + 0.5) / nodes
    u = x - delta
    # Piecewise in y: the mantissa difference u - y crosses 0 at y = u and -1 at y = u + 1.
    pieces = (  # integrand (c - y)(1 + y) / (scale (1 + x))
        (_clip(0 * u), _clip(u), 1.0, 1 + u),
        (_clip(u), _clip(u + 1), 2.0, 2 + u),
        (_clip(u + 1), _clip(0 * u + 1), 4.0, 3 + u),
    )
    total = np.zeros_like(x)
    for lo, hi, scale, c in pieces:
        antideriv = lambda y: c * y + (c - 1) * y**2 / 2 - y**3 / 3  # noqa: E731
        total += (antideriv(hi) - antideriv(lo)) / scale
    return float(np.mean(total / (1 + x)) - 1.0)


def solve(mean_error, increasing):
    lo, hi = 0.0, 0.25
    for _ in range(80):
        mid = (lo + hi) / 2
        if (mean_error(mid) < 0) == increasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def main():
    print(f"plain product mean relative error:  {mean_product_error(0.0):+.6f}")
    print(f"plain quotient mean relative error: {mean_quotient_error(0.0):+.6f}")
    for name, fn, increasing in (
        ("multiply", mean_product_error, True),
        ("divide", mean_quotient_error, False),
    ):
        delta = solve(fn, increasing)
        consts = {k: round(delta * 2**m) for k, m in MANTISSA_BITS.items()}
        print(f"{name}: delta = {delta:.10f}  (mean error at delta {fn(delta):+.2e})")
        for k, c in consts.items():
            print(f"    {k:9s} constant = {c} (0x{c:X})")


if __name__ == "__main__":
    main()
