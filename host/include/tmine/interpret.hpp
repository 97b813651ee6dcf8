#pragma once
/// Stage 6, interpretation of a fitted model for planners: coherence of each topic (NPMI and
/// UMass over document co-occurrence, gensim's formulas), representative posts, topic
/// clusters (agglomerative, cosine between topic-term vectors), topics over time with an
/// emerging-topic score, and topic-newsgroup agreement (NMI). CPU reference in
/// host/src/interpret.cpp; the co-occurrence counts have a CUDA twin in
/// kernels/coherence_cuda.cu (integer counts, identical on both devices).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"
#include "tmine/topics.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {

// ---------------------------------------------------------------- coherence

/// Document co-occurrence of a set of terms in a matrix (a term is in a document when its
/// entry is non-zero): what both coherence measures are computed from.
struct Cooccurrence {
    int64_t documents = 0;       ///< rows of the matrix (N)
    std::vector<int32_t> terms;  ///< the t column ids counted, in the order given
    std::vector<int64_t> df;     ///< t: documents holding each term
    std::vector<int64_t> joint;  ///< t x t row-major: documents holding both (diagonal = df)
    int64_t both(int a, int b) const { return joint[size_t(a) * terms.size() + b]; }
};

/// Counts on the context's device. `terms` must be distinct column ids of X, at most 8192
/// (InputError otherwise).
Cooccurrence cooccurrence(const Context& ctx, const CsrMatrix& X,
                          const std::vector<int32_t>& terms);

namespace cpu_impl {
Cooccurrence cooccurrence(const Context& ctx, const CsrMatrix& X,
                          const std::vector<int32_t>& terms);
}
namespace cuda_impl {
Cooccurrence cooccurrence(const Context& ctx, const CsrMatrix& X,
                          const std::vector<int32_t>& terms);
}

struct CoherenceOptions {
    int top_n = 10;  ///< top terms of each topic taken into account
};

/// Coherence per topic and for the model (mean over topics). Formulas are gensim's
/// (CoherenceModel 'u_mass' and 'c_npmi' with document windows, EPSILON = 1e-12), N = the
/// matrix's rows; see docs/report.md.
///  - NPMI: mean over pairs i != j of log((P(i,j) + e) / (P(i) P(j))) / -log(P(i,j) + e).
///  - UMass: mean over ranks i > j of log((D(i,j)/N + e) / (D(j)/N)).
struct Coherence {
    int top_n = 0;
    std::vector<double> npmi, umass;  ///< per topic
    /// Per topic: 1 when it has a pair of terms to score; a topic of fewer than two terms of
    /// weight above 0 (or whose terms are in no document) has 0s, said as no score, and is
    /// left out of the means.
    std::vector<uint8_t> scored;
    double npmi_mean = 0, umass_mean = 0;
    /// Whether topic t has a score to show.
    bool has(int t) const { return t >= 0 && size_t(t) < npmi.size() && (scored.empty() || scored[t]); }
};

/// Coherence of explicit topics (each a list of column ids of X, best first). With `split`,
/// X is this process's rows of a distributed matrix: every process calls it, the counts are
/// summed over the processes and every process gets the whole matrix's coherence.
Coherence coherence(const Context& ctx, const CsrMatrix& X,
                    const std::vector<std::vector<int32_t>>& topics, const RowSplit* split = nullptr);
/// Coherence of a model's topics (its top `top_n` terms by H) over its training matrix.
Coherence coherence(const Context& ctx, const CsrMatrix& X, const TopicModel& model,
                    const CoherenceOptions& opts = {});

/// The `top_n` column ids of each topic's row of H, best first (ties: lower id first), those
/// of weight above 0 only (best_terms).
std::vector<std::vector<int32_t>> top_term_ids(const TopicModel& model, int top_n);
/// The same for a k x m row-major H.
std::vector<std::vector<int32_t>> top_term_ids(const std::vector<float>& H, int k, int64_t m,
                                               int top_n);

// ---------------------------------------------------------------- representative posts

struct RepresentativePost {
    int64_t row = 0;                       ///< corpus row
    float weight = 0;                      ///< W[row, topic]
    std::string id, author, source, text;  ///< text cut to at most max_chars bytes (UTF-8 safe)
    int64_t time = kNoTime;
};

struct RepresentativeOptions {
    int per_topic = 5;
    size_t max_chars = 600;
    /// posts of fewer words (near_duplicate_key's tokens) come only after the longer ones
    size_t min_words = 5;
};

/// Per topic: posts whose dominant topic it is, by decreasing W[row, topic], those of at least
/// min_words words first; a post whose normalised text (lower-cased, URLs dropped, runs of
/// non letters/digits made one space) hashes like one already chosen for any topic is
/// skipped as a near-duplicate, as are posts that normalise to nothing.
std::vector<std::vector<RepresentativePost>> representative_posts(
    const TopicModel& model, const TopicSummary& summary, const Corpus& corpus,
    const RepresentativeOptions& opts = {});

/// The near-duplicate key: xxHash64 of the normalised text (0 when it normalises to nothing).
uint64_t near_duplicate_key(std::string_view text);
/// The same, with the number of words it joined in `words`.
uint64_t near_duplicate_key(std::string_view text, size_t* words);

// ---------------------------------------------------------------- topic clusters

struct ClusterMerge {
    int a = 0, b = 0;     ///< nodes merged: < k a topic, >= k the merge (node - k)
    double distance = 0;  ///< average cosine distance between the two groups' topics
    int size = 0;         ///< topics under the new node
};

struct TopicGroup {
    int id = 0;
    std::string label;  ///< the three best terms of the members' summed (l2-normalised) H rows
    std::vector<int> topics;  ///< member topic ids, ascending
    int64_t size = 0;         ///< documents whose dominant topic is a member
};

struct TopicClusters {
    std::vector<ClusterMerge> merges;  ///< k - 1 merges, by increasing distance (scipy's linkage)
    std::vector<TopicGroup> groups;    ///< the tree cut into `groups` named groups, largest first
};

/// Average-linkage agglomerative clustering of the topics (cosine distance between rows of H),
/// cut into `groups` groups (0 = round(sqrt(k)), clamped to [1, k]).
TopicClusters cluster_topics(const TopicModel& model, const TopicSummary& summary, int groups = 0);

// ---------------------------------------------------------------- topics over time

enum class TimeBin { Day, Week, Month };
/// "day|week|month"; throws InputError naming `flag` otherwise.
TimeBin parse_time_bin(std::string_view s, const char* flag = "--by");
const char* time_bin_name(TimeBin b);

struct TimeSeries {
    TimeBin by = TimeBin::Month;
    int k = 0;
    std::vector<int64_t>
        start;  ///< UTC start of each bin; every bin from the first to the last post
    std::vector<std::string> label;   ///< "2021-03", "2021-03-04", "2021-W09" (ISO week)
    std::vector<int64_t> posts;       ///< posts in each bin
    std::vector<int64_t> volume;      ///< bins x k: posts whose dominant topic is j
    std::vector<int64_t> unassigned;  ///< per bin: posts with no dominant topic (empty rows)
    int64_t untimed = 0;              ///< posts without a timestamp (in no bin)
    int64_t volume_at(size_t bin, int j) const { return volume[bin * k + j]; }
    /// volume / posts of the bin (0 for an empty bin).
    double share(size_t bin, int j) const {
        return posts[bin] ? double(volume_at(bin, j)) / double(posts[bin]) : 0.0;
    }
};

/// Volume and share of each topic per bin. sum(posts) + untimed = the number of documents.
TimeSeries topics_over_time(const TopicSummary& summary, const Corpus& corpus, TimeBin by);

/// What `--split` groups posts by in the time series.
enum class SeriesSplit { None, Source, Language };
/// "none|source|language"; throws InputError naming `flag` otherwise.
SeriesSplit parse_series_split(std::string_view s, const char* flag = "--split");
const char* series_split_name(SeriesSplit s);

/// Topics over time per group of posts: one series per group (sources: the `--source-field`
/// values or input files; languages: the clean step's codes), all on the full series' bins.
struct GroupedSeries {
    SeriesSplit by = SeriesSplit::None;
    std::vector<std::string> names;   ///< groups by decreasing posts; "(other)" last when merged
    std::vector<int64_t> total;       ///< posts of each group (dated or not)
    std::vector<TimeSeries> series;   ///< one per group, the same bins as the full series
    bool empty() const { return names.empty(); }
};

/// Splits the time series by source or language, keeping the `max_groups` largest groups and
/// merging the rest into "(other)". The groups' volumes sum to the full series' (tested).
/// Throws InputError for Language when the corpus has no language column (run tmine clean).
GroupedSeries topics_over_time_by(const TopicSummary& summary, const Corpus& corpus, TimeBin by,
                                  SeriesSplit split, int max_groups = 8);

struct EmergingTopic {
    int topic = 0;
    double recent_share = 0, trailing_share = 0;
    /// (p_r + e) / (p_t + e), e = 1 / (N_r + N_t): the ratio of shares, smoothed by one post's
    /// share so that a topic absent from the trailing window has a finite lift and one absent
    /// from both has lift 1
    double lift = 0;
    /// pooled two-proportion z: (p_r - p_t) / sqrt(p (1 - p) (1/N_r + 1/N_t)), p the share
    /// over both windows
    double score = 0;
};

struct EmergingOptions {
    int recent_bins = 1;    ///< the last bins holding posts (at least)
    int trailing_bins = 3;  ///< the bins holding posts just before them
    /// the recent window takes more of the last bins until it holds this many posts (a last
    /// day with one post is no evidence), leaving at least one bin for the trailing window
    int64_t min_recent_posts = 30;
};

/// The windows emerging_topics() compared: bins [recent_first, recent_end) and
/// [trailing_first, recent_first) of the series (empty bins inside them hold no posts).
struct EmergingWindow {
    size_t recent_first = 0, recent_end = 0, trailing_first = 0;
    int64_t recent_posts = 0, trailing_posts = 0;
    bool few_posts = false;  ///< the recent window holds fewer than min_recent_posts posts
};

/// Topics by decreasing emerging score (every topic; empty when fewer bins hold posts than
/// recent_bins + 1). `window` receives the windows compared.
std::vector<EmergingTopic> emerging_topics(const TimeSeries& ts, const EmergingOptions& opts = {},
                                           EmergingWindow* window = nullptr);

// ---------------------------------------------------------------- audiences

/// An author's topic profile: the mean topic mixture of their posts (each post's row of W
/// divided by its sum; posts with an all-zero row left out).
struct AuthorProfile {
    std::string author;
    int64_t posts = 0;           ///< posts with a topic mixture
    std::vector<float> mixture;  ///< k, sums to 1
    int segment = -1;
};

struct AuthorSegment {
    int id = 0;
    std::string label;            ///< its three heaviest topics, "3 just / don / good (41%) + ..."
    std::vector<float> centroid;  ///< k: mean profile of its authors
    int64_t authors = 0, posts = 0;
    std::vector<std::string> top_authors;  ///< up to 5, by posts
};

struct Audiences {
    std::vector<AuthorProfile> authors;   ///< by decreasing posts, then name
    std::vector<AuthorSegment> segments;  ///< largest (authors) first
    double inertia = 0;                   ///< sum of squared distances to the segment centroids
};

struct AudienceOptions {
    int min_posts = 2;  ///< authors with fewer posts (with a mixture) are left out
    int segments = 5;   ///< k-means clusters (fewer when there are fewer authors)
    uint64_t seed = 0;  ///< k-means++ seeding
    int max_iter = 100;
};

/// Author profiles and segments (k-means++ then Lloyd's iterations over the profiles, squared
/// Euclidean distance). Authors with an empty name are left out.
Audiences audiences(const TopicModel& model, const Corpus& corpus,
                    const AudienceOptions& opts = {});

// ---------------------------------------------------------------- choosing k

/// "K" or "FROM:TO[:STEP]" (STEP 1 when left out): the ks to fit, ascending. Throws
/// InputError naming `flag` when the spelling or a value is wrong.
std::vector<int> parse_k_list(std::string_view s, const char* flag = "-k");

struct KSelectionOptions {
    CoherenceOptions coherence;
    bool progress = false;  ///< one line per k on stderr
};

/// Fits `opts` once per k of `ks` (ascending) on X and scores each fit by its relative error
/// and mean coherence over X. The nndsvd* initialisations share one truncated SVD computed for
/// the largest k (its leading triplets are each k's); every fit is otherwise `nmf(ctx, X, o)`.
/// The recommended k has the highest mean NPMI (ties: the smaller k); `best` receives its
/// model. Throws InputError when a k is out of range (before fitting anything).
/// Distributed as nmf() (`split`).
KSelection select_k(const Context& ctx, const CsrMatrix& X, const std::vector<int>& ks,
                    const NmfOptions& opts, NmfModel& best, const KSelectionOptions& ko = {},
                    const RowSplit* split = nullptr);

// ---------------------------------------------------------------- agreement

/// Normalised mutual information between two labelings (arithmetic mean of the entropies,
/// natural log: scikit-learn's normalized_mutual_info_score default).
double normalized_mutual_info(const std::vector<int32_t>& a, const std::vector<int32_t>& b);

// ---------------------------------------------------------------- everything, for exports

/// What exports and the HTML report show beyond the summary. Parts not computed stay empty.
/// The most bins a time series has: 100,000 days are 274 years.
constexpr int64_t kMaxTimeBins = 100000;

struct Interpretation {
    Coherence coherence;  ///< empty vectors when no matrix was available
    std::vector<std::vector<RepresentativePost>> posts;
    TopicClusters clusters;
    TimeSeries series;
    bool has_series = false;
    /// Why the corpus's dates gave no series although posts have them (their span needs more
    /// than kMaxTimeBins bins: a far date kept with --keep-future-times or --keep-old-times);
    /// empty otherwise. The rest of the interpretation is there.
    std::string series_left_out;
    GroupedSeries grouped;  ///< with InterpretOptions::split
    /// The cleaning funnel (`tmine run --clean`, or `tmine export --clean-report`): posts in,
    /// then kept after each step.
    struct FunnelStep {
        std::string step;
        uint64_t rows_in = 0, kept = 0;
        std::vector<std::pair<std::string, uint64_t>> reasons;  ///< removal reasons, largest first
    };
    std::vector<FunnelStep> funnel;
    std::vector<EmergingTopic> emerging;
    EmergingWindow emerging_window;
    Audiences audiences;       ///< empty without a corpus or without authors
    int64_t corpus_posts = 0;  ///< rows of the corpus given (0: none)
    std::string corpus_path;   ///< the corpus file given to export (the report names it)
};

/// The cleaning funnel from a clean report's JSON (`tmine clean --report`, `clean.json` of
/// `tmine run --clean`; docs/cleaning.md). Throws InputError naming `origin` when it is not
/// one.
std::vector<Interpretation::FunnelStep> cleaning_funnel(std::string_view clean_json,
                                                        const std::string& origin);

struct InterpretOptions {
    TimeBin by = TimeBin::Month;
    SeriesSplit split = SeriesSplit::None;
    int split_groups = 8;
    int groups = 0;
    CoherenceOptions coherence;
    RepresentativeOptions posts;
    EmergingOptions emerging;
    AudienceOptions audiences;
};

/// Runs every part that the inputs allow: clusters always; with a corpus (which must have the
/// model's document count) posts, time series and audiences; coherence with the matrix.
Interpretation interpret(const Context& ctx, const TopicModel& model, const TopicSummary& summary,
                         const Corpus* corpus, const CsrMatrix* X,
                         const InterpretOptions& opts = {});

}  // namespace tmine
