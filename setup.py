"""Build hook: the wheel carries the top-level templates/, static/ and migrations/ inside the package.

The repository keeps those folders at the top level; at build time they are copied into the build as
tracker/templates/, tracker/static/ and tracker/migrations/, where tracker.resources finds them in an
installed wheel. (An editable install, or a checkout, uses the top-level folders directly.)
Everything else is declared in setup.cfg.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
TREES = ("templates", "static", "migrations")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


class build_py_with_trees(build_py):
    """setuptools' build_py, then the three folders copied into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in TREES:
            source = ROOT / name
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing; the wheel would not work without it")
            target = Path(self.build_lib) / "tracker" / name
            shutil.rmtree(target, ignore_errors=True)  # no stale files from an earlier build
            shutil.copytree(source, target, ignore=IGNORE)


setup(cmdclass={"build_py": build_py_with_trees})
