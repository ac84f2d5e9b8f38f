"""The examples in mdlearn's docstrings run and print what they claim (in a scratch folder, since some
create files)."""
import doctest
import importlib
import pkgutil

import pytest

import mdlearn

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(mdlearn.__path__, "mdlearn.")
                 if not name.startswith("mdlearn._kernels"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"
