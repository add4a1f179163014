"""What produced a mission's results: versions, command line, hashes, seed, platform, start."""
import hashlib
import importlib.metadata as md
import os
import platform
import subprocess
import time

import numpy as np

import neurosim


def _sha256(path):
    """SHA-256 (hex) of the file at ``path``, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _git_commit():
    """The commit of the neurosim checkout this code runs from, or None (installed package)."""
    here = os.path.dirname(os.path.abspath(neurosim.__file__))
    if not os.path.exists(os.path.join(os.path.dirname(here), ".git")):
        return None
    try:
        r = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True,
                           text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def provenance(scenario, model, resolved_path, command_line=None, started=None):
    """What produced the results: versions (neurosim, its git commit when run from a checkout,
    Python, numpy, scipy, brian2, matplotlib — looked up without importing them), the command
    line, SHA-256 of the resolved scenario as saved (``sha256sum scenario.resolved.toml``), of the
    scenario file as given, of the model file and of imported spectra files (so a report drawn
    later from an edited file can be told apart), the scenario seed (run r draws from
    ``SeedSequence(seed, spawn_key=(r,))``), the platform and the start time (UTC) of the run
    (``started``, a ``time.time()`` value; default now)."""
    versions = {"neurosim": neurosim.__version__, "python": platform.python_version(),
                "numpy": np.__version__}
    for dist in ("scipy", "brian2", "matplotlib", "Cython"):
        try:
            versions[dist.lower()] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist.lower()] = None
    commit = _git_commit()
    if commit:
        versions["neurosim_git_commit"] = commit
    return {
        "versions": versions,
        "command_line": command_line or "neurosim.mission.run_mission(...) (library call)",
        "scenario_sha256": _sha256(resolved_path),
        "scenario_file": scenario.path, "scenario_file_sha256": _sha256(scenario.path),
        "model_file": model.model_path, "model_sha256": _sha256(model.model_path)
        if model.model_path else None,
        "spectra_files_sha256": {key: _sha256(path) for key in ("let_spectrum", "proton_spectrum")
                                 if (path := scenario[f"environment.{key}"])},
        "seed": int(scenario["run.seed"]),
        "platform": platform.platform(),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started or time.time())),
    }


