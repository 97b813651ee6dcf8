#!/usr/bin/python3
"""End-to-end side-by-side: scikit-learn vs the tmine CLI on one corpus, in one run.

Both systems read the same Reddit comments (JSON Lines, field "body") and do the same work:

  vectorize  TfidfVectorizer(stop_words='english', min_df=5, max_df=0.5).fit_transform
             vs  tmine vectorize --min-df 5 --max-df 0.5 --stop-words english
  topics     NMF(n_components=K, solver='mu', init='nndsvda', max_iter=N, tol=0, random_state=0)
             vs  tmine topics -k K --iters N --tol 0 --init nndsvda
             (--solver cd: scikit-learn's coordinate descent vs tmine --solver hals, its twin)
  classify   20 Newsgroups bydate (../shared/data/20news-bydate.tar.gz, --news):
             TfidfVectorizer(sublinear_tf=True, min_df=2) fitted on train, LogisticRegression(C=10,
             max_iter=1000) fit time and test accuracy
             vs  tmine vectorize --sklearn-compatible --stop-words none --min-df 2 --sublinear-tf (test: --vocabulary
             of train, its idf), tmine classify train --C 10, tmine classify predict

Speedups are printed only after the outputs are checked equivalent: the same number of
documents and vocabulary size, a final NMF relative error ||X - WH||_F / ||X||_F within 1%
of scikit-learn's (the initialisations use different random streams, so the factors differ),
and a test accuracy within 0.5 points of scikit-learn's.

Timing (time.perf_counter):
  scikit-learn vectorize: fit_transform on the in-memory list of bodies.
  scikit-learn NMF: the NNDSVDA init (_initialize_nmf, what NMF.fit calls) is timed alone; then
    fit_transform(init='custom') from that start with max_iter=N and with max_iter=1;
    s/iter = (t_N - t_1) / (N - 1), which cancels the fixed per-fit overhead. scikit-learn's
    solver computes no error when tol=0.
  tmine vectorize: the stage's own "tokenise + count+weight" time (stderr), i.e. without
    reading the .tmc file and writing the .tmx; the process wall time is also recorded.
  tmine NMF: the init time and the cumulative per-iteration times it prints;
    s/iter = (T_N - T_1) / (N - 1). tmine computes the relative error every iteration (cheap,
    it reuses X^T W), so its per-iteration time includes that.

Run with the Debian python (it has scikit-learn 1.2):
  /usr/bin/python3 bench/compare_sklearn.py --tmine build/tmine --json docs/compare_sklearn.json
  /usr/bin/python3 bench/compare_sklearn.py --docs 20000 -k 10 --iters 5     # a quick check
"""

import argparse
import gzip
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

try:  # what NMF.fit calls for init='nndsvda' (scikit-learn 1.2)
    from sklearn.decomposition._nmf import _initialize_nmf
except ImportError:  # pragma: no cover
    _initialize_nmf = None

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "reddit-comments-2020-08_2022-07.jsonl.gz")
ERR_TOLERANCE = 0.01  # NMF relative errors must agree within 1% (relative)
ACC_TOLERANCE = 0.005  # test accuracies must agree within 0.5 points
DEFAULT_NEWS = os.path.join(REPO, "..", "shared", "data", "20news-bydate.tar.gz")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- input


def read_bodies(path, docs):
    """The first `docs` bodies (all when docs is 0) and the raw JSON lines they came from."""
    opener = gzip.open if path.endswith(".gz") else open
    bodies, lines = [], []
    with opener(path, "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            rec = json.loads(raw)
            body = rec.get("body")
            if not isinstance(body, str):
                continue
            bodies.append(body)
            lines.append(raw)
            if docs and len(bodies) >= docs:
                break
    return bodies, lines


def utf8_bytes(texts):
    return sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)


# ---------------------------------------------------------------- scikit-learn


def relative_error(X, W, H):
    """||X - WH||_F / ||X||_F without forming WH: ||X||^2 - 2<X, WH> + <W^T W, H H^T>."""
    X = sp.csr_matrix(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    xx = float(X.multiply(X).sum())
    cross = float(np.sum(W * (X @ H.T)))
    gram = float(np.sum((W.T @ W) * (H @ H.T)))
    return float(np.sqrt(max(xx - 2 * cross + gram, 0.0) / xx))


def run_sklearn(bodies, text_bytes, k, iters, dtype, repeat, solver="mu"):
    out = {"version": sklearn.__version__}
    runs = []
    for r in range(repeat):
        log(f"sklearn: TfidfVectorizer on {len(bodies)} documents ({r + 1}/{repeat}) ...")
        vec = TfidfVectorizer(stop_words="english", min_df=5, max_df=0.5, dtype=dtype)
        t0 = time.perf_counter()
        X = vec.fit_transform(bodies)
        runs.append(time.perf_counter() - t0)
    t_vec = min(runs)
    X = sp.csr_matrix(X)
    out["vectorize"] = {
        "seconds": t_vec,
        "mb_per_s": text_bytes / 1e6 / t_vec,
        "docs": X.shape[0],
        "terms": X.shape[1],
        "nnz": int(X.nnz),
        "dtype": np.dtype(dtype).name,
        "runs_seconds": runs,
    }
    log(f"sklearn: vectorize {X.shape[0]} x {X.shape[1]}, {X.nnz} non-zeros in {t_vec:.2f} s")
    vocabulary = vec.get_feature_names_out()
    del vec
    out["_X"] = X

    def nmf(max_iter, init, W0=None, H0=None):
        model = NMF(n_components=k, solver=solver, init=init, max_iter=max_iter, tol=0,
                    random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            if init == "custom":
                W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
            else:
                W = model.fit_transform(X)
            t = time.perf_counter() - t0
        return t, W, model.components_, model.n_iter_

    log(f"sklearn: NMF k={k}, {iters} iterations ({solver}, nndsvda) ...")
    inits, pers, totals = [], [], []
    for r in range(repeat):
        if _initialize_nmf is not None:
            t0 = time.perf_counter()
            W0, H0 = _initialize_nmf(X, k, init="nndsvda", random_state=0)
            t_init = time.perf_counter() - t0
            t_n, W, H, n_iter = nmf(iters, "custom", W0, H0)
            t_1 = nmf(1, "custom", W0, H0)[0] if iters > 1 else 0.0
            per_iter = (t_n - t_1) / (iters - 1) if iters > 1 else t_n
            t_total = t_init + t_n
            method = "init timed alone; (t_N - t_1)/(N-1) with init='custom'"
        else:  # fall back to two full fits
            t_n, W, H, n_iter = nmf(iters, "nndsvda")
            t_1 = nmf(1, "nndsvda")[0]
            per_iter = (t_n - t_1) / max(iters - 1, 1)
            t_init = t_1 - per_iter
            t_total = t_n
            method = "(t_N - t_1)/(N-1) of two full fits"
        log(f"sklearn: NMF ({r + 1}/{repeat}) init {t_init:.2f} s, {per_iter:.3f} s/iter")
        inits.append(t_init)
        pers.append(per_iter)
        totals.append(t_total)
    t_init, per_iter, t_total = min(inits), min(pers), min(totals)
    err = relative_error(X, W, H)
    out["nmf"] = {
        "solver": solver,
        "k": k,
        "iterations": int(n_iter),
        "init_seconds": t_init,
        "seconds_per_iter": per_iter,
        "total_seconds": t_total,
        "relative_error": err,
        "timing": method,
        "runs_init_seconds": inits,
        "runs_seconds_per_iter": pers,
    }
    log(f"sklearn: NMF init {t_init:.2f} s, {per_iter:.3f} s/iter, relative error {err:.6f}")
    return out, vocabulary


# ---------------------------------------------------------------- tmine

RE_INGEST = re.compile(r"ingest: wrote (\d+) documents to .* in ([0-9.]+) s")
RE_VEC = re.compile(
    r"vectorize: (\d+) x (\d+) matrix, (\d+) non-zeros; tokenise ([0-9.]+) s, "
    r"count\+weight ([0-9.]+) s on ([^;\s]+) \(([0-9.]+) MB/s of text\)")
RE_INIT = re.compile(r"topics: initialised (\S+) \(k=(\d+)\) in ([0-9.]+) s")
RE_ITER = re.compile(r"topics: iteration (\d+)/(\d+) relative error ([0-9.eE+-]+) \(([0-9.]+) s")
RE_DONE = re.compile(r"topics: k=(\d+), (\d+) iterations, relative error ([0-9.eE+-]+) on ([^;\s]+)")


def run_cli(args, what):
    log("tmine: " + " ".join(args))
    t0 = time.perf_counter()
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{what} failed ({p.returncode}): {p.stderr.strip().splitlines()[-1:]}")
    return p.stderr, wall


def must(regex, text, what):
    m = regex.search(text)
    if not m:
        raise RuntimeError(f"could not find the {what} line in tmine's stderr:\n{text[-2000:]}")
    return m


def tmine_ingest(tmine, data, workdir):
    corpus = os.path.join(workdir, "corpus.tmc")
    err, wall = run_cli([tmine, "ingest", data, "--text-field", "body", "-o", corpus], "tmine ingest")
    m = must(RE_INGEST, err, "ingest")
    return corpus, {"seconds": float(m.group(2)), "wall_seconds": wall, "docs": int(m.group(1))}


def tmine_vectorize(tmine, corpus, workdir, device):
    matrix = os.path.join(workdir, f"matrix-{device}.tmx")
    err, wall = run_cli([tmine, "vectorize", corpus, "-o", matrix, "--device", device,
                         "--min-df", "5", "--max-df", "0.5", "--stop-words", "english",
                         "--sklearn-compatible"],
                        f"tmine vectorize --device {device}")
    m = must(RE_VEC, err, "vectorize")
    seconds = float(m.group(4)) + float(m.group(5))
    return matrix, {
        "seconds": seconds,
        "tokenize_seconds": float(m.group(4)),
        "count_weight_seconds": float(m.group(5)),
        "wall_seconds": wall,
        "mb_per_s": float(m.group(7)),
        "docs": int(m.group(1)),
        "terms": int(m.group(2)),
        "nnz": int(m.group(3)),
        "device": m.group(6),
        "_path": matrix,
    }


def tmine_topics(tmine, matrix, workdir, device, k, iters, solver="mu"):
    model = os.path.join(workdir, f"model-{device}")
    err, wall = run_cli([tmine, "topics", matrix, "-o", model, "--device", device, "-k", str(k),
                         "--iters", str(iters), "--tol", "0", "--init", "nndsvda",
                         "--solver", "hals" if solver == "cd" else "mu"],
                        f"tmine topics --device {device}")
    init = must(RE_INIT, err, "topics: initialised")
    its = [(int(m.group(1)), float(m.group(3)), float(m.group(4))) for m in RE_ITER.finditer(err)]
    done = must(RE_DONE, err, "topics: k=... summary")
    if not its:
        raise RuntimeError("tmine topics printed no iteration lines")
    n = its[-1][0]
    # the first line is iteration 1 on the CPU, the first batch read (10) on a GPU; the lines
    # between are at most one a second; one line (a GPU fit of under 10 iterations): the
    # loop's time over its iterations
    per_iter = ((its[-1][2] - its[0][2]) / (its[-1][0] - its[0][0]) if len(its) > 1
                else its[-1][2] / n)
    return {
        "k": k,
        "iterations": int(done.group(2)),
        "init_seconds": float(init.group(3)),
        "seconds_per_iter": per_iter,
        "loop_seconds": its[-1][2],
        "total_seconds": float(init.group(3)) + its[-1][2],
        "wall_seconds": wall,
        "relative_error": float(done.group(3)),
        "errors": [e for _, e, _ in its],
        "device": done.group(4),
    }


def read_tmx(path):
    """indptr, indices and vocabulary of a .tmx (docs/formats.md): u64 length + data per vector."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != b"TMX1":
        raise RuntimeError(f"{path}: not a tmine matrix file")
    pos = 4 + 4 + 16

    def vec(dtype):
        nonlocal pos
        n = int(np.frombuffer(buf, np.uint64, 1, pos)[0])
        pos += 8
        a = np.frombuffer(buf, dtype, n, pos)
        pos += n * np.dtype(dtype).itemsize
        return a

    indptr, indices = vec(np.int64), vec(np.int32)
    vec(np.float32)
    offsets, arena = vec(np.uint64), vec(np.uint8).tobytes()
    vocab = [arena[offsets[i]:offsets[i + 1]].decode("utf-8", "surrogatepass")
             for i in range(len(offsets) - 1)]
    return indptr, indices, vocab


def compare_matrices(X, sk_vocab, tmx):
    """Exact comparison of the sparsity pattern and vocabulary; a few examples of differences."""
    indptr, indices, vocab = read_tmx(tmx)
    out = {"same_vocabulary": list(sk_vocab) == vocab}
    if not out["same_vocabulary"]:
        a, b = set(sk_vocab), set(vocab)
        out["only_sklearn"] = sorted(a - b)[:10]
        out["only_tmine"] = sorted(b - a)[:10]
        return out
    X = sp.csr_matrix(X)
    X.sort_indices()
    diff_rows = np.nonzero(np.diff(indptr) != np.diff(X.indptr))[0]
    if len(diff_rows) == 0 and len(indptr) == len(X.indptr):
        diff_rows = [r for r in range(X.shape[0])
                     if not np.array_equal(indices[indptr[r]:indptr[r + 1]],
                                           X.indices[X.indptr[r]:X.indptr[r + 1]])]
    out["rows_with_different_terms"] = len(diff_rows)
    ex = []
    for r in list(diff_rows)[:5]:
        s_terms = set(X.indices[X.indptr[r]:X.indptr[r + 1]].tolist())
        t_terms = set(indices[indptr[r]:indptr[r + 1]].tolist())
        ex.append({"doc": int(r), "only_sklearn": [vocab[c] for c in sorted(s_terms - t_terms)],
                   "only_tmine": [vocab[c] for c in sorted(t_terms - s_terms)]})
    out["examples"] = ex
    return out


def cuda_available(tmine):
    """tmine's own answer: Context::create(Cuda) throws DeviceError with the reason."""
    p = subprocess.run([tmine, "vectorize", "/dev/null", "-o", os.devnull, "--device", "cuda"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    return ("--device cuda" not in msg), msg


# ---------------------------------------------------------------- classification


def read_news(path):
    """20 Newsgroups bydate from the tar.gz: {split: (ids, texts, labels)}, in archive order.
    Latin-1 bytes, as scikit-learn's fetch_20newsgroups reads them."""
    import tarfile
    out = {"train": ([], [], []), "test": ([], [], [])}
    with tarfile.open(path) as tf:
        for m in tf:
            if not m.isfile():
                continue
            parts = m.name.split("/")
            if len(parts) < 3 or not parts[-3].startswith("20news-bydate-"):
                continue
            split = parts[-3][len("20news-bydate-"):]
            ids, texts, labels = out[split]
            ids.append(f"{split}/{parts[-2]}/{parts[-1]}")
            texts.append(tf.extractfile(m).read().decode("latin-1"))
            labels.append(parts[-2])
    return out


def sklearn_classify(news, C):
    from sklearn.linear_model import LogisticRegression
    _, tr_x, tr_y = news["train"]
    _, te_x, te_y = news["test"]
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2)
    t0 = time.perf_counter()
    Xtr = vec.fit_transform(tr_x)
    Xte = vec.transform(te_x)
    t_vec = time.perf_counter() - t0
    clf = LogisticRegression(C=C, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(Xtr, tr_y)
        t_fit = time.perf_counter() - t0
    acc = float((clf.predict(Xte) == np.asarray(te_y)).mean())
    log(f"sklearn: 20 Newsgroups LogisticRegression(C={C}) fit {t_fit:.2f} s "
        f"({int(clf.n_iter_[0])} iterations), test accuracy {acc:.5f}")
    return {"vectorize_seconds": t_vec, "fit_seconds": t_fit, "accuracy": acc,
            "terms": int(Xtr.shape[1]), "iterations": int(clf.n_iter_[0]),
            "train": int(Xtr.shape[0]), "train_docs": int(Xtr.shape[0]), "test": int(Xte.shape[0])}


RE_TRAIN = re.compile(r"classify: logreg on (\d+) labelled rows, (\d+) classes, (\d+) features: "
                      r"(\d+) iterations \(([^)]*)\) in ([0-9.]+) s")


def tmine_classify(tmine, news, workdir, device, C):
    files = {}
    for split, (ids, texts, labels) in news.items():
        data = os.path.join(workdir, f"news-{split}.jsonl")
        with open(data, "w", encoding="utf-8") as f:
            for i, t in zip(ids, texts):
                f.write(json.dumps({"id": i, "text": t}) + "\n")
        lab = os.path.join(workdir, f"news-{split}-labels.csv")
        with open(lab, "w", encoding="utf-8") as f:
            f.write("id,label\n")
            for i, l in zip(ids, labels):
                f.write(f"{i},{l}\n")
        corpus = os.path.join(workdir, f"news-{split}.tmc")
        run_cli([tmine, "ingest", data, "--text-field", "text", "--id-field", "id", "-o", corpus],
                f"tmine ingest ({split})")
        files[split] = (corpus, lab)
    vocab = os.path.join(workdir, "news-vocabulary.csv")
    common = ["--sklearn-compatible", "--stop-words", "none", "--sublinear-tf", "--device", device]
    mtr, mte = (os.path.join(workdir, f"news-{s}.tmx") for s in ("train", "test"))
    run_cli([tmine, "vectorize", files["train"][0], "-o", mtr, "--min-df", "2",
             "--export-vocabulary", vocab] + common, "tmine vectorize (20 Newsgroups train)")
    run_cli([tmine, "vectorize", files["test"][0], "-o", mte, "--vocabulary", vocab] + common,
            "tmine vectorize (20 Newsgroups test)")
    model = os.path.join(workdir, f"news-classifier-{device}")
    err, wall = run_cli([tmine, "classify", "train", mtr, "--corpus", files["train"][0], "--labels",
                         files["train"][1], "--C", str(C), "--device", device, "-o", model],
                        f"tmine classify train --device {device}")
    m = must(RE_TRAIN, err, "classify: logreg ... in ... s")
    scores = os.path.join(workdir, f"news-scores-{device}.csv")
    run_cli([tmine, "classify", "predict", mte, "--corpus", files["test"][0], "--model", model,
             "--device", device, "-o", scores], f"tmine classify predict --device {device}")
    truth = dict(zip(news["test"][0], news["test"][2]))
    import csv
    right = total = 0
    with open(scores, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            total += 1
            right += row["label"] == truth.get(row["id"])
    acc = right / max(total, 1)
    log(f"tmine {device}: 20 Newsgroups logistic regression fit {float(m.group(6)):.2f} s "
        f"({m.group(4)} iterations), test accuracy {acc:.5f}")
    return {"fit_seconds": float(m.group(6)), "fit_wall_seconds": wall, "accuracy": acc,
            "terms": int(m.group(3)), "iterations": int(m.group(4)), "stop": m.group(5),
            "train_docs": int(m.group(1)), "test": total}


# ---------------------------------------------------------------- report


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(res):
    sk = res["sklearn"]
    tm = res["tmine"]
    eq = res["equivalence"]
    rows = []

    def speed(base, t, ok):
        return f"{base / t:.2f}x" if ok and t > 0 else "n/a"

    rows.append(("ingest (read JSONL.gz)", "scikit-learn*", f"{res['python_read']['seconds']:.2f} s",
                 f"{res['python_read']['mb_per_s']:.1f} MB/s", "1.00x"))
    for dev, r in tm.items():
        ing = r.get("ingest")
        if ing:
            rows.append(("", f"tmine {dev}", f"{ing['seconds']:.2f} s",
                         f"{res['text_bytes'] / 1e6 / ing['seconds']:.1f} MB/s",
                         speed(res["python_read"]["seconds"], ing["seconds"],
                               eq.get(f"ingest_{dev}", False))))
    rows.append(("vectorize (TF-IDF)", "scikit-learn", f"{sk['vectorize']['seconds']:.2f} s",
                 f"{sk['vectorize']['mb_per_s']:.1f} MB/s", "1.00x"))
    for dev, r in tm.items():
        v = r["vectorize"]
        ok = eq.get(f"vocabulary_{dev}", False)
        rows.append(("", f"tmine {dev}", f"{v['seconds']:.2f} s", f"{v['mb_per_s']:.1f} MB/s",
                     speed(sk["vectorize"]["seconds"], v["seconds"], ok)))
    rows.append(("NMF iteration", "scikit-learn", f"{sk['nmf']['seconds_per_iter']:.3f} s/iter",
                 "", "1.00x"))
    for dev, r in tm.items():
        t = r["topics"]
        ok = eq.get(f"nmf_{dev}", False)
        rows.append(("", f"tmine {dev}", f"{t['seconds_per_iter']:.3f} s/iter", "",
                     speed(sk["nmf"]["seconds_per_iter"], t["seconds_per_iter"], ok)))
    rows.append(("NMF init (nndsvda)", "scikit-learn", f"{sk['nmf']['init_seconds']:.2f} s", "",
                 "1.00x"))
    for dev, r in tm.items():
        t = r["topics"]
        ok = eq.get(f"nmf_{dev}", False)
        rows.append(("", f"tmine {dev}", f"{t['init_seconds']:.2f} s", "",
                     speed(sk["nmf"]["init_seconds"], t["init_seconds"], ok)))
    rows.append(("NMF relative error", "scikit-learn", f"{sk['nmf']['relative_error']:.6f}", "", ""))
    for dev, r in tm.items():
        rows.append(("", f"tmine {dev}", f"{r['topics']['relative_error']:.6f}", "", ""))
    if "classify" in sk:
        sc = sk["classify"]
        def docs_per_s(c):
            return f"{c['train_docs'] / c['fit_seconds']:.0f} docs/s" if c.get("train_docs") else ""
        rows.append(("logistic regression fit (20news)", "scikit-learn", f"{sc['fit_seconds']:.2f} s",
                     docs_per_s(sc), "1.00x"))
        for dev, r in tm.items():
            c = r.get("classify")
            if c:
                rows.append(("", f"tmine {dev}", f"{c['fit_seconds']:.2f} s", docs_per_s(c),
                             speed(sc["fit_seconds"], c["fit_seconds"], eq.get(f"classify_{dev}", False))))
        rows.append(("logistic regression test accuracy", "scikit-learn", f"{sc['accuracy']:.4f}", "", ""))
        for dev, r in tm.items():
            c = r.get("classify")
            if c:
                rows.append(("", f"tmine {dev}", f"{c['accuracy']:.4f}", "", ""))

    head = ("stage", "system", "time / value", "throughput", "speedup")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tmine", default=os.path.join(REPO, "build", "tmine"),
                    help="tmine binary (default: build/tmine in the repository)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="JSON Lines (.gz) with a 'body' field")
    ap.add_argument("--docs", type=int, default=0,
                    help="use only the first D documents (0 = all; the corpus has 480,000)")
    ap.add_argument("-k", type=int, default=50, help="NMF components (default 50)")
    ap.add_argument("--iters", type=int, default=20, help="NMF iterations (default 20)")
    ap.add_argument("--solver", choices=["mu", "cd"], default="mu",
                    help="scikit-learn's NMF solver; tmine runs its twin (mu, or hals for cd)")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                    help="scikit-learn's TF-IDF dtype (its default float64; tmine uses float32)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run every measurement R times and keep the fastest (a shared machine)")
    ap.add_argument("--no-cuda", action="store_true", help="do not try tmine --device cuda")
    ap.add_argument("--news", default=DEFAULT_NEWS, help="20news-bydate.tar.gz for the classifier stage")
    ap.add_argument("--no-classify", action="store_true", help="skip the classifier stage")
    ap.add_argument("--workdir", help="keep tmine's files here (default: a temporary folder)")
    ap.add_argument("--json", help="write the results as JSON to this path")
    a = ap.parse_args()

    tmine = os.path.abspath(a.tmine)
    if not os.access(tmine, os.X_OK):
        sys.exit(f"compare_sklearn: {tmine}: not an executable (build it, or pass --tmine)")
    if not os.path.exists(a.data):
        sys.exit(f"compare_sklearn: {a.data}: no such file (pass --data)")
    workdir = a.workdir or tempfile.mkdtemp(prefix="tmine-compare-")
    os.makedirs(workdir, exist_ok=True)

    res = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "numpy": np.__version__},
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "k": a.k,
        "iters": a.iters,
        "repeat": a.repeat,
    }

    # The same documents for both: the first D lines go to a plain JSONL file for tmine.
    t0 = time.perf_counter()
    bodies, lines = read_bodies(a.data, a.docs)
    t_read = time.perf_counter() - t0
    text_bytes = utf8_bytes(bodies)
    res["docs"] = len(bodies)
    res["text_bytes"] = text_bytes
    res["python_read"] = {"seconds": t_read, "mb_per_s": text_bytes / 1e6 / t_read}
    log(f"read {len(bodies)} documents, {text_bytes / 1e6:.1f} MB of text, in {t_read:.2f} s")
    if a.docs:
        data = os.path.join(workdir, f"first-{a.docs}.jsonl")
        with open(data, "wb") as f:
            f.writelines(l if l.endswith(b"\n") else l + b"\n" for l in lines)
    else:
        data = a.data
    del lines

    # ---- tmine
    devices = ["cpu"]
    if not a.no_cuda:
        ok, why = cuda_available(tmine)
        res["cuda"] = {"available": ok, "reason": why}
        if ok:
            devices.append("cuda")
        else:
            log(f"tmine: no CUDA run ({why})")
    res["tmine"] = {}
    ings = [tmine_ingest(tmine, data, workdir) for _ in range(a.repeat)]
    corpus, ingest = min(ings, key=lambda ci: ci[1]["seconds"])
    ingest["runs_seconds"] = [i["seconds"] for _, i in ings]
    for dev in devices:
        vecs = [tmine_vectorize(tmine, corpus, workdir, dev) for _ in range(a.repeat)]
        matrix, vec = min(vecs, key=lambda mv: mv[1]["seconds"])
        vec["runs_seconds"] = [v["seconds"] for _, v in vecs]
        runs = [tmine_topics(tmine, matrix, workdir, dev, a.k, a.iters, a.solver)
                for _ in range(a.repeat)]
        topics = dict(min(runs, key=lambda t: t["seconds_per_iter"]))
        topics["init_seconds"] = min(t["init_seconds"] for t in runs)
        topics["runs_seconds_per_iter"] = [t["seconds_per_iter"] for t in runs]
        topics["runs_init_seconds"] = [t["init_seconds"] for t in runs]
        res["tmine"][dev] = {"vectorize": vec, "topics": topics}
        log(f"tmine {dev}: vectorize {vec['docs']} x {vec['terms']} in {vec['seconds']:.2f} s; "
            f"NMF {topics['seconds_per_iter']:.3f} s/iter, relative error "
            f"{topics['relative_error']:.6f}")
    res["tmine"]["cpu"]["ingest"] = ingest
    news = None
    if not a.no_classify:
        if os.path.exists(a.news):
            news = read_news(a.news)
            for dev in devices:
                res["tmine"][dev]["classify"] = tmine_classify(tmine, news, workdir, dev, 10)
        else:
            log(f"no classifier stage: {a.news} not found (pass --news)")

    # ---- scikit-learn
    res["sklearn"], sk_vocab = run_sklearn(bodies, text_bytes, a.k, a.iters, getattr(np, a.dtype),
                                           a.repeat, solver=a.solver)
    del bodies
    if news is not None:
        res["sklearn"]["classify"] = sklearn_classify(news, 10)

    # ---- equivalence before speedups
    eq = {}
    notes = []
    X_sk = res["sklearn"].pop("_X")
    for dev, r in res["tmine"].items():
        try:
            r["matrix_vs_sklearn"] = m = compare_matrices(X_sk, sk_vocab, r["vectorize"].pop("_path"))
        except Exception as e:  # the comparison is a diagnosis; never lose the timings to it
            r["matrix_vs_sklearn"] = m = {"error": str(e)}
        if m.get("rows_with_different_terms"):
            notes.append(f"tmine {dev}: {m['rows_with_different_terms']} documents have different "
                         f"terms than scikit-learn's, e.g. {m['examples'][:3]}")
        if m.get("same_vocabulary") is False:
            notes.append(f"tmine {dev}: vocabulary differs: only scikit-learn {m.get('only_sklearn')}"
                         f", only tmine {m.get('only_tmine')}")
    del X_sk
    sv = res["sklearn"]["vectorize"]
    se = res["sklearn"]["nmf"]["relative_error"]
    for dev, r in res["tmine"].items():
        tv, te = r["vectorize"], r["topics"]["relative_error"]
        same = (tv["docs"] == sv["docs"] and tv["terms"] == sv["terms"] and
                r["matrix_vs_sklearn"].get("same_vocabulary", True))
        eq[f"vocabulary_{dev}"] = same
        ing = r.get("ingest")
        if ing:  # the same posts read: as many documents as Python's reader kept
            eq[f"ingest_{dev}"] = ing["docs"] == res["docs"]
            if not eq[f"ingest_{dev}"]:
                notes.append(f"tmine {dev}: ingested {ing['docs']} documents, Python read {res['docs']}: "
                             f"no ingest speedup")
        if not same:
            notes.append(f"tmine {dev}: {tv['docs']} x {tv['terms']} vs scikit-learn "
                         f"{sv['docs']} x {sv['terms']}: different vocabulary, no vectorize speedup")
        if tv["nnz"] != sv["nnz"]:
            notes.append(f"tmine {dev}: {tv['nnz']} non-zeros vs scikit-learn {sv['nnz']}")
        rel = abs(te - se) / se
        eq[f"nmf_{dev}_relative_difference"] = rel
        eq[f"nmf_{dev}"] = same and rel <= ERR_TOLERANCE
        if rel > ERR_TOLERANCE:
            notes.append(f"tmine {dev}: relative error {te:.6f} vs scikit-learn {se:.6f} "
                         f"({100 * rel:.2f}% apart > 1%): no NMF speedup")
    if "classify" in res["sklearn"]:
        sc = res["sklearn"]["classify"]
        for dev, r in res["tmine"].items():
            c = r.get("classify")
            if not c:
                continue
            diff = abs(c["accuracy"] - sc["accuracy"])
            eq[f"classify_{dev}"] = diff <= ACC_TOLERANCE and c["terms"] == sc["terms"]
            if not eq[f"classify_{dev}"]:
                notes.append(f"tmine {dev}: 20 Newsgroups accuracy {c['accuracy']:.4f} vs "
                             f"scikit-learn {sc['accuracy']:.4f}, {c['terms']} vs {sc['terms']} "
                             "terms: no classifier speedup")
    res["equivalence"] = eq
    res["notes"] = notes

    print(f"\ntmine vs scikit-learn {res['sklearn']['version']}: {res['docs']} documents "
          f"({text_bytes / 1e6:.1f} MB of text), k={a.k}, {a.iters} iterations; "
          f"{res['machine']['cpu']}, {res['machine']['cores']} cores; commit {res['commit']}")
    print(table(res))
    print("* scikit-learn's ingest row is this script's gzip + json.loads of the bodies.")
    for dev, r in res["tmine"].items():
        ok = "same" if eq[f"vocabulary_{dev}"] else "DIFFERENT"
        mv = r.get("matrix_vs_sklearn", {})
        if "same_vocabulary" in mv:
            ok += " (term for term)" if mv["same_vocabulary"] else " (terms differ)"
        print(f"equivalence tmine {dev}: vocabulary {ok} ({r['vectorize']['terms']} terms), "
              f"relative errors {100 * eq[f'nmf_{dev}_relative_difference']:.3f}% apart")
    if "cuda" not in res["tmine"] and not a.no_cuda:
        print(f"GPU: not measured ({res['cuda']['reason']})")
    for n in notes:
        print("note: " + n)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
        print(f"wrote {a.json}")
    if not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
