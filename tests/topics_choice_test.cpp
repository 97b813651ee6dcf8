// Choosing k (-k FROM:TO:STEP) and guided topics (--seed-terms), on real 20 Newsgroups posts:
// select_k recommends about the number of newsgroups, its fits are reproducible from the shared
// SVD, and seed terms anchor topics on the newsgroups they name.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>

#include "test_util.hpp"
#include "tmine/error.hpp"
#include "tmine/export.hpp"
#include "tmine/interpret.hpp"
#include "tmine/topics.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {
const char* k20News = "20news-bydate.tar.gz";

/// The 11,314 training posts, their newsgroup ids, and the TF-IDF with scikit-learn's usual
/// topic-model settings (English stop words, min_df 5, max_df 0.5). Built once.
struct News {
    Vectorized v;
    std::vector<std::string> group;  ///< per post
};
const News& news() {
    static News n = [] {
        News out;
        Corpus c = newsgroups_train_head(20000);
        for (size_t d = 0; d < c.size(); ++d) {
            std::string name(c.ids[d]);
            std::string g = name.substr(name.find('/') + 1);
            out.group.push_back(g.substr(0, g.find('/')));
        }
        VectorizeOptions o = VectorizeOptions{};
        o.tokenizer = TokenizerOptions::sklearn();
        o.stop_words = load_stop_words("english");
        o.min_df = DfBound::parse("5", "--min-df");
        o.max_df = DfBound::parse("0.5", "--max-df");
        out.v = vectorize(Context::cpu(), c, o);
        return out;
    }();
    return n;
}

std::vector<std::string> top_terms(const Vectorized& v, const NmfModel& m, int j, int n) {
    std::vector<std::string> out;
    const auto ids = top_term_ids(m.H, m.k, m.m, n);
    for (int32_t c : ids[j]) out.push_back(v.vocabulary[c]);
    return out;
}

/// Share of the posts whose dominant topic is j that belong to `group`, and their number.
double purity(const News& nw, const NmfModel& m, int j, const std::string& group, int64_t& size) {
    std::vector<int32_t> dom;
    std::vector<float> w;
    dominant_topics(m.W, m.n, m.k, dom, w);
    int64_t hit = 0;
    size = 0;
    for (size_t d = 0; d < dom.size(); ++d)
        if (dom[d] == j) {
            ++size;
            hit += nw.group[d] == group;
        }
    return size ? double(hit) / double(size) : 0.0;
}

int32_t column(const Vectorized& v, const std::string& term) {
    auto it = std::find(v.vocabulary.begin(), v.vocabulary.end(), term);
    return it == v.vocabulary.end() ? -1 : int32_t(it - v.vocabulary.begin());
}
}  // namespace

TEST(KSelection, ParsesRanges) {
    EXPECT_EQ(parse_k_list("7"), std::vector<int>({7}));
    EXPECT_EQ(parse_k_list("10:30:10"), std::vector<int>({10, 20, 30}));
    EXPECT_EQ(parse_k_list("3:5"), std::vector<int>({3, 4, 5}));
    EXPECT_EQ(parse_k_list("10:60:5").size(), 11u);
    for (const char* bad : {"", "0", "5:3", "a:b", "10:20:0", "1:2:3:4", "-3", "10:", "1:999999999"})
        EXPECT_THROW(parse_k_list(bad), InputError) << bad;
    try {
        parse_k_list("5:3", "--topics");
        FAIL();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("--topics '5:3'"), std::string::npos) << e.what();
    }
}

TEST(KSelection, RecommendsAboutTheNumberOfNewsgroups) {
    TMINE_REQUIRE_DATA(k20News);
    const News& nw = news();
    ASSERT_EQ(nw.v.X.rows, 11314);
    NmfOptions o;
    NmfModel best;
    KSelectionOptions ko;
    const std::vector<int> ks = {10, 15, 20, 25, 30};
    KSelection sel = select_k(Context::cpu(), nw.v.X, ks, o, best, ko);
    ASSERT_EQ(sel.candidates.size(), ks.size());
    std::printf("k selection on 20 Newsgroups (20 groups):\n");
    const KCandidate* top = &sel.candidates[0];
    for (const auto& c : sel.candidates) {
        std::printf("  k=%d: NPMI %.4f, UMass %.3f, relative error %.5f, %d iterations\n", c.k,
                    c.npmi, c.umass, c.relative_error, c.iterations);
        if (c.npmi > top->npmi) top = &c;
    }
    std::printf("  %s\n", sel.reason.c_str());
    EXPECT_EQ(sel.recommended, top->k) << "the rule: highest mean NPMI";
    EXPECT_EQ(best.k, sel.recommended);
    EXPECT_NE(sel.reason.find("k=" + std::to_string(sel.recommended)), std::string::npos);
    // An interior pick: the reason does not warn about the edge of the range.
    EXPECT_EQ(sel.reason.find("k tried"), std::string::npos) << sel.reason;
    // The corpus has 20 newsgroups; coherence finds a k near that.
    EXPECT_GE(sel.recommended, 15);
    EXPECT_LE(sel.recommended, 25);
    // More topics fit the data better.
    for (size_t i = 1; i < sel.candidates.size(); ++i)
        EXPECT_LT(sel.candidates[i].relative_error, sel.candidates[i - 1].relative_error);
    // The kept fit is reproducible: the same options from the same shared SVD.
    TruncatedSvd svd = truncated_svd(Context::cpu(), nw.v.X, ks.back(), o.seed);
    NmfOptions again = o;
    again.k = sel.recommended;
    NmfModel m = nmf(Context::cpu(), nw.v.X, again, &svd);
    EXPECT_EQ(m.losses, best.losses);
    EXPECT_EQ(m.H, best.H);
    Coherence c = coherence(Context::cpu(), nw.v.X, top_term_ids(m.H, m.k, m.m, 10));
    EXPECT_DOUBLE_EQ(c.npmi_mean, top->npmi);
}

TEST(KSelection, RefusesBadRangesBeforeFitting) {
    const Vectorized& v = small_matrix();
    NmfOptions o;
    NmfModel best;
    EXPECT_THROW(select_k(Context::cpu(), v.X, {5, 3}, o, best), InputError);
    EXPECT_THROW(select_k(Context::cpu(), v.X, {}, o, best), InputError);
    EXPECT_THROW(select_k(Context::cpu(), v.X, {2, int(v.X.cols) + 1}, o, best), InputError);
    o.seed_terms = {{0}, {1}, {2}};
    EXPECT_THROW(select_k(Context::cpu(), v.X, {2, 4}, o, best), InputError);  // 3 guided > 2
}

TEST(KSelection, TravelsWithTheModelAndItsExports) {
    const Vectorized& v = small_matrix();
    NmfOptions o;
    o.max_iter = 30;
    TopicModel model;
    model.k_selection = select_k(Context::cpu(), v.X, {2, 4, 6}, o, model.nmf);
    {  // at an edge of the range the reason says so
        const auto& ks = model.k_selection;
        const bool edge = ks.recommended == 2 || ks.recommended == 6;
        EXPECT_EQ(ks.reason.find(" k tried, so coherence may keep") != std::string::npos, edge)
            << ks.reason;
    }
    model.vocabulary = v.vocabulary;
    model.options = o;
    model.options.k = model.nmf.k;
    model.options.seed_terms = {{1, 2}};
    model.nmf.seed_lambda = 0.5;
    model.nmf.seed_weight = 0.25;
    TempDir d;
    write_model(model, d.file("m"));
    TopicModel back = read_model(d.file("m"));
    ASSERT_EQ(back.k_selection.candidates.size(), 3u);
    EXPECT_EQ(back.k_selection.recommended, model.k_selection.recommended);
    EXPECT_EQ(back.k_selection.reason, model.k_selection.reason);
    EXPECT_EQ(back.k_selection.candidates[1].npmi, model.k_selection.candidates[1].npmi);
    EXPECT_EQ(back.options.seed_terms, model.options.seed_terms);
    EXPECT_EQ(back.nmf.seed_lambda, 0.5);
    rapidjson::Document j;
    j.Parse(topics_json(back, summarize_topics(back, 10)).c_str());
    ASSERT_FALSE(j.HasParseError());
    ASSERT_TRUE(j.HasMember("k_selection"));
    EXPECT_EQ(j["k_selection"]["recommended"].GetInt(), model.k_selection.recommended);
    EXPECT_EQ(j["k_selection"]["candidates"].Size(), 3u);
    ASSERT_TRUE(j["model"].HasMember("guided_topics"));
    EXPECT_EQ(j["model"]["guided_topics"][0]["seed_terms"][1].GetString(), v.vocabulary[2]);
    const std::string csv = k_selection_csv(back.k_selection);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
}

TEST(Guided, SeedTermsAnchorTopicsOnTheirNewsgroups) {
    TMINE_REQUIRE_DATA(k20News);
    const News& nw = news();
    TempDir d;
    write_bytes(d.file("seeds.txt"),
                "# one line per guided topic\nspace, nasa, orbit, launch, shuttle\n\n"
                "Hockey, NHL, playoffs, goalie, xyzzyq\n");
    SeedTerms st = read_seed_terms(d.file("seeds.txt"), nw.v);
    ASSERT_EQ(st.ids.size(), 2u);
    EXPECT_EQ(st.terms[1], std::vector<std::string>({"hockey", "nhl", "playoffs", "goalie"}));
    ASSERT_EQ(st.warnings.size(), 1u);
    EXPECT_NE(st.warnings[0].find("seeds.txt:4: 'xyzzyq'"), std::string::npos) << st.warnings[0];

    NmfOptions plain;
    plain.k = 20;
    NmfModel unguided = nmf(Context::cpu(), nw.v.X, plain);
    for (auto solver : {NmfSolver::Mu, NmfSolver::Hals}) {
        NmfOptions o = plain;
        o.solver = solver;
        o.seed_terms = st.ids;
        o.seed_strength = 3.0;
        NmfModel m = nmf(Context::cpu(), nw.v.X, o);
        EXPECT_GT(m.seed_lambda, 0.0);
        EXPECT_GT(m.seed_weight, 0.0);
        const char* groups[] = {"sci.space", "rec.sport.hockey"};
        for (int j = 0; j < 2; ++j) {
            auto top = top_terms(nw.v, m, j, 10), before = top_terms(nw.v, unguided, j, 10);
            for (const auto& t : st.terms[j])
                EXPECT_NE(std::find(top.begin(), top.end(), t), top.end())
                    << nmf_solver_name(solver) << ": seed '" << t << "' not in topic " << j;
            int64_t size = 0, size0 = 0;
            const double p = purity(nw, m, j, groups[j], size);
            const double p0 = purity(nw, unguided, j, groups[j], size0);
            std::printf("%s topic %d: %s %.3f of %lld posts (unguided topic %d: %.3f of %lld, %s / %s / %s)\n",
                        nmf_solver_name(solver), j, groups[j], p, (long long)size, j, p0,
                        (long long)size0, before[0].c_str(), before[1].c_str(), before[2].c_str());
            // Most of its posts come from the group its seeds name (each group is ~5% of posts).
            EXPECT_GE(p, 0.55) << nmf_solver_name(solver) << " topic " << j;
            EXPECT_GE(size, 100);
        }
        // The other topics still model the data: the fit costs little.
        EXPECT_LT(m.relative_error, unguided.relative_error * 1.01);
    }
}

TEST(Guided, ResumeEqualsAnUninterruptedRun) {
    const Vectorized& v = small_matrix();
    for (auto solver : {NmfSolver::Mu, NmfSolver::Hals}) {
        NmfOptions o;
        o.k = 6;
        o.tol = 0;
        o.max_iter = 40;
        o.solver = solver;
        o.seed_terms = {{0, 1, 2}, {5}};
        NmfModel whole = nmf(Context::cpu(), v.X, o);
        TempDir d;
        NmfOptions first = o;
        first.max_iter = 20;
        first.checkpoint_every = 10;
        first.checkpoint_path = d.file("ck.tmk");
        nmf(Context::cpu(), v.X, first);
        NmfModel resumed = nmf_resume(Context::cpu(), v.X, o, d.file("ck.tmk"));
        EXPECT_EQ(resumed.W, whole.W) << nmf_solver_name(solver);
        EXPECT_EQ(resumed.H, whole.H);
        EXPECT_EQ(resumed.seed_lambda, whole.seed_lambda);
        // Other seed terms: the checkpoint is refused.
        NmfOptions other = o;
        other.seed_terms = {{0, 1, 3}, {5}};
        EXPECT_THROW(nmf_resume(Context::cpu(), v.X, other, d.file("ck.tmk")), InputError);
    }
}

TEST(Guided, BadSeedFilesAndSettingsAreRefused) {
    const Vectorized& v = small_matrix();
    TempDir d;
    write_bytes(d.file("none.txt"), "# nothing\n\n");
    EXPECT_THROW(read_seed_terms(d.file("none.txt"), v), InputError);
    EXPECT_THROW(read_seed_terms(d.file("missing.txt"), v), InputError);
    write_bytes(d.file("unknown.txt"), std::string(v.vocabulary[3]) + "\nqqqzzx, zzqqxy\n");
    try {
        read_seed_terms(d.file("unknown.txt"), v);
        FAIL() << "a line without a known term";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("unknown.txt:2:"), std::string::npos) << e.what();
    }
    NmfOptions o;
    o.k = 2;
    o.seed_terms = {{0}, {1}, {2}};
    EXPECT_THROW(nmf(Context::cpu(), v.X, o), InputError);  // more guided topics than k
    o.k = 4;
    o.loss = NmfLoss::KullbackLeibler;
    EXPECT_THROW(nmf(Context::cpu(), v.X, o), InputError);
    o.loss = NmfLoss::Frobenius;
    o.seed_terms = {{int32_t(v.X.cols)}};
    EXPECT_THROW(nmf(Context::cpu(), v.X, o), InputError);
    o.seed_terms = {{}};
    EXPECT_THROW(nmf(Context::cpu(), v.X, o), InputError);
    o.seed_terms = {{4, 2, 4}};  // a term twice
    EXPECT_THROW(nmf(Context::cpu(), v.X, o), InputError);
}

TEST(Guided, SeedTermsAreTokenisedLikeTheDocuments) {
    // A stemmed, bigram matrix: "Launches" finds "launch", "space station" its bigram.
    Corpus c = reddit_head(3000);
    VectorizeOptions o;
    o.stop_words = load_stop_words("english");
    o.stem = "english";
    o.ngram_max = 2;
    o.min_df = DfBound::parse("2", "--min-df");
    Vectorized v = vectorize(Context::cpu(), c, o);
    ASSERT_GE(column(v, "game"), 0);
    TempDir d;
    write_bytes(d.file("s.txt"), "Games, the\n");
    SeedTerms st = read_seed_terms(d.file("s.txt"), v);
    ASSERT_EQ(st.terms.size(), 1u);
    EXPECT_EQ(st.terms[0], std::vector<std::string>({"game"}));
    EXPECT_EQ(st.warnings.size(), 1u);  // "the" is a stop word
    // A two-word entry stands for its bigram when the matrix has it.
    std::string bigram;
    for (const auto& t : v.vocabulary)  // two plain words, each its own stem ("game play")
        if (t.find(' ') != std::string::npos &&
            std::all_of(t.begin(), t.end(), [](char ch) { return ch == ' ' || (ch >= 'a' && ch <= 'z'); })) {
            TempDir probe;
            write_bytes(probe.file("p.txt"), t + "\n");
            if (read_seed_terms(probe.file("p.txt"), v).terms[0].size() == 1) {
                bigram = t;
                break;
            }
        }
    ASSERT_FALSE(bigram.empty());
    write_bytes(d.file("b.txt"), bigram + "\n");
    st = read_seed_terms(d.file("b.txt"), v);
    EXPECT_EQ(st.terms[0], std::vector<std::string>({bigram})) << bigram;
    // A matrix of bigrams only (--ngram 2:2): the entry still finds its bigram.
    o.ngram_min = 2;
    Vectorized bi = vectorize(Context::cpu(), c, o);
    ASSERT_GE(column(bi, bigram), 0) << bigram;
    st = read_seed_terms(d.file("b.txt"), bi);
    EXPECT_EQ(st.terms[0], std::vector<std::string>({bigram}));
}
