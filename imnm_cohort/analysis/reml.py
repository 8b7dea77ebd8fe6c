"""Fitting the growth model by REML: ``lme4``'s profiled criterion, computed for all patients
at once from each patient's sums, and minimised over ``lme4``'s parameterisation.

For a model with a random intercept and slope per patient,
:math:`V_i = \\sigma^2 (I + Z_i \\Psi Z_i^T)` with :math:`\\Psi = \\Lambda \\Lambda^T` the
relative covariance of the random effects (:math:`G = \\sigma^2 \\Psi`) and :math:`\\Lambda`
its lower-triangular Cholesky factor, everything REML needs comes from each patient's sums
:math:`S_i = Z_i^T Z_i` (of 1, t and t^2) and :math:`K_i = Z_i^T [X_i\\ y_i]` (of the design
and the outcome, times 1 and t), summed over their rows once, and the whole data's
:math:`[X\\ y]^T [X\\ y]`. With :math:`B_i = I + S_i \\Psi` (2 x 2, inverted in closed form)
the push-through and Woodbury identities and the matrix determinant lemma give

.. math::

    [X\\ y]^T V^{*-1} [X\\ y] = [X\\ y]^T [X\\ y] - \\sum_i K_i^T \\Psi B_i^{-1} K_i,
    \\qquad \\log |V_i^*| = \\log |B_i| = \\log |I + \\Lambda^T S_i \\Lambda|,

valid for a singular :math:`\\Psi`. Each patient is in one group ``g`` and their rows'
design is :math:`X_i = Z_i E_g`, so :math:`K_i` comes from :math:`S_i` and
:math:`Z_i^T y_i` (five sums per patient: rows, t, t^2, y, t y) and the design enters
through each group's totals: :math:`X^T V^{*-1} X = \\sum_g E_g^T H_g E_g` with
:math:`H_g = \\sum_{i \\in g} B_i^{-1} S_i`. The profiled REML deviance (Bates et al. 2015,
section 3.4) is

.. math::

    d_R(\\theta) = \\sum_i \\log |B_i| + \\log |X^T V^{*-1} X|
                   + (n - p) \\left(1 + \\log \\frac{2 \\pi r^2(\\theta)}{n - p}\\right)

with :math:`r^2` the generalised residual sum of squares, and its gradient in
:math:`\\Psi` is

.. math::

    D = \\sum_i \\left( B_i^{-1} S_i - Q_i^X C Q_i^{X\\,T}
        - \\frac{n - p}{r^2} u_i u_i^T \\right), \\quad
    Q_i = B_i^{-1} K_i, \\quad u_i = Q_i \\begin{pmatrix} -\\hat\\beta \\\\ 1 \\end{pmatrix},

with :math:`C = (X^T V^{*-1} X)^{-1}` and :math:`Q_i^X` the columns of the design; in
:math:`\\Lambda` it is :math:`2 D \\Lambda`. Each evaluation is a few operations on arrays
of one element per patient. :func:`fit` minimises the deviance over :math:`\\theta`, the
lower triangle of :math:`\\Lambda`, from ``lme4``'s start (:math:`\\Lambda = I`) with the
diagonal bounded at 0 as ``lme4`` bounds it, so that a singular fit (a variance at 0 or a
correlation at +-1) is reached rather than approached (L-BFGS-B with the analytic
gradient; an end on that boundary is checked by a second run from off it, see
:func:`minimise_deviance`), and gives the GLS fixed effects and their covariance there;
:mod:`imnm_cohort.analysis.mixed` reports them.

References
----------
Bates D, Maechler M, Bolker B, Walker S. Fitting linear mixed-effects models using lme4.
J Stat Softw 2015;67(1):1-48.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Why a fit has no numbers (the codes of ``mixed.ModelReason``).
NOT_CONVERGED, NOT_FITTED = "not_converged", "not_fitted"

#: The optimiser's limit on iterations (a fit that reaches it has not converged).
MAX_ITERATIONS = 1000

#: ``lme4``'s ``isSingular()`` tolerance: a fit is singular when a diagonal element of the
#: relative Cholesky factor is below it.
SINGULAR = 1e-4

#: ``lme4``'s start: :math:`\\Lambda = I`, as ``(l11, l21, l22)``.
START = (1.0, 0.0, 1.0)


@dataclass(frozen=True)
class PatientSums:
    """The sums a REML fit needs, one element per patient.

    Attributes
    ----------
    s0, s1, s2 : array (m,)
        Each patient's rows, sum of t and of t^2 (:math:`S_i = Z_i^T Z_i`).
    c0, c1 : array (m,)
        Each patient's sum of y and of t y (:math:`Z_i^T y_i`).
    group : array of int (m,)
        Each patient's group, coded 0 .. G - 1.
    design : array (G, 2, p)
        Each group's :math:`E_g`, with :math:`X_i = Z_i E_{g(i)}`.
    yy : float
        :math:`y^T y`.
    n : int
        Rows.
    """

    s0: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    c0: np.ndarray
    c1: np.ndarray
    group: np.ndarray
    design: np.ndarray
    yy: float
    n: int

    @property
    def p(self) -> int:
        """Fixed effects."""
        return int(self.design.shape[2])


def patient_sums(
    y: np.ndarray, t: np.ndarray, subject: np.ndarray, group: np.ndarray, design: np.ndarray
) -> PatientSums:
    """Each patient's sums (``subject`` coded 0 .. m - 1 per row, ``group`` coded 0 .. G - 1
    per patient, ``design`` each group's :math:`E_g`): five weighted counts over the rows."""
    m = len(group)

    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(subject, weights=weights, minlength=m).astype(float)

    ty = t * y
    return PatientSums(
        total(None), total(t), total(t * t), total(y), total(ty),
        np.asarray(group, dtype=np.intp), np.asarray(design, dtype=float),
        float(y @ y), len(y),
    )  # fmt: skip


@dataclass(frozen=True)
class _Terms:
    """The pieces of the criterion at one :math:`\\Psi`, all patients at once."""

    xwx: np.ndarray  # X' V*^-1 X (p, p)
    xwy: np.ndarray  # X' V*^-1 y (p,)
    ywy: float  # y' V*^-1 y
    logdet: float  # sum_i log |V_i*|
    b_inv: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # B_i^-1, elementwise
    r: tuple[np.ndarray, np.ndarray, np.ndarray]  # R_i = B_i^-1 S_i = Z_i' V_i*^-1 Z_i


def _terms(sums: PatientSums, psi: np.ndarray) -> _Terms:
    """The criterion's pieces, the 2 x 2 systems in closed form; the design enters through
    each group's totals (:math:`X^T V^{*-1} X = \\sum_g E_g^T H_g E_g`)."""
    s0, s1, s2, c0, c1 = sums.s0, sums.s1, sums.s2, sums.c0, sums.c1
    p00, p01, p11 = psi[0, 0], psi[0, 1], psi[1, 1]
    b00 = 1.0 + s0 * p00 + s1 * p01  # B = I + S Psi
    b01 = s0 * p01 + s1 * p11
    b10 = s1 * p00 + s2 * p01
    b11 = 1.0 + s1 * p01 + s2 * p11
    det = b00 * b11 - b01 * b10  # |I + Lambda' S Lambda| >= 1
    i00, i01, i10, i11 = b11 / det, -b01 / det, -b10 / det, b00 / det
    r00 = i00 * s0 + i01 * s1
    r11 = i10 * s1 + i11 * s2
    r01 = (i00 * s1 + i01 * s2 + i10 * s0 + i11 * s1) / 2  # symmetric: (S^-1 + Psi)^-1
    v0, v1 = i00 * c0 + i01 * c1, i10 * c0 + i11 * c1  # B^-1 Z'y
    groups = sums.design.shape[0]

    def by_group(a: np.ndarray) -> np.ndarray:
        return np.bincount(sums.group, weights=a, minlength=groups)

    h = np.stack([by_group(r00), by_group(r01), by_group(r01), by_group(r11)], axis=1)
    h = h.reshape(groups, 2, 2)
    hy = np.stack([by_group(v0), by_group(v1)], axis=1)
    e = sums.design
    xwx = np.einsum("gki,gkl,glj->ij", e, h, e)
    xwy = np.einsum("gki,gk->i", e, hy)
    correction = c0 * (p00 * v0 + p01 * v1) + c1 * (p01 * v0 + p11 * v1)  # y' Z Psi B^-1 Z'y
    return _Terms(
        (xwx + xwx.T) / 2, xwy, float(sums.yy - correction.sum()), float(np.log(det).sum()),
        (i00, i01, i10, i11), (r00, r01, r11),
    )  # fmt: skip


def _profile(terms: _Terms) -> tuple[np.ndarray, np.ndarray, float, float]:
    """GLS at one :math:`\\Psi`: :math:`\\hat\\beta`, :math:`C = (X^T V^{*-1} X)^{-1}`,
    :math:`r^2` and :math:`\\log |X^T V^{*-1} X|` (``LinAlgError`` when that matrix is not
    positive definite)."""
    chol = np.linalg.cholesky(terms.xwx)
    c = np.linalg.inv(terms.xwx)
    c = (c + c.T) / 2
    beta = c @ terms.xwy
    r2 = float(terms.ywy - terms.xwy @ beta)
    return beta, c, r2, float(2 * np.log(np.diag(chol)).sum())


def _deviance(terms: _Terms, r2: float, logdet_x: float, n: int, p: int) -> float:
    dof = n - p
    return float(terms.logdet + logdet_x + dof * (1 + np.log(2 * np.pi * r2 / dof)))


def reml_deviance(sums: PatientSums, g_relative: np.ndarray) -> float:
    """The profiled REML deviance, -2 times the REML log-likelihood, at
    :math:`\\Psi = G / \\sigma^2` (infinite where it is not defined)."""
    terms = _terms(sums, g_relative)
    try:
        _, _, r2, logdet_x = _profile(terms)
    except np.linalg.LinAlgError:
        return float("inf")
    if not r2 > 0:
        return float("inf")
    return _deviance(terms, r2, logdet_x, sums.n, sums.p)


def deviance_and_gradient(theta: np.ndarray, sums: PatientSums) -> tuple[float, np.ndarray]:
    """The REML deviance at :math:`\\theta = (l_{11}, l_{21}, l_{22})` and its analytic
    gradient in :math:`\\theta` (the module's formula for :math:`D`)."""
    lam = np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    terms = _terms(sums, lam @ lam.T)
    try:
        beta, c, r2, logdet_x = _profile(terms)
    except np.linalg.LinAlgError:
        return float("inf"), np.zeros(3)
    if not r2 > 0:
        return float("inf"), np.zeros(3)
    i00, i01, i10, i11 = terms.b_inv
    r00, r01, r11 = terms.r
    e = sums.design
    f = np.einsum("gki,ij,glj->gkl", e, c, e)[sums.group]  # E_g C E_g', per patient
    f00, f01, f11 = f[:, 0, 0], f[:, 0, 1], f[:, 1, 1]
    # R F R, per patient (R and F symmetric)
    a00, a01 = r00 * f00 + r01 * f01, r00 * f01 + r01 * f11
    a10, a11 = r01 * f00 + r11 * f01, r01 * f01 + r11 * f11
    b = (e @ beta)[sums.group]  # each patient's group's intercept and slope
    e0 = sums.c0 - (sums.s0 * b[:, 0] + sums.s1 * b[:, 1])  # Z'(y - X beta)
    e1 = sums.c1 - (sums.s1 * b[:, 0] + sums.s2 * b[:, 1])
    u0, u1 = i00 * e0 + i01 * e1, i10 * e0 + i11 * e1
    k = (sums.n - sums.p) / r2
    d00 = (r00 - (a00 * r00 + a01 * r01) - k * u0 * u0).sum()
    d11 = (r11 - (a10 * r01 + a11 * r11) - k * u1 * u1).sum()
    d01 = (r01 - (a00 * r01 + a01 * r11) - k * u0 * u1).sum()
    g = 2 * np.array([[d00, d01], [d01, d11]]) @ lam
    return _deviance(terms, r2, logdet_x, sums.n, sums.p), np.array([g[0, 0], g[1, 0], g[1, 1]])


def relative_covariance(theta: np.ndarray) -> np.ndarray:
    """:math:`\\Psi = \\Lambda \\Lambda^T` from the Cholesky factor's elements
    ``(l11, l21, l22)``."""
    lam = np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    return lam @ lam.T


@dataclass(frozen=True)
class Optimum:
    """Where the minimisation ended: ``theta``, the deviance there, whether it converged and
    the optimiser's message."""

    theta: np.ndarray
    deviance: float
    converged: bool
    message: str


def minimise_deviance(sums: PatientSums, start: np.ndarray | None = None) -> Optimum:
    """The Cholesky factor's elements ``(l11, l21, l22)`` (diagonal >= 0) that minimise
    :func:`reml_deviance`, from ``start`` (by default ``lme4``'s, :data:`START`).

    L-BFGS-B with the analytic gradient and ``lme4``'s bounds. The gradient in ``l22`` is
    nil wherever ``l22 = 0`` (:math:`\\Psi` depends on its square), so a gradient method can
    stop on that bound where the deviance still falls away from it: an optimum on the
    boundary (:data:`SINGULAR`) is checked by a second run from a point off it, and the
    lower of the two converged ends is kept."""
    first = _lbfgsb(sums, np.asarray(START if start is None else start, dtype=float))
    if not (first.converged and min(first.theta[0], first.theta[2]) < SINGULAR):
        return first
    off = max(0.1, 0.25 * float(np.abs(first.theta).max()))
    theta = first.theta.copy()
    theta[0], theta[2] = max(theta[0], off), max(theta[2], off)
    second = _lbfgsb(sums, theta)
    return second if second.converged and second.deviance < first.deviance else first


def _lbfgsb(sums: PatientSums, theta0: np.ndarray) -> Optimum:
    """One bounded L-BFGS-B run from ``theta0``. It has converged when the optimiser says
    so (the deviance or the projected gradient no longer changes), or when its line search
    can go no further at a point where the projected gradient is below 1e-6 times the
    deviance (nil to working precision)."""
    from scipy import optimize

    with np.errstate(all="ignore"):
        found = optimize.minimize(
            deviance_and_gradient,
            theta0,
            args=(sums,),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None), (None, None), (0.0, None)],
            options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": MAX_ITERATIONS},
        )
    theta = np.asarray(found.x, dtype=float)
    deviance, gradient = deviance_and_gradient(theta, sums)
    converged = bool(found.success) and np.isfinite(deviance)
    if not converged and found.status == 2 and np.isfinite(deviance):
        at_bound = (theta <= 0) & (gradient > 0) & np.array([True, False, True])
        projected = np.where(at_bound, 0.0, gradient)
        converged = bool(np.abs(projected).max() <= 1e-6 * max(1.0, abs(deviance)))
    return Optimum(theta, deviance, converged, str(found.message))


def generalised_least_squares(
    sums: PatientSums, g: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """REML's fixed effects and ``lme4``'s ``vcov`` at given variance components:
    :math:`\\hat\\beta = (X^T V^{-1} X)^{-1} X^T V^{-1} y` and :math:`(X^T V^{-1} X)^{-1}`,
    :math:`V_i = Z_i G Z_i^T + \\sigma^2 I`."""
    terms = _terms(sums, g / scale)
    cov = np.linalg.inv(terms.xwx / scale)
    cov = (cov + cov.T) / 2
    return cov @ (terms.xwy / scale), cov


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


def fit(
    y: np.ndarray, t: np.ndarray, subject: np.ndarray, group: np.ndarray, design: np.ndarray
) -> Fit | Failure:
    """Fit ``y ~ X + (t | subject)`` by REML, :math:`X_i = Z_i E_{g(i)}`:
    :func:`minimise_deviance` from ``lme4``'s start, then the GLS fixed effects and
    ``lme4``'s ``vcov`` at the optimum.

    Parameters
    ----------
    y, t : array (n,)
        Outcome and time.
    subject : array of int (n,)
        Each row's patient, coded 0 .. m - 1.
    group : array of int (m,)
        Each patient's group, coded 0 .. G - 1.
    design : array (G, 2, p)
        Each group's :math:`E_g`: the fixed effects' design of a row of the group is
        ``[1, t] @ design[g]``.

    Returns
    -------
    Fit or Failure
        ``not_converged`` (with the optimiser's message) when the optimisation stops short
        of an optimum; ``not_fitted`` when the criterion cannot be computed at the start (a
        design not of full rank, no residual variation) or a number is not finite.
    """
    try:
        sums = patient_sums(y, t, subject, group, design)
        if not np.isfinite(reml_deviance(sums, relative_covariance(np.array(START)))):
            return Failure(NOT_FITTED, "the REML criterion is not finite at the start")
        optimum = minimise_deviance(sums)
        if not optimum.converged:
            return Failure(NOT_CONVERGED, optimum.message)
        theta = optimum.theta
        psi = relative_covariance(theta)
        _, _, r2, _ = _profile(_terms(sums, psi))
        scale = r2 / (sums.n - sums.p)
        g = scale * psi
        beta, cov_beta = generalised_least_squares(sums, g, scale)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as error:
        return Failure(NOT_FITTED, error)
    if not (np.isfinite(cov_beta).all() and np.isfinite(beta).all() and scale > 0):
        return Failure(NOT_FITTED, "the covariance of the fixed effects is not finite")
    sd = np.sqrt(np.clip(np.diag(g), 0.0, None))
    corr = float(g[0, 1] / (sd[0] * sd[1])) if sd[0] > 0 and sd[1] > 0 else float("nan")
    # lme4's isSingular(): a diagonal element of the relative Cholesky factor below 1e-4.
    singular = bool(min(theta[0], theta[2]) < SINGULAR)
    random_effects: dict[str, float | None] = {
        "sd_intercept": float(sd[0]),
        "sd_slope": float(sd[1]),
        "correlation": corr if np.isfinite(corr) else None,
        "sd_residual": float(np.sqrt(scale)),
    }
    return Fit(beta, cov_beta, random_effects, singular)
