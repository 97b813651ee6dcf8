// Classifiers on real data against scikit-learn's numbers (tests/fixtures/classify_reference.json,
// made by gen_classify_fixture.py): 20 Newsgroups bydate train/test multiclass (logistic
// regression and naive Bayes) and the customer-support tweets' inbound flag (binary); metrics,
// folds, picking, model files, label-file errors and the CLI loop.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <set>
#include <functional>

#include "test_util.hpp"
#include "tmine/classify.hpp"
#include "tmine/io.hpp"
#include "tmine/query.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

const char* kTwcs = "twcs-customer-support-sample.csv.gz";
const char* kNews = "20news-bydate.tar.gz";

rapidjson::Document reference() {
    rapidjson::Document d;
    std::string s = read_bytes(fixture("classify_reference.json"));
    d.Parse(s.c_str());
    EXPECT_FALSE(d.HasParseError());
    return d;
}

/// TfidfVectorizer(sublinear_tf=True, min_df=2) as the fixture script uses.
VectorizeOptions sklearn_features() {
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();
    o.min_df = DfBound{false, 2.0};
    o.sublinear_tf = true;
    return o;
}

double accuracy(const std::vector<float>& P, const std::vector<int32_t>& y, int K) {
    size_t ok = 0;
    for (size_t i = 0; i < y.size(); ++i) {
        const float* p = &P[i * K];
        ok += std::max_element(p, p + K) - p == y[i];
    }
    return double(ok) / double(y.size());
}

/// 20 Newsgroups bydate: train/test features and labels, built once.
struct News {
    Vectorized train;
    CsrMatrix test;
    std::vector<int32_t> ytr, yte;
    std::vector<std::string> classes;
};
const News& news() {
    static News n = [] {
        News n;
        Corpus tr, te;
        tr.sources = te.sources = {kNews};
        std::vector<std::string> gtr, gte;
        walk_tar_gz(data_file(kNews), [&](const std::string& name, const std::string& body) {
            auto a = name.find('/'), b = name.find('/', a + 1);
            if (a == std::string::npos || b == std::string::npos) return true;
            std::string split = name.substr(0, a), group = name.substr(a + 1, b - a - 1);
            if (split == "20news-bydate-train") {
                tr.add(latin1_to_utf8(body), kNoTime, name, "", 0);
                gtr.push_back(group);
            } else if (split == "20news-bydate-test") {
                te.add(latin1_to_utf8(body), kNoTime, name, "", 0);
                gte.push_back(group);
            }
            return true;
        });
        Context ctx = Context::cpu();
        n.train = vectorize(ctx, tr, sklearn_features());
        n.test = vectorize_fixed(ctx, te, n.train.vocabulary, n.train.idf, sklearn_features()).X;
        n.classes = gtr;
        std::sort(n.classes.begin(), n.classes.end());
        n.classes.erase(std::unique(n.classes.begin(), n.classes.end()), n.classes.end());
        auto idx = [&](const std::string& g) {
            return int32_t(std::lower_bound(n.classes.begin(), n.classes.end(), g) - n.classes.begin());
        };
        for (auto& g : gtr) n.ytr.push_back(idx(g));
        for (auto& g : gte) n.yte.push_back(idx(g));
        return n;
    }();
    return n;
}

/// The tweets with their inbound flag (ingesting the column `inbound` as the text gives the
/// labels row for row, with the same skipped rows).
struct Tweets {
    Corpus corpus;
    std::vector<int32_t> y;  // 1 = inbound True
};
const Tweets& tweets() {
    static Tweets t = [] {
        Tweets t;
        IngestOptions o;
        o.text_field = "text";
        o.id_field = "tweet_id";
        ingest({data_file(kTwcs)}, o, t.corpus);
        Corpus flags;
        o.text_field = "inbound";
        ingest({data_file(kTwcs)}, o, flags);
        EXPECT_EQ(flags.size(), t.corpus.size());
        for (size_t i = 0; i < flags.size(); ++i) {
            EXPECT_EQ(flags.ids[i], t.corpus.ids[i]);
            t.y.push_back(flags.text[i] == "True");
        }
        return t;
    }();
    return t;
}

std::string first_error(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

// ---- scikit-learn parity on real data ----

TEST(Classify, NewsgroupsLogisticRegressionMatchesScikitLearn) {
    TMINE_REQUIRE_DATA(kNews);
    auto ref = reference();
    const auto& r = ref["newsgroups"];
    const News& n = news();
    ASSERT_EQ(n.train.X.rows, r["train_docs"].GetInt());
    ASSERT_EQ(n.test.rows, r["test_docs"].GetInt());
    ASSERT_EQ(n.train.X.cols, r["terms"].GetInt()) << "not the same features as scikit-learn";
    ASSERT_EQ(n.train.X.nnz(), r["train_nnz"].GetInt64());
    ASSERT_EQ(n.classes.size(), 20u);

    ClassifyOptions o;
    o.C = 10;
    Context ctx = Context::cpu();
    auto t0 = std::chrono::steady_clock::now();
    Classifier clf = train(ctx, n.train.X, n.ytr, n.classes, o);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(clf.stop_reason, "tol");  // converged by scikit-learn's own rule
    EXPECT_LE(clf.gradient_max, o.tol);
    EXPECT_EQ(clf.outputs, 20);
    std::vector<float> P = predict_proba(ctx, clf, n.test);
    double acc = accuracy(P, n.yte, 20);
    EvalReport rep = evaluate(P, n.yte, n.classes, -1);
    EXPECT_DOUBLE_EQ(rep.accuracy, acc);
    const double sk_acc = r["logreg"]["accuracy"].GetDouble();
    const double sk_f1 = r["logreg"]["macro_f1"].GetDouble();
    std::printf("20news logreg C=10: accuracy %.5f (scikit-learn %.5f), macro-F1 %.5f (%.5f), "
                "%d iterations, %.2f s (scikit-learn in the fixture run: %.2f s; both load-dependent)\n",
                acc, sk_acc, rep.macro_f1, sk_f1, clf.iterations, secs,
                r["logreg"]["fit_seconds"].GetDouble());
    EXPECT_GE(acc, sk_acc);
    EXPECT_GE(rep.macro_f1, sk_f1 - 1e-3);
    // probabilities are a distribution per row
    for (size_t i = 0; i < 50; ++i) {
        double s = 0;
        for (int k = 0; k < 20; ++k) s += P[i * 20 + k];
        EXPECT_NEAR(s, 1.0, 1e-5);
    }
}

TEST(Classify, NewsgroupsNaiveBayesMatchesScikitLearn) {
    TMINE_REQUIRE_DATA(kNews);
    auto ref = reference();
    const News& n = news();
    Context ctx = Context::cpu();
    for (const char* key : {"nb_alpha_1", "nb_alpha_0.01"}) {
        const auto& r = ref["newsgroups"][key];
        ClassifyOptions o;
        o.kind = ClassifierKind::NaiveBayes;
        o.alpha = r["alpha"].GetDouble();
        Classifier clf = train(ctx, n.train.X, n.ytr, n.classes, o);
        double acc = accuracy(predict_proba(ctx, clf, n.test), n.yte, 20);
        std::printf("20news naive Bayes alpha=%g: accuracy %.5f (scikit-learn %.5f)\n", o.alpha, acc,
                    r["accuracy"].GetDouble());
        EXPECT_GE(acc, r["accuracy"].GetDouble()) << key;
    }
}

TEST(Classify, TweetsInboundBinaryMatchesScikitLearn) {
    TMINE_REQUIRE_DATA(kTwcs);
    auto ref = reference();
    const auto& r = ref["tweets"];
    const Tweets& t = tweets();
    ASSERT_EQ(int64_t(t.corpus.size()), r["rows"].GetInt64());
    Corpus tr, te;
    for (size_t i = 0; i < t.corpus.size(); ++i)
        (i < 4000 ? tr : te).add(t.corpus.text[i], kNoTime, t.corpus.ids[i], "", 0);
    Context ctx = Context::cpu();
    Vectorized v = vectorize(ctx, tr, sklearn_features());
    ASSERT_EQ(v.X.cols, r["terms"].GetInt());
    CsrMatrix Xte = vectorize_fixed(ctx, te, v.vocabulary, v.idf, sklearn_features()).X;
    std::vector<int32_t> ytr(t.y.begin(), t.y.begin() + 4000), yte(t.y.begin() + 4000, t.y.end());
    ClassifyOptions o;
    Classifier clf = train(ctx, v.X, ytr, {"False", "True"}, o);
    EXPECT_EQ(clf.outputs, 1);  // binary: one weight vector, as scikit-learn
    EXPECT_EQ(clf.stop_reason, "tol");
    std::vector<float> P = predict_proba(ctx, clf, Xte);
    EvalReport rep = evaluate(P, yte, {"False", "True"}, 1);
    const auto& s = r["logreg"];
    std::printf("tweets inbound: accuracy %.5f (scikit-learn %.5f), F1(True) %.5f (%.5f), "
                "ROC AUC %.5f (%.5f)\n",
                rep.accuracy, s["accuracy"].GetDouble(), rep.f1[1], s["f1_true"].GetDouble(),
                rep.roc_auc, s["roc_auc"].GetDouble());
    EXPECT_GE(rep.accuracy, s["accuracy"].GetDouble());
    EXPECT_GE(rep.f1[1], s["f1_true"].GetDouble() - 1e-3);
    EXPECT_NEAR(rep.roc_auc, s["roc_auc"].GetDouble(), 2e-3);

    // balanced class weights raise the recall of the smaller class (brand replies)
    int64_t n_true = std::count(ytr.begin(), ytr.end(), 1);
    ASSERT_GT(n_true, 2000);  // True is the majority
    o.balanced = true;
    Classifier bal = train(ctx, v.X, ytr, {"False", "True"}, o);
    EvalReport rb = evaluate(predict_proba(ctx, bal, Xte), yte, {"False", "True"}, 1);
    EXPECT_GT(rb.recall[0], rep.recall[0]);
    EXPECT_GT(rb.accuracy, 0.85);
}

// Binary, eval's predicted class is predict's default mask: the relevant class at 0.5 or more,
// a tie included, whichever class that is (argmax alone gives a tie to the first class).
TEST(Classify, EvalCutsBinaryScoresAsPredictDoes) {
    const std::vector<float> P = {0.5f, 0.5f, 0.7f, 0.3f, 0.2f, 0.8f, 0.5f, 0.5f};
    const std::vector<int32_t> y = {1, 0, 1, 0};
    const EvalReport r1 = evaluate(P, y, {"no", "yes"}, 1);  // rows 0 and 3 tie: "yes"
    EXPECT_EQ(r1.confusion, (std::vector<int64_t>{1, 1, 0, 2}));
    const EvalReport r0 = evaluate(P, y, {"no", "yes"}, 0);  // relevant "no": the ties are "no"
    EXPECT_EQ(r0.confusion, (std::vector<int64_t>{2, 0, 1, 1}));
    EXPECT_DOUBLE_EQ(r1.accuracy, 0.75);
}

TEST(Classify, CrossValidationOnTweets) {
    TMINE_REQUIRE_DATA(kTwcs);
    const Tweets& t = tweets();
    Context ctx = Context::cpu();
    Vectorized v = vectorize(ctx, t.corpus, sklearn_features());
    ClassifyOptions o;
    EvalReport r = cross_validate(ctx, v.X, t.y, {"False", "True"}, 1, o, 5, 7);
    EXPECT_EQ(r.rows, int64_t(t.y.size()));
    EXPECT_GT(r.accuracy, 0.88);
    EXPECT_GT(r.roc_auc, 0.93);
    int64_t total = 0;
    for (int64_t c : r.confusion) total += c;
    EXPECT_EQ(total, r.rows);
    EXPECT_EQ(r.support[0] + r.support[1], r.rows);
    // the JSON parses and carries the documented keys
    rapidjson::Document d;
    std::string js = eval_json(r, o);
    ASSERT_FALSE(d.Parse(js.c_str()).HasParseError()) << js;
    for (const char* k : {"accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix",
                          "per_class", "folds"})
        EXPECT_TRUE(d.HasMember(k)) << k;
    EXPECT_NE(eval_table(r).find("confusion matrix"), std::string::npos);
    // naive Bayes is a weaker but sane baseline
    o.kind = ClassifierKind::NaiveBayes;
    EvalReport nb = cross_validate(ctx, v.X, t.y, {"False", "True"}, 1, o, 5, 7);
    EXPECT_GT(nb.accuracy, 0.75);
}

// ---- building blocks ----

TEST(Classify, RocAucAndThresholds) {
    // scikit-learn's roc_auc_score documentation example: 0.75
    EXPECT_DOUBLE_EQ(roc_auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}), 0.75);
    EXPECT_DOUBLE_EQ(roc_auc({0.5f, 0.5f, 0.5f, 0.5f}, {0, 1, 0, 1}), 0.5);  // ties: half
    EXPECT_DOUBLE_EQ(roc_auc({0.1f, 0.2f, 0.9f}, {0, 0, 1}), 1.0);
    EXPECT_TRUE(std::isnan(roc_auc({0.1f, 0.2f}, {1, 1})));
    std::vector<float> s = {0.95f, 0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.3f};
    std::vector<uint8_t> y = {1, 1, 0, 1, 1, 0, 0};
    double rec = 0, prec = 0;
    // >= 0.9: 2/2; >= 0.8: 2/3; >= 0.7: 3/4; >= 0.6: 4/5 -> the lowest reaching 0.75 is 0.6
    EXPECT_FLOAT_EQ(threshold_for_precision(s, y, 0.75, &rec, &prec), 0.6f);
    EXPECT_DOUBLE_EQ(rec, 1.0);
    EXPECT_DOUBLE_EQ(prec, 0.8);
    EXPECT_FLOAT_EQ(threshold_for_precision(s, y, 1.0), 0.9f);
    std::vector<uint8_t> none = {0, 0, 0, 0, 0, 0, 1};
    EXPECT_NE(first_error([&] { threshold_for_precision(s, none, 0.9); }).find("no threshold"),
              std::string::npos);
}

TEST(Classify, StratifiedFoldsSpreadEveryClass) {
    std::vector<int32_t> y;
    for (int i = 0; i < 103; ++i) y.push_back(i % 7 == 0 ? 2 : (i % 3 == 0 ? 1 : 0));
    auto f = stratified_folds(y, 3, 5, 1);
    for (int c = 0; c < 3; ++c) {
        std::vector<int> per(5, 0);
        for (size_t i = 0; i < y.size(); ++i)
            if (y[i] == c) ++per[f[i]];
        EXPECT_LE(*std::max_element(per.begin(), per.end()) - *std::min_element(per.begin(), per.end()), 1)
            << "class " << c;
    }
    EXPECT_NE(stratified_folds(y, 3, 5, 2), f);  // the seed shuffles
}

TEST(Classify, PickTakesTheLeastCertainThenARandomSample) {
    const int K = 2;
    const int64_t n = 1000;
    std::vector<float> P(n * K);
    for (int64_t i = 0; i < n; ++i) {
        float p = float((i * 7919) % 1000) / 1000.0f;
        P[i * 2] = 1 - p;
        P[i * 2 + 1] = p;
    }
    std::vector<int64_t> exclude = {500, 501, 502};
    auto picks = pick_rows(P, n, K, 40, 10, 3, exclude);
    ASSERT_EQ(picks.size(), 40u);
    std::set<int64_t> seen;
    float worst_picked = 0;
    for (size_t q = 0; q < picks.size(); ++q) {
        EXPECT_TRUE(seen.insert(picks[q].row).second) << "picked twice";
        EXPECT_EQ(std::count(exclude.begin(), exclude.end(), picks[q].row), 0);
        EXPECT_EQ(picks[q].random, q >= 30);
        if (!picks[q].random)
            worst_picked = std::max(worst_picked, std::fabs(P[picks[q].row * 2 + 1] - 0.5f));
    }
    // every row not picked as uncertain is at least as certain as the picked ones
    for (int64_t i = 0; i < n; ++i) {
        bool unc = false;
        for (size_t q = 0; q < 30; ++q) unc |= picks[q].row == i;
        bool excluded = std::count(exclude.begin(), exclude.end(), i) > 0;
        if (!unc && !excluded) EXPECT_GE(std::fabs(P[i * 2 + 1] - 0.5f), worst_picked) << i;
    }
}

TEST(Classify, ModelFileRoundTripScoresIdentically) {
    TMINE_REQUIRE_DATA(kTwcs);
    const Tweets& t = tweets();
    Context ctx = Context::cpu();
    Vectorized v = vectorize(ctx, t.corpus, sklearn_features());
    Classifier clf = train(ctx, v.X, t.y, {"False", "True"}, ClassifyOptions{});
    clf.positive = 1;
    clf.vocabulary_hash = vocabulary_hash(v.vocabulary);
    clf.cv_scores = {0.25f, 0.75f};
    clf.cv_truth = {0, 1};
    TempDir d;
    write_classifier(clf, d.file("clf"));
    Classifier back = read_classifier(d.file("clf"));
    EXPECT_EQ(back.classes, clf.classes);
    EXPECT_EQ(back.weights, clf.weights);
    EXPECT_EQ(back.intercept, clf.intercept);
    EXPECT_EQ(back.vocabulary_hash, clf.vocabulary_hash);
    EXPECT_EQ(back.cv_scores, clf.cv_scores);
    EXPECT_EQ(predict_proba(ctx, back, v.X), predict_proba(ctx, clf, v.X));
    // a truncated file is refused with its name
    std::string bytes = read_bytes(d.file("clf/classifier.tmcl"));
    write_bytes(d.file("clf/classifier.tmcl"), bytes.substr(0, bytes.size() / 2));
    EXPECT_NE(first_error([&] { read_classifier(d.file("clf")); }).find("classifier.tmcl"),
              std::string::npos);
    // wrong width
    CsrMatrix small = v.X;
    small.cols -= 1;
    EXPECT_NE(first_error([&] { predict_proba(ctx, clf, small); }).find("columns"), std::string::npos);
}

// ---- label files ----

TEST(ClassifyLabels, ResolvesIdsAndReportsBadFiles) {
    TempDir d;
    Corpus c;
    c.sources.push_back("x");
    for (int i = 0; i < 6; ++i) c.add("post " + std::to_string(i), kNoTime, "t" + std::to_string(i), "", 0);
    auto labels = [&](const std::string& name, const std::string& content) {
        write_bytes(d.file(name), content);
        return d.file(name);
    };
    // CSV with extra columns and quoted fields, the same pair twice counts once
    LabelSet ls = read_labels(labels("a.csv", "text,id,label\n\"a, b\",t3,yes\nx,t1,no\ny,t5,\"yes\"\nz,t3,yes\n"),
                              &c, 6);
    EXPECT_EQ(ls.rows, (std::vector<int64_t>{3, 1, 5}));
    EXPECT_EQ(ls.classes, (std::vector<std::string>{"no", "yes"}));
    EXPECT_EQ(ls.y, (std::vector<int32_t>{1, 0, 1}));
    EXPECT_EQ(choose_positive(ls.classes, ""), 1);
    EXPECT_EQ(choose_positive({"relevant", "irrelevant"}, ""), 0);
    EXPECT_EQ(choose_positive({"a", "b", "c"}, ""), -1);
    EXPECT_EQ(choose_positive({"a", "b", "c"}, "b"), 1);
    // JSON Lines: numeric ids are row numbers without corpus ids; boolean labels
    LabelSet js = read_labels(labels("b.jsonl", "{\"id\": 0, \"label\": true}\n\n{\"id\": \"4\", \"label\": false}\n"),
                              nullptr, 6);
    EXPECT_EQ(js.rows, (std::vector<int64_t>{0, 4}));
    EXPECT_EQ(js.classes, (std::vector<std::string>{"false", "true"}));

    auto err = [&](const std::string& name, const std::string& content, const Corpus* cp = nullptr,
                   LabelReadOptions o = {}) {
        return first_error([&] { read_labels(labels(name, content), cp ? cp : &c, 6, o); });
    };
    std::string e = err("u.csv", "id,label\nt1,yes\nt9,no\n");
    EXPECT_NE(e.find("u.csv:3: unknown id 't9'"), std::string::npos) << e;
    e = err("e.csv", "id,label\nt1,yes\nt2,\nt3,no\n");
    EXPECT_NE(e.find("e.csv:3: empty label for id 't2'"), std::string::npos) << e;
    LabelReadOptions allow;
    allow.allow_empty = true;
    EXPECT_EQ(read_labels(labels("e2.csv", "id,label\nt1,yes\nt2,\nt3,no\n"), &c, 6, allow).rows.size(), 2u);
    e = err("one.csv", "id,label\nt1,yes\nt2,yes\n");
    EXPECT_NE(e.find("one.csv: every labelled row has the label 'yes'"), std::string::npos) << e;
    e = err("dup.csv", "id,label\nt1,yes\nt2,no\nt1,no\n");
    EXPECT_NE(e.find("dup.csv:4: id 't1' is labelled 'no' here but 'yes' at line 2"), std::string::npos) << e;
    e = err("hdr.csv", "post,class\nt1,yes\n");
    EXPECT_NE(e.find("hdr.csv:1:"), std::string::npos) << e;
    EXPECT_NE(e.find("'label'"), std::string::npos) << e;
    e = err("q.csv", "id,label\n\"t1,yes\n");
    EXPECT_NE(e.find("q.csv:2: unterminated"), std::string::npos) << e;
    e = err("j.jsonl", "{\"id\": \"t1\", \"label\": \"a\"}\n{\"id\": \"t2\"}\n");
    EXPECT_NE(e.find("j.jsonl:2: no \"label\""), std::string::npos) << e;
    e = err("j2.jsonl", "{\"id\": \"t1\", \"label\": \"a\"}\n{\"id\": \"t2\", \"label\": [1]}\n");
    EXPECT_NE(e.find("j2.jsonl:2:"), std::string::npos) << e;
    e = err("j3.jsonl", "{\"id\": \"t1\", \"label\": \"a\"}\nnot json\n");
    EXPECT_NE(e.find("j3.jsonl:2: not a JSON object"), std::string::npos) << e;
    // without corpus ids, ids are row numbers
    Corpus noid;
    noid.sources.push_back("x");
    for (int i = 0; i < 6; ++i) noid.add("p", kNoTime, "", "", 0);
    e = err("r.csv", "id,label\n1,a\n6,b\n", &noid);
    EXPECT_NE(e.find("r.csv:3: unknown id '6'"), std::string::npos) << e;
    EXPECT_NE(e.find("row numbers 0..5"), std::string::npos) << e;
    // an id that several corpus rows share cannot say which post is labelled
    Corpus shared;
    shared.sources.push_back("x");
    for (int i = 0; i < 6; ++i) shared.add("p", kNoTime, i < 3 ? "s1" : "s" + std::to_string(i), "", 0);
    e = err("s.csv", "id,label\ns4,a\ns1,b\n", &shared);
    EXPECT_NE(e.find("s.csv:3: id 's1' is the id of 3 corpus rows"), std::string::npos) << e;
    EXPECT_EQ(read_labels(labels("s2.csv", "id,label\ns4,a\ns5,b\n"), &shared, 6).rows,
              (std::vector<int64_t>{4, 5}));
}

// Weak labels (a query's) under a person's: a row both label takes the person's label; weak
// files that disagree are an error, as label files that disagree are.
TEST(ClassifyLabels, WeakLabelsGiveWayToLabels) {
    TempDir d;
    Corpus c;
    c.sources.push_back("x");
    for (int i = 0; i < 6; ++i) c.add("post " + std::to_string(i), kNoTime, "t" + std::to_string(i), "", 0);
    write_bytes(d.file("weak.csv"), "id,label\nt0,relevant\nt1,relevant\nt2,other\nt3,other\nt4,other\nt5,other\n");
    write_bytes(d.file("hand.csv"), "id,label\nt1,other\nt4,relevant\nt5,other\n");
    LabelReadOptions o;
    o.weak_paths = {d.file("weak.csv")};
    const LabelSet ls = read_labels(std::vector<std::string>{d.file("hand.csv")}, &c, 6, o);
    EXPECT_EQ(ls.rows, (std::vector<int64_t>{1, 4, 5, 0, 2, 3}));
    ASSERT_EQ(ls.classes, (std::vector<std::string>{"other", "relevant"}));
    EXPECT_EQ(ls.y, (std::vector<int32_t>{0, 1, 0, 1, 0, 0}));
    EXPECT_EQ(ls.weak_rows, 3);
    EXPECT_EQ(ls.weak_overridden, 2);  // t1 and t4 changed; t5 agreed
    // weak labels alone train too
    const LabelSet only = read_labels(std::vector<std::string>{}, &c, 6, o);
    EXPECT_EQ(only.rows.size(), 6u);
    EXPECT_EQ(only.weak_rows, 6);
    // two weak files that disagree
    write_bytes(d.file("weak2.csv"), "id,label\nt2,relevant\n");
    o.weak_paths.push_back(d.file("weak2.csv"));
    const std::string e = first_error([&] { read_labels(std::vector<std::string>{d.file("hand.csv")}, &c, 6, o); });
    EXPECT_NE(e.find("weak2.csv:2: id 't2' is labelled 'relevant' here but 'other' at " + d.file("weak.csv") + ":4"),
              std::string::npos)
        << e;
}

TEST(ClassifyLabels, InvalidUtf8InAnIdOrALabelNamesTheLine) {
    TempDir d;
    Corpus c;
    c.sources.push_back("x");
    for (int i = 0; i < 4; ++i) c.add("post " + std::to_string(i), kNoTime, "t" + std::to_string(i), "", 0);
    auto err = [&](const std::string& name, const std::string& content) {
        write_bytes(d.file(name), content);
        return first_error([&] { read_labels({d.file(name)}, &c, 4); });
    };
    // a Latin-1 label would otherwise become a class of its own in classifier.json
    std::string e = err("l.csv", "id,label\nt0,yes\nt1,no\nt2,\xFF\n");
    EXPECT_NE(e.find(d.file("l.csv") + ":4: invalid UTF-8 in the label (byte 1 of the value"),
              std::string::npos) << e;
    e = err("i.csv", "id,label\nt0,yes\n\"t\xE9" "1\",no\n");
    EXPECT_NE(e.find(d.file("i.csv") + ":3: invalid UTF-8 in the id (byte 2 of the value"),
              std::string::npos) << e;
    // JSON Lines: RapidJSON does not check the encoding of the strings it reads
    e = err("l.jsonl", "{\"id\": \"t0\", \"label\": \"yes\"}\n{\"id\": \"t1\", \"label\": \"n\xC3o\"}\n");
    EXPECT_NE(e.find(d.file("l.jsonl") + ":2: invalid UTF-8 in the label (byte 2 of the value"),
              std::string::npos) << e;
    // valid UTF-8 labels are fine
    LabelSet ls = read_labels({[&] {
                                  write_bytes(d.file("ok.csv"), "id,label\nt0,s\xC3\xBBr\nt1,non\n");
                                  return d.file("ok.csv");
                              }()},
                              &c, 4);
    EXPECT_EQ(ls.classes, (std::vector<std::string>{"non", "s\xC3\xBBr"}));
}

TEST(ClassifyLabels, SpreadsheetFieldsAndFilesComeBack) {
    // what a spreadsheet would read as a formula or a number gets the apostrophe
    for (const char* v : {"@115712 I understand", "=HYPERLINK(\"x\")", "+33 6 12 34 56 78", "- great show",
                          "-", "\tx", "\rx", "007", "1234567890123456789", "123456789012", "+5",
                          "+4915112345678", "-1e5x", "-1e", "-123456789012"})
        EXPECT_TRUE(spreadsheet_would_alter(v)) << v;
    for (const char* v : {"", "abc", "119237", "0", "12345678901", "-1", "-0.25", "-3.2e-05", "-1E+5",
                          "3.2e-05", "'@x", "a=b"})
        EXPECT_FALSE(spreadsheet_would_alter(v)) << v;
    std::string out;
    append_spreadsheet_field(out, "@a;b", ';');
    EXPECT_EQ(out, "\"'@a;b\"");
    out.clear();
    append_spreadsheet_field(out, "@a;b", ',');
    EXPECT_EQ(out, "'@a;b");
    out.clear();
    append_csv_field(out, "a\tb", '\t');
    EXPECT_EQ(out, "\"a\tb\"");

    // texts over a cell's size are cut at a character boundary, and say so
    EXPECT_EQ(cut_for_cell("abc", 3), "abc");
    EXPECT_EQ(cut_for_cell("ab\xC3\xA9z", 3), "ab [\xE2\x80\xA6 3 more bytes]");
    EXPECT_EQ(cut_for_cell("ab\xC3\xA9z", 4), "ab\xC3\xA9 [\xE2\x80\xA6 1 more byte]");
    EXPECT_EQ(cut_for_cell(std::string(40000, 'x')).size(), kSpreadsheetCellBytes + std::string(" [\xE2\x80\xA6 8000 more bytes]").size());

    TempDir d;
    Corpus c;
    c.sources.push_back("x");
    for (const char* id : {"007", "1234567890123456789", "t2", "'q", "q", "t5"}) c.add("post", kNoTime, id, "", 0);
    auto read = [&](const std::string& name, const std::string& content, LabelReadOptions o = {}) {
        write_bytes(d.file(name), content);
        return read_labels({d.file(name)}, &c, 6, o);
    };
    auto err = [&](const std::string& name, const std::string& content) {
        return first_error([&] { read(name, content); });
    };
    LabelReadOptions allow;
    allow.allow_empty = true;
    // saved by a spreadsheet where ',' is the decimal mark: ';', CRLF, the byte-order mark, ids
    // behind their apostrophe, half the labels filled in, rows of empty cells at the end
    LabelSet ls = read("semi.csv",
                       "\xEF\xBB\xBFid;label;predicted;score;reason;text\r\n"
                       "'007;oui;non;0,51;uncertain;'@a, b\r\n"
                       "'1234567890123456789;non;non;0,49;random;\"x;\r\ny\"\r\n"
                       "t2;;oui;0,5;uncertain;z\r\n"
                       ";;;;;\r\n;;;;;\r\n",
                       allow);
    EXPECT_EQ(ls.rows, (std::vector<int64_t>{0, 1}));
    EXPECT_EQ(ls.classes, (std::vector<std::string>{"non", "oui"}));
    EXPECT_EQ(ls.lines, (std::vector<int64_t>{2, 3}));
    // tab-separated text
    ls = read("tab.txt", "text\tid\tlabel\n'@a\tt2\tyes\nb\tt5\tno\n");
    EXPECT_EQ(ls.rows, (std::vector<int64_t>{2, 5}));
    // an id that is itself written with an apostrophe is that id
    ls = read("q.csv", "id,label\n'q,a\nq,b\n");
    EXPECT_EQ(ls.rows, (std::vector<int64_t>{3, 4}));
    // ids a spreadsheet rounded cannot be matched: the error says what happened
    std::string e = err("r.csv", "id;label\n1,23457E+18;oui\nt2;non\n");
    EXPECT_NE(e.find("r.csv:2: unknown id '1,23457E+18'"), std::string::npos) << e;
    EXPECT_NE(e.find("a spreadsheet rounded it as a number: open the pick file again"), std::string::npos) << e;
    e = err("r2.csv", "id,label\nt2,a\n1.23457e18,b\n");
    EXPECT_NE(e.find("r2.csv:3: unknown id '1.23457e18' (not an id of the corpus; a spreadsheet"),
              std::string::npos) << e;
    e = err("u.csv", "id,label\nt2,a\nt9,b\n");
    EXPECT_NE(e.find("u.csv:3: unknown id 't9' (not an id of the corpus)"), std::string::npos) << e;
    // a header that names the columns with no delimiter tmine knows
    e = err("h.csv", "id|label\nt2|a\n");
    EXPECT_NE(e.find("h.csv:1: the header must name an 'id' and a 'label' column (separated by , ; or tab)"),
              std::string::npos) << e;
    // a label in a spreadsheet's local encoding (Windows-1252 "pertinent" with an accent)
    e = err("w.csv", "id;label\nt2;non\nt5;\xE9" "cart\xE9\n");
    EXPECT_NE(e.find("w.csv:3: invalid UTF-8 in the label"), std::string::npos) << e;
    EXPECT_NE(e.find("save it as \"CSV UTF-8\""), std::string::npos) << e;
    // a spreadsheet's "Unicode Text" (UTF-16, tab-separated)
    e = err("u16.txt", std::string("\xFF\xFEi\0d\0\t\0l\0", 10));
    EXPECT_NE(e.find("u16.txt: the file is UTF-16 (what a spreadsheet's \"Unicode Text\" writes); save it as"),
              std::string::npos) << e;
    // the header's line is the first row that is not blank
    e = err("h2.csv", ",,,\nfoo;bar\n");
    EXPECT_NE(e.find("h2.csv:2: the header must name"), std::string::npos) << e;
}

TEST(ClassifyLabels, RecodedCsvKeepsEveryField) {
    // tmine's own CSV (',' and '\n', RFC 4180 quotes) with another delimiter, field for field
    const std::string csv =
        "term,weight,note\n"
        "a,0.5,\"x, y\"\n"
        "b;c,-1,\n"
        ",,\n"
        "\"q\"\"uote\",\"two\nlines\",@user\n";
    EXPECT_EQ(recode_csv(csv, ',', false), csv) << "the default leaves the text as it is";
    EXPECT_EQ(recode_csv(csv, ';', false),
              "term;weight;note\n"
              "a;0.5;x, y\n"
              "\"b;c\";-1;\n"
              ";;\n"
              "\"q\"\"uote\";\"two\nlines\";@user\n");
    EXPECT_EQ(recode_csv(csv, '\t', false),
              "term\tweight\tnote\n"
              "a\t0.5\tx, y\n"
              "b;c\t-1\t\n"
              "\t\t\n"
              "\"q\"\"uote\"\t\"two\nlines\"\t@user\n");
    // text after a closing quote stays in its field; CRLF line ends come out as \n
    EXPECT_EQ(recode_csv("\"a\"b,c\r\n\"x\",\r\ny,\"z\r\"\r\n", ';', false), "ab;c\nx;\ny;\"z\r\"\n");
    EXPECT_EQ(recode_csv("a,b", ';', false), "a;b") << "a last line without its line end";
    EXPECT_EQ(recode_csv("", ';', true), "\xEF\xBB\xBF");
    // for a spreadsheet: the byte-order mark, and the apostrophe before a cell it would alter;
    // numbers stay numbers
    EXPECT_EQ(recode_csv("id,score,text\n007,0.25,@a\n1234567890123456789,-1,=1+1\n", ',', true),
              "\xEF\xBB\xBFid,score,text\n'007,0.25,'@a\n'1234567890123456789,-1,'=1+1\n");
    // and a file read back through the labels reader gives the same ids
    Corpus c;
    c.sources.push_back("x");
    for (const char* id : {"007", "@x", "t3"}) c.add("post", kNoTime, id, "", 0);
    TempDir d;
    write_bytes(d.file("l.csv"), recode_csv("id,label\n@x,\"a;b\"\n007,c\nt3,\n", ';', true));
    LabelReadOptions allow;
    allow.allow_empty = true;
    LabelSet ls = read_labels({d.file("l.csv")}, &c, 3, allow);
    EXPECT_EQ(ls.rows, (std::vector<int64_t>{1, 0}));
    EXPECT_EQ(ls.classes, (std::vector<std::string>{"a;b", "c"}));

    EXPECT_EQ(parse_csv_delimiter("semicolon"), ';');
    EXPECT_EQ(parse_csv_delimiter("tab"), '\t');
    EXPECT_EQ(parse_csv_delimiter(","), ',');
    std::string e = first_error([] { parse_csv_delimiter("|", "--delimiter"); });
    EXPECT_NE(e.find("--delimiter: expected , ; or tab, got '|'"), std::string::npos) << e;
}

// ---- the command line loop on real tweets ----

namespace {
/// Runs `tmine ARGS` with stdout to DIR/out.txt and stderr to DIR/err.txt; the exit code.
std::function<int(const std::string&)> cli_in(const TempDir& d) {
    return [&d](const std::string& args) {
        const std::string cmd = std::string(TMINE_BINARY) + " " + args + " >" + d.file("out.txt") + " 2>" +
                                d.file("err.txt");
        const int st = std::system(cmd.c_str());
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    };
}
}  // namespace

TEST(ClassifyCli, TrainPredictEvalPickLoop) {
    TMINE_REQUIRE_DATA(kTwcs);
    TempDir d;
    const auto sh = cli_in(d);
    auto err = [&] { return read_bytes(d.file("err.txt")); };
    ASSERT_EQ(sh("ingest " + data_file(kTwcs) + " --text-field text --id-field tweet_id -q -o " +
                 d.file("c.tmc")),
              0)
        << err();
    ASSERT_EQ(sh("vectorize " + d.file("c.tmc") + " --sklearn-compatible --sublinear-tf --min-df 2 "
                 "--stop-words none --device cpu -q -o " + d.file("m.tmx")),
              0)
        << err();
    // labels for the first 1500 tweets (inbound flag), as a person would have written them
    const Tweets& t = tweets();
    std::string labels = "id,label\n";
    for (size_t i = 0; i < 1500; ++i)
        labels += std::string(t.corpus.ids[i]) + "," + (t.y[i] ? "customer" : "brand") + "\n";
    write_bytes(d.file("labels.csv"), labels);
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("labels.csv") + " --positive customer --C 1 --device cpu -o " + d.file("clf")),
              0)
        << err();
    EXPECT_NE(err().find("5-fold cross-validation"), std::string::npos) << err();
    ASSERT_EQ(sh("classify predict " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                 d.file("clf") + " --target-precision 0.95 --mask " + d.file("keep.txt") +
                 " --device cpu -o " + d.file("scores.csv")),
              0)
        << err();
    EXPECT_NE(err().find("reaches precision"), std::string::npos) << err();
    std::vector<uint8_t> keep = read_mask(d.file("keep.txt"));
    ASSERT_EQ(keep.size(), t.corpus.size());
    // on the tweets never labelled, the kept ones are mostly customers
    int64_t kept = 0, kept_true = 0;
    for (size_t i = 1500; i < keep.size(); ++i) {
        kept += keep[i];
        kept_true += keep[i] && t.y[i];
    }
    ASSERT_GT(kept, 500);
    EXPECT_GT(double(kept_true) / kept, 0.9);
    std::string scores = read_bytes(d.file("scores.csv"));
    EXPECT_EQ(scores.rfind("id,label,score\n", 0), 0u);
    EXPECT_EQ(size_t(std::count(scores.begin(), scores.end(), '\n')), t.corpus.size() + 1);
    EXPECT_NE(scores.find("\n" + std::string(t.corpus.ids[0]) + ","), std::string::npos);
    // the same scores for a spreadsheet, ';'-separated
    ASSERT_EQ(sh("classify predict " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                 d.file("clf") + " --target-precision 0.95 --spreadsheet --delimiter semicolon --device cpu -o " +
                 d.file("scores2.csv")),
              0)
        << err();
    EXPECT_EQ(read_bytes(d.file("scores2.csv")), recode_csv(scores, ';', true));
    EXPECT_EQ(read_bytes(d.file("scores2.csv")).rfind("\xEF\xBB\xBFid;label;score\n", 0), 0u);
    // The kept posts by id: the same posts as the mask, and run --keep-ids on the raw file
    // keeps exactly those (ids survive cleaning, where a mask's rows do not).
    ASSERT_EQ(sh("classify predict " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                 d.file("clf") + " --target-precision 0.95 --keep-ids " + d.file("kept.txt") + " --device cpu -q -o " +
                 d.file("scores3.csv")),
              0)
        << err();
    {
        std::string want;
        for (size_t i = 0; i < keep.size(); ++i)
            if (keep[i]) want += std::string(t.corpus.ids[i]) + "\n";
        EXPECT_EQ(read_bytes(d.file("kept.txt")), want);
        ASSERT_EQ(sh("run " + data_file(kTwcs) + " --text-field text --id-field tweet_id --author-field author_id "
                     "--clean spam,relevance --keep-ids " + d.file("kept.txt") + " --author-factor 0 -k 3 --iters 5 "
                     "--device cpu -q -o " + d.file("run")),
                  0)
            << err();
        rapidjson::Document cj;
        const std::string cjs = read_bytes(d.file("run/clean.json"));
        ASSERT_FALSE(cj.Parse(cjs.c_str()).HasParseError());
        ASSERT_EQ(cj["steps"].Size(), 2u);
        // --author-factor 0: the brand accounts stay (5 accounts go with the default)
        EXPECT_FALSE(cj["steps"][0]["reasons"].HasMember("prolific_author")) << cjs;
        const int64_t wanted = std::count(keep.begin(), keep.end(), uint8_t(1));
        EXPECT_GT(cj["steps"][1]["kept"].GetInt64(), wanted * 9 / 10);
        EXPECT_LE(cj["steps"][1]["kept"].GetInt64(), wanted);
        EXPECT_EQ(int64_t(cj["steps"][1]["stats"]["ids_in_file"].GetDouble()), wanted);
    }
    EXPECT_EQ(sh("classify predict " + d.file("m.tmx") + " --model " + d.file("clf") + " --keep-ids " +
                 d.file("k2.txt") + " --device cpu -q -o " + d.file("scores4.csv")),
              1);
    EXPECT_NE(err().find("--keep-ids names the kept posts by their ids: give --corpus"), std::string::npos) << err();

    ASSERT_EQ(sh("classify eval " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("labels.csv") + " --folds 4 --class-weight balanced --device cpu -o " +
                 d.file("eval.json")),
              0)
        << err();
    EXPECT_NE(read_bytes(d.file("out.txt")).find("4-fold stratified"), std::string::npos);
    rapidjson::Document ev;
    std::string evs = read_bytes(d.file("eval.json"));
    ASSERT_FALSE(ev.Parse(evs.c_str()).HasParseError());
    EXPECT_EQ(ev["folds"].GetInt(), 4);
    EXPECT_GT(ev["roc_auc"].GetDouble(), 0.9);
    EXPECT_STREQ(ev["positive"].GetString(), "customer");

    ASSERT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                 d.file("clf") + " --labels " + d.file("labels.csv") + " -n 60 --device cpu -o " +
                 d.file("pick.csv")),
              0)
        << err();
    // records start with "<id>,,<predicted>,<score>,<reason>," (the label column left empty)
    std::string pick = read_bytes(d.file("pick.csv"));
    EXPECT_EQ(pick.rfind("\xEF\xBB\xBFid,label,predicted,score,reason,text\n", 0), 0u);
    // most of these tweets are replies, "@user …": behind an apostrophe, not a formula
    EXPECT_NE(pick.find(",'@"), std::string::npos);
    EXPECT_EQ(pick.find(",@"), std::string::npos);
    std::regex start(R"(^(\d+),,(customer|brand),([0-9.]+),(uncertain|random),)");
    std::map<std::string, size_t> row_of;
    for (size_t i = 0; i < t.corpus.size(); ++i) row_of[std::string(t.corpus.ids[i])] = i;
    std::vector<std::string> ids;
    std::string filled;
    double unc_dist = 0, rnd_dist = 0;
    int n_unc = 0, n_rnd = 0;
    std::istringstream lines(pick);
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch mt;
        if (std::regex_search(line, mt, start)) {
            std::string id = mt[1];
            ASSERT_TRUE(row_of.count(id)) << id;
            EXPECT_GE(row_of[id], 1500u) << "an already labelled tweet was picked";
            double dist = std::fabs(std::stod(mt[3]) - 0.5);
            (mt[4] == "uncertain" ? unc_dist : rnd_dist) += dist;
            (mt[4] == "uncertain" ? n_unc : n_rnd) += 1;
            // the person labels two picks out of three
            if (ids.size() % 3 != 2)
                line = id + "," + (t.y[row_of[id]] ? "customer" : "brand") + line.substr(id.size() + 1);
            ids.push_back(id);
        }
        filled += line + "\n";
    }
    ASSERT_EQ(ids.size(), 60u);
    EXPECT_EQ(n_unc, 45);
    EXPECT_EQ(n_rnd, 15);
    EXPECT_LT(unc_dist / n_unc, rnd_dist / n_rnd);  // the uncertain ones are nearer 0.5
    write_bytes(d.file("filled.csv"), filled);
    std::string retrain = "classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") +
                          " --labels " + d.file("labels.csv") + " --labels " + d.file("filled.csv") +
                          " --device cpu -o " + d.file("clf2");
    EXPECT_EQ(sh(retrain), 1);
    EXPECT_NE(err().find("filled.csv:"), std::string::npos) << err();
    EXPECT_NE(err().find("empty label"), std::string::npos) << err();
    ASSERT_EQ(sh(retrain + " --allow-empty"), 0) << err();
    rapidjson::Document cj;
    std::string cjs = read_bytes(d.file("clf2/classifier.json"));
    ASSERT_FALSE(cj.Parse(cjs.c_str()).HasParseError());
    EXPECT_EQ(cj["train_rows"].GetInt(), 1500 + 40);

    // the same loop through a spreadsheet that separates with tabs and ends lines with CRLF:
    // every pick labelled, the file comes back whole
    ASSERT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                 d.file("clf") + " --labels " + d.file("labels.csv") + " -n 30 --delimiter tab -q --device cpu -o " +
                 d.file("pick.tsv")),
              0)
        << err();
    std::istringstream tsv(read_bytes(d.file("pick.tsv")));
    std::string saved;
    int n_tsv = 0;
    while (std::getline(tsv, line)) {
        const size_t tab = line.find("\t\t");
        if (n_tsv > 0 && tab != std::string::npos && row_of.count(line.substr(0, tab))) {
            line.insert(tab + 1, t.y[row_of[line.substr(0, tab)]] ? "customer" : "brand");
            ++n_tsv;
        } else if (n_tsv == 0) {
            EXPECT_EQ(line, "\xEF\xBB\xBFid\tlabel\tpredicted\tscore\treason\ttext");
            ++n_tsv;
        }
        saved += line + "\r\n";
    }
    EXPECT_EQ(n_tsv, 31);
    write_bytes(d.file("saved.txt"), saved);
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("labels.csv") + " --labels " + d.file("saved.txt") + " -q --device cpu -o " + d.file("clf5")),
              0)
        << err();
    cjs = read_bytes(d.file("clf5/classifier.json"));
    ASSERT_FALSE(cj.Parse(cjs.c_str()).HasParseError());
    EXPECT_EQ(cj["train_rows"].GetInt(), 1500 + 30);
    EXPECT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                 d.file("clf") + " --delimiter '|' -o " + d.file("p.csv")),
              1);
    EXPECT_NE(err().find("tmine: error: --delimiter: expected , ; or tab, got '|'"), std::string::npos) << err();

    // bad label files and queries end with one line naming the file and line
    write_bytes(d.file("bad.csv"), "id,label\n" + std::string(t.corpus.ids[0]) + ",brand\nnope,customer\n");
    EXPECT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("bad.csv") + " -o " + d.file("clf3")),
              1);
    EXPECT_NE(err().find("tmine: error: " + d.file("bad.csv") + ":3: unknown id 'nope'"),
              std::string::npos)
        << err();
    // more picks asked for than rows left to label: all of them, and a note that says so
    ASSERT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                 d.file("clf") + " --labels " + d.file("labels.csv") + " -n 100000000 -q --device cpu -o " +
                 d.file("all.csv")),
              0)
        << err();
    EXPECT_NE(err().find("classify: note: -n 100000000, but only "), std::string::npos) << err();
    EXPECT_NE(err().find("already labelled"), std::string::npos) << err();
    // pick needs the corpus (the ids and texts people label), and leaves out the rows of a file
    // labelled so far even when that file has one class only
    EXPECT_EQ(sh("classify pick " + d.file("m.tmx") + " --model " + d.file("clf") + " -n 5 -o " + d.file("p.csv")),
              1);
    EXPECT_NE(err().find("tmine: error: classify pick: --corpus is required"), std::string::npos) << err();
    EXPECT_FALSE(std::filesystem::exists(d.file("p.csv")));
    {
        // the 30 most uncertain posts, labelled "brand" all of them: a pick run after that
        // picks 30 others
        std::string one = "id,label\n";
        std::set<std::string> first;
        std::istringstream in(read_bytes(d.file("all.csv")));
        std::string l;
        while (std::getline(in, l) && first.size() < 30) {
            std::smatch mt;
            if (!std::regex_search(l, mt, start)) continue;  // the header, or a text's next line
            first.insert(mt[1]);
            one += std::string(mt[1]) + ",brand\n";
        }
        write_bytes(d.file("one.csv"), one);
        ASSERT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " +
                     d.file("clf") + " --labels " + d.file("one.csv") + " --random 0 -n 30 -q --device cpu -o " +
                     d.file("next.csv")),
                  0)
            << err();
        std::istringstream next(read_bytes(d.file("next.csv")));
        int n_next = 0;
        while (std::getline(next, l)) {
            std::smatch mt;
            if (!std::regex_search(l, mt, start)) continue;
            EXPECT_EQ(first.count(mt[1]), 0u) << "picked again: " << l;
            ++n_next;
        }
        EXPECT_EQ(n_next, 30);
        // training on that file is still refused: one class
        EXPECT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                     d.file("one.csv") + " -q -o " + d.file("clf6")),
                  1);
        EXPECT_NE(err().find("a classifier needs at least two classes"), std::string::npos) << err();
    }
    // naive Bayes through the command line, cut at a fixed --threshold; row numbers as ids
    // without --corpus, said in a note
    {
        std::string rows = "id,label\n";
        for (size_t i = 0; i < 1500; ++i) rows += std::to_string(i) + "," + (t.y[i] ? "customer" : "brand") + "\n";
        write_bytes(d.file("rows.csv"), rows);
    }
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --labels " + d.file("rows.csv") +
                 " --model nb --alpha 0.5 --positive customer --cv-folds 0 --device cpu -o " + d.file("nb")),
              0)
        << err();
    EXPECT_NE(err().find("classify: note: without --corpus the ids in " + d.file("rows.csv") + " are row numbers"),
              std::string::npos)
        << err();
    ASSERT_EQ(sh("classify predict " + d.file("m.tmx") + " --model " + d.file("nb") + " --threshold 0.7 --mask " +
                 d.file("nb_keep.txt") + " -q --device cpu -o " + d.file("nb.csv")),
              0)
        << err();
    {
        std::vector<uint8_t> nb_keep = read_mask(d.file("nb_keep.txt"));
        ASSERT_EQ(nb_keep.size(), t.corpus.size());
        std::istringstream in(read_bytes(d.file("nb.csv")));
        std::string l;
        std::getline(in, l);
        EXPECT_EQ(l, "id,label,score");
        size_t i = 0, kept_nb = 0, right = 0;
        for (; std::getline(in, l); ++i) {
            ASSERT_LT(i, nb_keep.size());
            EXPECT_EQ(l.substr(0, l.find(',')), std::to_string(i)) << "ids are row numbers";
            const double score = std::stod(l.substr(l.rfind(',') + 1));
            EXPECT_EQ(bool(nb_keep[i]), score >= 0.7) << "row " << i << ": " << l;
            EXPECT_NE(l.find(score >= 0.7 ? ",customer," : ",brand,"), std::string::npos) << l;
            kept_nb += nb_keep[i];
            right += i >= 1500 && bool(nb_keep[i]) == bool(t.y[i]);
        }
        EXPECT_EQ(i, t.corpus.size());
        EXPECT_GT(kept_nb, 0u);
        EXPECT_GT(double(right) / double(t.corpus.size() - 1500), 0.8) << "naive Bayes on unseen tweets";
    }
    EXPECT_EQ(sh("classify predict " + d.file("m.tmx") + " --model " + d.file("nb") +
                 " --threshold 0.5 --target-precision 0.9 -o " + d.file("x.csv")),
              1);
    EXPECT_NE(err().find("give --threshold or --target-precision, not both"), std::string::npos) << err();
    // labels that differ only in case are two classes, and a warning says so
    {
        std::string mixed = "id,label\n";
        for (size_t i = 0; i < 60; ++i)
            mixed += std::string(t.corpus.ids[i]) + "," + (t.y[i] ? (i % 2 ? "customer" : "Customer") : "brand") + "\n";
        write_bytes(d.file("mixed.csv"), mixed);
    }
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("mixed.csv") + " --cv-folds 0 -q --device cpu -o " + d.file("mixed")),
              0)
        << err();
    EXPECT_NE(err().find("classify: warning: the labels 'Customer' and 'customer' differ only in case or spaces"),
              std::string::npos)
        << err();
    // a query's weak labels bootstrap a classifier: every post, named by its id, labelled by
    // whether it matches
    ASSERT_EQ(sh("query " + d.file("c.tmc") + " 'sorry OR help' -o " + d.file("q.txt") + " --labels " +
                 d.file("weak.csv") + " --label-match asks"),
              0)
        << err();
    {
        const std::vector<uint8_t> q = read_mask(d.file("q.txt"));
        std::istringstream in(read_bytes(d.file("weak.csv")));
        std::string l;
        std::getline(in, l);
        EXPECT_EQ(l, "id,label");
        size_t i = 0, matches = 0;
        for (; std::getline(in, l); ++i) {
            ASSERT_LT(i, q.size());
            EXPECT_EQ(l, std::string(t.corpus.ids[i]) + "," + (q[i] ? "asks" : "other"));
            matches += q[i];
        }
        EXPECT_EQ(i, t.corpus.size());
        EXPECT_GT(matches, 0u);
        EXPECT_LT(matches, i);
    }
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("weak.csv") + " --positive asks --cv-folds 0 -q --device cpu -o " + d.file("weak")),
              0)
        << err();
    // a person corrects some of them: --labels over --weak-labels, said on stderr
    {
        std::string hand = "id,label\n";
        for (size_t i = 0; i < 40; ++i) hand += std::string(t.corpus.ids[i]) + "," + (i % 2 ? "asks" : "other") + "\n";
        write_bytes(d.file("hand.csv"), hand);
    }
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("hand.csv") + " --weak-labels " + d.file("weak.csv") +
                 " --positive asks --cv-folds 0 --device cpu -o " + d.file("weak2")),
              0)
        << err();
    EXPECT_NE(err().find("from --labels, " + std::to_string(t.corpus.size() - 40) + " from --weak-labels only"),
              std::string::npos)
        << err();
    // the weak file as pick's --labels leaves nothing to pick: said, with where it belongs
    EXPECT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " + d.file("weak") +
                 " --labels " + d.file("weak.csv") + " -o " + d.file("pick_none.csv")),
              1);
    EXPECT_NE(err().find("no row to pick"), std::string::npos) << err();
    EXPECT_NE(err().find("classify train --weak-labels"), std::string::npos) << err();
    EXPECT_FALSE(std::filesystem::exists(d.file("pick_none.csv")));
    EXPECT_EQ(sh("query " + d.file("c.tmc") + " help -o " + d.file("q2.txt") + " --labels " + d.file("w2.csv") +
                 " --label-match a --label-other a"),
              1);
    EXPECT_NE(err().find("--label-match and --label-other must differ"), std::string::npos) << err();
    EXPECT_FALSE(std::filesystem::exists(d.file("q2.txt")));
    // --cv-folds: 0 (none) or at least 2
    EXPECT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("labels.csv") + " --cv-folds -1 -o " + d.file("clf4")),
              1);
    EXPECT_NE(err().find("tmine: error: --cv-folds must be 0 (none) or >= 2"), std::string::npos) << err();
}

// Label files name posts by the corpus's ids; a post whose id is empty or shared cannot be
// named. query --labels leaves such posts out, and so does pick, so that every file tmine
// writes for labelling reads back (before, pick wrote a row number or the shared id, which
// --labels then refused).
TEST(ClassifyCli, PostsWithoutANameAreNeitherWeaklyLabelledNorPicked) {
    TempDir d;
    const auto sh = cli_in(d);
    auto err = [&] { return read_bytes(d.file("err.txt")); };
    // 40 posts: ids p<i>, but no id for i % 10 == 3, and one id for both i % 10 == 7 and 8
    std::string jsonl;
    std::set<std::string> named;
    for (int i = 0; i < 40; ++i) {
        const std::string text = std::string(i % 2 ? "netflix series great episode" : "weather rain cold today") +
                                 " post" + std::to_string(i);
        std::string id;
        if (i % 10 == 7 || i % 10 == 8) id = "dup" + std::to_string(i / 10);
        else if (i % 10 != 3) id = "p" + std::to_string(i), named.insert(id);
        jsonl += "{\"text\": \"" + text + "\"" + (id.empty() ? "" : ", \"id\": \"" + id + "\"") + "}\n";
    }
    ASSERT_EQ(named.size(), 28u);
    write_bytes(d.file("c.jsonl"), jsonl);
    ASSERT_EQ(sh("ingest " + d.file("c.jsonl") + " --text-field text --id-field id -q -o " + d.file("c.tmc")), 0)
        << err();
    ASSERT_EQ(sh("vectorize " + d.file("c.tmc") + " --min-df 1 --device cpu -q -o " + d.file("m.tmx")), 0) << err();
    ASSERT_EQ(sh("query " + d.file("c.tmc") + " netflix -o " + d.file("q.txt") + " --labels " + d.file("weak.csv")), 0)
        << err();
    EXPECT_NE(err().find("query: note: 12 posts have an empty or shared id"), std::string::npos) << err();
    auto ids_in = [&](const std::string& file) {
        std::set<std::string> ids;
        std::istringstream in(read_bytes(d.file(file)));
        std::string l;
        std::getline(in, l);  // the header
        while (std::getline(in, l)) {
            if (l.rfind("\xEF\xBB\xBF", 0) == 0) l = l.substr(3);
            ids.insert(l.substr(0, l.find(',')));
        }
        return ids;
    };
    EXPECT_EQ(ids_in("weak.csv"), named);
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("weak.csv") + " --cv-folds 0 -q --device cpu -o " + d.file("clf")),
              0)
        << err();
    // pick everything it can: the 28 named posts, and a note for the 12 others
    ASSERT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " + d.file("clf") +
                 " -n 100 --device cpu -o " + d.file("pick.csv")),
              0)
        << err();
    EXPECT_NE(err().find("classify: note: 12 posts have an empty or shared id, so a label could not name them"),
              std::string::npos)
        << err();
    EXPECT_NE(err().find("only 28 rows can be picked"), std::string::npos) << err();
    EXPECT_EQ(ids_in("pick.csv"), named);
    // filled in (the label column, the second), the pick file reads back whole
    std::istringstream in(read_bytes(d.file("pick.csv")));
    std::string l, filled;
    for (int line = 0; std::getline(in, l); ++line) {
        const size_t at = l.find(",,");
        if (line > 0 && at != std::string::npos) l.insert(at + 1, line % 2 ? "yes" : "no");
        filled += l + "\n";
    }
    write_bytes(d.file("filled.csv"), filled);
    ASSERT_EQ(sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " +
                 d.file("filled.csv") + " --cv-folds 0 --device cpu -o " + d.file("clf2")),
              0)
        << err();
    rapidjson::Document cj;
    const std::string cjs = read_bytes(d.file("clf2/classifier.json"));
    ASSERT_FALSE(cj.Parse(cjs.c_str()).HasParseError());
    EXPECT_EQ(cj["train_rows"].GetInt(), 28);
}

// Ids that a spreadsheet or a trimming reader would change round-trip through query --labels
// and pick: white space around an id, a CR inside it, a leading apostrophe. A post whose id
// behind pick's apostrophe (007 -> '007) is another post's id is left out, as an unnamed one;
// query --labels writes JSON Lines when its name says so, and pick refuses such a name.
TEST(ClassifyCli, IdsWithSpacesAndApostrophesRoundTrip) {
    TempDir d;
    const auto sh = cli_in(d);
    auto err = [&] { return read_bytes(d.file("err.txt")); };
    // 40 posts, ids p<i> but: " spaced ", "cr\r", "007" and "'007", "=x" and "'=x"
    const std::map<int, std::string> special = {{1, " spaced "}, {2, "cr\\r"}, {4, "007"},
                                                {5, "'007"},     {6, "=x"},    {9, "'=x"}};
    std::string jsonl;
    for (int i = 0; i < 40; ++i) {
        const std::string text = std::string(i % 2 ? "netflix series great episode" : "weather rain cold today") +
                                 " post" + std::to_string(i);
        const std::string id = special.count(i) ? special.at(i) : "p" + std::to_string(i);
        jsonl += "{\"text\": \"" + text + "\", \"id\": \"" + id + "\"}\n";
    }
    write_bytes(d.file("c.jsonl"), jsonl);
    ASSERT_EQ(sh("ingest " + d.file("c.jsonl") + " --text-field text --id-field id -q -o " + d.file("c.tmc")), 0)
        << err();
    ASSERT_EQ(sh("vectorize " + d.file("c.tmc") + " --min-df 1 --device cpu -q -o " + d.file("m.tmx")), 0) << err();
    auto train_rows = [&](const std::string& labels, const std::string& out) {
        if (sh("classify train " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --labels " + labels +
               " --cv-folds 0 -q --device cpu -o " + d.file(out)) != 0) {
            ADD_FAILURE() << labels << ": " << err();
            return -1;
        }
        rapidjson::Document cj;
        const std::string cjs = read_bytes(d.file(out + "/classifier.json"));
        if (cj.Parse(cjs.c_str()).HasParseError()) return -2;
        return cj["train_rows"].GetInt();
    };
    // 007 and =x are left out (their guarded forms are ids); the other 38 are named
    for (const char* name : {"weak.csv", "weak.jsonl"}) {
        ASSERT_EQ(sh("query " + d.file("c.tmc") + " netflix -o " + d.file("q.txt") + " --labels " + d.file(name)), 0)
            << err();
        EXPECT_NE(err().find("query: note: 2 posts have an empty or shared id"), std::string::npos) << err();
        EXPECT_EQ(train_rows(d.file(name), "clf"), 38) << name;
    }
    EXPECT_EQ(read_bytes(d.file("weak.jsonl")).rfind("{\"id\":\"p0\",\"label\":\"other\"}\n", 0), 0u);
    // pick: everything it can, 38 rows; filled in, all 38 read back
    EXPECT_NE(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " + d.file("clf") +
                 " -n 100 --device cpu -o " + d.file("pick.jsonl")),
              0);
    EXPECT_NE(err().find("pick.jsonl: pick writes CSV for a spreadsheet"), std::string::npos) << err();
    ASSERT_EQ(sh("classify pick " + d.file("m.tmx") + " --corpus " + d.file("c.tmc") + " --model " + d.file("clf") +
                 " -n 100 --device cpu -o " + d.file("pick.csv")),
              0)
        << err();
    EXPECT_NE(err().find("only 38 rows can be picked"), std::string::npos) << err();
    std::istringstream in(read_bytes(d.file("pick.csv")));
    std::string l, filled;
    int rows = 0;
    for (int line = 0; std::getline(in, l); ++line) {
        const size_t at = l.find(",,");
        if (line > 0 && at != std::string::npos) l.insert(at + 1, line % 2 ? "yes" : "no"), ++rows;
        filled += l + "\n";
    }
    EXPECT_EQ(rows, 38);
    EXPECT_NE(filled.find("\n spaced ,"), std::string::npos) << filled;
    EXPECT_NE(filled.find("\n\"cr\r\","), std::string::npos) << filled;
    write_bytes(d.file("filled.csv"), filled);
    EXPECT_EQ(train_rows(d.file("filled.csv"), "clf2"), 38);
}
