"""Force terms by name: the built-in ones and those other packages publish as entry points.

A package adds a term by declaring, in its ``pyproject.toml``::

    [project.entry-points."mdlearn.forces"]
    morse = "my_package.terms:Morse"

after which ``mdl.forces.create("morse", D=0.3, ...)`` makes one (the entry point may name a class or any
callable that returns a force term). Built-in names win over entry points of the same name.
"""
import difflib

__all__ = ["GROUP", "available", "create"]

GROUP = "mdlearn.forces"


def _builtin():
    from .ase import AseForceTerm
    from .coulomb import DirectCoulomb, Ewald
    from .dielectric import DielectricSphere
    from .pair import WCA, LennardJones
    from .torch import TorchPotential
    from .walls import PlanarWalls, SphereBody, SphericalCell

    classes = (AseForceTerm, DielectricSphere, DirectCoulomb, Ewald, LennardJones, PlanarWalls, SphereBody,
               SphericalCell, TorchPotential, WCA)
    return {cls.__name__: cls for cls in classes}


def _plugins():
    from importlib.metadata import entry_points  # only when asked: keeps `import mdlearn` light

    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available():
    """Names :func:`create` accepts: built-in terms and installed plugins, sorted.

    Examples
    --------
    >>> "LennardJones" in available()
    True
    """
    return sorted(set(_builtin()) | set(_plugins()))


def create(kind, /, **kwargs):
    """A force term by name (``kind``: a built-in class name or an entry-point name), made with ``kwargs``
    (``name=`` among them is the term's own name in the force field).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> mdl.forces.create("LennardJones", cutoff=3.0).cutoff
    3.0
    """
    builtin = _builtin()
    if kind in builtin:
        return builtin[kind](**kwargs)
    plugins = _plugins()
    if kind not in plugins:
        names = sorted(set(builtin) | set(plugins))
        close = difflib.get_close_matches(str(kind), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown force term {kind!r}{hint} Known: {names} (plugins register under the "
                         f"{GROUP!r} entry-point group)")
    ep = plugins[kind]
    try:
        factory = ep.load()
    except Exception as exc:
        dist = getattr(ep.dist, "name", "?") if getattr(ep, "dist", None) else "?"
        raise ImportError(f"force term {kind!r} from package {dist!r} ({ep.value}) failed to load: {exc}") from exc
    term = factory(**kwargs)
    missing = [a for a in ("name", "cutoff", "attach", "compute") if not hasattr(term, a)]
    if missing:
        raise TypeError(f"entry point {kind!r} ({ep.value}) made {term!r}, which is not a force term: it has no "
                        f"{missing}")
    return term
