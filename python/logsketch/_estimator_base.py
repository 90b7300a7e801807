"""The scikit-learn face of logsketch's estimators (JLProjection, RandomizedSVD).

:func:`build_estimator_class` turns a class holding an estimator's logic into
the public class, once, on first use: a subclass of scikit-learn's
``TransformerMixin`` and ``BaseEstimator`` when scikit-learn is importable (so
it passes ``sklearn.utils.estimator_checks.check_estimator``), else a plain
class with the same interface (``get_params``, ``set_params``,
``fit_transform``) and the same input checks written out here.

The logic class provides ``fit``, ``transform``, ... and calls
``self._validate(X, reset)`` (2-D float32/float64 data, dense or CSR/CSC,
n_features_in_ recorded or checked) and ``self._check_fitted()``.
"""

from __future__ import annotations

import numpy as np

from .jl import _issparse


class NotFittedError(ValueError, AttributeError):
    """An estimator used before fit (scikit-learn's NotFittedError when it is installed)."""


class DataDimensionalityWarning(UserWarning):
    """n_components above n_features (scikit-learn's warning class when it is installed)."""


def _sklearn_class(logic, name, allow_nan, fitted_attribute):
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.exceptions import DataDimensionalityWarning as SklearnDimensionalityWarning
    from sklearn.utils.validation import check_is_fitted, validate_data

    class Estimator(logic, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
        __doc__ = logic.__doc__

        def _validate(self, X, reset):
            return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], reset=reset,
                                 ensure_all_finite=not allow_nan)

        def _check_fitted(self):
            check_is_fitted(self, fitted_attribute)

        _dimensionality_warning = SklearnDimensionalityWarning

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.sparse = True
            tags.input_tags.allow_nan = allow_nan
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
            return tags

    return Estimator


def _plain_class(logic, name, params, allow_nan, fitted_attribute):
    class Estimator(logic):
        __doc__ = logic.__doc__

        def get_params(self, deep=True):
            return {p: getattr(self, p) for p in params}

        def set_params(self, **values):
            for p, value in values.items():
                if p not in params:
                    raise ValueError(f"invalid parameter {p!r} for {name}; valid ones: {params}")
                setattr(self, p, value)
            return self

        def __repr__(self):
            args = ", ".join(f"{p}={getattr(self, p)!r}" for p in params)
            return f"{name}({args})"

        def _validate(self, X, reset):
            if _issparse(X):
                X = X.tocsr()
                if X.dtype not in (np.float32, np.float64):
                    X = X.astype(np.float64)
                values = X.data
            else:
                X = np.asarray(X)
                if X.dtype.kind in "iub":
                    X = X.astype(np.float64)
                elif X.dtype not in (np.float32, np.float64):
                    raise ValueError(f"X must hold real numbers; got dtype {X.dtype}")
                values = X
            if X.ndim != 2:
                raise ValueError(f"Expected a 2-D array (n_samples, n_features); got shape {X.shape}")
            if X.shape[0] < 1 or X.shape[1] < 1:
                raise ValueError(f"Found array with shape {X.shape}; at least 1 sample and 1 feature are required")
            if not allow_nan and not np.isfinite(values).all():
                raise ValueError("X must not contain NaN or infinity")
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {name} is expecting {self.n_features_in_} features as input"
                )
            return X

        def _check_fitted(self):
            if not hasattr(self, fitted_attribute):
                raise NotFittedError(f"This {name} instance is not fitted yet; call 'fit' first")

        _dimensionality_warning = DataDimensionalityWarning

    return Estimator


def build_estimator_class(logic, name, params, *, module, allow_nan, fitted_attribute="n_components_"):
    """The public class `name` (shown as `module`.`name`) for `logic` and its constructor `params`."""
    try:
        import sklearn.base  # noqa: F401
    except ImportError:
        cls = _plain_class(logic, name, params, allow_nan, fitted_attribute)
    else:
        cls = _sklearn_class(logic, name, allow_nan, fitted_attribute)
    cls.__name__ = name
    cls.__module__ = module
    cls.__qualname__ = name
    return cls
