"""Build the Cython kernels.

OpenMP is used when the compiler accepts ``-fopenmp``; set ``MDLEARN_NO_OPENMP=1`` to build without it.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = ["neighbors", "pair", "integrate", "coulomb", "dielectric", "aev", "profiles"]


def _compiler_has_openmp():
    if os.environ.get("MDLEARN_NO_OPENMP", "0") not in ("", "0"):
        return False
    if sys.platform == "win32":
        return True
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc.split()[0]) is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as fh:
            fh.write("#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n")
        cmd = cc.split() + ["-fopenmp", src, "-o", os.path.join(tmp, "t")]
        return subprocess.run(cmd, capture_output=True).returncode == 0


OPENMP = _compiler_has_openmp()
compile_args = ["-O3"]
link_args = []
if OPENMP:
    flag = "/openmp" if sys.platform == "win32" else "-fopenmp"
    compile_args.append(flag)
    link_args.append(flag)

extensions = [
    Extension(
        f"mdlearn._kernels.{name}",
        [f"mdlearn/_kernels/{name}.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for name in KERNELS
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
    ),
)
