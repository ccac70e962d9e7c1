"""Stand-in for ansible-test's pip bootstrap script, for machines that reach PyPI only.

ansible-test (``sanity --venv``) bootstraps pip in each virtual environment it creates by
downloading ``get-pip-<version>.py`` from ci-files.testing.ansible.com, which is not a package
registry and is unreachable here. It looks for a cached copy first
(``~/.ansible/test/cache/get_pip_<version>.py``); the quality tests put this file there. It
does what get-pip does — install the requested pip (and friends) — using the interpreter's
own ``ensurepip`` and then PyPI.
"""

import subprocess
import sys


def main(argv):
    """Install pip with ensurepip, then the requested packages (e.g. ``pip==24.2``) from PyPI."""
    passthrough = [arg for arg in argv if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + passthrough)


if __name__ == "__main__":
    main(sys.argv[1:])
