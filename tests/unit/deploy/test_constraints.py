"""deploy/constraints.txt locks what Casebook installs: every distribution pyproject.toml asks
for (its services' and its tools') and everything those bring, each at one exact version, and
nothing besides; and this environment was installed from it. (`make lock` writes it.)"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
CONSTRAINTS = ROOT / "deploy" / "constraints.txt"


def locked() -> dict[NormalizedName, str]:
    pins: dict[NormalizedName, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, version = line.partition("==")
        assert version, f"deploy/constraints.txt: {line!r} is not an exact pin (name==version)"
        assert canonicalize_name(name) not in pins, f"deploy/constraints.txt pins {name} twice"
        pins[canonicalize_name(name)] = version
    return pins


def asked_for() -> list[Requirement]:
    """pyproject.toml's requirements: the services' and the dev tools'."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in
            (*project["dependencies"], *project["optional-dependencies"]["dev"])]


def needed() -> set[NormalizedName]:
    """Every distribution the requirements bring on this interpreter, walked through the
    installed distributions' own requirements, with the extras each is asked for."""
    found: set[NormalizedName] = set()
    walked: set[tuple[NormalizedName, frozenset[str]]] = set()
    waiting = asked_for()
    while waiting:
        requirement = waiting.pop()
        name = canonicalize_name(requirement.name)
        extras = frozenset(requirement.extras)
        if (name, extras) in walked:
            continue
        walked.add((name, extras))
        found.add(name)
        for text in metadata.requires(name) or []:
            brought = Requirement(text)
            if brought.marker is None or any(
                    brought.marker.evaluate({"extra": extra}) for extra in ("", *extras)):
                waiting.append(brought)
    return found


def test_every_requirement_of_pyproject_is_locked_at_a_version_it_allows() -> None:
    pins = locked()
    for requirement in asked_for():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"pyproject.toml asks for {requirement}; deploy/constraints.txt " \
                             "does not lock it: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"pyproject.toml asks for {requirement}; deploy/constraints.txt locks "
            f"{name}=={pins[name]}: run make lock")


def test_the_lock_holds_what_the_requirements_bring_and_nothing_else() -> None:
    pins, brought = locked(), needed()
    assert sorted(brought - pins.keys()) == [], "brought in but not locked: run make lock"
    assert sorted(pins.keys() - brought) == [], "locked but nothing needs it: run make lock"


def installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_this_environment_was_installed_from_the_lock() -> None:
    drifted = {name: (installed(name), version) for name, version in locked().items()
               if installed(name) != version}
    assert drifted == {}, "installed version, locked version; bash deploy/local.sh install " \
                          "installs the locked ones"
