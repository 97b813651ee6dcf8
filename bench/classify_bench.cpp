// Classifier benchmarks, CPU and CUDA with identical parameters (docs/classify.md has results).
//
//   build/bench/classify_bench                       (TMINE_DATA overrides ../shared/data)
//
// classify_train_20news/<device>/<model>  fit on the 20 Newsgroups bydate training set
//     (11,314 posts, TfidfVectorizer(sublinear_tf=True, min_df=2) features: the setting of
//     tests/fixtures/gen_classify_fixture.py, whose scikit-learn timing it is compared with):
//     logreg C=10 (multinomial, L-BFGS, tol 1e-5) or nb (alpha 0.01). Counters: iterations,
//     test accuracy on the 7,532 bydate test posts.
// classify_epoch_20news/<device>  one objective + gradient evaluation of that logistic regression
//     (what L-BFGS calls per function evaluation).
// classify_score_reddit/<device>  predict_proba on the TF-IDF matrix of the Reddit corpus
//     (bench_data.cpp: 480,000 comments unless TMINE_BENCH_DOCS), with a binary logistic
//     regression trained on the first 20,000 comments' weak labels from the query
//     `game* OR play*` (the bootstrap loop of docs/classify.md). Counter: posts_per_s.
// Times are wall clock of synchronous calls returning host memory (CUDA: copies included);
// one warm-up call precedes each timed loop.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tmine/classify.hpp"
#include "tmine/context.hpp"
#include "tmine/error.hpp"
#include "tmine/query.hpp"
#include "tmine/vectorize.hpp"

#include "bench_common.hpp"

using tmine_bench::make_context;

namespace {

using namespace tmine;

std::string news_path() {
    const char* env = std::getenv("TMINE_DATA");
    std::string dir = env && *env ? env : TMINE_SOURCE_DIR "/../shared/data";
    if (std::filesystem::is_regular_file(dir)) dir = std::filesystem::path(dir).parent_path().string();
    return (std::filesystem::path(dir) / "20news-bydate.tar.gz").string();
}

std::string latin1_to_utf8(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x80) {
            out.push_back(char(c));
        } else {
            out.push_back(char(0xC0 | (c >> 6)));
            out.push_back(char(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

struct News {
    CsrMatrix train, test;
    std::vector<int32_t> ytr, yte;
    std::vector<std::string> classes;
};

/// 20 Newsgroups bydate from the tar.gz (ustar), Latin-1 decoded, features fitted on train.
const News& news() {
    static const News n = [] {
        News n;
        gzFile f = gzopen(news_path().c_str(), "rb");
        if (!f) throw IoError(news_path() + ": not found (set TMINE_DATA)");
        gzbuffer(f, 1 << 20);
        Corpus tr, te;
        tr.sources = te.sources = {"20news"};
        std::vector<std::string> gtr, gte;
        char h[512];
        std::string body;
        while (gzread(f, h, 512) == 512 && h[0] != '\0') {
            const std::string name(h, strnlen(h, 100));
            const uint64_t size = std::strtoull(std::string(h + 124, 12).c_str(), nullptr, 8);
            body.resize((size + 511) / 512 * 512);
            if (!body.empty() && gzread(f, body.data(), unsigned(body.size())) != int(body.size()))
                throw InputError(news_path() + ": truncated archive");
            body.resize(size);
            if (h[156] != '0' && h[156] != '\0') continue;
            auto a = name.find('/'), b = name.find('/', a + 1);
            if (a == std::string::npos || b == std::string::npos) continue;
            const std::string split = name.substr(0, a), group = name.substr(a + 1, b - a - 1);
            if (split == "20news-bydate-train") {
                tr.add(latin1_to_utf8(body), kNoTime, name, "", 0);
                gtr.push_back(group);
            } else if (split == "20news-bydate-test") {
                te.add(latin1_to_utf8(body), kNoTime, name, "", 0);
                gte.push_back(group);
            }
        }
        gzclose(f);
        VectorizeOptions o;
        o.tokenizer = TokenizerOptions::sklearn();
        o.min_df = DfBound{false, 2.0};
        o.sublinear_tf = true;
        Vectorized v = vectorize(Context::cpu(), tr, o);
        n.train = std::move(v.X);
        n.test = vectorize_fixed(Context::cpu(), te, v.vocabulary, v.idf, o).X;
        n.classes = gtr;
        std::sort(n.classes.begin(), n.classes.end());
        n.classes.erase(std::unique(n.classes.begin(), n.classes.end()), n.classes.end());
        auto idx = [&](const std::string& g) {
            return int32_t(std::lower_bound(n.classes.begin(), n.classes.end(), g) - n.classes.begin());
        };
        for (auto& g : gtr) n.ytr.push_back(idx(g));
        for (auto& g : gte) n.yte.push_back(idx(g));
        std::fprintf(stderr, "bench: 20news %lld train x %lld terms, %lld test\n",
                     (long long)n.train.rows, (long long)n.train.cols, (long long)n.test.rows);
        return n;
    }();
    return n;
}

/// The 20 Newsgroups features, or nullptr after SkipWithError when they cannot be loaded.
const News* news_or_skip(benchmark::State& state) {
    try {
        return &news();
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return nullptr;
    }
}

void BM_Train20News(benchmark::State& state, Device device, ClassifierKind kind) {
    Context ctx;
    if (!make_context(state, device, ctx)) return;
    const News* n = news_or_skip(state);
    if (!n) return;
    ClassifyOptions o;
    o.kind = kind;
    o.C = 10;
    o.alpha = 0.01;
    Classifier clf = train(ctx, n->train, n->ytr, n->classes, o);  // warm-up
    for (auto _ : state) clf = train(ctx, n->train, n->ytr, n->classes, o);
    std::vector<float> P = predict_proba(ctx, clf, n->test);
    const int K = int(n->classes.size());
    size_t ok = 0;
    for (size_t i = 0; i < n->yte.size(); ++i)
        ok += std::max_element(&P[i * K], &P[i * K] + K) - &P[i * K] == n->yte[i];
    state.counters["accuracy"] = double(ok) / double(n->yte.size());
    state.counters["iterations"] = clf.iterations;
    state.counters["train_docs"] = double(n->train.rows);
    state.counters["terms"] = double(n->train.cols);
}

/// One epoch of the logistic regression: one evaluation of the objective and its gradient over
/// the 20 Newsgroups training set (multinomial, 20 classes, C = 10, equal sample weights), at a
/// fixed point. L-BFGS calls this once per function evaluation: a fit is iterations x this.
void BM_Epoch20News(benchmark::State& state, Device device) {
    Context ctx;
    if (!make_context(state, device, ctx)) return;
    const News* n = news_or_skip(state);
    if (!n) return;
    detail::LogRegProblem p;
    p.X = &n->train;
    p.y = &n->ytr;
    p.outputs = int(n->classes.size());
    p.sample_weight.assign(n->train.rows, 1.0 / double(n->train.rows));
    p.l2 = 1.0 / (10.0 * double(n->train.rows));
    auto obj = device == Device::Cpu ? cpu_impl::logreg_objective(ctx, p) : cuda_impl::logreg_objective(ctx, p);
    const size_t nvar = size_t(n->train.cols + 1) * p.outputs;
    std::vector<double> x(nvar), g(nvar);
    for (size_t i = 0; i < nvar; ++i) x[i] = 1e-3 * double(int(i % 7) - 3);  // not all zeros
    double f = obj->evaluate(x.data(), g.data());  // warm-up
    for (auto _ : state) {
        f = obj->evaluate(x.data(), g.data());
        benchmark::DoNotOptimize(g.data());
    }
    state.counters["objective"] = f;
    state.counters["train_docs"] = double(n->train.rows);
    state.counters["nnz"] = double(n->train.nnz());
    state.counters["classes"] = p.outputs;
    // The two sparse products X W and X^T R (2 nnz K flops each) dominate.
    state.counters["flops"] = 4.0 * double(n->train.nnz()) * p.outputs;
    state.SetLabel(ctx.description());
}

void BM_ScoreReddit(benchmark::State& state, Device device) {
    Context ctx;
    if (!make_context(state, device, ctx)) return;
    const CsrMatrix* X = nullptr;
    const Corpus* c = nullptr;
    try {
        c = &tmine_bench::corpus();
        X = &tmine_bench::matrix().X;
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    static const Classifier clf = [&] {
        const int64_t n = std::min<int64_t>(20000, X->rows);
        Query q = Query::parse("game* OR play*");
        std::vector<int64_t> rows(n);
        std::vector<int32_t> y(n);
        for (int64_t i = 0; i < n; ++i) {
            rows[i] = i;
            y[i] = q.matches(c->text[size_t(i)]) ? 1 : 0;
        }
        return train(Context::cpu(), take_rows(*X, rows), y, {"other", "games"}, ClassifyOptions{});
    }();
    std::vector<float> P = predict_proba(ctx, clf, *X);  // warm-up
    for (auto _ : state) {
        P = predict_proba(ctx, clf, *X);
        benchmark::DoNotOptimize(P.data());
    }
    state.counters["posts_per_s"] =
        benchmark::Counter(double(X->rows) * double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["docs"] = double(X->rows);
    state.counters["nnz"] = double(X->nnz());
    // PCIe floor (bench/floors.py): the matrix up (values, indices, offsets), probabilities down.
    state.counters["h2d_bytes"] = 8.0 * double(X->nnz()) + 8.0 * double(X->rows + 1);
    state.counters["d2h_bytes"] = 4.0 * double(P.size());
    int64_t kept = 0;
    for (int64_t i = 0; i < X->rows; ++i) kept += P[size_t(i) * 2 + 1] >= 0.5f;
    state.counters["relevant"] = double(kept);
}

}  // namespace

BENCHMARK_CAPTURE(BM_Train20News, cpu_logreg, Device::Cpu, ClassifierKind::LogReg)
    ->Name("classify_train_20news/cpu/logreg")->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Train20News, cuda_logreg, Device::Cuda, ClassifierKind::LogReg)
    ->Name("classify_train_20news/cuda/logreg")->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Train20News, cpu_nb, Device::Cpu, ClassifierKind::NaiveBayes)
    ->Name("classify_train_20news/cpu/nb")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Train20News, cuda_nb, Device::Cuda, ClassifierKind::NaiveBayes)
    ->Name("classify_train_20news/cuda/nb")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Epoch20News, cpu, Device::Cpu)
    ->Name("classify_epoch_20news/cpu")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Epoch20News, cuda, Device::Cuda)
    ->Name("classify_epoch_20news/cuda")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_ScoreReddit, cpu, Device::Cpu)
    ->Name("classify_score_reddit/cpu")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_ScoreReddit, cuda, Device::Cuda)
    ->Name("classify_score_reddit/cuda")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
