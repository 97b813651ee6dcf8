// Interpretation on real corpora: coherence against gensim, topic-newsgroup agreement against
// scikit-learn, topics over time on the Reddit sample, clusters and representative posts.
#include "tmine/interpret.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <unordered_set>

#include "test_util.hpp"
#include "tmine/export.hpp"
#include "tmine/nmf.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

const char* k20News = "20news-bydate.tar.gz";

rapidjson::Document read_fixture(const std::string& name) {
    rapidjson::Document d;
    std::string s = read_bytes(fixture(name));
    d.Parse(s.c_str());
    EXPECT_FALSE(d.HasParseError()) << name;
    return d;
}

VectorizeOptions sklearn_options() {
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();  // as the fixtures' TfidfVectorizer
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("5", "--min-df");
    o.max_df = DfBound::parse("0.5", "--max-df");
    return o;
}

TopicModel fit_model(const Vectorized& v, const NmfOptions& o) {
    TopicModel m;
    m.options = o;
    m.nmf = nmf(Context::cpu(), v.X, o);
    m.vocabulary = v.vocabulary;
    m.idf = v.idf;
    m.corpus.documents = v.X.rows;
    return m;
}

}  // namespace

// gensim's CoherenceModel ('c_npmi' with whole-document windows, 'u_mass') on the same corpus
// and topics (tests/fixtures/gen_coherence_fixture.py). Both compute in float64 from the same
// integer counts, so the documented tolerance is 1e-9 absolute.
TEST(Coherence, MatchesGensimOn20Newsgroups) {
    TMINE_REQUIRE_DATA(k20News);
    rapidjson::Document fx = read_fixture("coherence_20news.json");
    Corpus c = newsgroups_train_head(fx["documents"].GetUint());
    Vectorized v = vectorize(Context::cpu(), c, sklearn_options());
    ASSERT_EQ(v.vocabulary.size(), fx["terms"].GetUint());
    std::vector<std::vector<int32_t>> topics;
    for (const auto& t : fx["topics"].GetArray()) {
        topics.emplace_back();
        for (const auto& term : t.GetArray()) {
            auto it = std::lower_bound(v.vocabulary.begin(), v.vocabulary.end(), term.GetString());
            ASSERT_TRUE(it != v.vocabulary.end() && *it == term.GetString()) << term.GetString();
            topics.back().push_back(int32_t(it - v.vocabulary.begin()));
        }
    }
    Coherence coh = coherence(Context::cpu(), v.X, topics);
    ASSERT_EQ(coh.npmi.size(), fx["npmi"].Size());
    double worst = 0;
    for (size_t t = 0; t < topics.size(); ++t) {
        EXPECT_NEAR(coh.npmi[t], fx["npmi"][t].GetDouble(), 1e-9) << "topic " << t;
        EXPECT_NEAR(coh.umass[t], fx["umass"][t].GetDouble(), 1e-9) << "topic " << t;
        worst = std::max({worst, std::abs(coh.npmi[t] - fx["npmi"][t].GetDouble()),
                          std::abs(coh.umass[t] - fx["umass"][t].GetDouble())});
    }
    EXPECT_NEAR(coh.npmi_mean, fx["npmi_mean"].GetDouble(), 1e-9);
    EXPECT_NEAR(coh.umass_mean, fx["umass_mean"].GetDouble(), 1e-9);
    std::printf(
        "coherence vs gensim %s: largest difference %.3g (NPMI mean %.6f, UMass mean %.6f)\n",
        fx["gensim"].GetString(), worst, coh.npmi_mean, coh.umass_mean);
    // The two hand-mixed topics (last) are less coherent than every NMF topic.
    const size_t n_nmf = topics.size() - 2;
    double worst_nmf = *std::min_element(coh.npmi.begin(), coh.npmi.begin() + n_nmf);
    EXPECT_LT(coh.npmi[n_nmf], worst_nmf);
    EXPECT_LT(coh.npmi[n_nmf + 1], worst_nmf);
}

// The counts themselves, against sets of documents built independently from the matrix.
TEST(Coherence, CooccurrenceCountsEqualSetIntersections) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus c = reddit_head(3000);
    VectorizeOptions o;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("3", "--min-df");
    Vectorized v = vectorize(Context::cpu(), c, o);
    // Frequent and rare terms: every 37th column.
    std::vector<int32_t> terms;
    for (int32_t t = 5; t < v.X.cols; t += 37) terms.push_back(t);
    ASSERT_GT(terms.size(), 20u);
    std::vector<std::set<int64_t>> docs(terms.size());
    for (size_t i = 0; i < terms.size(); ++i)
        for (int64_t d = 0; d < v.X.rows; ++d)
            for (int64_t e = v.X.indptr[d]; e < v.X.indptr[d + 1]; ++e)
                if (v.X.indices[e] == terms[i]) docs[i].insert(d);
    for (int threads : {1, 2}) {
        Cooccurrence co = cooccurrence(Context::cpu(threads), v.X, terms);
        ASSERT_EQ(co.documents, v.X.rows);
        int64_t nonzero_pairs = 0;
        for (size_t i = 0; i < terms.size(); ++i) {
            ASSERT_EQ(co.df[i], int64_t(docs[i].size()));
            for (size_t j = 0; j < terms.size(); ++j) {
                std::vector<int64_t> both;
                std::set_intersection(docs[i].begin(), docs[i].end(), docs[j].begin(),
                                      docs[j].end(), std::back_inserter(both));
                ASSERT_EQ(co.both(int(i), int(j)), int64_t(both.size())) << i << "," << j;
                nonzero_pairs += i != j && !both.empty();
            }
        }
        EXPECT_GT(nonzero_pairs, 0);
    }
    EXPECT_THROW(cooccurrence(Context::cpu(), v.X, {1, 1}), InputError);
    EXPECT_THROW(cooccurrence(Context::cpu(), v.X, {int32_t(v.X.cols)}), InputError);
}

// 20 Newsgroups train (11,314 posts, 20 groups): NMI between each post's dominant topic and
// its group, with the settings of tests/fixtures/gen_newsgroups_nmi_fixture.py.
TEST(Interpret, NewsgroupAgreementAtLeastScikitLearn) {
    TMINE_REQUIRE_DATA(k20News);
    rapidjson::Document fx = read_fixture("nmi_20news.json");
    Corpus c = newsgroups_train_head(20000);
    ASSERT_EQ(c.size(), fx["documents"].GetUint());
    std::vector<int32_t> group;
    std::map<std::string, int32_t> ids;
    for (size_t d = 0; d < c.size(); ++d) {
        std::string name(c.ids[d]);
        std::string g = name.substr(name.find('/') + 1);
        g = g.substr(0, g.find('/'));
        group.push_back(ids.emplace(g, int32_t(ids.size())).first->second);
    }
    ASSERT_EQ(ids.size(), 20u);
    Vectorized v = vectorize(Context::cpu(), c, sklearn_options());
    ASSERT_EQ(v.X.cols, fx["terms"].GetInt64());
    NmfOptions o;
    o.k = fx["k"].GetInt();
    TopicModel model = fit_model(v, o);
    TopicSummary s = summarize_topics(model, 10);
    const double nmi = normalized_mutual_info(s.dominant, group);
    const double ref = fx["nmi"].GetDouble();
    std::printf(
        "20 Newsgroups NMI(dominant topic, group): tmine %.4f (%d iterations), scikit-learn %.4f "
        "(%d)\n",
        nmi, model.nmf.iterations, ref, fx["n_iter"].GetInt());
    // Same algorithm and settings; float32 vs float64 arithmetic may move a few posts.
    EXPECT_GE(nmi, ref - 0.005);

    // Clusters of these topics: a valid average-linkage tree and a partition of the topics.
    TopicClusters cl = cluster_topics(model, s, 4);
    ASSERT_EQ(cl.merges.size(), size_t(o.k - 1));
    for (size_t i = 1; i < cl.merges.size(); ++i)
        EXPECT_GE(cl.merges[i].distance, cl.merges[i - 1].distance - 1e-12) << "UPGMA is monotone";
    EXPECT_EQ(cl.merges.back().size, o.k);
    ASSERT_EQ(cl.groups.size(), 4u);
    std::vector<int> seen(o.k, 0);
    int64_t sized = 0;
    for (const auto& g : cl.groups) {
        for (int t : g.topics) ++seen[t];
        sized += g.size;
        EXPECT_FALSE(g.label.empty());
    }
    EXPECT_EQ(seen, std::vector<int>(o.k, 1));
    int64_t assigned =
        std::count_if(s.dominant.begin(), s.dominant.end(), [](int32_t t) { return t >= 0; });
    EXPECT_EQ(sized, assigned);
    for (size_t i = 1; i < cl.groups.size(); ++i)
        EXPECT_GE(cl.groups[i - 1].size, cl.groups[i].size);

    // Coherence of a real model: NPMI in [-1, 1], UMass <= 0 (a conditional probability).
    Coherence coh = coherence(Context::cpu(), v.X, model);
    ASSERT_EQ(coh.npmi.size(), size_t(o.k));
    for (int j = 0; j < o.k; ++j) {
        EXPECT_GE(coh.npmi[j], -1.0);
        EXPECT_LE(coh.npmi[j], 1.0);
        EXPECT_LE(coh.umass[j], 1e-9);
    }
    EXPECT_GT(coh.npmi_mean, 0.0) << "NMF topics of 20 Newsgroups are more coherent than chance";

    // Representative posts: the topic's own posts, by decreasing weight, no near-duplicates.
    RepresentativeOptions ro;
    ro.per_topic = 6;
    ro.max_chars = 200;
    auto posts = representative_posts(model, s, c, ro);
    std::unordered_set<uint64_t> keys;
    for (int j = 0; j < o.k; ++j) {
        EXPECT_GT(posts[j].size(), 0u);
        for (size_t i = 0; i < posts[j].size(); ++i) {
            const auto& p = posts[j][i];
            EXPECT_EQ(s.dominant[p.row], j);
            EXPECT_EQ(p.weight, model.nmf.W[size_t(p.row) * o.k + j]);
            size_t words = 0, prev_words = 0;
            near_duplicate_key(c.text[p.row], &words);
            if (i) near_duplicate_key(c.text[posts[j][i - 1].row], &prev_words);
            // posts of 5 words or more first, each group by decreasing weight
            if (i && (words >= ro.min_words) == (prev_words >= ro.min_words))
                EXPECT_LE(p.weight, posts[j][i - 1].weight);
            if (i) EXPECT_FALSE(words >= ro.min_words && prev_words < ro.min_words);
            EXPECT_TRUE(keys.insert(near_duplicate_key(c.text[p.row])).second) << "duplicate post";
            EXPECT_LE(p.text.size(), ro.max_chars + 3);
            EXPECT_EQ(p.id, std::string(c.ids[p.row]));
        }
    }
}

// The shared Reddit file's first 50,000 comments: every post lands in exactly one bin.
TEST(Interpret, RedditTimeSeriesSumsToThePosts) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus c = reddit_head(50000);
    ASSERT_EQ(c.size(), 50000u);
    VectorizeOptions vo;
    vo.stop_words = load_stop_words("english");
    vo.min_df = DfBound::parse("5", "--min-df");
    vo.max_df = DfBound::parse("0.5", "--max-df");
    Vectorized v = vectorize(Context::cpu(), c, vo);
    NmfOptions o;
    o.k = 12;
    o.max_iter = 40;
    TopicModel model = fit_model(v, o);
    TopicSummary s = summarize_topics(model, 10);
    for (TimeBin by : {TimeBin::Day, TimeBin::Week, TimeBin::Month}) {
        TimeSeries ts = topics_over_time(s, c, by);
        int64_t posts = ts.untimed, volume = 0;
        for (size_t b = 0; b < ts.start.size(); ++b) {
            int64_t in_bin = ts.unassigned[b];
            double share = 0;
            for (int j = 0; j < o.k; ++j) {
                in_bin += ts.volume_at(b, j);
                share += ts.share(b, j);
            }
            EXPECT_EQ(in_bin, ts.posts[b]) << ts.label[b];
            if (ts.posts[b])
                EXPECT_NEAR(share + double(ts.unassigned[b]) / ts.posts[b], 1.0, 1e-12);
            posts += ts.posts[b];
            volume += in_bin - ts.unassigned[b];
            if (b) EXPECT_GT(ts.start[b], ts.start[b - 1]);
        }
        EXPECT_EQ(posts, int64_t(c.size())) << time_bin_name(by);
        EXPECT_EQ(volume, std::count_if(s.dominant.begin(), s.dominant.end(),
                                        [](int32_t t) { return t >= 0; }));
        EXPECT_EQ(ts.untimed, 0);
        // Each topic's volume over the bins is its size.
        for (int j = 0; j < o.k; ++j) {
            int64_t tot = 0;
            for (size_t b = 0; b < ts.start.size(); ++b) tot += ts.volume_at(b, j);
            EXPECT_EQ(tot, s.topics[j].size);
        }
        if (by == TimeBin::Month) {
            // 20,000 comments per month, months in file order: 2020-08, 2020-09, 2020-10.
            ASSERT_EQ(ts.label.size(), 3u);
            EXPECT_EQ(ts.label[0], "2020-08");
            EXPECT_EQ(ts.label[2], "2020-10");
            EXPECT_EQ(ts.posts[0], 20000);
            EXPECT_EQ(ts.posts[1], 20000);
            EXPECT_EQ(ts.posts[2], 10000);
            // Emerging: the last month against the two before, recomputed from the volumes.
            EmergingWindow ew;
            auto em = emerging_topics(ts, {1, 3}, &ew);
            ASSERT_EQ(em.size(), size_t(o.k));
            EXPECT_EQ(ew.recent_first, 2u);
            EXPECT_EQ(ew.recent_end, 3u);
            EXPECT_EQ(ew.trailing_first, 0u);
            EXPECT_EQ(ew.recent_posts, 10000);
            EXPECT_EQ(ew.trailing_posts, 40000);
            EXPECT_FALSE(ew.few_posts);
            for (size_t i = 1; i < em.size(); ++i) EXPECT_GE(em[i - 1].score, em[i].score);
            for (const auto& e : em) {
                const double vr = double(ts.volume_at(2, e.topic));
                const double vt = double(ts.volume_at(0, e.topic) + ts.volume_at(1, e.topic));
                const double pr = vr / 10000, pt = vt / 40000, p = (vr + vt) / 50000;
                EXPECT_DOUBLE_EQ(e.recent_share, pr);
                EXPECT_DOUBLE_EQ(e.trailing_share, pt);
                EXPECT_NEAR(e.score, (pr - pt) / std::sqrt(p * (1 - p) * (1.0 / 10000 + 1.0 / 40000)), 1e-9);
                EXPECT_NEAR(e.lift, (pr + 1.0 / 50000) / (pt + 1.0 / 50000), 1e-12);
            }
        } else {
            // Contiguous bins, empty ones included (each month's sample covers its first minutes).
            EXPECT_GT(ts.label.size(), 3u);
            int64_t empty = std::count(ts.posts.begin(), ts.posts.end(), int64_t(0));
            EXPECT_GT(empty, 0) << time_bin_name(by);
        }
    }
    // topics.json carries the section and it sums alike.
    Interpretation it;
    it.series = topics_over_time(s, c, TimeBin::Month);
    it.has_series = true;
    it.clusters = cluster_topics(model, s);
    std::string json = topics_json(model, s, &it);
    rapidjson::Document d;
    ASSERT_FALSE(d.Parse(json.c_str()).HasParseError());
    EXPECT_EQ(d["schema_version"].GetInt(), 2);
    int64_t total = d["topics_over_time"]["untimed"].GetInt64();
    for (const auto& b : d["topics_over_time"]["bins"].GetArray()) total += b["posts"].GetInt64();
    EXPECT_EQ(total, 50000);
    std::string csv = time_series_csv(it.series);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3 * o.k);
}

TEST(Interpret, CalendarBins) {
    Corpus c;
    c.sources.push_back("hand");
    auto at = [](const char* iso) { return *parse_timestamp(iso); };
    // 2020-12-31 is a Thursday (ISO week 2020-W53), 2021-01-03 a Sunday (still 2020-W53),
    // 2021-01-04 the Monday of 2021-W01; 2021-02-28 the last day of February.
    for (const char* t : {"2020-12-31T23:59:59Z", "2021-01-03T10:00:00Z", "2021-01-04T00:00:00Z",
                          "2021-02-28T12:00:00Z"})
        c.add("text", at(t), "", "", 0);
    c.add("no time", kNoTime, "", "", 0);
    TopicSummary s;
    s.topics.resize(2);
    s.dominant = {0, 1, 1, -1, 0};
    TimeSeries w = topics_over_time(s, c, TimeBin::Week);
    ASSERT_GE(w.label.size(), 2u);
    EXPECT_EQ(w.label[0], "2020-W53");
    EXPECT_EQ(w.label[1], "2021-W01");
    EXPECT_EQ(w.start[0], at("2020-12-28T00:00:00Z"));
    EXPECT_EQ(w.posts[0], 2);
    EXPECT_EQ(w.untimed, 1);
    TimeSeries m = topics_over_time(s, c, TimeBin::Month);
    ASSERT_EQ(m.label.size(), 3u);
    EXPECT_EQ(m.label[0], "2020-12");
    EXPECT_EQ(m.label[1], "2021-01");
    EXPECT_EQ(m.label[2], "2021-02");
    EXPECT_EQ(m.start[2], at("2021-02-01"));
    EXPECT_EQ(m.posts[1], 2);
    EXPECT_EQ(m.unassigned[2], 1);
    TimeSeries d = topics_over_time(s, c, TimeBin::Day);
    EXPECT_EQ(d.label.size(), 60u);  // 2020-12-31 .. 2021-02-28
    EXPECT_EQ(d.label.back(), "2021-02-28");
    EXPECT_THROW(parse_time_bin("year"), InputError);
}

TEST(Interpret, NmiAndNearDuplicates) {
    std::vector<int32_t> a = {0, 0, 1, 1, 2, 2}, b = {5, 5, 7, 7, 9, 9}, c = {0, 1, 0, 1, 0, 1};
    EXPECT_NEAR(normalized_mutual_info(a, b), 1.0, 1e-12);
    EXPECT_NEAR(normalized_mutual_info(a, c), 0.0, 1e-12);
    // scikit-learn 1.2: normalized_mutual_info_score([0,0,1,1,2,2],[0,0,1,1,1,2]) = 0.7396673768
    EXPECT_NEAR(normalized_mutual_info(a, {0, 0, 1, 1, 1, 2}), 0.7396673768007592, 1e-12);
    EXPECT_EQ(near_duplicate_key("Check THIS out: https://example.com/a?b=1 !!"),
              near_duplicate_key("check this out"));
    EXPECT_NE(near_duplicate_key("check this out"), near_duplicate_key("check that out"));
    EXPECT_EQ(near_duplicate_key("!!! :) "), 0u);
}

// Author profiles and segments on the first 50,000 Reddit comments (author = subreddit).
TEST(Interpret, RedditAudiencesAreAPartitionAtALloydFixedPoint) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus c = reddit_head(50000);
    VectorizeOptions vo;
    vo.stop_words = load_stop_words("english");
    vo.min_df = DfBound::parse("5", "--min-df");
    vo.max_df = DfBound::parse("0.5", "--max-df");
    Vectorized v = vectorize(Context::cpu(), c, vo);
    NmfOptions o;
    o.k = 12;
    o.max_iter = 40;
    TopicModel model = fit_model(v, o);
    AudienceOptions ao;
    ao.min_posts = 5;
    ao.segments = 6;
    Audiences au = audiences(model, c, ao);
    // Independent count of the authors with >= 5 posts that have a topic mixture.
    std::map<std::string, int64_t> posts;
    for (size_t d = 0; d < c.size(); ++d) {
        bool any = false;
        for (int j = 0; j < o.k; ++j) any |= model.nmf.W[d * o.k + j] > 0;
        if (any && !c.authors[d].empty()) ++posts[std::string(c.authors[d])];
    }
    size_t expected =
        std::count_if(posts.begin(), posts.end(), [](auto& p) { return p.second >= 5; });
    ASSERT_EQ(au.authors.size(), expected);
    ASSERT_GT(expected, 100u);
    ASSERT_EQ(au.segments.size(), 6u);
    std::vector<int64_t> per_segment(au.segments.size(), 0);
    for (size_t i = 0; i < au.authors.size(); ++i) {
        const auto& a = au.authors[i];
        EXPECT_EQ(a.posts, posts[a.author]);
        if (i) EXPECT_GE(au.authors[i - 1].posts, a.posts);
        double s = std::accumulate(a.mixture.begin(), a.mixture.end(), 0.0);
        EXPECT_NEAR(s, 1.0, 1e-5);
        ASSERT_GE(a.segment, 0);
        ++per_segment[a.segment];
        // Lloyd's fixed point: every author sits with the nearest centroid.
        auto d2 = [&](const AuthorSegment& g) {
            double r = 0;
            for (int j = 0; j < o.k; ++j)
                r += (a.mixture[j] - g.centroid[j]) * (a.mixture[j] - g.centroid[j]);
            return r;
        };
        for (const auto& g : au.segments) EXPECT_LE(d2(au.segments[a.segment]), d2(g) + 1e-6);
    }
    for (size_t g = 0; g < au.segments.size(); ++g) {
        EXPECT_EQ(au.segments[g].authors, per_segment[g]);
        if (g) EXPECT_GE(au.segments[g - 1].authors, au.segments[g].authors);
        EXPECT_FALSE(au.segments[g].label.empty());
    }
    // Same seed, same segments.
    Audiences again = audiences(model, c, ao);
    for (size_t i = 0; i < au.authors.size(); ++i)
        ASSERT_EQ(again.authors[i].segment, au.authors[i].segment);
    std::string csv = authors_csv(au, o.k);
    EXPECT_EQ(size_t(std::count(csv.begin(), csv.end(), '\n')), 1 + au.authors.size());
}

// A topic's terms are those of weight above 0, everywhere a topic is named or scored: its label
// (three terms, whatever --top-terms is), its coherence (none for fewer than two terms, and
// left out of the mean), its group's label and its audiences' labels.
TEST(Interpret, TermsOfWeightZeroNameNoTopic) {
    TopicModel m;
    m.nmf.k = 3;
    m.nmf.n = 4;
    m.nmf.m = 5;
    m.vocabulary = {"aa", "bb", "cc", "dd", "ee"};
    // topic 0: dd > cc > ee > aa; topic 1: bb only; topic 2: empty
    m.nmf.H = {0.1f, 0, 0.5f, 0.9f, 0.2f, 0, 0.7f, 0, 0, 0, 0, 0, 0, 0, 0};
    m.nmf.W = {1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0};
    const TopicSummary one = summarize_topics(m, 1);
    EXPECT_EQ(one.topics[0].label, "dd / cc / ee") << "the label does not depend on --top-terms";
    EXPECT_EQ(one.topics[0].terms.size(), 1u);
    EXPECT_EQ(one.topics[1].label, "bb");
    EXPECT_EQ(one.topics[2].label, "(empty topic)");
    EXPECT_TRUE(one.topics[2].terms.empty());
    const auto ids = top_term_ids(m, 10);
    EXPECT_EQ(ids[0], (std::vector<int32_t>{3, 2, 4, 0}));
    EXPECT_EQ(ids[1], (std::vector<int32_t>{1}));
    EXPECT_TRUE(ids[2].empty());
    // documents: every term in some, aa and dd together twice
    CsrMatrix X;
    X.rows = 4;
    X.cols = 5;
    X.indptr = {0, 2, 4, 6, 8};
    X.indices = {0, 3, 1, 2, 0, 3, 2, 4};
    X.data.assign(8, 1.0f);
    const Coherence c = coherence(Context::cpu(1), X, m, CoherenceOptions{});
    ASSERT_EQ(c.scored.size(), 3u);
    EXPECT_TRUE(c.has(0));
    EXPECT_FALSE(c.has(1));
    EXPECT_FALSE(c.has(2));
    EXPECT_DOUBLE_EQ(c.npmi_mean, c.npmi[0]) << "only topic 0 is scored";
    EXPECT_DOUBLE_EQ(c.umass_mean, c.umass[0]);
    const TopicClusters cl = cluster_topics(m, one, 3);
    for (const auto& g : cl.groups)
        if (g.topics == std::vector<int>{2}) EXPECT_EQ(g.label, "(empty topic)");
        else if (g.topics == std::vector<int>{1}) EXPECT_EQ(g.label, "bb");
}

// A last period with one post is no evidence: the recent window takes earlier periods until
// it holds 30 posts; a share of 1 or 0 in a small window no longer makes the error vanish; a
// topic absent from both windows has lift 1.
TEST(Emerging, SmallLastPeriodsWidenTheRecentWindow) {
    TimeSeries ts;
    ts.k = 3;
    // days 0..5: 40, 40, 40, 20, 0 (empty), 15, 1 posts
    ts.posts = {40, 40, 40, 20, 0, 15, 1};
    for (size_t b = 0; b < ts.posts.size(); ++b) ts.label.push_back("d" + std::to_string(b));
    // topic 0 holds every post but the last one's; topic 1 the last post; topic 2 none
    for (int64_t p : ts.posts) {
        ts.volume.push_back(p);
        ts.volume.push_back(0);
        ts.volume.push_back(0);
    }
    ts.volume[6 * 3 + 0] = 0;
    ts.volume[6 * 3 + 1] = 1;
    EmergingWindow ew;
    const auto em = emerging_topics(ts, {}, &ew);
    ASSERT_EQ(em.size(), 3u);
    // recent: days 3, 5, 6 (20 + 15 + 1 = 36 >= 30; the empty day 4 inside), trailing: 0..2
    EXPECT_EQ(ew.recent_first, 3u);
    EXPECT_EQ(ew.recent_end, 7u);
    EXPECT_EQ(ew.trailing_first, 0u);
    EXPECT_EQ(ew.recent_posts, 36);
    EXPECT_EQ(ew.trailing_posts, 120);
    EXPECT_FALSE(ew.few_posts);
    const auto by_topic = [&](int j) {
        for (const auto& e : em)
            if (e.topic == j) return e;
        return EmergingTopic{};
    };
    const EmergingTopic t1 = by_topic(1), t2 = by_topic(2);
    EXPECT_DOUBLE_EQ(t1.recent_share, 1.0 / 36);
    EXPECT_EQ(t1.trailing_share, 0.0);
    // pooled: p = 1/156, se = sqrt(p (1 - p) (1/36 + 1/120))
    const double p = 1.0 / 156;
    EXPECT_NEAR(t1.score, (1.0 / 36) / std::sqrt(p * (1 - p) * (1.0 / 36 + 1.0 / 120)), 1e-12);
    EXPECT_LT(t1.score, 3.0) << "one post is not a trend";
    EXPECT_EQ(t2.score, 0.0);
    EXPECT_DOUBLE_EQ(t2.lift, 1.0);
    // too few posts in the whole series: the window keeps one bin for the trailing one and says so
    TimeSeries small = ts;
    small.posts = {5, 3, 1};
    small.label.resize(3);
    small.volume = {5, 0, 0, 3, 0, 0, 0, 1, 0};
    const auto em2 = emerging_topics(small, {}, &ew);
    ASSERT_EQ(em2.size(), 3u);
    EXPECT_EQ(ew.recent_first, 1u);
    EXPECT_EQ(ew.trailing_first, 0u);
    EXPECT_EQ(ew.recent_posts, 4);
    EXPECT_TRUE(ew.few_posts);
}

// The heaviest posts of a topic are often one or two of its top words: those of 5 words or
// more come first, the short ones only to fill up.
TEST(Interpret, RepresentativePostsPreferPostsThatSaySomething) {
    TopicModel model;
    model.nmf.k = 1;
    model.nmf.n = 6;
    model.nmf.W = {0.9f, 0.8f, 0.5f, 0.4f, 0.3f, 0.95f};
    TopicSummary s;
    s.dominant = {0, 0, 0, 0, 0, 0};
    Corpus c;
    c.sources.push_back("x");
    for (const char* t : {"saucy", "just be saucy", "a longer post about being saucy today",
                          "another long post about the burrito bowl", "A LONGER post about being saucy, today!",
                          "SAUCY!!"})
        c.add(t, kNoTime, "", "", 0);
    RepresentativeOptions ro;
    ro.per_topic = 3;
    auto posts = representative_posts(model, s, c, ro);
    ASSERT_EQ(posts[0].size(), 3u);
    EXPECT_EQ(posts[0][0].row, 2);
    EXPECT_EQ(posts[0][1].row, 3);
    EXPECT_EQ(posts[0][2].row, 5) << "row 4 repeats row 2; then the heaviest short post";
    ro.per_topic = 5;
    posts = representative_posts(model, s, c, ro);
    ASSERT_EQ(posts[0].size(), 4u);
    EXPECT_EQ(posts[0][3].row, 1) << "row 0 repeats row 5";
}

// A topic's label: three of its best terms, a term that is part of a chosen phrase left out,
// a phrase taking the place of its parts.
TEST(Interpret, LabelsDoNotRepeatWordsOfTheirPhrases) {
    EXPECT_EQ(label_of_terms({"halloween", "happy", "happy halloween", "costume", "candy"}),
              "happy halloween / costume / candy");
    EXPECT_EQ(label_of_terms({"boorito", "boorito @chipotletweets", "queso", "boorito", "free"}),
              "boorito @chipotletweets / queso / free");
    EXPECT_EQ(label_of_terms({"happy halloween", "happy", "halloween", "trick"}), "happy halloween / trick");
    EXPECT_EQ(label_of_terms({"new york", "york", "new", "yorkshire", "news"}), "new york / yorkshire / news")
        << "whole words only: york is in new york, yorkshire is not";
    EXPECT_EQ(label_of_terms({"a", "b"}), "a / b");
    EXPECT_EQ(label_of_terms({}), "(empty topic)");
}
