"""An installed (earlier) logsketch against a source tree's build, interleaved.

Median ms of representative calls of every family, each side in its own
process, alternating ROUNDS times (default 5).  Usage (OPENBLAS_CORETYPE/L2_SIZE unset):
    PYTHON=.venv/bin/python NEW=python [ROUNDS=5] python bench/ab_builds.py out.json

A call that returns a fresh 64 MiB array spends most of its time in page
faults, whose cost depends on the state of the machine's memory (numpy asks
for transparent huge pages, which may compact memory on the fault), not on
logsketch: the fresh-output multiply is therefore timed beside np.multiply
with a fresh output (the control) and beside the same call with out=.
where the venv has the earlier release installed and NEW is the folder that
holds the new tree's package (with its built modules).
"""
import json, os, subprocess, sys, time
CODE = r'''
import json, sys, time, numpy as np, scipy.sparse as sp, logsketch as ls
rng = np.random.default_rng(0)
a = rng.standard_normal((1024, 1024), dtype=np.float32); b = rng.standard_normal((1024, 1024), dtype=np.float32)
x = rng.standard_normal(1 << 24, dtype=np.float32); y = rng.standard_normal(1 << 24, dtype=np.float32)
o = np.empty_like(x)
X = rng.standard_normal((20000, 4096), dtype=np.float32)
A = rng.standard_normal((4000, 3000), dtype=np.float32)
S = sp.random_array((50000, 20000), density=0.001, format="csr", rng=rng, dtype=np.float32)
q = rng.standard_normal((1, 8, 2048, 64), dtype=np.float32)
kd = rng.standard_normal((1, 32, 32768, 128), dtype=np.float32); qd = rng.standard_normal((1, 32, 1, 128), dtype=np.float32)
cases = {
 "np.multiply 2^24 fresh output (control)": lambda: np.multiply(x, y),
 "mitchell_multiply 2^24 fresh output": lambda: ls.mitchell_multiply(x, y),
 "mitchell_multiply 2^24 out=": lambda: ls.mitchell_multiply(x, y, out=o),
 "mitchell_matmul 1024^3": lambda: ls.mitchell_matmul(a, b),
 "jl gaussian 20000x4096->256": lambda: ls.jl_project(X, 256, kind="gaussian", seed=1),
 "jl sparse 20000x4096->256": lambda: ls.jl_project(X, 256, kind="sparse", seed=1),
 "jl srht 20000x4096->256": lambda: ls.jl_project(X, 256, kind="srht", seed=1),
 "randomized_svd dense 4000x3000 k=50": lambda: ls.randomized_svd(A, 50, n_iter=4, seed=0),
 "randomized_svd csr 50000x20000 k=50": lambda: ls.randomized_svd(S, 50, n_iter=5, seed=0),
 "attention causal 1x8x2048x64": lambda: ls.attention(q, q, q, causal=True),
 "attention decode 1x32x1x32768x128": lambda: ls.attention(qd, kd, kd),
}
out = {}
for name, f in cases.items():
    f(); ts = []
    for _ in range(5):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    out[name] = sorted(ts)[2] * 1e3
print(json.dumps(out))
'''
env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONPATH")}
py = os.environ.get("PYTHON", sys.executable)
res = {"old": [], "new": []}
rounds = int(os.environ.get("ROUNDS", "5"))
for rnd in range(rounds):
    for side in ("old", "new"):
        e = dict(env)
        if side == "new":
            e["PYTHONPATH"] = os.environ.get("NEW", "python")
        r = subprocess.run([py, "-c", CODE], env=e, capture_output=True, text=True, cwd="/tmp")
        if r.returncode:
            print(r.stderr[-2000:]); sys.exit(1)
        res[side].append(json.loads(r.stdout))
names = list(res["old"][0])
print(f"{'case':40s} {'old ms':>9s} {'new ms':>9s} {'new/old':>8s}")
rows = {}
for n in names:
    o = sorted(r[n] for r in res["old"])[rounds // 2]; w = sorted(r[n] for r in res["new"])[rounds // 2]
    rows[n] = {"old_ms": o, "new_ms": w, "new_over_old": w / o}
    print(f"{n:40s} {o:9.2f} {w:9.2f} {w/o:8.3f}")
json.dump(rows, open(sys.argv[1], "w"), indent=1)
