"""The errors and warnings of logsketch that a user may catch.

When scikit-learn is installed, the estimators of :mod:`logsketch.sklearn`
raise subclasses of both these classes and scikit-learn's own, so either
``except`` clause catches them.
"""

__all__ = ["DataDimensionalityWarning", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """An estimator used before fit."""


class DataDimensionalityWarning(UserWarning):
    """n_components above n_features: the dimension is not reduced."""
