"""Fitting the growth model by REML: statsmodels' ``MixedLM``, then the same REML criterion,
computed from each patient's cross-products, to ``lme4``'s optimum.

For a model with a random intercept and slope per patient,
:math:`V_i = \\sigma^2 (I + Z_i \\Lambda \\Lambda^T Z_i^T)` with :math:`\\Lambda` the
lower-triangular relative Cholesky factor of the random effects' covariance
(:math:`G = \\sigma^2 \\Lambda \\Lambda^T`), everything REML needs comes from each patient's
:math:`Z_i^T Z_i` and :math:`[X_i\\ y_i]^T Z_i` (summed over their rows once) and the
whole data's :math:`[X\\ y]^T [X\\ y]`: by the Woodbury identity and the matrix determinant
lemma, with :math:`A_i = \\Lambda^T Z_i^T Z_i \\Lambda + I`,

.. math::

    V_i^{*-1} = I - Z_i \\Lambda A_i^{-1} \\Lambda^T Z_i^T, \\qquad
    \\log |V_i^*| = \\log |A_i|.

The model has two random effects per patient (intercept and slope), so each :math:`A_i` is
2 x 2. The profiled REML deviance (Bates et al. 2015, section 3.4) is

.. math::

    d_R(\\theta) = \\sum_i \\log |A_i| + \\log |X^T V^{*-1} X|
                   + (n - p) \\left(1 + \\log \\frac{2 \\pi r^2(\\theta)}{n - p}\\right)

with :math:`r^2` the generalised residual sum of squares. It is minimised over
:math:`\\theta` with the diagonal of :math:`\\Lambda` bounded at 0, as ``lme4`` does, so
that a singular fit (a variance at 0 or a correlation at +-1) is reached rather than
approached. :func:`fit` takes statsmodels' ``MixedLM`` estimate to that optimum (where
statsmodels stops short of it, on the boundary above all) and gives the GLS fixed effects
and their covariance there; :mod:`imnm_cohort.analysis.mixed` reports them.

References
----------
Bates D, Maechler M, Bolker B, Walker S. Fitting linear mixed-effects models using lme4.
J Stat Softw 2015;67(1):1-48.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Why a fit has no numbers (the codes of ``mixed.ModelReason``).
NOT_CONVERGED, NOT_FITTED = "not_converged", "not_fitted"


@dataclass(frozen=True)
class CrossProducts:
    """The sums a REML fit needs: ``xy`` = [X y], per patient and whole.

    Attributes
    ----------
    xy_xy : array (p + 1, p + 1)
        :math:`[X\\ y]^T [X\\ y]`.
    xy_z : array (m, p + 1, q)
        Each patient's :math:`[X_i\\ y_i]^T Z_i`.
    z_z : array (m, q, q)
        Each patient's :math:`Z_i^T Z_i`.
    n : int
        Rows.
    """

    xy_xy: np.ndarray
    xy_z: np.ndarray
    z_z: np.ndarray
    n: int

    @property
    def p(self) -> int:
        """Fixed effects."""
        return self.xy_xy.shape[0] - 1


def cross_products(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, subject: np.ndarray
) -> CrossProducts:
    """The cross-products of a model's data (``subject`` coded 0 .. m - 1)."""
    m = int(subject.max()) + 1
    xy = np.column_stack([x, y])

    def per_patient(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rows = np.einsum("ni,nj->nij", a, b).reshape(len(a), -1)
        sums = [np.bincount(subject, weights=column, minlength=m) for column in rows.T]
        return np.stack(sums, axis=1).reshape(m, a.shape[1], b.shape[1])

    return CrossProducts(xy.T @ xy, per_patient(xy, z), per_patient(z, z), len(y))


def _weighted(cp: CrossProducts, g_relative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:math:`[X\\ y]^T V^{*-1} [X\\ y]` and each patient's :math:`\\log|V_i^*|` for the
    relative covariance :math:`\\Psi = G / \\sigma^2`, by the push-through identity (valid
    for a singular :math:`\\Psi`); the 2 x 2 systems are solved in closed form, all patients
    at once."""
    inner = cp.z_z @ g_relative  # Z'Z Psi, then I + Z'Z Psi: (m, 2, 2)
    a, b = 1.0 + inner[:, 0, 0, None], inner[:, 0, 1, None]
    c, d = inner[:, 1, 0, None], 1.0 + inner[:, 1, 1, None]
    det = a * d - b * c  # |I + Z'Z Psi| = |I + Lambda' Z'Z Lambda| > 0
    h = cp.xy_z @ g_relative  # (m, p + 1, 2): one product for all patients
    # h (I + Z'Z Psi)^-1 with the 2 x 2 inverse [[d, -b], [-c, a]] / det, elementwise.
    left = (
        np.stack([h[:, :, 0] * d - h[:, :, 1] * c, h[:, :, 1] * a - h[:, :, 0] * b], axis=-1)
        / det[:, :, None]
    )
    correction = np.tensordot(left, cp.xy_z, axes=([0, 2], [0, 2]))
    return cp.xy_xy - correction, np.log(det[:, 0])


def reml_deviance(cp: CrossProducts, g_relative: np.ndarray) -> float:
    """The model has two random effects per patient (intercept and slope), so each :math:`A_i` is
    2 x 2. The profiled REML deviance, -2 times the REML log-likelihood, at
        :math:`\\Psi = G / \\sigma^2`."""
    w, logdet = _weighted(cp, g_relative)
    p = cp.p
    sign, logdet_x = np.linalg.slogdet(w[:p, :p])
    if sign <= 0:
        return float("inf")
    beta = np.linalg.solve(w[:p, :p], w[:p, p])
    r2 = float(w[p, p] - w[:p, p] @ beta)
    if not r2 > 0:
        return float("inf")
    dof = cp.n - p
    return float(logdet.sum() + logdet_x + dof * (1 + np.log(2 * np.pi * r2 / dof)))


def residual_variance(cp: CrossProducts, g_relative: np.ndarray) -> float:
    """REML's :math:`\\sigma^2 = r^2 / (n - p)` at :math:`\\Psi`."""
    w, _ = _weighted(cp, g_relative)
    p = cp.p
    beta = np.linalg.solve(w[:p, :p], w[:p, p])
    return float((w[p, p] - w[:p, p] @ beta) / (cp.n - p))


def relative_covariance(theta: np.ndarray) -> np.ndarray:
    """:math:`\\Psi = \\Lambda \\Lambda^T` from the Cholesky factor's elements
    ``(l11, l21, l22)``."""
    lam = np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    return lam @ lam.T


def minimise_deviance(cp: CrossProducts, start: np.ndarray) -> tuple[np.ndarray, float]:
    """The Cholesky factor's elements ``(l11, l21, l22)`` (diagonal >= 0) that minimise
    :func:`reml_deviance`, from ``start`` (a relative covariance), and the deviance there.

    L-BFGS-B, as the bounds need; it never ends above the start's deviance."""
    from scipy import optimize

    try:
        lam = np.linalg.cholesky(start + 1e-12 * np.eye(2))
        theta0 = np.array([lam[0, 0], lam[1, 0], lam[1, 1]])
    except np.linalg.LinAlgError:
        theta0 = np.array([1.0, 0.0, 1.0])
    with np.errstate(all="ignore"):
        found = optimize.minimize(
            lambda th: reml_deviance(cp, relative_covariance(th)),
            theta0,
            method="L-BFGS-B",
            bounds=[(0.0, None), (None, None), (0.0, None)],
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
        )
    theta = np.asarray(found.x, dtype=float)
    deviance = reml_deviance(cp, relative_covariance(theta))
    if not deviance <= reml_deviance(cp, relative_covariance(theta0)):
        return theta0, reml_deviance(cp, relative_covariance(theta0))
    return theta, deviance


def generalised_least_squares(
    cp: CrossProducts, g: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """REML's fixed effects and ``lme4``'s ``vcov`` at given variance components:
    :math:`\\hat\\beta = (X^T V^{-1} X)^{-1} X^T V^{-1} y` and :math:`(X^T V^{-1} X)^{-1}`,
    :math:`V_i = Z_i G Z_i^T + \\sigma^2 I`."""
    w, _ = _weighted(cp, g / scale)
    p = cp.p
    cov = np.linalg.inv(w[:p, :p] / scale)
    cov = (cov + cov.T) / 2
    return cov @ (w[:p, p] / scale), cov


@dataclass(frozen=True)
class Fit:
    """A REML fit: the fixed effects and their covariance, the random effects (SDs,
    correlation, residual SD) and whether the fit is singular."""

    beta: np.ndarray
    cov_beta: np.ndarray
    random_effects: dict[str, float | None]
    boundary: bool


@dataclass(frozen=True)
class Failure:
    """Why there is no fit: ``not_converged`` or ``not_fitted``, and what failed."""

    reason: str
    error: BaseException | str | None = None


def fit(x: np.ndarray, y: np.ndarray, t: np.ndarray, subject: np.ndarray) -> Fit | Failure:
    """Fit ``y ~ x + (t | subject)`` by REML: statsmodels' ``MixedLM`` (L-BFGS, else BFGS,
    else Powell's method, its warnings caught), then :func:`minimise_deviance` from its
    estimate to the optimum under ``lme4``'s parameterisation; GLS fixed effects and
    ``lme4``'s ``vcov`` there.

    Parameters
    ----------
    x : array (n, p)
        Fixed-effects design.
    y, t : array (n,)
        Outcome and time.
    subject : array of int (n,)
        Each row's patient, coded 0 .. m - 1.

    Returns
    -------
    Fit or Failure
        A failure when statsmodels is missing, no method converges (``not_converged``,
        with statsmodels' warning) or the fit fails (``not_fitted``).
    """
    try:
        from statsmodels.regression.mixed_linear_model import MixedLM
    except ImportError:
        return Failure(NOT_FITTED, "statsmodels is not installed")

    z = np.column_stack([np.ones_like(t), t])
    try:
        model = MixedLM(y, x, groups=subject, exog_re=z)
    except (np.linalg.LinAlgError, ValueError) as error:
        return Failure(NOT_FITTED, error)

    first = _attempt(model, ["lbfgs"])
    attempts = [first]
    if not first.converged:
        attempts += [_attempt(model, [m]) for m in _FALLBACKS]
    converged = [a for a in attempts if a.converged]
    if not converged:
        errors = [a.error for a in attempts if a.error is not None]
        return Failure(
            NOT_FITTED if len(errors) == len(attempts) else NOT_CONVERGED,
            errors[-1] if errors else next((a.message for a in attempts if a.message), None),
        )
    best = max(converged, key=lambda a: a.llf).result
    scale = float(best.scale)
    start = np.asarray(best.cov_re, dtype=float) / scale
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(start).all()):
        return Failure(NOT_FITTED, "a variance is not finite")
    cp = cross_products(x, y, z, subject)
    try:
        theta, _ = minimise_deviance(cp, start)
        psi = relative_covariance(theta)
        scale = residual_variance(cp, psi)
        g = scale * psi
        beta, cov_beta = generalised_least_squares(cp, g, scale)
    except (np.linalg.LinAlgError, ValueError) as error:
        return Failure(NOT_FITTED, error)
    if not (np.isfinite(cov_beta).all() and np.isfinite(beta).all() and scale > 0):
        return Failure(NOT_FITTED, "the covariance of the fixed effects is not finite")
    sd = np.sqrt(np.clip(np.diag(g), 0.0, None))
    corr = float(g[0, 1] / (sd[0] * sd[1])) if sd[0] > 0 and sd[1] > 0 else float("nan")
    # lme4's isSingular(): a diagonal element of the relative Cholesky factor below 1e-4.
    singular = bool(min(theta[0], theta[2]) < 1e-4)
    random_effects: dict[str, float | None] = {
        "sd_intercept": float(sd[0]),
        "sd_slope": float(sd[1]),
        "correlation": corr if np.isfinite(corr) else None,
        "sd_residual": float(np.sqrt(scale)),
    }
    return Fit(beta, cov_beta, random_effects, singular)


#: The methods tried when statsmodels' default, L-BFGS, does not converge.
_FALLBACKS = ("bfgs", "powell")


@dataclass(frozen=True)
class _Attempt:
    result: Any
    converged: bool
    llf: float
    message: str | None
    error: BaseException | None = None


def _attempt(model: Any, method: list[str], **options: Any) -> _Attempt:
    """One REML fit, its warnings caught: the text of statsmodels' ``ConvergenceWarning``
    when it failed becomes the reason's words (its "boundary" warning is not a failure)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            result = model.fit(reml=True, method=method, **options)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as error:
            return _Attempt(None, False, -np.inf, None, error)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    failed = [m for m in messages if "boundary" not in m]
    llf = float(result.llf)
    converged = bool(result.converged) and np.isfinite(llf)
    return _Attempt(
        result, converged, llf if converged else -np.inf, failed[-1] if failed else None
    )
