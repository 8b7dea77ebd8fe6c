"""Antibody names as laboratories write them, read as the contract's antibody names.

A myositis panel's tick boxes are labelled the way each laboratory prints its report:
``Anti-Jo-1``, ``SAE1/2``, ``MDA-5 (CADM-140)``, ``NXP2 (MJ)``, ``Mi-2 alpha/beta``,
``Ha (YRS)``, ``EJ (glycyl)``, ``TIF1-γ``. :func:`antibody_name` reads such a label as one of
the contract's antibodies (``OTHER_MSA`` of :mod:`imnm_cohort.contracts.patients`, the one home of
that list), or None. Only the spellings are kept here; the antibodies themselves are the
contract's.
"""

from __future__ import annotations

import html
import re

from imnm_cohort.contracts.patients import OTHER_MSA

#: Other names of contract antibodies (letters and digits only, lower case) -> contract name:
#: the older or target-antigen names laboratories print beside or instead of the usual one.
ALIASES: dict[str, str] = {
    "mj": "nxp2",  # NXP2 was first described as the MJ antigen
    "cadm140": "mda5",  # clinically amyopathic dermatomyositis antigen, 140 kDa
    "ifih1": "mda5",  # MDA5's gene
    "yrs": "ha",  # tyrosyl-tRNA synthetase
    "p155": "tif1g",
    "p155140": "tif1g",
    "tif1gamma": "tif1g",
    "histidyl": "jo1",
    "threonyl": "pl7",
    "alanyl": "pl12",
    "glycyl": "ej",
    "isoleucyl": "oj",
    "asparaginyl": "ks",
    "phenylalanyl": "zo",
}
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma"}
_BRACKETED = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
_TAG = re.compile(r"<[^>]*>")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
#: Words around the name that say nothing about which antibody it is.
_NOISE = re.compile(
    r"\b(anti|antibod(y|ies)|autoantibod(y|ies)|ab|igg|elisa|line ?blot|immunoblot|"
    r"trna|synthetase|aminoacyl)\b"
)
#: Isoform and subunit suffixes: Mi-2 alpha/beta, SAE1/2, TIF1-gamma.
_ISOFORM = re.compile(r"(alphabeta|alpha|beta|gamma|12|1|2)$")


def clean_label(text: str) -> str:
    """A label without HTML tags and entities, its spaces collapsed (``<b>Yes</b>`` -> Yes).

    Soft hyphens and zero-width characters (``Ma&shy;le``) are removed; no-break spaces are
    spaces.
    """
    text = html.unescape(_TAG.sub(" ", text)).translate(_INVISIBLE)
    return " ".join(text.split())


def _squash(text: str) -> str:
    for letter, word in _GREEK.items():
        text = text.replace(letter, word)
    text = _NOISE.sub(" ", text.lower().replace("-", " "))
    return re.sub(r"[^a-z0-9]", "", text)


def _known(squashed: str) -> str | None:
    if squashed in OTHER_MSA:
        return squashed
    if squashed in ALIASES:
        return ALIASES[squashed]
    stem = _ISOFORM.sub("", squashed)
    if stem != squashed and stem in OTHER_MSA:
        return stem
    if squashed.endswith("gamma") and squashed[: -len("gamma")] + "g" in OTHER_MSA:
        return squashed[: -len("gamma")] + "g"
    return None


def antibody_name(label: str) -> str | None:
    """The contract antibody a label names, or None.

    HTML is removed; then "anti-", words such as "antibody", and case, spaces and
    punctuation are ignored; isoform suffixes are dropped (``Mi-2 alpha/beta`` -> ``mi2``,
    ``SAE1/2`` -> ``sae``); a bracketed alias is tried when the name itself is unknown
    (``NXP2 (MJ)`` -> ``nxp2``, ``(CADM-140)`` -> ``mda5``).

    Parameters
    ----------
    label : str
        A choice label, a column label or a field name.

    Returns
    -------
    str or None
        One of the contract's antibodies (``jo1``, ``pl7``, ..., ``sae``), or None when the
        label names none of them (``Ro52``, ``PM-Scl``, ``HMGCR``, ``Other``).

    Examples
    --------
    >>> [antibody_name(x) for x in ("Anti-Jo-1", "MDA-5 (CADM-140)", "Mi-2 alpha/beta", "Ro52")]
    ['jo1', 'mda5', 'mi2', None]
    """
    text = clean_label(label)
    outside = _squash(_BRACKETED.sub(" ", text))
    named = _known(outside) or _known(outside.removeprefix("anti"))
    if named is not None or outside in _OTHER_TARGETS:
        return named
    aliases = {_known(_squash(part)) for part in _BRACKETED.findall(text)} - {None}
    return aliases.pop() if len(aliases) == 1 else None


#: Antibodies that are not the contract's "other" myositis antibodies: a label naming one of
#: these is never read through an alias in its brackets.
_OTHER_TARGETS = frozenset({"hmgcr", "srp", "ro52", "ro60", "pmscl", "ku", "u1rnp", "la"})
