#!/usr/bin/env python3
"""tmine vectorize with word n-grams against scikit-learn's TfidfVectorizer, in one run.

scikit-learn: TfidfVectorizer(ngram_range=(1, N), stop_words='english', min_df=5, max_df=0.5)
on the Reddit comments' bodies (its time excludes reading the JSON). tmine: `tmine vectorize
CORPUS --sklearn-compatible --ngram 1:N --min-df 5 --max-df 0.5 --stop-words english` as a
process (corpus file in, matrix and vocabulary CSV out), three times, alternating with a second
tmine binary when one is given (to compare two builds in the same run). The vocabulary written
by tmine must equal scikit-learn's term for term.

Usage: bench/ngram_sklearn.py N CORPUS.tmc TMINE [OTHER_TMINE] [--data REDDIT.jsonl.gz]
"""
import argparse, csv, gzip, json, os, subprocess, sys, tempfile, time

from sklearn.feature_extraction.text import TfidfVectorizer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("n", type=int)
ap.add_argument("corpus")
ap.add_argument("tmine")
ap.add_argument("other", nargs="?")
ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data",
                                               "reddit-comments-2020-08_2022-07.jsonl.gz"))
a = ap.parse_args()
ng = a.n
docs = []
with gzip.open(a.data, "rt") as f:
    for l in f:
        try:
            docs.append(json.loads(l).get("body") or "")
        except ValueError:
            pass
t = time.perf_counter()
v = TfidfVectorizer(ngram_range=(1, ng), stop_words="english", min_df=5, max_df=0.5)
X = v.fit_transform(docs)
ts = time.perf_counter() - t
print(f"sklearn 1:{ng}: {X.shape} nnz {X.nnz} in {ts:.2f} s", flush=True)
terms = list(v.get_feature_names_out())
work = tempfile.mkdtemp()


def run(b):
    t = time.perf_counter()
    subprocess.run([b, "vectorize", a.corpus, "--sklearn-compatible", "--ngram", f"1:{ng}", "--min-df", "5",
                    "--max-df", "0.5", "--stop-words", "english", "-q", "-o", os.path.join(work, "m.tmx"),
                    "--export-vocabulary", os.path.join(work, "v.csv")], check=True)
    return time.perf_counter() - t


for i in range(3):
    tn = run(a.tmine)
    line = f"tmine {tn:.2f} s ({ts / tn:.1f}x)"
    if a.other:
        to = run(a.other)
        line += f", other tmine {to:.2f} s ({ts / to:.1f}x)"
    print(line, flush=True)
with open(os.path.join(work, "v.csv")) as f:
    tt = [r[0] for r in list(csv.reader(f))[1:]]
print("vocabulary same as scikit-learn's:", tt == terms, len(tt), len(terms))
sys.exit(0 if tt == terms else 1)
