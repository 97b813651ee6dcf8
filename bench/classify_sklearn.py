#!/usr/bin/env python3
"""scikit-learn's side of bench/classify_bench.cpp (docs/classify.md), same inputs and settings:

- 20 Newsgroups bydate, TfidfVectorizer(sublinear_tf=True, min_df=2) fitted on train:
  LogisticRegression(C=10) fit time (lbfgs, multinomial, default tol 1e-4 and max_iter 100, as the
  issue quotes it, and max_iter 1000 to convergence) and MultinomialNB(alpha=0.01); test accuracy.
- Scoring throughput: predict_proba of a binary LogisticRegression on the TF-IDF matrix of the
  Reddit comments (TfidfVectorizer(stop_words='english', min_df=5, max_df=0.5), as bench_data.cpp),
  trained on the first 20,000 comments labelled by the regex \\b(game|play)\\w* (close to tmine's
  query `game* OR play*`; the labels do not change the cost of scoring).

Run with Debian's python3-sklearn: /usr/bin/python3 bench/classify_sklearn.py [--docs N]
"""
import argparse
import gzip
import json
import os
import re
import tarfile
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB

DATA = os.environ.get("TMINE_DATA",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))


def newsgroups():
    s = {"train": ([], []), "test": ([], [])}
    with tarfile.open(os.path.join(DATA, "20news-bydate.tar.gz"), "r:gz") as tar:
        for m in tar:
            parts = m.name.split("/")
            which = {"20news-bydate-train": "train", "20news-bydate-test": "test"}.get(parts[0])
            if m.isfile() and which and len(parts) == 3:
                s[which][0].append(tar.extractfile(m).read().decode("latin-1"))
                s[which][1].append(parts[1])
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=480000)
    ap.add_argument("--skip-news", action="store_true")
    ap.add_argument("--skip-reddit", action="store_true")
    args = ap.parse_args()
    out = {}
    if not args.skip_news:
        s = newsgroups()
        vec = TfidfVectorizer(sublinear_tf=True, min_df=2)
        Xtr, Xte = vec.fit_transform(s["train"][0]), None
        Xte = vec.transform(s["test"][0])
        ytr, yte = np.array(s["train"][1]), np.array(s["test"][1])
        for max_iter in (100, 1000):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t0 = time.perf_counter()
                clf = LogisticRegression(C=10, max_iter=max_iter).fit(Xtr, ytr)
                secs = time.perf_counter() - t0
            out[f"logreg_max_iter_{max_iter}"] = {
                "fit_s": round(secs, 2), "n_iter": int(clf.n_iter_.max()),
                "accuracy": float((clf.predict(Xte) == yte).mean())}
            print(out)
        t0 = time.perf_counter()
        nb = MultinomialNB(alpha=0.01).fit(Xtr, ytr)
        out["nb"] = {"fit_s": round(time.perf_counter() - t0, 3),
                     "accuracy": float((nb.predict(Xte) == yte).mean())}
        print(out)

    if args.skip_reddit:
        print(json.dumps(out, indent=2))
        return
    texts = []
    with gzip.open(os.path.join(DATA, "reddit-comments-2020-08_2022-07.jsonl.gz"), "rt",
                   encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["body"])
            if len(texts) == args.docs:
                break
    X = TfidfVectorizer(stop_words="english", min_df=5, max_df=0.5).fit_transform(texts)
    pat = re.compile(r"\b(game|play)\w*")
    n = min(20000, X.shape[0])
    y = np.array([1 if pat.search(t.lower()) else 0 for t in texts[:n]])
    clf = LogisticRegression(max_iter=1000).fit(X[:n], y)
    clf.predict_proba(X[:1000])  # warm-up
    t0 = time.perf_counter()
    P = clf.predict_proba(X)
    secs = time.perf_counter() - t0
    out["score_reddit"] = {"docs": X.shape[0], "terms": X.shape[1], "nnz": int(X.nnz),
                           "seconds": round(secs, 3), "posts_per_s": round(X.shape[0] / secs),
                           "relevant": int((P[:, 1] >= 0.5).sum())}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
