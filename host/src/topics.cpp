// Topic interpretation and the model file (DIR/model.tmm).
#include "tmine/topics.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>

#include "tmine/error.hpp"
#include "tmine/io.hpp"

namespace tmine {

void dominant_topics(const std::vector<float>& W, int64_t n, int k, std::vector<int32_t>& topic,
                     std::vector<float>& weight) {
    topic.assign(n, -1);
    weight.assign(n, 0.0f);
    for (int64_t d = 0; d < n; ++d) {
        const float* w = W.data() + d * k;
        for (int j = 0; j < k; ++j)
            if (w[j] > weight[d]) {
                weight[d] = w[j];
                topic[d] = j;
            }
    }
}

std::vector<int32_t> best_terms(const float* h, int64_t m, int64_t n) {
    std::vector<int32_t> ids;
    for (int64_t c = 0; c < m; ++c)
        if (h[c] > 0.0f) ids.push_back(int32_t(c));
    const auto better = [&](int32_t a, int32_t b) { return h[a] != h[b] ? h[a] > h[b] : a < b; };
    const size_t top = size_t(std::max<int64_t>(0, std::min<int64_t>(n, int64_t(ids.size()))));
    std::partial_sort(ids.begin(), ids.begin() + top, ids.end(), better);
    ids.resize(top);
    return ids;
}

namespace {
/// Whether the words of `part` appear, in order and side by side, among those of `whole`.
bool word_run_inside(const std::string& part, const std::string& whole) {
    if (part.size() > whole.size()) return false;
    for (size_t at = whole.find(part); at != std::string::npos; at = whole.find(part, at + 1)) {
        const size_t end = at + part.size();
        if ((at == 0 || whole[at - 1] == ' ') && (end == whole.size() || whole[end] == ' ')) return true;
    }
    return false;
}
}  // namespace

std::string label_of_terms(const std::vector<std::string>& ranked) {
    std::vector<std::string> chosen;
    for (const std::string& t : ranked) {
        if (chosen.size() == 3) break;
        bool inside = false;
        for (const std::string& c : chosen) inside = inside || word_run_inside(t, c);
        if (inside) continue;  // "happy" after "happy halloween"
        // "happy halloween" after "halloween" and "happy": in the first one's place, the rest go
        auto first = std::find_if(chosen.begin(), chosen.end(),
                                  [&](const std::string& c) { return word_run_inside(c, t); });
        if (first == chosen.end()) {
            chosen.push_back(t);
            continue;
        }
        *first = t;
        chosen.erase(std::remove_if(first + 1, chosen.end(),
                                    [&](const std::string& c) { return word_run_inside(c, t); }),
                     chosen.end());
    }
    std::string label;
    for (size_t r = 0; r < chosen.size(); ++r) label += (r ? " / " : "") + chosen[r];
    return chosen.empty() ? "(empty topic)" : label;
}

std::string topic_label(const TopicModel& model, int topic) {
    const std::vector<int32_t> ids = best_terms(model.nmf.H.data() + int64_t(topic) * model.nmf.m, model.nmf.m, 12);
    std::vector<std::string> ranked;
    for (int32_t c : ids) ranked.push_back(model.vocabulary[c]);
    return label_of_terms(ranked);
}

TopicSummary summarize_topics(const TopicModel& model, int top_terms) {
    const auto& f = model.nmf;
    const int k = f.k;
    const int64_t n = f.n, m = f.m;
    TopicSummary s;
    s.topics.resize(k);
    for (int j = 0; j < k; ++j) {
        Topic& t = s.topics[j];
        t.id = j;
        const float* h = f.H.data() + int64_t(j) * m;
        for (int32_t c : best_terms(h, m, top_terms)) t.terms.push_back({model.vocabulary[c], h[c]});
        t.label = topic_label(model, j);
    }
    dominant_topics(f.W, n, k, s.dominant, s.dominant_weight);
    std::vector<double> share(k, 0.0);
    double total = 0;
    for (int64_t d = 0; d < n; ++d) {
        const float* w = f.W.data() + d * k;
        for (int j = 0; j < k; ++j) {
            share[j] += w[j];
            total += w[j];
        }
        if (s.dominant[d] >= 0) s.topics[s.dominant[d]].size++;
    }
    for (int j = 0; j < k; ++j) s.topics[j].weight_share = total > 0 ? share[j] / total : 0.0;
    return s;
}

namespace {
constexpr char kMagic[4] = {'T', 'M', 'M', '1'};
// 4: guided topics and the k selection; 5: the fit's CPU threads and device description.
// 3 and 4 are still read.
constexpr uint32_t kVersion = 6;

std::string model_path(const std::string& dir_or_file) {
    if (std::filesystem::is_directory(dir_or_file))
        return (std::filesystem::path(dir_or_file) / "model.tmm").string();
    return dir_or_file;
}
void write_string(AtomicFile& f, const std::string& s) {
    f.write_vector(std::vector<char>(s.begin(), s.end()));
}
std::string read_string(BinaryReader& r, const char* what) {
    auto v = r.read_vector<char>(what);
    return std::string(v.begin(), v.end());
}
}  // namespace

void write_model(const TopicModel& model, const std::string& dir) {
    make_dirs(dir);
    AtomicFile f((std::filesystem::path(dir) / "model.tmm").string());
    const auto& m = model.nmf;
    f.write(kMagic, 4);
    f.write_pod(kVersion);
    f.write_pod<int64_t>(m.n);
    f.write_pod<int64_t>(m.m);
    f.write_pod<int32_t>(m.k);
    f.write_pod<int32_t>(m.iterations);
    f.write_pod<double>(m.relative_error);
    write_string(f, m.device);
    f.write_pod<double>(m.loss_at_init);
    f.write_vector(m.losses);
    write_string(f, m.stop_reason);
    f.write_pod<uint64_t>(m.seed);
    f.write_vector(m.restart_losses);
    f.write_vector(m.W);
    f.write_vector(m.H);
    StringColumn vocab;
    for (auto& t : model.vocabulary) vocab.push_back(t);
    f.write_vector(vocab.offsets);
    write_string(f, vocab.arena);
    f.write_pod<int64_t>(model.corpus.documents);
    f.write_pod<int64_t>(model.corpus.skipped);
    write_string(f, model.corpus.source);
    f.write_pod<int32_t>(model.options.max_iter);
    f.write_pod<double>(model.options.tol);
    f.write_pod<uint64_t>(model.options.seed);
    f.write_pod<int32_t>(static_cast<int32_t>(model.options.init));
    f.write_pod<int32_t>(static_cast<int32_t>(model.options.solver));
    f.write_pod<int32_t>(static_cast<int32_t>(model.options.loss));
    f.write_pod<double>(model.options.alpha_W);
    f.write_pod<double>(model.options.alpha_H);
    f.write_pod<double>(model.options.l1_ratio);
    f.write_vector(model.idf);
    f.write_pod<int32_t>(model.sublinear_tf ? 1 : 0);
    write_string(f, model.pipeline);
    StringColumn stop;
    for (auto& w : model.stop_words) stop.push_back(w);
    f.write_vector(stop.offsets);
    write_string(f, stop.arena);
    // version 4
    f.write_pod<double>(model.options.seed_strength);
    f.write_pod<double>(m.seed_lambda);
    f.write_pod<double>(m.seed_weight);
    f.write_pod<int32_t>(int32_t(model.options.seed_terms.size()));
    for (const auto& terms : model.options.seed_terms) f.write_vector(terms);
    const auto& ks = model.k_selection;
    f.write_pod<int32_t>(int32_t(ks.candidates.size()));
    for (const auto& c : ks.candidates) {
        f.write_pod<int32_t>(c.k);
        f.write_pod<int32_t>(c.iterations);
        write_string(f, c.stop_reason);
        f.write_pod<double>(c.relative_error);
        f.write_pod<double>(c.npmi);
        f.write_pod<double>(c.umass);
        f.write_pod<double>(c.seconds);
    }
    f.write_pod<int32_t>(ks.recommended);
    f.write_pod<int32_t>(ks.coherence_top);
    f.write_pod<int32_t>(ks.svd_k);
    write_string(f, ks.reason);
    // version 5
    f.write_pod<int32_t>(m.cpu_threads);
    write_string(f, m.device_description);
    // version 6
    f.write_pod<uint64_t>(model.corpus.fingerprint);
    f.write_checksum();  // last: XXH3 of every byte before it
    f.commit();
}

void check_same_corpus(const CorpusInfo& info, const Corpus& c, const std::string& path, const std::string& what) {
    if (info.documents != int64_t(c.size()))
        throw InputError(path + " has " + std::to_string(c.size()) + " posts, but " + what + " was made from " +
                         std::to_string(info.documents) + (info.source.empty() ? "" : " (" + info.source + ")") +
                         "; give the corpus it was vectorized from");
    if (info.fingerprint != 0 && info.fingerprint != corpus_fingerprint(c))
        throw InputError(path + " is not the corpus of " + what +
                         (info.source.empty() ? "" : " (made from " + info.source + ")") +
                         ": the same number of posts, but other texts or ids; give the corpus it was vectorized from");
}

VectorizeOptions training_vectorize_options(const TopicModel& model) {
    VectorizeOptions o;
    apply_pipeline_string(model.pipeline, o);
    o.sublinear_tf = model.sublinear_tf;
    o.stop_words = model.stop_words;
    return o;
}

TopicModel read_model(const std::string& dir_or_file) {
    const std::string path = model_path(dir_or_file);
    BinaryReader r(path);
    char magic[4];
    r.read(magic, 4, "magic");
    if (std::memcmp(magic, kMagic, 4) != 0)
        throw InputError(path + ": not a tmine model (expected model.tmm from tmine topics)");
    const auto version = r.read_pod<uint32_t>("version");
    if (version < 3 || version > kVersion)
        throw InputError(path + ": model format version " + std::to_string(version) + " is not supported (refit with this tmine)");
    TopicModel model;
    auto& m = model.nmf;
    m.n = r.read_pod<int64_t>("n");
    m.m = r.read_pod<int64_t>("m");
    m.k = r.read_pod<int32_t>("k");
    m.iterations = r.read_pod<int32_t>("iterations");
    m.relative_error = r.read_pod<double>("relative error");
    m.device = read_string(r, "device");
    m.loss_at_init = r.read_pod<double>("loss at init");
    m.losses = r.read_vector<double>("losses");
    m.stop_reason = read_string(r, "stop reason");
    m.seed = r.read_pod<uint64_t>("seed");
    m.restart_losses = r.read_vector<double>("restart losses");
    m.W = r.read_vector<float>("W");
    m.H = r.read_vector<float>("H");
    StringColumn vocab;
    vocab.offsets = r.read_vector<uint64_t>("vocabulary offsets");
    vocab.arena = read_string(r, "vocabulary");
    model.corpus.documents = r.read_pod<int64_t>("documents");
    model.corpus.skipped = r.read_pod<int64_t>("skipped");
    model.corpus.source = read_string(r, "source");
    model.options.k = m.k;
    model.options.max_iter = r.read_pod<int32_t>("max_iter");
    model.options.tol = r.read_pod<double>("tol");
    model.options.seed = r.read_pod<uint64_t>("seed");
    model.options.init = static_cast<NmfInit>(r.read_pod<int32_t>("init"));
    model.options.solver = static_cast<NmfSolver>(r.read_pod<int32_t>("solver"));
    model.options.loss = static_cast<NmfLoss>(r.read_pod<int32_t>("loss"));
    model.options.alpha_W = r.read_pod<double>("alpha_W");
    model.options.alpha_H = r.read_pod<double>("alpha_H");
    model.options.l1_ratio = r.read_pod<double>("l1_ratio");
    model.idf = r.read_vector<double>("idf");
    model.sublinear_tf = r.read_pod<int32_t>("sublinear tf") != 0;
    model.pipeline = read_string(r, "vectorize settings");
    StringColumn stop;
    stop.offsets = r.read_vector<uint64_t>("stop word offsets");
    stop.arena = read_string(r, "stop words");
    if (stop.offsets.empty() || stop.offsets[0] != 0 || stop.offsets.back() != stop.arena.size() ||
        !std::is_sorted(stop.offsets.begin(), stop.offsets.end()))
        throw InputError(path + ": corrupt model file (stop words)");
    for (size_t i = 0; i < stop.size(); ++i) model.stop_words.emplace_back(stop[i]);
    bool seeds_ok = true;
    if (version >= 4) {
        model.options.seed_strength = r.read_pod<double>("seed strength");
        m.seed_lambda = r.read_pod<double>("seed lambda");
        m.seed_weight = r.read_pod<double>("seed weight");
        const int32_t guided = r.read_pod<int32_t>("guided topics");
        seeds_ok = guided >= 0 && guided <= m.k;
        for (int32_t j = 0; seeds_ok && j < guided; ++j) {
            model.options.seed_terms.push_back(r.read_vector<int32_t>("seed terms"));
            for (int32_t c : model.options.seed_terms.back()) seeds_ok = seeds_ok && c >= 0 && c < m.m;
        }
        const int32_t tried = r.read_pod<int32_t>("k candidates");
        seeds_ok = seeds_ok && tried >= 0 && tried <= 100000;
        auto& ks = model.k_selection;
        for (int32_t i = 0; seeds_ok && i < tried; ++i) {
            KCandidate c;
            c.k = r.read_pod<int32_t>("k");
            c.iterations = r.read_pod<int32_t>("iterations");
            c.stop_reason = read_string(r, "stop reason");
            c.relative_error = r.read_pod<double>("relative error");
            c.npmi = r.read_pod<double>("npmi");
            c.umass = r.read_pod<double>("umass");
            c.seconds = r.read_pod<double>("seconds");
            ks.candidates.push_back(std::move(c));
        }
        if (seeds_ok) {
            ks.recommended = r.read_pod<int32_t>("recommended k");
            ks.coherence_top = r.read_pod<int32_t>("coherence top");
            ks.svd_k = r.read_pod<int32_t>("k selection SVD components");
            ks.reason = read_string(r, "k reason");
        }
    }
    if (!seeds_ok) throw InputError(path + ": corrupt model file (guided topics or k selection)");
    if (version >= 5) {
        m.cpu_threads = r.read_pod<int32_t>("cpu threads");
        m.device_description = read_string(r, "device description");
    }
    if (version >= 6) {
        model.corpus.fingerprint = r.read_pod<uint64_t>("corpus fingerprint");
        r.verify_checksum();
    }
    bool ok = m.n >= 0 && m.m >= 0 && m.k > 0 && m.W.size() == size_t(m.n * m.k) &&
              m.H.size() == size_t(m.m * m.k) && vocab.offsets.size() == size_t(m.m) + 1 &&
              vocab.offsets[0] == 0 && vocab.offsets.back() == vocab.arena.size() &&
              (model.idf.empty() || model.idf.size() == size_t(m.m)) &&
              int(model.options.init) >= 0 && int(model.options.init) <= 3 &&
              int(model.options.solver) >= 0 && int(model.options.solver) <= 1 &&
              int(model.options.loss) >= 0 && int(model.options.loss) <= 1;
    for (int64_t c = 0; ok && c < m.m; ++c) ok = vocab.offsets[c] <= vocab.offsets[c + 1];
    if (!ok) throw InputError(path + ": corrupt model file (inconsistent sizes)");
    for (const auto* F : {&m.W, &m.H})
        for (float x : *F)
            if (!(x >= 0.0f && x <= std::numeric_limits<float>::max()))
                throw InputError(path + ": corrupt model file (a factor holds " + std::to_string(x) +
                                 ", not a finite non-negative weight)");
    for (double x : model.idf)
        if (!std::isfinite(x) || x < 0)
            throw InputError(path + ": corrupt model file (an idf of " + std::to_string(x) + ")");
    for (int64_t c = 0; c < m.m; ++c) model.vocabulary.emplace_back(vocab[c]);
    return model;
}

}  // namespace tmine
