"""Other priors for the mixture models, read from a JSON file of serialized priors.

The file (``--mixture-priors FILE.json``) is one JSON object,
``{parameter: serialized prior}``, with ``parameter`` one of
``MixtureHillSaturation``'s (``beta``, ``weights``, ``kappa``, ``slope``) and
the serialized prior what ``prior.to_dict()`` gives: a ``pymc_extras``
``Prior`` or one of ``pmm_mixture.priors``' ``StickBreakingWeights``,
``DirichletWeights``, ``OrderedKappa``, ``PooledSlope``. Priors are rebuilt
with :func:`pymc_extras.deserialize.deserialize`. For example::

    import json
    from pymc_extras.prior import Prior
    from pmm_mixture.priors import PooledSlope

    slope = PooledSlope(log_sigma=Prior("HalfNormal", sigma=0.2))
    with open("slope.json", "w") as f:
        json.dump({"slope": slope.to_dict()}, f)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .specs import MIXTURE_MODELS, MODELS

#: Parameters of MixtureHillSaturation that a priors file may set.
PRIOR_PARAMETERS = ("beta", "weights", "kappa", "slope")


def deserialize_priors(serialized: Mapping[str, Any]) -> dict[str, Any]:
    """``{parameter: prior}`` from ``{parameter: serialized prior}``.

    Raises
    ------
    ValueError
        Naming the parameter whose entry is unknown or cannot be deserialized.
    """
    from pymc_extras.deserialize import DeserializableError, deserialize

    import pmm_mixture.priors  # noqa: F401  (registers the component priors)

    priors = {}
    for name, data in serialized.items():
        if name not in PRIOR_PARAMETERS:
            raise ValueError(
                f"unknown parameter {name!r}; MixtureHillSaturation's priors are "
                f"{list(PRIOR_PARAMETERS)}."
            )
        if not isinstance(data, Mapping):
            raise ValueError(
                f"the prior for {name!r} must be a serialized prior (a JSON "
                f"object from prior.to_dict()), got {data!r}."
            )
        try:
            priors[name] = deserialize(dict(data))
        except DeserializableError as error:
            cause = f" ({error.__cause__})" if error.__cause__ else ""
            raise ValueError(
                f"the prior for {name!r} cannot be deserialized{cause}: {data!r} "
                "is not what Prior.to_dict() or a pmm_mixture prior's to_dict() "
                "gives."
            ) from None
    return priors


def serialize_priors(priors: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{parameter: prior.to_dict()}``: the inverse of :func:`deserialize_priors`."""
    return {name: prior.to_dict() for name, prior in priors.items()}


def check_priors(
    serialized: Mapping[str, Any], models: tuple[str, ...] = MIXTURE_MODELS
) -> dict[str, dict[str, Any]]:
    """Deserialize, build every model's saturation with them, re-serialize.

    Returns the canonical serialized form (``to_dict()`` of the rebuilt
    priors), which is what a run's settings and cache key hold.

    Raises
    ------
    ValueError
        When a prior cannot be deserialized or a model's
        ``MixtureHillSaturation`` rejects it (e.g. weights not on the simplex).
    """
    from pmm_mixture import MixtureHillSaturation

    priors = deserialize_priors(serialized)
    for model in models:
        n_components = MODELS[model]["n_components"]
        try:
            MixtureHillSaturation(n_components=n_components, priors=priors)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"MixtureHillSaturation(n_components={n_components}) ({model}) "
                f"rejects these priors: {error}"
            ) from None
    return serialize_priors(priors)


def read_mixture_priors(path: Path | str) -> dict[str, dict[str, Any]]:
    """The checked, canonical serialized priors of a ``--mixture-priors`` file.

    Raises
    ------
    ValueError
        Naming the file and the problem: unreadable, not JSON, not a non-empty
        object, an unknown parameter, or a prior that cannot be used.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(
            f"--mixture-priors {path}: cannot read it ({error})."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"--mixture-priors {path}: not valid JSON ({error})."
        ) from None
    if not isinstance(data, dict) or not data:
        raise ValueError(
            f"--mixture-priors {path}: needs a non-empty JSON object "
            "{parameter: serialized prior}, got "
            f"{type(data).__name__ if data else 'an empty one'}."
        )
    try:
        return check_priors(data)
    except ValueError as error:
        raise ValueError(f"--mixture-priors {path}: {error}") from None


def priors_digest(serialized: Mapping[str, Any]) -> str:
    """Short hash of serialized priors (for output folder names)."""
    text = json.dumps(serialized, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]
