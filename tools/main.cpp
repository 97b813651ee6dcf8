// The tmine command line: one small function per subcommand; all logic lives in host/ and
// kernels/ (STYLE.md §8).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <iostream>
#include <new>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <omp.h>

#include "tmine/classify.hpp"
#include "tmine/clean.hpp"
#include "tmine/context.hpp"
#include "tmine/distributed.hpp"
#include "tmine/corpus.hpp"
#include "tmine/error.hpp"
#include "tmine/export.hpp"
#include "tmine/ingest.hpp"
#include "tmine/interpret.hpp"
#include "tmine/io.hpp"
#include "tmine/nmf.hpp"
#include "tmine/query.hpp"
#include "tmine/report.hpp"
#include "tmine/topics.hpp"
#include "tmine/vectorize.hpp"

namespace {

using namespace tmine;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- flags shared by several subcommands ----

struct CommonArgs {
    std::string device = "auto";
    int threads = 0;
    bool quiet = false;
    Context context() const { return Context::create(parse_device(device), threads, quiet); }
};
void add_common(CLI::App* app, CommonArgs& a) {
    app->add_option("--device", a.device, "auto (GPU when one works, else CPU), cpu or cuda")
        ->capture_default_str();
    app->add_option("--threads", a.threads, "CPU threads (0 = all cores)")->capture_default_str();
    app->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
}

/// A count or seed read into an unsigned type: "-1" would wrap around instead of failing.
const CLI::Validator kNonNegative(
    [](std::string& v) { return v.find('-') == std::string::npos ? std::string() : "must be >= 0, got " + v; },
    "NUMBER >= 0", "non-negative");

/// How CSV outputs are written: plain RFC 4180 for scripts (default), or for a spreadsheet.
struct CsvArgs {
    bool spreadsheet = false;
    std::string delimiter = ",";
    char delim() const { return parse_csv_delimiter(delimiter); }
    std::string apply(const std::string& csv) const { return recode_csv(csv, delim(), spreadsheet); }
};
void add_csv_flags(CLI::App* app, CsvArgs& a, bool spreadsheet_flag = true) {
    if (spreadsheet_flag)
        app->add_flag("--spreadsheet", a.spreadsheet,
                      "CSV for a spreadsheet: UTF-8 byte-order mark, an apostrophe before cells it would "
                      "read as a formula or a number (@user, =..., 19-digit ids)");
    app->add_option("--delimiter", a.delimiter,
                    "CSV field separator: , or ; (what a spreadsheet expects where , is the decimal mark) or tab")
        ->capture_default_str();
}

struct IngestArgs {
    std::vector<std::string> inputs;
    std::string format = "auto", text_field = "text", time_field, id_field, author_field, source_field;
    std::string since, until;
    bool keep_future = false, keep_old = false;
    IngestOptions options(bool quiet) const {
        IngestOptions o;
        o.format = parse_input_format(format);
        o.text_field = text_field;
        o.time_field = time_field;
        o.id_field = id_field;
        o.author_field = author_field;
        o.source_field = source_field;
        auto when = [](const std::string& s, const char* flag) -> std::optional<int64_t> {
            if (s.empty()) return std::nullopt;
            // A year (2021) or a month (2021-03) is its first day. Any other number of fewer
            // than 9 digits is not a date here: as epoch seconds it would be a time of 1970.
            const bool digits = s.find_first_not_of("0123456789") == std::string::npos;
            const bool month = s.size() == 7 && s[4] == '-' &&
                               (s.substr(0, 4) + s.substr(5)).find_first_not_of("0123456789") == std::string::npos;
            std::optional<int64_t> t;
            if (digits && s.size() == 4) {
                t = parse_timestamp(s + "-01-01");
            } else if (month) {
                t = parse_timestamp(s + "-01");
            } else if (digits && s.size() == 8) {  // 20210131, ISO's basic form (1900..2199)
                const int year = std::stoi(s.substr(0, 4));
                if (year >= 1900 && year <= 2199) t = parse_timestamp(s);
            } else if (!(digits && s.size() < 9)) {
                t = parse_timestamp(s);
            }
            if (!t)
                throw InputError(std::string(flag) + ": '" + s +
                                 "' is not a date (use e.g. 2021, 2021-01, 2021-01-31 or "
                                 "2021-01-31T12:00:00Z)");
            return t;
        };
        o.since = when(since, "--since");
        o.until = when(until, "--until");
        if (o.since && o.until && *o.since >= *o.until)
            throw InputError("--since must be before --until");
        if (keep_future) o.latest = std::numeric_limits<int64_t>::max();
        if (keep_old) o.earliest = std::numeric_limits<int64_t>::min();
        o.progress = !quiet;
        return o;
    }
};
void add_ingest_flags(CLI::App* app, IngestArgs& a) {
    app->add_option("inputs", a.inputs, "JSON Lines / JSON / CSV files, plain or .gz")
        ->required()
        ->check(CLI::ExistingFile);
    app->add_option("--format", a.format, "auto, jsonl, json or csv")->capture_default_str();
    app->add_option("--text-field", a.text_field, "field holding the post text (JSON: dotted path)")
        ->capture_default_str();
    app->add_option("--time-field", a.time_field, "timestamp field (epoch s/ms, ISO-8601, Twitter)");
    app->add_option("--id-field", a.id_field, "post id field");
    app->add_option("--author-field", a.author_field, "author field");
    app->add_option("--source-field", a.source_field,
                    "source field (site, platform, forum; default: the input file)");
    app->add_flag("--keep-future-times", a.keep_future,
                  "keep posts dated more than a day after now (by default misread values, skipped)");
    app->add_flag("--keep-old-times", a.keep_old,
                  "keep posts dated before 1980 (by default a time of 0 or a misread value, "
                  "skipped; an earlier --since lowers that bound)");
    app->add_option("--since", a.since, "keep posts at or after this time (UTC)");
    app->add_option("--until", a.until, "keep posts before this time (UTC)");
}

struct VectorizeArgs {
    std::string min_df = "1", max_df = "1.0", urls = "domain", ngram = "1:1";
    std::string stop_words;  // "": english, or none with --sklearn-compatible (scikit-learn's default)
    std::string stem, vocabulary, export_vocabulary;
    int64_t max_features = 0, chunk_tokens = 0;
    bool sublinear = false, sklearn = false, strip_accents = false, no_mentions = false,
         no_hashtags = false, numbers = false, no_emoji = false, split_hyphens = false,
         no_elisions = false, no_contractions = false;
    VectorizeOptions options(bool quiet) const {
        VectorizeOptions o;
        auto& t = o.tokenizer;
        if (sklearn) {
            // scikit-learn's token pattern has none of the social tokenizer's rules: a flag
            // that would change nothing is an error rather than silently ignored.
            std::string ignored;
            auto note = [&](bool set, const char* flag) {
                if (set) ignored += std::string(ignored.empty() ? "" : ", ") + flag;
            };
            note(strip_accents, "--strip-accents");
            note(urls != "domain", "--urls");
            note(no_mentions, "--no-mentions");
            note(no_hashtags, "--no-hashtags");
            note(numbers, "--numbers");
            note(no_emoji, "--no-emoji");
            note(split_hyphens, "--split-hyphens");
            note(no_elisions, "--no-elisions");
            note(no_contractions, "--no-contractions");
            if (!ignored.empty())
                throw InputError("--sklearn-compatible uses scikit-learn's token pattern, which " + ignored +
                                 " would not change: leave " +
                                 (ignored.find(',') == std::string::npos ? "it" : "them") +
                                 " out, or drop --sklearn-compatible for tmine's tokenizer");
        }
        t.sklearn_compatible = sklearn;
        t.strip_accents = strip_accents;
        t.urls = TokenizerOptions::parse_urls(urls);
        t.mentions = !no_mentions;
        t.hashtags = !no_hashtags;
        t.numbers = numbers;
        t.emoji = !no_emoji;
        t.hyphens = !split_hyphens;
        t.elisions = !no_elisions;
        t.contractions = !no_contractions;
        int a = 0, b = 0;
        char tail = 0;
        const int got = std::sscanf(ngram.c_str(), "%d:%d%c", &a, &b, &tail);
        if (got == 1 && ngram.find(':') == std::string::npos &&
            std::sscanf(ngram.c_str(), "%d%c", &a, &tail) == 1)
            b = a;  // --ngram 2: bigrams only
        else if (got != 2)
            a = 0;
        if (a < 1 || b < a || ngram.size() > 7)  // 7: no number that sscanf would wrap
            throw InputError("--ngram: expected MIN:MAX such as 1:2 (or N for N:N), got '" + ngram + "'");
        constexpr int kMaxNgram = 10;  // each word of a document starts max - min + 1 terms
        if (b > kMaxNgram)
            throw InputError("--ngram: n-grams of at most " + std::to_string(kMaxNgram) + " words, got '" +
                             ngram + "'");
        o.ngram_min = a;
        o.ngram_max = b;
        o.stem = stem;
        o.min_df = DfBound::parse(min_df, "--min-df");
        o.max_df = DfBound::parse(max_df, "--max-df");
        if (max_features < 0) throw InputError("--max-features must be >= 0");
        o.max_features = max_features;
        if (chunk_tokens < 0) throw InputError("--chunk-tokens must be >= 0");
        o.chunk_tokens = chunk_tokens;
        o.stop_words = load_stop_words(!stop_words.empty() ? stop_words : sklearn ? "none" : "english", t);
        o.sublinear_tf = sublinear;
        o.progress = !quiet;
        return o;
    }
    /// vectorize(), or vectorize_fixed() with --vocabulary; then --export-vocabulary.
    Vectorized run(const Context& ctx, const Corpus& corpus, bool quiet) const {
        VectorizeOptions o = options(quiet);
        Vectorized v;
        if (vocabulary.empty()) {
            v = vectorize(ctx, corpus, o);
        } else {
            std::vector<std::string> terms;
            std::vector<double> idf;
            read_vocabulary_csv(vocabulary, terms, idf);
            v = vectorize_fixed(ctx, corpus, terms, idf, o);
            if (v.X.nnz() == 0 && v.X.rows > 0)  // legitimate, but most likely the wrong file
                std::fprintf(stderr, "vectorize: warning: no term of %s occurs in the corpus (%zu terms, "
                                     "%lld documents): every row of the matrix is empty\n",
                             vocabulary.c_str(), terms.size(), (long long)v.X.rows);
        }
        // What the matrix file keeps of its corpus (a pass over the texts, so not inside the
        // vectorize stage the benchmarks time), for either vocabulary.
        v.corpus_fingerprint = corpus_fingerprint(corpus);
        if (!export_vocabulary.empty()) write_vocabulary_csv(v, export_vocabulary);
        return v;
    }
};
void add_vectorize_flags(CLI::App* app, VectorizeArgs& a) {
    app->add_option("--min-df", a.min_df, "drop terms in fewer documents: a count (5) or a proportion (0.001)")
        ->capture_default_str();
    app->add_option("--max-df", a.max_df, "drop terms in more documents: a proportion (0.5) or a count")
        ->capture_default_str();
    app->add_option("--max-features", a.max_features, "keep only the N most frequent terms (0 = all)")
        ->capture_default_str();
    app->add_option("--stop-words", a.stop_words,
                    "comma-separated: english, french, none, or files (one word per line); default english, "
                    "none with --sklearn-compatible (scikit-learn's default)");
    app->add_flag("--sublinear-tf", a.sublinear, "tf = 1 + ln(count)");
    app->add_option("--ngram", a.ngram, "word n-grams MIN:MAX, or N for N:N (they do not cross sentence punctuation)")
        ->capture_default_str();
    app->add_option("--stem", a.stem, "Snowball stemming: english, french, ...");
    app->add_flag("--sklearn-compatible", a.sklearn, "tokenise exactly as scikit-learn's TfidfVectorizer default (the flags below do not apply)");
    app->add_flag("--strip-accents", a.strip_accents, "remove accents (été -> ete)");
    app->add_option("--urls", a.urls, "URLs: domain (a token), drop or keep")->capture_default_str();
    app->add_flag("--no-mentions", a.no_mentions, "drop @mentions");
    app->add_flag("--no-hashtags", a.no_hashtags, "drop #hashtags");
    app->add_flag("--numbers", a.numbers, "keep tokens made of digits");
    app->add_flag("--no-emoji", a.no_emoji, "drop emoji tokens");
    app->add_flag("--split-hyphens", a.split_hyphens, "split hyphenated words");
    app->add_flag("--no-elisions", a.no_elisions, "keep French elided articles (l', d', qu', ...)");
    app->add_flag("--no-contractions", a.no_contractions, "split English contractions as scikit-learn does");
    app->add_option("--vocabulary", a.vocabulary, "fixed vocabulary CSV (term[,df,idf]; with idf: that weighting)");
    app->add_option("--export-vocabulary", a.export_vocabulary, "write the vocabulary as CSV: term,df,idf");
    app->add_option("--chunk-tokens", a.chunk_tokens,
                    "count at most N tokens at a time (0: the GPU's free memory decides; the CPU: one pass)")
        ->capture_default_str();
}

struct TopicArgs {
    int iters = 200, top_terms = 20, checkpoint_every = 0, restarts = 1, coherence_top = 10;
    double tol = 1e-4, alpha_W = 0, l1_ratio = 0, time_limit = 0, seed_strength = 1.0;
    std::string alpha_H;  ///< empty: as --alpha-w (NmfOptions' -1)
    bool tf32 = false;
    uint64_t seed = 0;
    std::string k = "10", init = "nndsvda", solver = "mu", loss = "frobenius", checkpoint, resume,
                seed_terms;
    /// The ks of -k ("K" or "FROM:TO[:STEP]").
    std::vector<int> ks() const { return parse_k_list(k); }
    NmfOptions options(bool quiet) const {
        NmfOptions o;
        o.k = ks().back();
        o.seed_strength = seed_strength;
        o.tf32 = tf32;
        o.max_iter = iters;
        o.tol = tol;
        o.seed = seed;
        o.init = parse_nmf_init(init);
        o.solver = parse_nmf_solver(solver);
        o.loss = parse_nmf_loss(loss);
        o.alpha_W = alpha_W;
        o.alpha_H = -1.0;
        if (!alpha_H.empty()) {  // given: a number >= 0 (-1 is only the default's mark)
            const char* b = alpha_H.c_str();
            char* e = nullptr;
            o.alpha_H = std::strtod(b, &e);
            if (e == b || *e != '\0' || !(o.alpha_H >= 0) || !std::isfinite(o.alpha_H))
                throw InputError("--alpha-h must be a finite number >= 0, got '" + alpha_H + "'");
        }
        o.l1_ratio = l1_ratio;
        o.time_limit = time_limit;
        o.restarts = restarts;
        o.checkpoint_every = checkpoint_every;
        o.checkpoint_path = checkpoint;
        o.progress = !quiet;
        if (top_terms < 1) throw InputError("--top-terms must be >= 1");
        validate(o);
        return o;
    }
};
void add_topic_flags(CLI::App* app, TopicArgs& a, bool k_required) {
    auto* k = app->add_option("-k,--topics", a.k,
                              "number of topics, or FROM:TO[:STEP] to fit each k and keep the "
                              "one with the best coherence");
    if (k_required) k->required();
    app->add_option("--iters", a.iters, "maximum iterations")->capture_default_str();
    app->add_option("--tol", a.tol, "stop when the loss improves less than this (relative to the start) over 10 iterations; 0 = never")
        ->capture_default_str();
    app->add_option("--seed", a.seed, "seed of the initialisation")->capture_default_str()->check(kNonNegative);
    app->add_option("--init", a.init, "nndsvda, nndsvd, nndsvdar or random")->capture_default_str();
    app->add_option("--solver", a.solver, "mu (multiplicative updates) or hals (scikit-learn's cd)")
        ->capture_default_str();
    app->add_option("--loss", a.loss, "frobenius or kl (Kullback-Leibler; solver mu)")->capture_default_str();
    app->add_option("--alpha-w", a.alpha_W, "regularisation of W (scikit-learn's alpha_W)")->capture_default_str();
    app->add_option("--alpha-h", a.alpha_H, "regularisation of H (default: as --alpha-w)");
    app->add_option("--l1-ratio", a.l1_ratio, "share of L1 in the regularisation, 0..1")->capture_default_str();
    app->add_option("--time-limit", a.time_limit, "stop after this many seconds of iterations (0 = none)")
        ->capture_default_str();
    app->add_option("--restarts", a.restarts, "fit from R seeds (seed, seed+1, ...) and keep the lowest loss")
        ->capture_default_str();
    app->add_option("--checkpoint-every", a.checkpoint_every, "write a checkpoint every N iterations (0 = never)")
        ->capture_default_str();
    app->add_option("--checkpoint", a.checkpoint, "checkpoint file (default: OUTPUT/checkpoint.tmk)");
    app->add_option("--resume", a.resume, "continue from this checkpoint (same matrix and settings)");
    app->add_option("--top-terms", a.top_terms, "terms listed per topic")->capture_default_str();
    app->add_option("--seed-terms", a.seed_terms,
                    "guided topics: one line of comma-separated terms per topic to anchor");
    app->add_option("--seed-strength", a.seed_strength,
                    "pull of the guided topics towards their terms (0 = start only)")
        ->capture_default_str();
    app->add_flag("--tf32", a.tf32,
                  "GPU: Gram products and denominators on TF32 tensor cores (the CPU ignores it)");
    app->add_option("--k-coherence-top", a.coherence_top,
                    "with -k FROM:TO: top terms per topic in the coherence that picks k")
        ->capture_default_str();
}

/// The first argument that looks like an option (-x, --name, --name=value; not a number such
/// as -5) and that the subcommand it follows does not have; empty when there is none. Read
/// only after a parse failed, to name the cause.
std::string first_unknown_option(CLI::App& app, int argc, char** argv) {
    CLI::App* at = &app;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") break;  // the rest are values
        if (a.size() < 2 || a[0] != '-') {
            // a subcommand of the one reached so far
            for (CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; }))
                if (sub->get_name() == a) {
                    at = sub;
                    break;
                }
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.') continue;  // -5, -.5
        const std::string name = a.substr(0, a.find('='));
        if (name == "--help" || name == "-h") continue;
        if (name.size() > 2 && name[1] != '-') continue;  // -abc: short flags together, or a value
        bool known = false;
        for (CLI::App* scope = at; scope && !known; scope = scope->get_parent())
            known = scope->get_option_no_throw(name) != nullptr;
        if (!known) return name;
    }
    return {};
}

// ---- subcommands ----

/// Each topic's size and ten best terms on stdout (topics, run).
void print_topics(const TopicSummary& s) {
    for (const auto& t : s.topics) {
        std::printf("topic %2d (%lld docs):", t.id, (long long)t.size);
        for (size_t r = 0; r < std::min<size_t>(10, t.terms.size()); ++r) std::printf(" %s", t.terms[r].term.c_str());
        std::printf("\n");
    }
}

/// The skipped records and warnings always; the counts line with -q only when something was
/// skipped or said.
void print_ingest_summary(const IngestReport& rep, bool quiet) {
    if (!quiet || rep.skipped > 0 || !rep.warnings.empty()) std::fputs(rep.summary().c_str(), stderr);
}

int cmd_ingest(const IngestArgs& a, const std::string& out, bool quiet) {
    Corpus corpus;
    auto t0 = Clock::now();
    IngestReport rep = ingest(a.inputs, a.options(quiet), corpus);
    print_ingest_summary(rep, quiet);
    if (corpus.size() == 0) throw InputError("ingest: no record kept; nothing written to " + out);
    write_corpus(corpus, out);
    if (!quiet)
        std::fprintf(stderr, "ingest: wrote %zu documents to %s in %.2f s\n", corpus.size(),
                     out.c_str(), seconds_since(t0));
    return 0;
}

int cmd_vectorize(const CommonArgs& c, const VectorizeArgs& a, const std::string& in,
                  const std::string& out) {
    Context ctx = c.context();
    Corpus corpus = read_corpus(in);
    Vectorized v = a.run(ctx, corpus, c.quiet);
    write_matrix(v, out);
    if (!c.quiet)
        std::fprintf(stderr, "vectorize: wrote %lld x %lld (%lld non-zeros) to %s\n",
                     (long long)v.X.rows, (long long)v.X.cols, (long long)v.X.nnz(), out.c_str());
    return 0;
}

/// `split`: a distributed fit, v.X holding this process's rows (read_matrix_rows).
TopicModel fit(const Context& ctx, const Vectorized& v, TopicArgs a,
               const std::string& outdir, bool quiet, CorpusInfo info, const RowSplit* split = nullptr) {
    if (a.checkpoint.empty() && (a.checkpoint_every > 0 || !a.resume.empty()))
        a.checkpoint = (fs::path(outdir) / "checkpoint.tmk").string();
    TopicModel model;
    model.options = a.options(quiet);  // bad flags before the checkpoint directory is made
    if (a.checkpoint_every > 0 && a.ks().size() > 1)
        throw InputError("-k FROM:TO cannot be combined with --checkpoint-every (checkpoint one fit)");
    if (a.checkpoint_every > 0) {
        check_k(v.X, a.ks().back(), split);  // k above what the data allows, before the directory is made
        make_dirs(outdir);
    }
    if (!a.seed_terms.empty()) {
        SeedTerms st = read_seed_terms(a.seed_terms, v);
        for (const auto& w : st.warnings) std::fprintf(stderr, "topics: warning: %s\n", w.c_str());
        if (!quiet)
            for (size_t j = 0; j < st.terms.size(); ++j) {
                std::string list;
                for (const auto& t : st.terms[j]) list += (list.empty() ? "" : ", ") + t;
                std::fprintf(stderr, "topics: guided topic %zu: %s\n", j, list.c_str());
            }
        model.options.seed_terms = std::move(st.ids);
    }
    const std::vector<int> ks = a.ks();
    if (ks.size() > 1) {
        if (!a.resume.empty()) throw InputError("--resume continues one fit: give one k");
        KSelectionOptions ko;
        ko.coherence.top_n = a.coherence_top;
        ko.progress = !quiet;
        NmfOptions o = model.options;
        o.progress = false;  // one line per k instead of one per iteration
        model.k_selection = select_k(ctx, v.X, ks, o, model.nmf, ko, split);
        model.options.k = model.nmf.k;
        if (!quiet) std::fprintf(stderr, "topics: %s\n", model.k_selection.reason.c_str());
    } else {
        model.nmf = a.resume.empty() ? nmf(ctx, v.X, model.options, nullptr, split)
                                     : nmf_resume(ctx, v.X, model.options, a.resume, split);
    }
    model.vocabulary = v.vocabulary;
    model.idf = v.idf;
    model.sublinear_tf = v.sublinear_tf;
    model.pipeline = v.pipeline;
    model.stop_words = v.stop_words;
    model.corpus = std::move(info);
    model.corpus.documents = split ? split->rows() : v.X.rows;
    model.corpus.fingerprint = v.corpus_fingerprint;
    return model;
}

int cmd_topics(const CommonArgs& c, const TopicArgs& a, const std::string& in, const std::string& out,
               const CsvArgs& csv) {
    (void)csv.delim();  // a bad --delimiter before any work
    Context ctx = c.context();
    // A distributed fit: each process reads (and holds) only its rows of the matrix.
    const bool distributed = processes::size() > 1;
    RowSplit split;
    Vectorized v = distributed ? read_matrix_rows(in, processes::size(), processes::rank(), split) : read_matrix(in);
    CorpusInfo info;
    info.source = in;
    info.skipped = -1;  // the matrix does not say how many records its corpus's ingest skipped
    TopicModel model = fit(ctx, v, a, out, c.quiet, info, distributed ? &split : nullptr);
    if (processes::rank() > 0) return 0;  // a distributed fit: rank 0 writes the model
    write_model(model, out);
    if (!model.k_selection.empty())
        write_file_atomic((fs::path(out) / "k_selection.csv").string(), csv.apply(k_selection_csv(model.k_selection)));
    else  // an earlier choice of k in this directory no longer describes its model
        remove_on_commit((fs::path(out) / "k_selection.csv").string());
    const TopicSummary summary = summarize_topics(model, a.top_terms);
    write_file_atomic((fs::path(out) / "topics.json").string(), topics_json(model, summary));
    print_topics(summary);  // as run does: what was found, at a glance
    if (!c.quiet)
        std::fprintf(stderr, "topics: k=%d, %d iterations, relative error %.6f on %s; wrote %s\n",
                     model.nmf.k, model.nmf.iterations, model.nmf.relative_error,
                     model.nmf.device.c_str(), out.c_str());
    return 0;
}

/// Interpretation flags of `tmine export` (docs/report.md).
struct ExportArgs {
    std::string by = "month", tables, title = "Topics", matrix, split = "none";
    std::vector<std::string> clean_reports;  // in the order the cleanings ran
    int split_groups = 8;
    int groups = 0, posts = 5, coherence_top = 10, segments = 5, min_author_posts = 2;
};

int cmd_export(const CommonArgs& c, const std::string& model_dir, const std::string& format,
               const std::string& out, const std::string& documents,
               const std::string& corpus_path, int top_terms, const ExportArgs& ea, const CsvArgs& csv) {
    (void)csv.delim();  // a bad --delimiter before any work
    if (format != "json" && format != "csv" && format != "html")
        throw InputError("--format: expected json, csv or html, got '" + format + "'");
    if (top_terms < 1) throw InputError("--top-terms must be >= 1");
    if (ea.groups < 0) throw InputError("--groups must be >= 0 (0 = round(sqrt(k)))");
    if (ea.posts < 0) throw InputError("--posts must be >= 0");
    TopicModel model = read_model(model_dir);
    TopicSummary s = summarize_topics(model, top_terms);
    Corpus corpus;
    if (!corpus_path.empty()) {
        corpus = read_corpus(corpus_path);
        check_same_corpus(model.corpus, corpus, corpus_path, "the model in " + model_dir);
    }
    const Corpus* cp = corpus_path.empty() ? nullptr : &corpus;
    // With a corpus: representative posts, the time series, and coherence over the corpus
    // re-vectorized against the model's vocabulary (the training matrix's sparsity pattern).
    InterpretOptions io;
    io.by = parse_time_bin(ea.by);
    io.groups = ea.groups;
    io.posts.per_topic = ea.posts;
    io.coherence.top_n = ea.coherence_top;
    io.audiences.segments = ea.segments;
    io.audiences.min_posts = ea.min_author_posts;
    io.split = parse_series_split(ea.split);
    io.split_groups = ea.split_groups;
    if (io.split != SeriesSplit::None && !cp) throw InputError("--split needs --corpus");
    // Coherence counts run on the chosen device; the rest of the export is CPU work.
    Context ctx = c.context();
    Vectorized v;
    if (!ea.matrix.empty()) {
        v = read_matrix(ea.matrix);  // the training matrix: coherence over exactly its pattern
        if (v.X.rows != model.corpus.documents ||
            (v.corpus_fingerprint && model.corpus.fingerprint && v.corpus_fingerprint != model.corpus.fingerprint))
            throw InputError(ea.matrix + " is not the matrix the model in " + model_dir +
                             " was fitted on (other documents); give its training matrix");
    } else if (cp) {
        VectorizeOptions vo = training_vectorize_options(model);
        std::vector<double> idf = model.idf.empty() ? std::vector<double>(model.vocabulary.size(), 1.0) : model.idf;
        v = vectorize_fixed(Context::cpu(), corpus, model.vocabulary, idf, vo);
    }
    const bool have_matrix = cp || !ea.matrix.empty();
    Interpretation it = interpret(ctx, model, s, cp, have_matrix ? &v.X : nullptr, io);
    it.corpus_path = corpus_path;
    if (!it.series_left_out.empty())
        std::fprintf(stderr, "export: warning: topics over time left out: %s\n", it.series_left_out.c_str());
    for (const std::string& report : ea.clean_reports) {  // a funnel cleaned stage by stage: each stage's steps
        std::ifstream f = open_input(report, report + ": cannot open the clean report");
        std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        for (auto& step : cleaning_funnel(json, report)) it.funnel.push_back(std::move(step));
    }
    // Without a corpus, a matrix or --groups the JSON is exactly what `tmine topics` wrote.
    const bool sections = have_matrix || ea.groups > 0 || !it.funnel.empty();
    if (format == "json")
        write_file_atomic(out, topics_json(model, s, sections ? &it : nullptr));
    else if (format == "csv")
        write_file_atomic(out, csv.apply(topics_csv(s)));
    else {
        ReportOptions ro;
        ro.title = ea.title;
        write_file_atomic(out, html_report(model, s, it, ro));
    }
    if (!ea.tables.empty()) {
        make_dirs(ea.tables);
        auto at = [&](const char* name) { return (fs::path(ea.tables) / name).string(); };
        write_file_atomic(at("topics.csv"), csv.apply(topic_table_csv(s, it)));
        write_file_atomic(at("terms.csv"), csv.apply(topics_csv(s)));
        write_file_atomic(at("weights.csv"), csv.apply(document_weights_csv(model)));
        write_file_atomic(at("clusters.csv"), csv.apply(clusters_csv(s, it.clusters)));
        if (it.has_series) write_file_atomic(at("time_series.csv"), csv.apply(time_series_csv(it.series)));
        if (!it.grouped.empty())
            write_file_atomic(at((std::string("time_series_by_") + series_split_name(it.grouped.by) + ".csv").c_str()),
                              csv.apply(grouped_series_csv(it.grouped)));
        if (!it.audiences.authors.empty())
            write_file_atomic(at("authors.csv"), csv.apply(authors_csv(it.audiences, model.nmf.k)));
    }
    if (!documents.empty()) write_file_atomic(documents, csv.apply(documents_csv(s, cp)));
    return 0;
}

int cmd_transform(const CommonArgs& c, const TopicArgs& ta,
                  const std::string& model_dir, const std::string& corpus_path,
                  const std::string& out, const CsvArgs& csv) {
    (void)csv.delim();  // a bad --delimiter before any work
    Context ctx = c.context();
    TopicModel model = read_model(model_dir);
    NmfOptions o = model.options;
    o.max_iter = ta.iters;
    o.tol = ta.tol;
    o.progress = !c.quiet;
    o.restarts = 1;
    o.checkpoint_every = 0;
    validate(o);  // before the corpus is read and tokenised
    if (model.idf.empty())
        throw InputError(model_dir + ": this model has no idf (fitted by tmine topics from a "
                         "matrix file of an older version); refit it");
    Corpus corpus = read_corpus(corpus_path);
    VectorizeOptions vo = training_vectorize_options(model);  // tokens exactly as in training
    vo.progress = !c.quiet;
    Vectorized v = vectorize_fixed(ctx, corpus, model.vocabulary, model.idf, vo);
    std::vector<float> W = nmf_transform(ctx, v.X, model.nmf.H, model.nmf.k, o);
    TopicSummary s;
    s.topics.resize(model.nmf.k);  // the labels for documents.csv (the training W's summary is not needed)
    for (int j = 0; j < model.nmf.k; ++j) s.topics[j].label = topic_label(model, j);
    dominant_topics(W, v.X.rows, model.nmf.k, s.dominant, s.dominant_weight);
    int64_t empty = 0;  // posts with no term of the model's vocabulary: topic -1
    for (int64_t r = 0; r < v.X.rows; ++r) empty += v.X.indptr[r + 1] == v.X.indptr[r];
    if (empty == v.X.rows && v.X.rows > 0)
        std::fprintf(stderr, "transform: warning: no post of %s has a term of the model's vocabulary; every "
                             "post gets topic -1 (a corpus in another language, or other tokenizer settings?)\n",
                     corpus_path.c_str());
    else if (empty > 0 && !c.quiet)
        std::fprintf(stderr, "transform: %lld of %lld posts have no term of the model's vocabulary (topic -1)\n",
                     (long long)empty, (long long)v.X.rows);
    write_file_atomic(out, csv.apply(documents_csv(s, &corpus)));
    if (!c.quiet)
        std::fprintf(stderr, "transform: %zu documents scored against %d topics; wrote %s\n",
                     corpus.size(), model.nmf.k, out.c_str());
    return 0;
}

// ---- clean (docs/cleaning.md) ----

struct CleanCli {
    CLI::App* cmd = nullptr;
    std::string input, output, report, removed, steps = "normalize,language,dedup,spam", urls = "domain",
                                                 lang;
    bool keep_html = false, keep_markdown = false, no_nfkc = false, keep_empty = false;
    bool drop_und = false, allow_unreliable = false, no_exact = false;
    CleanOptions o;
    CsvArgs csv;  // --removed
};

void add_clean_command(CLI::App& app, CleanCli& a, CommonArgs& common) {
    CLI::App* c = a.cmd = app.add_subcommand(
        "clean", "normalise, filter languages, remove duplicates, spam and irrelevant posts");
    c->add_option("corpus", a.input, "corpus file (.tmc)")->required()->check(CLI::ExistingFile);
    c->add_option("-o,--output", a.output, "cleaned corpus file to write (.tmc)")->required();
    c->add_option("--report", a.report, "JSON report: removals per step and reason, with examples");
    c->add_option("--removed", a.removed, "CSV of every removed post: row,id,step,reason,duplicate_of,detail");
    c->add_option("--steps", a.steps, "normalize,language,dedup,spam,relevance (any subset; all)")
        ->capture_default_str();
    c->add_option("--examples", a.o.max_examples, "examples kept per reason in the report")->capture_default_str();
    // normalize
    c->add_option("--urls", a.urls, "URLs become their domain, are dropped, or kept (domain|drop|keep)")
        ->capture_default_str();
    c->add_flag("--keep-html", a.keep_html, "do not strip HTML tags or decode entities");
    c->add_flag("--keep-markdown", a.keep_markdown, "do not strip markdown");
    c->add_flag("--no-nfkc", a.no_nfkc, "no Unicode NFKC normalisation");
    c->add_flag("--keep-empty", a.keep_empty, "keep posts whose normalised text is empty");
    // language
    c->add_option("--lang", a.lang, "keep these languages (ISO 639-1, e.g. fr,en); empty = all");
    c->add_option("--min-letters", a.o.language.min_letters,
                  "shorter texts (CLD2 letter bytes) are 'und' (undetermined)")->capture_default_str();
    c->add_flag("--allow-unreliable", a.allow_unreliable, "accept CLD2 answers it flags unreliable");
    c->add_flag("--drop-und", a.drop_und, "with --lang: also remove undetermined posts (kept by default)");
    // dedup
    c->add_flag("--no-exact", a.no_exact, "skip the exact-duplicate pass");
    c->add_option("--near-dup", a.o.dedup.near_dup, "Jaccard threshold on word shingles (0 = off)")
        ->capture_default_str();
    c->add_option("--shingle", a.o.dedup.shingle, "words per shingle")->capture_default_str();
    c->add_option("--num-hashes", a.o.dedup.num_hashes, "MinHash signature length")->capture_default_str();
    c->add_option("--bands", a.o.dedup.bands, "LSH bands (0 = chosen from --near-dup)")->capture_default_str();
    c->add_option("--seed", a.o.dedup.seed, "seed of the MinHash family")->capture_default_str()->check(kNonNegative);
    // spam
    SpamOptions& s = a.o.spam;
    c->add_option("--max-link-ratio", s.max_link_ratio, "links / (words + links) above this is spam")
        ->capture_default_str();
    c->add_option("--min-words", s.min_words, "fewer words is too short")->capture_default_str();
    c->add_option("--max-hashtags", s.max_hashtags, "more #hashtags is stuffing (-1 = off)")->capture_default_str();
    c->add_option("--max-char-run", s.max_char_run, "one character repeated more times in a row (0 = off)")
        ->capture_default_str();
    c->add_option("--max-token-share", s.max_token_share, "one word above this share of the words")
        ->capture_default_str();
    c->add_option("--token-share-min-words", s.token_share_min_words,
                  "posts with fewer words are not checked for --max-token-share")->capture_default_str();
    c->add_option("--author-factor", s.author_factor,
                  "authors with more than this x the median posts per author (0 = off)")->capture_default_str();
    c->add_option("--author-min-posts", s.author_min_posts, "... and more than this many posts")
        ->capture_default_str();
    // relevance
    c->add_option("--keep-mask", a.o.relevance.keep_mask, "relevance: file with one 0/1 per input row (adds the relevance step to the default --steps)");
    c->add_option("--keep-ids", a.o.relevance.keep_ids, "relevance: file with the ids to keep, one per line (as --keep-mask)");
    add_common(c, common);
    add_csv_flags(c, a.csv);
}

int cmd_clean(const CommonArgs& common, CleanCli& a) {
    (void)a.csv.delim();  // a bad --delimiter before any work
    Context ctx = common.context();
    CleanOptions o = a.o;
    o.steps = parse_clean_steps(a.steps);
    // a relevance file with the default steps: they run, then the relevance step
    if (!a.cmd->count("--steps") && (!o.relevance.keep_mask.empty() || !o.relevance.keep_ids.empty()))
        o.steps.push_back(CleanStep::Relevance);
    o.normalize.urls = parse_url_mode(a.urls);
    o.normalize.strip_html = !a.keep_html;
    o.normalize.strip_markdown = !a.keep_markdown;
    o.normalize.nfkc = !a.no_nfkc;
    o.normalize.drop_empty = !a.keep_empty;
    o.language.keep = parse_language_list(a.lang);
    o.language.drop_undetermined = a.drop_und;
    o.language.require_reliable = !a.allow_unreliable;
    o.dedup.exact = !a.no_exact;
    o.progress = !common.quiet;
    if (o.max_examples > 1000) throw InputError("--examples must be in 0..1000");
    Corpus corpus = read_corpus(a.input);
    std::vector<RemovedRow> removed;
    const StringColumn input_ids = a.removed.empty() ? StringColumn() : corpus.ids;
    CleanReport rep = clean(ctx, corpus, o, a.removed.empty() ? nullptr : &removed);
    if (rep.rows_in == 0)
        std::fprintf(stderr, "clean: warning: %s holds no post, so %s is an empty corpus too\n", a.input.c_str(),
                     a.output.c_str());
    else if (corpus.size() == 0)
        std::fprintf(stderr, "clean: warning: every post was removed, so %s is an empty corpus%s\n",
                     a.output.c_str(), a.report.empty() ? " (--report FILE says why)" : "; the report says why");
    write_corpus(corpus, a.output);
    if (!a.report.empty()) write_file_atomic(a.report, rep.to_json(a.input));
    if (!a.removed.empty()) {
        std::string csv = "row,id,step,reason,duplicate_of,detail\n";
        for (const RemovedRow& r : removed)
            csv += std::to_string(r.row) + "," + csv_field(input_ids[r.row]) + "," +
                   clean_step_name(r.step) + "," + csv_field(r.reason) + "," +
                   (r.duplicate_of >= 0 ? std::to_string(r.duplicate_of) : std::string()) + "," +
                   csv_field(r.detail) + "\n";
        write_file_atomic(a.removed, a.csv.apply(csv));
    }
    if (!common.quiet)
        std::fprintf(stderr, "clean: kept %llu of %llu posts; wrote %s\n", (unsigned long long)rep.rows_out,
                     (unsigned long long)rep.rows_in, a.output.c_str());
    return 0;
}

/// What `tmine run` adds to the stages' own flags: cleaning, the report, its CSV files.
struct RunArgs {
    std::string clean, lang, keep_mask, keep_ids, by = "month", title = "Topics", split = "none";
    int split_groups = 8;
    double near_dup = 0.8;
    SpamOptions spam;  // the prolific-author rule's two thresholds are run flags
    CsvArgs csv;
};
void add_run_flags(CLI::App* app, RunArgs& a) {
    app->add_option("--clean", a.clean,
                    "clean before vectorizing: steps normalize,language,dedup,spam,relevance (or 'all'); "
                    "tmine clean has every threshold");
    app->add_option("--lang", a.lang, "with --clean language: keep these languages (fr,en)");
    app->add_option("--near-dup", a.near_dup, "with --clean dedup: Jaccard threshold (0 = exact only)")
        ->capture_default_str();
    app->add_option("--keep-mask", a.keep_mask, "one 0/1 per ingested post: the relevance step keeps the 1s (alone, or after --clean all; "
                    "with other --clean steps, list relevance among them)");
    app->add_option("--keep-ids", a.keep_ids,
                    "as --keep-mask, the posts to keep by id, one per line (classify predict --keep-ids writes them)");
    app->add_option("--author-factor", a.spam.author_factor,
                    "with --clean spam: authors with more than this x the median posts per author go (0 = off)")
        ->capture_default_str();
    app->add_option("--author-min-posts", a.spam.author_min_posts, "... and more than this many posts")
        ->capture_default_str();
    app->add_option("--by", a.by, "time bins of the report: day, week or month")->capture_default_str();
    app->add_option("--title", a.title, "title of report.html")->capture_default_str();
    app->add_option("--split", a.split, "also split the time series by source or language")
        ->capture_default_str();
    app->add_option("--split-groups", a.split_groups, "largest groups shown with --split (the rest merged)")
        ->capture_default_str();
    add_csv_flags(app, a.csv);
}

int cmd_run(const CommonArgs& c, const IngestArgs& ia, const VectorizeArgs& va, const TopicArgs& ta,
            const RunArgs& ra, const std::string& outdir) {
    // Every flag is checked before the long stages, and before the output directory is made.
    InterpretOptions io;
    io.by = parse_time_bin(ra.by);
    io.split = parse_series_split(ra.split);
    io.split_groups = ra.split_groups;
    (void)va.options(true);  // --ngram, --min-df, stop-word files...
    (void)ta.options(true);  // -k, --solver, --init, --alpha-*...
    (void)ra.csv.delim();
    if (ra.split_groups < 1) throw InputError("--split-groups must be at least 1");
    if (ta.coherence_top < 2) throw InputError("--k-coherence-top must be at least 2");
    if (!ta.seed_terms.empty() && !fs::is_regular_file(ta.seed_terms))
        throw InputError(ta.seed_terms + ": cannot open the seed-terms file");
    if (io.split == SeriesSplit::Language && ra.clean.find("language") == std::string::npos &&
        ra.clean != "all")
        throw InputError("--split language needs the language step: --clean all or --clean language");
    if (!ra.lang.empty() && ra.clean.empty())
        throw InputError("--lang is applied by the cleaning's language step: add --clean all or --clean language");
    // The cleaning's options, checked before the ingest (a --lang or --keep-mask its steps
    // leave out, a bad step name, a missing relevance file).
    if (!ra.keep_mask.empty() && !ra.keep_ids.empty()) throw InputError("give --keep-mask or --keep-ids, not both");
    {
        const SpamOptions defaults;
        if ((ra.spam.author_factor != defaults.author_factor || ra.spam.author_min_posts != defaults.author_min_posts) &&
            ra.clean != "all" && ra.clean.find("spam") == std::string::npos)
            throw InputError("--author-factor and --author-min-posts are applied by the cleaning's spam step: add "
                             "--clean all or --clean spam");
    }
    const bool relevance = !ra.keep_mask.empty() || !ra.keep_ids.empty();
    const bool cleaning = !ra.clean.empty() || relevance;
    CleanOptions co;
    if (cleaning) {
        // --clean all: every step, the relevance one when a --keep-mask is given; a --keep-mask
        // alone: the relevance step alone
        co.steps = parse_clean_steps(ra.clean == "all" ? "normalize,language,dedup,spam"
                                     : ra.clean.empty() ? "relevance"
                                                        : ra.clean);
        if (ra.clean == "all" && relevance) co.steps.push_back(CleanStep::Relevance);
        co.language.keep = parse_language_list(ra.lang);
        co.dedup.near_dup = ra.near_dup;
        co.spam.author_factor = ra.spam.author_factor;
        co.spam.author_min_posts = ra.spam.author_min_posts;
        co.relevance.keep_mask = ra.keep_mask;
        co.relevance.keep_ids = ra.keep_ids;
        co.progress = !c.quiet;
        check_clean_options(co);
    }
    Context ctx = c.context();
    make_dirs(outdir);
    auto path = [&](const char* name) { return (fs::path(outdir) / name).string(); };
    // Every file run writes (or removes as stale), checked against the inputs before any work.
    const char* const kRunFiles[] = {"corpus.tmc", "matrix.tmx", "model/model.tmm", "k_selection.csv", "topics.json",
                                     "topics.csv", "documents.csv", "report.html", "clean.json"};
    for (const char* f : kRunFiles) refuse_input_as_output(path(f));
    auto t0 = Clock::now();
    Corpus corpus;
    IngestReport rep = ingest(ia.inputs, ia.options(c.quiet), corpus);
    print_ingest_summary(rep, c.quiet);
    if (corpus.size() == 0) throw InputError("run: no record kept from the inputs");
    std::string clean_json;
    double t_clean = 0;
    if (cleaning) {
        auto t_c = Clock::now();
        CleanReport cr = clean(ctx, corpus, co);
        clean_json = cr.to_json();
        write_file_atomic(path("clean.json"), clean_json);
        if (corpus.size() == 0) {
            // clean.json goes with the failed run's other outputs: what it says is said here
            std::string why;
            for (const StepReport& st : cr.steps)
                if (st.removed > 0) {
                    why += std::string(why.empty() ? "" : "; ") + st.step + " removed " + std::to_string(st.removed);
                    std::string reasons;
                    for (const auto& [reason, r] : st.reasons)
                        reasons += (reasons.empty() ? " (" : ", ") + reason + " " + std::to_string(r.count);
                    why += reasons.empty() ? "" : reasons + ")";
                }
            throw InputError("run: cleaning removed every post of " + std::to_string(cr.rows_in) + ": " + why);
        }
        if (!c.quiet)
            std::fprintf(stderr, "run: cleaning kept %llu of %llu posts (clean.json)\n",
                         (unsigned long long)cr.rows_out, (unsigned long long)cr.rows_in);
        t_clean = seconds_since(t_c);
    }
    write_corpus(corpus, path("corpus.tmc"));
    double t_ingest = seconds_since(t0) - t_clean;
    t0 = Clock::now();
    Vectorized v = va.run(ctx, corpus, c.quiet);
    // A k the data does not allow fails here, before the commit below takes an earlier run's
    // topics away.
    check_k(v.X, ta.ks().back(), nullptr);
    write_matrix(v, path("matrix.tmx"));
    // The corpus and the matrix are complete results of their own: kept even if the fit after
    // them fails or is interrupted (tmine topics can start again from the matrix). What an
    // earlier run left in this directory describes another corpus from now on: it goes.
    commit_deferred();
    {
        std::error_code ec;
        for (const char* stale : kRunFiles)  // all but the corpus, the matrix and the cleaning
            if (std::strcmp(stale, "corpus.tmc") != 0 && std::strcmp(stale, "matrix.tmx") != 0 &&
                std::strcmp(stale, "clean.json") != 0)
                fs::remove(path(stale), ec);
        if (!cleaning) fs::remove(path("clean.json"), ec);
    }
    double t_vec = seconds_since(t0);
    t0 = Clock::now();
    CorpusInfo info;
    info.skipped = static_cast<int64_t>(rep.skipped);
    info.source = path("corpus.tmc");
    TopicModel model = fit(ctx, v, ta, path("model"), c.quiet, info);
    write_model(model, path("model"));
    if (!model.k_selection.empty())
        write_file_atomic(path("k_selection.csv"), ra.csv.apply(k_selection_csv(model.k_selection)));
    double t_nmf = seconds_since(t0);
    t0 = Clock::now();
    TopicSummary s = summarize_topics(model, ta.top_terms);
    Interpretation it = interpret(ctx, model, s, &corpus, &v.X, io);
    if (!it.series_left_out.empty())
        std::fprintf(stderr, "run: warning: topics over time left out: %s\n", it.series_left_out.c_str());
    if (!clean_json.empty()) it.funnel = cleaning_funnel(clean_json, path("clean.json"));
    write_file_atomic(path("topics.json"), topics_json(model, s, &it));
    write_file_atomic(path("topics.csv"), ra.csv.apply(topics_csv(s)));
    write_file_atomic(path("documents.csv"), ra.csv.apply(documents_csv(s, &corpus)));
    ReportOptions ro;
    ro.title = ra.title;
    write_file_atomic(path("report.html"), html_report(model, s, it, ro));
    double t_export = seconds_since(t0);
    print_topics(s);
    if (!c.quiet)
        std::fprintf(stderr,
                 "run: %zu documents, %lld terms, k=%d, relative error %.4f on %s\n"
                 "run: ingest %.2f s, clean %.2f s, vectorize %.2f s, topics %.2f s, export %.2f s; "
                 "wrote %s and %s\n",
                 corpus.size(), (long long)v.X.cols, model.nmf.k, model.nmf.relative_error,
                 ctx.description().c_str(), t_ingest, t_clean, t_vec, t_nmf, t_export,
                 path("topics.json").c_str(), path("report.html").c_str());
    return 0;
}

// ---- classify and query: relevance classifiers and boolean queries (docs/classify.md) ----

struct ClassifyCli {
    std::string matrix, corpus, model_dir, out, mask, keep_ids, positive, model = "logreg",
        class_weight = "none";
    CsvArgs csv;  // predict's scores; pick's file is always for a spreadsheet
    std::vector<std::string> labels, weak_labels;
    double C = 1.0, alpha = 1.0, tol = 1e-5, threshold = 0.5, target_precision = 0,
           random_share = 0.25;
    int max_iter = 1000, folds = 5, cv_folds = 5;
    int64_t n = 200;
    uint64_t seed = 0;
    bool allow_empty = false;
    CLI::App *cmd = nullptr, *train = nullptr, *predict = nullptr, *eval = nullptr, *pick = nullptr;

    ClassifyOptions options(bool quiet) const {
        ClassifyOptions o;
        o.kind = parse_classifier_kind(model);
        o.C = C;
        o.alpha = alpha;
        o.tol = tol;
        o.max_iter = max_iter;
        if (class_weight != "none" && class_weight != "balanced")
            throw InputError("--class-weight: expected none or balanced, got '" + class_weight + "'");
        o.balanced = class_weight == "balanced";
        o.progress = !quiet;
        validate(o);
        return o;
    }
};

/// The matrix, and the corpus when given (its ids and texts; rows must agree).
struct ClassifyInputs {
    Vectorized v;
    Corpus corpus;
    bool has_corpus = false;
    /// How the output files name the posts (valid while this lives where it is).
    PostIds ids() const { return PostIds(has_corpus ? &corpus : nullptr, v.X.rows); }
};
ClassifyInputs classify_inputs(const ClassifyCli& a) {
    ClassifyInputs in;
    in.v = read_matrix(a.matrix);
    if (!a.corpus.empty()) {
        in.corpus = read_corpus(a.corpus);
        in.has_corpus = true;
        CorpusInfo info;
        info.documents = in.v.X.rows;
        info.fingerprint = in.v.corpus_fingerprint;
        check_same_corpus(info, in.corpus, a.corpus, a.matrix);
    }
    return in;
}
LabelSet classify_labels(const ClassifyCli& a, const ClassifyInputs& in, bool quiet, bool for_training = true) {
    LabelReadOptions lo;
    lo.allow_empty = a.allow_empty;
    lo.for_training = for_training;
    if (for_training) {
        if (a.labels.empty() && a.weak_labels.empty())
            throw InputError("give the labelled rows: --labels FILE (a person's), --weak-labels FILE (tmine query's), "
                             "or both");
        lo.weak_paths = a.weak_labels;
    }
    if (!in.has_corpus && !quiet) {
        std::string files;
        for (const auto& f : a.labels) files += (files.empty() ? "" : ", ") + f;
        if (for_training)
            for (const auto& f : a.weak_labels) files += (files.empty() ? "" : ", ") + f;
        std::fprintf(stderr, "classify: note: without --corpus the ids in %s are row numbers of %s (0..%lld); "
                             "pass --corpus to match them to the posts' ids as ingested\n",
                     files.c_str(), a.matrix.c_str(), (long long)in.v.X.rows - 1);
    }
    LabelSet ls = read_labels(a.labels, in.has_corpus ? &in.corpus : nullptr, in.v.X.rows, lo);
    if (!lo.weak_paths.empty() && !quiet)
        std::fprintf(stderr, "classify: %zu labelled rows: %lld from --labels, %lld from --weak-labels only; "
                             "--labels changed %lld weak labels\n",
                     ls.rows.size(), (long long)(int64_t(ls.rows.size()) - ls.weak_rows), (long long)ls.weak_rows,
                     (long long)ls.weak_overridden);
    // Classes are the labels as written: "Yes" and "yes" are two. Said, since a spreadsheet's
    // auto-capitalisation or a stray space makes such a pair by accident.
    std::map<std::string, std::string> folded;
    for (const std::string& cls : ls.classes) {
        std::string key;
        for (char ch : cls)
            if (ch != ' ' && ch != '\t') key += char(std::tolower(static_cast<unsigned char>(ch)));
        auto [it, fresh] = folded.emplace(key, cls);
        if (!fresh)
            std::fprintf(stderr, "classify: warning: the labels '%s' and '%s' differ only in case or spaces; "
                                 "they are two classes\n", it->second.c_str(), cls.c_str());
    }
    return ls;
}

int cmd_classify_train(const CommonArgs& c, const ClassifyCli& a) {
    Context ctx = c.context();
    ClassifyOptions o = a.options(c.quiet);
    if (a.cv_folds < 0 || a.cv_folds == 1) throw InputError("--cv-folds must be 0 (none) or >= 2");
    ClassifyInputs in = classify_inputs(a);
    LabelSet ls = classify_labels(a, in, c.quiet);
    CsrMatrix X = take_rows(in.v.X, ls.rows);
    Classifier clf = train(ctx, X, ls.y, ls.classes, o);
    clf.positive = choose_positive(ls.classes, a.positive);
    clf.vocabulary_hash = vocabulary_hash(in.v.vocabulary);
    if (ls.classes.size() == 2 && a.cv_folds >= 2) {
        // out-of-fold scores: what --target-precision chooses its threshold on
        int64_t smallest = *std::min_element(clf.class_counts.begin(), clf.class_counts.end());
        if (smallest >= a.cv_folds) {
            ClassifyOptions q = o;
            q.progress = false;
            EvalReport r = cross_validate(ctx, X, ls.y, ls.classes, clf.positive, q, a.cv_folds, a.seed);
            for (size_t i = 0; i < ls.y.size(); ++i) {
                clf.cv_scores.push_back(r.oof_proba[i * 2 + clf.positive]);
                clf.cv_truth.push_back(ls.y[i] == clf.positive);
            }
            if (!c.quiet)
                std::fprintf(stderr, "classify: %d-fold cross-validation: precision %.4f, recall %.4f, ROC AUC %.4f\n",
                             a.cv_folds, r.precision[clf.positive], r.recall[clf.positive], r.roc_auc);
        } else if (!c.quiet) {
            std::fprintf(stderr, "classify: too few labels per class for %d-fold cross-validation; "
                                 "--target-precision will not be available\n", a.cv_folds);
        }
    }
    write_classifier(clf, a.out);
    if (!c.quiet)
        std::fprintf(stderr, "classify: %s on %lld labelled rows, %zu classes, %lld features: %d iterations (%s) in %.2f s on %s; wrote %s\n",
                     classifier_kind_name(clf.kind), (long long)clf.train_rows, clf.classes.size(),
                     (long long)clf.n_features, clf.iterations, clf.stop_reason.c_str(), clf.seconds,
                     ctx.description().c_str(), a.out.c_str());
    return 0;
}

int cmd_classify_predict(const CommonArgs& c, const ClassifyCli& a, const CLI::App* cmd) {
    const char delimiter = a.csv.delim();  // a bad --delimiter before any work
    Context ctx = c.context();
    Classifier clf = read_classifier(a.model_dir);
    ClassifyInputs in = classify_inputs(a);
    if (clf.vocabulary_hash && vocabulary_hash(in.v.vocabulary) != clf.vocabulary_hash)
        throw InputError(a.matrix + ": its vocabulary differs from the one the classifier was trained on "
                         "(vectorize the posts with the same settings and vocabulary)");
    int positive = a.positive.empty() ? clf.positive : choose_positive(clf.classes, a.positive);
    const int K = static_cast<int>(clf.classes.size());
    double thr = a.threshold;
    if (!(thr >= 0 && thr <= 1)) throw InputError("--threshold must be in [0, 1]");
    if (cmd->count("--target-precision")) {
        if (cmd->count("--threshold")) throw InputError("give --threshold or --target-precision, not both");
        if (clf.cv_scores.empty() || positive != clf.positive)
            throw InputError(a.model_dir + ": no cross-validated scores for this class in the classifier "
                             "(binary labels with at least --cv-folds per class are needed at training)");
        double rec = 0, prec = 0;
        thr = threshold_for_precision(clf.cv_scores, clf.cv_truth, a.target_precision, &rec, &prec);
        if (!c.quiet)
            std::fprintf(stderr, "classify: threshold %.4f reaches precision %.4f with recall %.4f "
                                 "on the cross-validated training labels\n", thr, prec, rec);
    }
    if ((!a.mask.empty() || !a.keep_ids.empty()) && positive < 0)
        throw InputError(std::string(a.mask.empty() ? "--keep-ids" : "--mask") +
                         " needs a relevant class: give --positive LABEL for a multiclass model");
    if (!a.keep_ids.empty() && !in.ids().by_ids())
        throw InputError("--keep-ids names the kept posts by their ids: give --corpus, ingested with --id-field "
                         "(or write --mask, one 0/1 per row of this matrix)");
    auto t0 = Clock::now();
    std::vector<float> P = predict_proba(ctx, clf, in.v.X);
    double secs = seconds_since(t0);
    const int64_t n = in.v.X.rows;
    const PostIds ids = in.ids();
    std::string csv = "id,label,score\n";
    std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float* p = &P[static_cast<size_t>(i) * K];
        int best = static_cast<int>(std::max_element(p, p + K) - p);
        float score = p[best];
        if (positive >= 0) {
            keep[i] = p[positive] >= thr;
            kept += keep[i];
        }
        if (K == 2 && positive >= 0) {  // binary: the relevant class's probability, cut at thr
            score = p[positive];
            best = keep[i] ? positive : 1 - positive;
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6f", score);
        csv += csv_field(ids.name(i)) + "," + csv_field(clf.classes[best]) + "," + buf + "\n";
    }
    write_file_atomic(a.out, recode_csv(csv, delimiter, a.csv.spreadsheet));
    if (!a.mask.empty()) write_mask(a.mask, keep);
    if (!a.keep_ids.empty()) {
        // The kept posts by id, one per line: clean --keep-ids and run --keep-ids read them
        // against any corpus holding these posts (the ingested one, before cleaning, too).
        std::string list;
        int64_t unnamed = 0;
        for (int64_t i = 0; i < n; ++i) {
            if (!keep[static_cast<size_t>(i)]) continue;
            const std::string id = ids.name(i);
            if (!ids.named(i) || id.find_first_of("\r\n") != std::string::npos) {
                ++unnamed;
                continue;
            }
            list += id + "\n";
        }
        if (unnamed > 0)
            throw InputError("--keep-ids: " + std::to_string(unnamed) + " kept posts have an empty or shared id, "
                             "or one with a line break, which a list of ids cannot name; write --mask (one 0/1 "
                             "per row) instead");
        write_file_atomic(a.keep_ids, list);
    }
    if (!c.quiet) {
        std::fprintf(stderr, "classify: scored %lld posts in %.2f s (%.0f posts/s) on %s; wrote %s\n",
                     (long long)n, secs, secs > 0 ? n / secs : 0.0, ctx.description().c_str(), a.out.c_str());
        if (positive >= 0)
            std::fprintf(stderr, "classify: %lld posts have P(%s) >= %.4f%s\n", (long long)kept,
                         clf.classes[positive].c_str(), thr,
                         a.mask.empty() ? "" : (" (mask " + a.mask + ")").c_str());
    }
    return 0;
}

int cmd_classify_eval(const CommonArgs& c, const ClassifyCli& a) {
    Context ctx = c.context();
    ClassifyOptions o = a.options(c.quiet);
    ClassifyInputs in = classify_inputs(a);
    LabelSet ls = classify_labels(a, in, c.quiet);
    CsrMatrix X = take_rows(in.v.X, ls.rows);
    int positive = choose_positive(ls.classes, a.positive);
    EvalReport r = cross_validate(ctx, X, ls.y, ls.classes, positive, o, a.folds, a.seed);
    std::fputs(eval_table(r).c_str(), stdout);
    if (!a.out.empty()) write_file_atomic(a.out, eval_json(r, o));
    return 0;
}

int cmd_classify_pick(const CommonArgs& c, const ClassifyCli& a) {
    const char delimiter = a.csv.delim();  // a bad --delimiter before any work
    Context ctx = c.context();
    if (labels_named_jsonl(a.out))
        throw InputError(a.out + ": pick writes CSV for a spreadsheet, which --labels would read as "
                                 "JSON Lines by this name: name it .csv");
    if (a.corpus.empty())
        throw InputError("classify pick: --corpus is required: the file to label holds each post's id and "
                         "text, which the matrix does not keep");
    Classifier clf = read_classifier(a.model_dir);
    ClassifyInputs in = classify_inputs(a);
    if (clf.vocabulary_hash && vocabulary_hash(in.v.vocabulary) != clf.vocabulary_hash)
        throw InputError(a.matrix + ": its vocabulary differs from the one the classifier was trained on");
    if (a.n < 1) throw InputError("-n must be >= 1");
    if (!(a.random_share >= 0 && a.random_share <= 1)) throw InputError("--random must be in [0, 1]");
    std::vector<int64_t> exclude;
    if (!a.labels.empty()) exclude = classify_labels(a, in, c.quiet, false).rows;
    // Rows that can be picked: those not labelled yet, and with a name that --labels can read
    // back (not an empty or shared id). Fewer than -n: all of them, said once.
    const PostIds ids = in.ids();
    std::vector<uint8_t> labelled(static_cast<size_t>(in.v.X.rows), 0);
    for (int64_t r : exclude)
        if (r >= 0 && r < in.v.X.rows) labelled[static_cast<size_t>(r)] = 1;
    const int64_t n_labelled = std::count(labelled.begin(), labelled.end(), 1);
    int64_t unnamed = 0;
    for (int64_t r = 0; r < in.v.X.rows; ++r)
        if (!labelled[static_cast<size_t>(r)] && !ids.named(r)) {
            exclude.push_back(r);
            ++unnamed;
        }
    if (unnamed && !c.quiet)
        std::fprintf(stderr, "classify: note: %lld posts have an empty or shared id, so a label could not "
                             "name them: pick leaves them out\n", (long long)unnamed);
    const int64_t available = in.v.X.rows - n_labelled - unnamed;
    if (available == 0)
        throw InputError("classify pick: no row to pick: of the " + std::to_string(in.v.X.rows) + " rows of " +
                         a.matrix + ", " + std::to_string(n_labelled) + " are labelled in --labels and " +
                         std::to_string(unnamed) + " have an empty or shared id" +
                         (n_labelled > 0 ? " (the weak labels of tmine query go to classify train --weak-labels; "
                                           "pick's --labels takes the rows a person labelled)"
                                         : ""));
    int64_t n = a.n;
    if (n > available) {
        std::fprintf(stderr, "classify: note: -n %lld, but only %lld rows can be picked (%lld rows in %s, "
                             "%lld of them already labelled, %lld with an empty or shared id); picking those %lld\n",
                     (long long)a.n, (long long)available, (long long)in.v.X.rows, a.matrix.c_str(),
                     (long long)n_labelled, (long long)unnamed, (long long)available);
        n = available;
    }
    std::vector<float> P = predict_proba(ctx, clf, in.v.X);
    const int K = static_cast<int>(clf.classes.size());
    const int64_t n_random = static_cast<int64_t>(std::llround(double(n) * a.random_share));
    std::vector<Pick> picks = pick_rows(P, in.v.X.rows, K, n, n_random, a.seed, exclude);
    // For people, in a spreadsheet (recode_csv): UTF-8 with its byte-order mark (else accents
    // are misread), the delimiter their spreadsheet expects, no cell it would read as a formula
    // or a number ("@user …" replies, 19-digit ids: those get the apostrophe read_labels()
    // takes off), and no text over a cell's 32,767 characters (it would spill into the next rows).
    std::string csv = "id,label,predicted,score,reason,text\n";
    for (const Pick& p : picks) {
        const float* pr = &P[static_cast<size_t>(p.row) * K];
        int best = static_cast<int>(std::max_element(pr, pr + K) - pr);
        float score = (K == 2 && clf.positive >= 0) ? pr[clf.positive] : pr[best];
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6f", score);
        std::string_view text = in.has_corpus ? in.corpus.text[static_cast<size_t>(p.row)] : "";
        csv += csv_field(ids.name(p.row)) + ",," + csv_field(clf.classes[best]) + "," + buf + "," +
               (p.random ? "random" : "uncertain") + "," + csv_field(cut_for_cell(text)) + "\n";
    }
    csv = recode_csv(csv, delimiter, true);
    write_file_atomic(a.out, csv);
    if (!c.quiet)
        std::fprintf(stderr, "classify: picked %zu posts (%lld at random) to label; fill in the label "
                             "column of %s and pass it back with --labels\n",
                     picks.size(), (long long)std::min<int64_t>(n_random, picks.size()), a.out.c_str());
    return 0;
}

void add_classify_commands(CLI::App& app, ClassifyCli& a, CommonArgs& common) {
    a.cmd = app.add_subcommand("classify", "relevance classifiers: train, predict, eval, pick");
    a.cmd->require_subcommand(1);
    auto matrix = [&](CLI::App* s) {
        s->add_option("matrix", a.matrix, "TF-IDF matrix file (.tmx)")->required()->check(CLI::ExistingFile);
        s->add_option("--corpus", a.corpus, "the corpus the matrix was vectorized from: ids and texts");
        add_common(s, common);
    };
    auto model_flags = [&](CLI::App* s) {
        s->add_option("--model", a.model, "logreg (logistic regression) or nb (multinomial naive Bayes)")
            ->capture_default_str();
        s->add_option("--C", a.C, "inverse L2 regularisation (logreg)")->capture_default_str();
        s->add_option("--alpha", a.alpha, "additive smoothing (nb)")->capture_default_str();
        s->add_option("--class-weight", a.class_weight, "none or balanced")->capture_default_str();
        s->add_option("--max-iter", a.max_iter, "L-BFGS iterations at most (logreg)")->capture_default_str();
        s->add_option("--tol", a.tol, "stop when max |gradient| <= tol (logreg)")->capture_default_str();
        s->add_option("--positive", a.positive, "the relevant class (default: 1/true/yes/relevant or the second)");
        s->add_flag("--allow-empty", a.allow_empty, "skip label rows whose label is empty");
        s->add_option("--seed", a.seed, "seed of the fold assignment")->capture_default_str()->check(kNonNegative);
    };
    a.train = a.cmd->add_subcommand("train", "fit a classifier on labelled rows");
    matrix(a.train);
    a.train->add_option("--labels", a.labels, "id,label as CSV (with header) or JSON Lines; repeat to add files")
        ->check(CLI::ExistingFile);
    a.train->add_option("--weak-labels", a.weak_labels,
                        "weak labels (tmine query --labels): rows --labels does not label take theirs; repeatable")
        ->check(CLI::ExistingFile);
    a.train->add_option("-o,--output", a.out, "classifier directory to write")->required();
    model_flags(a.train);
    a.train->add_option("--cv-folds", a.cv_folds, "folds for the out-of-fold scores --target-precision uses (0 = none)")
        ->capture_default_str();

    a.predict = a.cmd->add_subcommand("predict", "score every row: CSV id,label,score and a keep-mask");
    matrix(a.predict);
    a.predict->add_option("--model", a.model_dir, "classifier directory (from classify train)")->required();
    a.predict->add_option("-o,--output", a.out, "scores CSV to write")->required();
    a.predict->add_option("--mask", a.mask, "also write the keep-mask: one 0/1 per row");
    a.predict->add_option("--keep-ids", a.keep_ids,
                          "also write the kept posts' ids, one per line (for clean or run --keep-ids; needs --corpus)");
    a.predict->add_option("--threshold", a.threshold, "keep rows whose relevant-class probability is >= this")
        ->capture_default_str();
    a.predict->add_option("--target-precision", a.target_precision,
                          "choose the threshold reaching this precision on the cross-validated training labels");
    a.predict->add_option("--positive", a.positive, "the relevant class (default: the classifier's)");
    add_csv_flags(a.predict, a.csv);

    a.eval = a.cmd->add_subcommand("eval", "stratified k-fold cross-validation on labelled rows");
    matrix(a.eval);
    // (no --weak-labels: scores against a query's own labels would measure the query)
    a.eval->add_option("--labels", a.labels, "id,label as CSV (with header) or JSON Lines; repeat to add files")->required()
        ->check(CLI::ExistingFile);
    a.eval->add_option("--folds", a.folds, "number of folds")->capture_default_str();
    a.eval->add_option("-o,--output", a.out, "also write the metrics as JSON");
    model_flags(a.eval);

    a.pick = a.cmd->add_subcommand("pick", "export the posts to label next (most uncertain + a random sample)");
    matrix(a.pick);
    a.pick->add_option("--model", a.model_dir, "classifier directory (from classify train)")->required();
    a.pick->add_option("-n", a.n, "posts to pick")->capture_default_str();
    a.pick->add_option("--random", a.random_share, "share of them drawn at random")->capture_default_str();
    a.pick->add_option("--labels", a.labels, "already labelled rows (never picked again)")->check(CLI::ExistingFile);
    a.pick->add_option("--seed", a.seed, "seed of the random sample")->capture_default_str()->check(kNonNegative);
    a.pick->add_flag("--allow-empty", a.allow_empty, "skip label rows whose label is empty");
    a.pick->add_option("-o,--output", a.out, "CSV to write: id,label (empty),predicted,score,reason,text")
        ->required();
    add_csv_flags(a.pick, a.csv, false);
}

int cmd_classify(const CommonArgs& c, const ClassifyCli& a) {
    if (*a.train) return cmd_classify_train(c, a);
    if (*a.predict) return cmd_classify_predict(c, a, a.predict);
    if (*a.eval) return cmd_classify_eval(c, a);
    return cmd_classify_pick(c, a);
}

struct QueryCli {
    std::string corpus, query, out, labels, label_match = "relevant", label_other = "other";
    bool accent_sensitive = false;
    CLI::App* cmd = nullptr;
};

void add_query_command(CLI::App& app, QueryCli& a, CommonArgs& common) {
    a.cmd = app.add_subcommand("query", "boolean keyword query over a corpus: a 0/1 mask per post");
    a.cmd->add_option("corpus", a.corpus, "corpus file (.tmc)")->required()->check(CLI::ExistingFile);
    a.cmd->add_option("query", a.query, "e.g. 'netflix OR (streaming AND NOT spotify) OR \"séries en ligne\"'; -word is NOT word "
                      "(a query that starts with '-' goes after '--': tmine query c.tmc -o m.txt -- '-spotify music')")
        ->required();
    a.cmd->add_option("-o,--output", a.out, "mask file to write: one 0/1 line per corpus row")->required();
    a.cmd->add_flag("--accent-sensitive", a.accent_sensitive, "é and e differ");
    a.cmd->add_option("--labels", a.labels,
                      "also write weak labels for classify train: CSV id,label for every post (ids as ingested, "
                      "else row numbers)");
    a.cmd->add_option("--label-match", a.label_match, "--labels: the label of a post that matches")
        ->capture_default_str();
    a.cmd->add_option("--label-other", a.label_other, "--labels: the label of a post that does not")
        ->capture_default_str();
    add_common(a.cmd, common);  // runs on the CPU whatever --device says
}

int cmd_query(const CommonArgs& c, const QueryCli& a) {
    parse_device(c.device);
    QueryOptions qo;
    qo.accent_sensitive = a.accent_sensitive;
    Query q = Query::parse(a.query, qo);
    for (const std::string& w : q.warnings()) std::fprintf(stderr, "query: warning: %s\n", w.c_str());
    if (!a.labels.empty()) {
        auto check = [](const std::string& label, const char* flag) {
            if (label.empty() || utf8_error_at(label) != std::string::npos)
                throw InputError(std::string(flag) + ": a label must be non-empty UTF-8");
        };
        check(a.label_match, "--label-match");
        check(a.label_other, "--label-other");
        if (a.label_match == a.label_other) throw InputError("--label-match and --label-other must differ");
    }
    Corpus corpus = read_corpus(a.corpus);
    auto t0 = Clock::now();
    std::vector<uint8_t> mask = query_mask(Context::cpu(c.threads), corpus, q);
    write_mask(a.out, mask);
    size_t hits = 0;
    for (uint8_t m : mask) hits += m;
    if (!a.labels.empty()) {
        // Weak labels for classify train --corpus, which reads ids as read_labels() does (a
        // post whose id is empty or shared cannot be named, and is left out).
        // CSV, or JSON Lines where the name says so (read_labels() reads it by its name).
        const PostIds ids(&corpus, int64_t(corpus.size()));
        const bool jsonl = labels_named_jsonl(a.labels);
        std::string out = jsonl ? "" : "id,label\n";
        const std::string match = jsonl ? json_string(a.label_match) : csv_field(a.label_match),
                          other = jsonl ? json_string(a.label_other) : csv_field(a.label_other);
        size_t unnamed = 0;
        for (size_t i = 0; i < corpus.size(); ++i) {
            if (!ids.named(int64_t(i))) {
                ++unnamed;
                continue;
            }
            const std::string name = ids.name(int64_t(i));
            if (jsonl)
                out += "{\"id\":" + json_string(name) + ",\"label\":" + (mask[i] ? match : other) + "}\n";
            else
                out += csv_field(name) + "," + (mask[i] ? match : other) + "\n";
        }
        write_file_atomic(a.labels, out);
        if (!c.quiet && unnamed)
            std::fprintf(stderr, "query: note: %zu posts have an empty or shared id, so %s leaves them out\n",
                         unnamed, a.labels.c_str());
    }
    if (!c.quiet)
        std::fprintf(stderr, "query: %s\nquery: %zu of %zu posts match (%.2f s); wrote %s\n",
                     q.describe().c_str(), hits, mask.size(), seconds_since(t0), a.out.c_str());
    if (hits == 0 && !mask.empty())
        std::fprintf(stderr, "query: warning: no post matches%s\n",
                     a.query.find('@') == std::string::npos
                         ? " (if you meant an account: a post's @mention is one token with its @, so write "
                           "@brand or @brand*)"
                         : "");
    return 0;
}

}  // namespace

namespace {

/// The environment tmine runs in, set before anything is loaded, by starting the program
/// again once (tunables and library settings are read at start-up). Two settings:
///
/// Transparent huge pages for the heap. tmine's stages allocate large arrays (tokens, term
/// tables, matrices) and touch each page once; with 4 KiB pages the page faults cost 10-20% of
/// a vectorize run (measured on the 2-core VM; docs/benchmarks.md). Where the kernel gives
/// huge pages on request only (the usual "madvise" setting), glibc asks for them when its
/// tunable glibc.malloc.hugetlb is 1. The same start keeps freed memory in the process: with
/// glibc's defaults a freed block above the mmap threshold goes back to the kernel, and so does
/// the top of a heap above the trim threshold, and the next array of that size faults its
/// pages in (and zeroes them) again. The stages grow and free tables and token arrays all the
/// time (a vectorize run faulted for about 15% of its tokenising time), so blocks up to 32 MiB
/// come from the heaps and heaps are not trimmed. tmine is a batch program: its peak memory is
/// what it needs anyway. TMINE_HUGEPAGES=0 turns this off.
///
/// OpenBLAS's kernels on Intel CPUs. Debian's OpenBLAS 0.3.21 picks its kernels by CPU model
/// when it loads; on a model newer than it knows (the Intel Xeon, family 6 model 207, of
/// docs/benchmarks.md) it falls back to its SSE3 kernels: SGEMM at 12 GFLOP/s a core instead
/// of 45-60, and the NNDSVD initialisation's double-precision Cholesky QR as slow. On Intel,
/// the kernels OpenBLAS would choose for every model it knows are its SkylakeX ones where the
/// CPU has AVX-512 (F, BW, DQ, VL, CD: x86-64-v4) and its Haswell ones where it has AVX2 and FMA
/// (x86-64-v3), so tmine names them (OPENBLAS_CORETYPE) unless the user did. Other vendors are
/// left to OpenBLAS's own choice. (So TMINE_HUGEPAGES=0 alone no longer avoids the second
/// start on Intel CPUs: OPENBLAS_CORETYPE set by the user does.)
void start_with_tuned_environment(char** argv) {
    bool changed = false;
    const char* off = std::getenv("TMINE_HUGEPAGES");
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    std::string t = tunables ? tunables : "";
    if (!(off && std::strcmp(off, "0") == 0) && t.find("glibc.malloc.hugetlb") == std::string::npos) {
        auto add = [&t](const char* name, const char* value) {
            if (t.find(name) == std::string::npos) t += (t.empty() ? "" : ":") + std::string(name) + "=" + value;
        };
        add("glibc.malloc.hugetlb", "1");
        add("glibc.malloc.mmap_threshold", "33554432");
        add("glibc.malloc.trim_threshold", "4294967295");
        if (setenv("GLIBC_TUNABLES", t.c_str(), 1) == 0) changed = true;
    }
    if (!std::getenv("OPENBLAS_CORETYPE") && cpu_is_intel()) {
        const int level = cpu_vector_level();
        const char* core = level == 3 ? "SkylakeX" : level == 2 ? "Haswell" : nullptr;
        if (core && setenv("OPENBLAS_CORETYPE", core, 1) == 0) changed = true;
    }
    if (changed) execv("/proc/self/exe", argv);  // returns only on failure: carry on without
}

/// SIGINT, SIGTERM and SIGHUP remove the temp files being written, then end the process as the
/// signal would have: an interrupted run leaves its earlier outputs and nothing half-written.
extern "C" void on_fatal_signal(int sig) {
    remove_temp_files();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void install_signal_handlers() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        // A signal the caller ignores (nohup, a background job's SIGINT) stays ignored.
        if (std::signal(sig, on_fatal_signal) == SIG_IGN) std::signal(sig, SIG_IGN);
    }
}

}  // namespace

int main(int argc, char** argv) {
    start_with_tuned_environment(argv);
    CLI::App app{"tmine: GPU-accelerated text mining, from crawled posts to topics"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tmine 0.1.0");

    CommonArgs common;
    IngestArgs ia;
    VectorizeArgs va;
    TopicArgs ta;
    std::string out, input, format = "json", documents, corpus_path;

    auto* ingest_cmd = app.add_subcommand("ingest", "stream JSON Lines / JSON / CSV (.gz) into a corpus file");
    add_ingest_flags(ingest_cmd, ia);
    ingest_cmd->add_option("-o,--output", out, "corpus file to write (.tmc)")->required();
    add_common(ingest_cmd, common);  // ingest runs on the CPU whatever --device says

    auto* vec_cmd = app.add_subcommand("vectorize", "tokenise and weight a corpus into a TF-IDF matrix");
    vec_cmd->add_option("corpus", input, "corpus file (.tmc)")->required()->check(CLI::ExistingFile);
    vec_cmd->add_option("-o,--output", out, "matrix file to write (.tmx)")->required();
    add_vectorize_flags(vec_cmd, va);
    add_common(vec_cmd, common);

    auto* topics_cmd = app.add_subcommand("topics", "fit NMF topics on a TF-IDF matrix");
    topics_cmd->add_option("matrix", input, "matrix file (.tmx)")->required()->check(CLI::ExistingFile);
    topics_cmd->add_option("-o,--output", out, "model directory to write")->required();
    add_topic_flags(topics_cmd, ta, true);
    add_common(topics_cmd, common);
    CsvArgs csv;  // the one command that runs: topics' k_selection.csv, export's and transform's CSVs
    add_csv_flags(topics_cmd, csv);

    ExportArgs ea;
    auto* export_cmd = app.add_subcommand("export", "export a model's topics as JSON, CSV or an HTML report");
    export_cmd->add_option("model", input, "model directory (from tmine topics)")->required();
    export_cmd->add_option("--format", format, "json, csv (terms) or html (self-contained report)")
        ->capture_default_str();
    export_cmd->add_option("--by", ea.by, "time series bins: day, week or month")->capture_default_str();
    export_cmd->add_option("--groups", ea.groups, "topic cluster groups (0 = round(sqrt(k)))")->capture_default_str();
    export_cmd->add_option("--posts", ea.posts, "representative posts per topic")->capture_default_str();
    export_cmd->add_option("--coherence-top", ea.coherence_top, "top terms per topic for coherence")
        ->capture_default_str();
    export_cmd->add_option("--tables", ea.tables, "also write the CSV tables (topics, terms, weights, clusters, time series) to DIR");
    export_cmd->add_option("--title", ea.title, "title of the HTML report")->capture_default_str();
    export_cmd->add_option("--segments", ea.segments, "author segments (k-means over author topic profiles)")
        ->capture_default_str();
    export_cmd->add_option("--min-author-posts", ea.min_author_posts, "authors with fewer posts get no profile")
        ->capture_default_str();
    export_cmd->add_option("--matrix", ea.matrix, "the training matrix (.tmx), for coherence without re-vectorizing the corpus");
    export_cmd->add_option("-o,--output", out, "file to write")->required();
    export_cmd->add_option("--documents", documents, "also write each document's dominant topic (CSV)");
    export_cmd->add_option("--corpus", corpus_path, "corpus file of the model: ids and times, posts, time series, coherence");
    export_cmd->add_option("--top-terms", ta.top_terms, "terms listed per topic")->capture_default_str();
    export_cmd->add_option("--split", ea.split, "also split the time series by source or language")
        ->capture_default_str();
    export_cmd->add_option("--split-groups", ea.split_groups, "largest groups shown with --split (the rest merged)")
        ->capture_default_str();
    export_cmd->add_option("--clean-report", ea.clean_reports,
                           "clean.json of the corpus: the report shows the cleaning funnel (repeat for a corpus cleaned "
                           "stage by stage, in the order the cleanings ran)");
    add_common(export_cmd, common);  // --device: where the coherence counts run
    add_csv_flags(export_cmd, csv);

    std::string corpus_in;
    auto* transform_cmd = app.add_subcommand(
        "transform", "score new documents against a fitted model (its vocabulary, idf and H)");
    transform_cmd->add_option("model", input, "model directory (from tmine topics or run)")->required();
    transform_cmd->add_option("corpus", corpus_in, "corpus file of the new documents (.tmc)")
        ->required()
        ->check(CLI::ExistingFile);
    transform_cmd->add_option("-o,--output", out, "documents CSV to write")->required();
    transform_cmd->add_option("--iters", ta.iters, "iterations with H fixed")->capture_default_str();
    transform_cmd->add_option("--tol", ta.tol, "tolerance, as for topics")->capture_default_str();
    add_common(transform_cmd, common);
    add_csv_flags(transform_cmd, csv);

    auto* run_cmd = app.add_subcommand(
        "run", "ingest, (clean,) vectorize, fit topics and export JSON, CSV and report.html in one go");
    add_ingest_flags(run_cmd, ia);
    add_vectorize_flags(run_cmd, va);
    add_topic_flags(run_cmd, ta, true);
    add_common(run_cmd, common);
    RunArgs ra;
    add_run_flags(run_cmd, ra);
    run_cmd->add_option("-o,--output", out, "output directory")->required();

    ClassifyCli classify_args;
    add_classify_commands(app, classify_args, common);
    QueryCli query_args;
    add_query_command(app, query_args, common);
    CleanCli clean_args;
    add_clean_command(app, clean_args, common);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // A bad command line is an error like any other: one line, exit code 1.
        std::string cmd;  // the subcommand named, if it is one
        for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
            if (argc > 1 && sub->get_name() == argv[1]) cmd = sub->get_name() + " ";
        // A mistyped option: CLI11 may first fail on its value, taken for an input file
        // ("inputs: File does not exist: body" for --txt-field body); name the option instead.
        const std::string unknown = first_unknown_option(app, argc, argv);
        if (!unknown.empty())
            std::fprintf(stderr, "tmine: error: unknown option %s (tmine %s--help lists the options)\n",
                         unknown.c_str(), cmd.c_str());
        else
            std::fprintf(stderr, "tmine: error: %s (tmine %s--help lists the options)\n", e.what(), cmd.c_str());
        return 1;
    }
    install_signal_handlers();
    try {
        // Started by an MPI launcher: the processes fit one model together (tmine topics); the
        // others would each do the whole work and write the same files.
        processes::start(&argc, &argv);
        if (processes::size() > 1) {
            if (!*topics_cmd)
                throw InputError("only tmine topics runs on several processes (" + processes::description() +
                                 "); start this command as one process");
            if (processes::rank() > 0) common.quiet = true;  // progress from rank 0
            // the machine's cores shared by its processes (the cores this process may run on when
            // the launcher bound it to some, else the machine's divided among its processes);
            // OpenBLAS's OpenMP threads follow. --device auto is the CPU; --device cuda gives each
            // process a GPU of its machine (docs/architecture.md, "Distributed NMF")
            if (common.threads == 0) {
                const int allowed = omp_get_num_procs(), machine = int(std::thread::hardware_concurrency());
                common.threads = allowed < machine ? allowed : std::max(1, machine / processes::local_size());
            }
            omp_set_num_threads(common.threads);
            if (common.device == "auto") common.device = "cpu";
        }
        const int max_threads = std::max(256, 4 * static_cast<int>(std::thread::hardware_concurrency()));
        if (common.threads < 0 || common.threads > max_threads)
            throw InputError("--threads must be between 0 (all cores) and " + std::to_string(max_threads) +
                             ", got " + std::to_string(common.threads));
        // An output that names an input is refused before any work (AtomicFile refuses it again
        // when it is written, for the inputs only known then).
        guard_inputs(true);
        for (const std::string& f : ia.inputs) note_input(f);
        for (const std::string* f : {&input, &corpus_in, &corpus_path, &ea.matrix}) note_input(*f);
        for (const std::string* f : {&out, &documents}) refuse_input_as_output(*f);
        // A command's outputs appear together when it succeeds, none when it fails.
        defer_commits(true);
        int rc = 0;
        if (*ingest_cmd) parse_device(common.device);  // validated; ingest is a CPU stage
        if (*ingest_cmd) rc = cmd_ingest(ia, out, common.quiet);
        else if (*vec_cmd) rc = cmd_vectorize(common, va, input, out);
        else if (*topics_cmd) rc = cmd_topics(common, ta, input, out, csv);
        else if (*export_cmd) rc = cmd_export(common, input, format, out, documents, corpus_path, ta.top_terms, ea, csv);
        else if (*transform_cmd) rc = cmd_transform(common, ta, input, corpus_in, out, csv);
        else if (*run_cmd) rc = cmd_run(common, ia, va, ta, ra, out);
        else if (*classify_args.cmd) rc = cmd_classify(common, classify_args);
        else if (*query_args.cmd) rc = cmd_query(common, query_args);
        else if (*clean_args.cmd) rc = cmd_clean(common, clean_args);
        if (rc == 0) commit_deferred();
        else discard_deferred();
        processes::stop();
        return rc;
    } catch (const tmine::Error& e) {
        discard_deferred();
        // in a distributed fit, which process says it (each may, the same error)
        const std::string who = processes::size() > 1 ? " (process " + std::to_string(processes::rank()) + ")" : "";
        std::fprintf(stderr, "tmine: error%s: %s\n", who.c_str(), e.what());
        processes::abort_all(1);  // no other process waits for this one in a collective
        return 1;
    } catch (const std::bad_alloc& e) {
        discard_deferred();
        std::fprintf(stderr, "tmine: out of memory (%s): try a smaller corpus, fewer --threads, or a "
                             "machine with more memory\n", e.what());
        processes::abort_all(2);
        return 2;
    } catch (const std::exception& e) {
        discard_deferred();
        std::fprintf(stderr, "tmine: internal error: %s\n", e.what());
        processes::abort_all(2);
        return 2;
    }
    return 0;
}
