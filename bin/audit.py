"""The second half of `make audit`: what pip-audit skipped, checked against the index's project data.

`bin/audit.py REPORT "LOCKS" "IGNORED_IDS"`. pip-audit asks the package index about each pinned
version; a package it skips (the index's per-version JSON did not answer: on a network that serves
only each project's JSON, all of them) is checked against the vulnerabilities the index lists for its
project's latest release, when that is the pinned version. Exits 1 on any finding, or when pip-audit
left no report; names the pins checked neither way. The index's address is pip's own.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from pip._internal.models.index import PyPI

Finding = tuple[str, str, str, list]  # name, version, vulnerability id, fixed in


def pinned(locks: list[str]) -> dict[str, str]:
    """name -> version of every requirement the locks install on this machine."""
    pins = {}
    for lock in locks:
        with open(lock) as lines:
            for line in lines:
                if line[:1].isalpha():
                    requirement = Requirement(line.rstrip().rstrip("\\").strip())
                    if requirement.marker is None or requirement.marker.evaluate():
                        pins[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    return pins


def latest_release_findings(name: str, version: str, ignored: set[str]) -> list[Finding] | None:
    """Known vulnerabilities of `version`, when it is the project's latest release; None when it is not."""
    with urllib.request.urlopen(f"{PyPI.pypi_url}/{name}/json", timeout=60) as response:  # noqa: S310 (https)
        project = json.load(response)
    if Version(project["info"]["version"]) != Version(version):
        return None
    return [
        (name, version, vuln["id"], vuln.get("fixed_in", []))
        for vuln in project.get("vulnerabilities") or []
        if not vuln.get("withdrawn") and not ignored.intersection([vuln["id"], *vuln.get("aliases", [])])
    ]


def main(report: str, locks: list[str], ignored: set[str]) -> int | str:
    try:
        with open(report) as data:
            dependencies = json.load(data)["dependencies"]
    except (OSError, ValueError, KeyError):
        return f"audit: pip-audit failed, no report in {report}"
    found: list[Finding] = [
        (d["name"], d["version"], v["id"], v["fix_versions"]) for d in dependencies for v in d.get("vulns", [])
    ]
    skipped = {canonicalize_name(d["name"]) for d in dependencies if "skip_reason" in d}
    pins = pinned(locks)
    names = sorted(skipped & pins.keys())
    unchecked = sorted(skipped - pins.keys())
    checked = 0
    with ThreadPoolExecutor(8) as pool:
        results = pool.map(lambda n: latest_release_findings(n, pins[n], ignored), names)
        for name, findings in zip(names, results, strict=True):
            if findings is None:
                unchecked.append(f"{name} {pins[name]} (not the latest release)")
            else:
                checked += 1
                found += findings
    print(
        f"audit: {len(dependencies)} locked packages; {len(dependencies) - len(skipped)} checked by pip-audit,"
        f" {checked} more against their latest release's data"
    )
    if unchecked:
        print(f"audit: not checked: {', '.join(unchecked)}")
    for name, version, vuln, fixes in found:
        print(f"audit: {name} {version}: {vuln}, fixed in {', '.join(map(str, fixes)) or 'no release yet'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2].split(), set(sys.argv[3].split())))
