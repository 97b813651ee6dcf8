// The tmine command line: one small function per subcommand; all logic lives in host/ and
// kernels/ (STYLE.md §8).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"
#include "tmine/error.hpp"
#include "tmine/export.hpp"
#include "tmine/ingest.hpp"
#include "tmine/io.hpp"
#include "tmine/nmf.hpp"
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

struct IngestArgs {
    std::vector<std::string> inputs;
    std::string format = "auto", text_field = "text", time_field, id_field, author_field;
    std::string since, until;
    IngestOptions options(bool quiet) const {
        IngestOptions o;
        o.format = parse_input_format(format);
        o.text_field = text_field;
        o.time_field = time_field;
        o.id_field = id_field;
        o.author_field = author_field;
        auto when = [](const std::string& s, const char* flag) -> std::optional<int64_t> {
            if (s.empty()) return std::nullopt;
            auto t = parse_timestamp(s);
            if (!t)
                throw InputError(std::string(flag) + ": '" + s +
                                 "' is not a date (use e.g. 2021-01-31 or 2021-01-31T12:00:00Z)");
            return t;
        };
        o.since = when(since, "--since");
        o.until = when(until, "--until");
        if (o.since && o.until && *o.since >= *o.until)
            throw InputError("--since must be before --until");
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
    app->add_option("--since", a.since, "keep posts at or after this time (UTC)");
    app->add_option("--until", a.until, "keep posts before this time (UTC)");
}

struct VectorizeArgs {
    std::string min_df = "1", max_df = "1.0", stop_words = "english", urls = "domain", ngram = "1:1";
    std::string stem, vocabulary, export_vocabulary;
    int64_t max_features = 0;
    bool sublinear = false, sklearn = false, strip_accents = false, no_mentions = false,
         no_hashtags = false, numbers = false, no_emoji = false, split_hyphens = false,
         no_elisions = false;
    VectorizeOptions options(bool quiet) const {
        VectorizeOptions o;
        auto& t = o.tokenizer;
        t.sklearn_compatible = sklearn;
        t.strip_accents = strip_accents;
        t.urls = TokenizerOptions::parse_urls(urls);
        t.mentions = !no_mentions;
        t.hashtags = !no_hashtags;
        t.numbers = numbers;
        t.emoji = !no_emoji;
        t.hyphens = !split_hyphens;
        t.elisions = !no_elisions;
        int a = 0, b = 0;
        char tail = 0;
        if (std::sscanf(ngram.c_str(), "%d:%d%c", &a, &b, &tail) != 2 || a < 1 || b < a)
            throw InputError("--ngram: expected MIN:MAX such as 1:2, got '" + ngram + "'");
        o.ngram_min = a;
        o.ngram_max = b;
        o.stem = stem;
        o.min_df = DfBound::parse(min_df, "--min-df");
        o.max_df = DfBound::parse(max_df, "--max-df");
        if (max_features < 0) throw InputError("--max-features must be >= 0");
        o.max_features = max_features;
        o.stop_words = load_stop_words(stop_words, t);
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
        }
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
    app->add_option("--stop-words", a.stop_words, "comma-separated: english, french, none, or files (one word per line)")
        ->capture_default_str();
    app->add_flag("--sublinear-tf", a.sublinear, "tf = 1 + ln(count)");
    app->add_option("--ngram", a.ngram, "word n-grams MIN:MAX (they do not cross sentence punctuation)")
        ->capture_default_str();
    app->add_option("--stem", a.stem, "Snowball stemming: english, french, ...");
    app->add_flag("--sklearn-compatible", a.sklearn, "tokenise exactly as scikit-learn's TfidfVectorizer default");
    app->add_flag("--strip-accents", a.strip_accents, "remove accents (été -> ete)");
    app->add_option("--urls", a.urls, "URLs: domain (a token), drop or keep")->capture_default_str();
    app->add_flag("--no-mentions", a.no_mentions, "drop @mentions");
    app->add_flag("--no-hashtags", a.no_hashtags, "drop #hashtags");
    app->add_flag("--numbers", a.numbers, "keep tokens made of digits");
    app->add_flag("--no-emoji", a.no_emoji, "drop emoji tokens");
    app->add_flag("--split-hyphens", a.split_hyphens, "split hyphenated words");
    app->add_flag("--no-elisions", a.no_elisions, "keep French elided articles (l', d', qu', ...)");
    app->add_option("--vocabulary", a.vocabulary, "fixed vocabulary CSV (term[,df,idf]; with idf: that weighting)");
    app->add_option("--export-vocabulary", a.export_vocabulary, "write the vocabulary as CSV: term,df,idf");
}

struct TopicArgs {
    int k = 10, iters = 200, top_terms = 20, checkpoint_every = 0, restarts = 1;
    double tol = 1e-4, alpha_W = 0, alpha_H = -1, l1_ratio = 0, time_limit = 0;
    uint64_t seed = 0;
    std::string init = "nndsvda", solver = "mu", loss = "frobenius", checkpoint, resume;
    NmfOptions options(bool quiet) const {
        NmfOptions o;
        o.k = k;
        o.max_iter = iters;
        o.tol = tol;
        o.seed = seed;
        o.init = parse_nmf_init(init);
        o.solver = parse_nmf_solver(solver);
        o.loss = parse_nmf_loss(loss);
        o.alpha_W = alpha_W;
        o.alpha_H = alpha_H;
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
    auto* k = app->add_option("-k,--topics", a.k, "number of topics");
    if (k_required) k->required();
    app->add_option("--iters", a.iters, "maximum iterations")->capture_default_str();
    app->add_option("--tol", a.tol, "stop when the loss improves less than this (relative to the start) over 10 iterations; 0 = never")
        ->capture_default_str();
    app->add_option("--seed", a.seed, "seed of the initialisation")->capture_default_str();
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
}

// ---- subcommands ----

int cmd_ingest(const IngestArgs& a, const std::string& out, bool quiet) {
    Corpus corpus;
    auto t0 = Clock::now();
    IngestReport rep = ingest(a.inputs, a.options(quiet), corpus);
    std::fputs(rep.summary().c_str(), stderr);
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

TopicModel fit(const Context& ctx, const Vectorized& v, TopicArgs a,
               const std::string& outdir, bool quiet, CorpusInfo info) {
    if (a.checkpoint.empty() && (a.checkpoint_every > 0 || !a.resume.empty()))
        a.checkpoint = (fs::path(outdir) / "checkpoint.tmk").string();
    if (a.checkpoint_every > 0) make_dirs(outdir);
    TopicModel model;
    model.options = a.options(quiet);
    model.nmf = a.resume.empty() ? nmf(ctx, v.X, model.options)
                                 : nmf_resume(ctx, v.X, model.options, a.resume);
    model.vocabulary = v.vocabulary;
    model.idf = v.idf;
    model.sublinear_tf = v.sublinear_tf;
    model.corpus = std::move(info);
    model.corpus.documents = v.X.rows;
    return model;
}

int cmd_topics(const CommonArgs& c, const TopicArgs& a, const std::string& in, const std::string& out) {
    Context ctx = c.context();
    Vectorized v = read_matrix(in);
    CorpusInfo info;
    info.source = in;
    TopicModel model = fit(ctx, v, a, out, c.quiet, info);
    write_model(model, out);
    write_file_atomic((fs::path(out) / "topics.json").string(),
                      topics_json(model, summarize_topics(model, a.top_terms)));
    if (!c.quiet)
        std::fprintf(stderr, "topics: k=%d, %d iterations, relative error %.6f on %s; wrote %s\n",
                     model.nmf.k, model.nmf.iterations, model.nmf.relative_error,
                     model.nmf.device.c_str(), out.c_str());
    return 0;
}

int cmd_export(const std::string& model_dir, const std::string& format, const std::string& out,
               const std::string& documents, const std::string& corpus_path, int top_terms) {
    TopicModel model = read_model(model_dir);
    TopicSummary s = summarize_topics(model, top_terms);
    if (format == "json")
        write_file_atomic(out, topics_json(model, s));
    else if (format == "csv")
        write_file_atomic(out, topics_csv(s));
    else
        throw InputError("--format: expected json or csv, got '" + format + "'");
    if (!documents.empty()) {
        Corpus corpus;
        if (!corpus_path.empty()) corpus = read_corpus(corpus_path);
        write_file_atomic(documents, documents_csv(s, corpus_path.empty() ? nullptr : &corpus));
    }
    return 0;
}

int cmd_transform(const CommonArgs& c, const TopicArgs& ta,
                  const std::string& model_dir, const std::string& corpus_path,
                  const std::string& out) {
    Context ctx = c.context();
    TopicModel model = read_model(model_dir);
    if (model.idf.empty())
        throw InputError(model_dir + ": this model has no idf (fitted by tmine topics from a "
                         "matrix file of an older version); refit it");
    Corpus corpus = read_corpus(corpus_path);
    VectorizeOptions vo;  // stop words need no list: they are not in the model's vocabulary
    vo.sublinear_tf = model.sublinear_tf;
    vo.progress = !c.quiet;
    Vectorized v = vectorize_fixed(ctx, corpus, model.vocabulary, model.idf, vo);
    NmfOptions o = model.options;
    o.max_iter = ta.iters;
    o.tol = ta.tol;
    o.progress = !c.quiet;
    std::vector<float> W = nmf_transform(ctx, v.X, model.nmf.H, model.nmf.k, o);
    TopicSummary s;
    dominant_topics(W, v.X.rows, model.nmf.k, s.dominant, s.dominant_weight);
    write_file_atomic(out, documents_csv(s, &corpus));
    if (!c.quiet)
        std::fprintf(stderr, "transform: %zu documents scored against %d topics; wrote %s\n",
                     corpus.size(), model.nmf.k, out.c_str());
    return 0;
}

int cmd_run(const CommonArgs& c, const IngestArgs& ia, const VectorizeArgs& va, const TopicArgs& ta,
            const std::string& outdir) {
    Context ctx = c.context();
    make_dirs(outdir);
    auto path = [&](const char* name) { return (fs::path(outdir) / name).string(); };
    auto t0 = Clock::now();
    Corpus corpus;
    IngestReport rep = ingest(ia.inputs, ia.options(c.quiet), corpus);
    std::fputs(rep.summary().c_str(), stderr);
    if (corpus.size() == 0) throw InputError("run: no record kept from the inputs");
    write_corpus(corpus, path("corpus.tmc"));
    double t_ingest = seconds_since(t0);
    t0 = Clock::now();
    Vectorized v = va.run(ctx, corpus, c.quiet);
    write_matrix(v, path("matrix.tmx"));
    double t_vec = seconds_since(t0);
    t0 = Clock::now();
    CorpusInfo info;
    info.skipped = static_cast<int64_t>(rep.skipped);
    info.source = path("corpus.tmc");
    TopicModel model = fit(ctx, v, ta, path("model"), c.quiet, info);
    write_model(model, path("model"));
    double t_nmf = seconds_since(t0);
    t0 = Clock::now();
    TopicSummary s = summarize_topics(model, ta.top_terms);
    write_file_atomic(path("topics.json"), topics_json(model, s));
    write_file_atomic(path("topics.csv"), topics_csv(s));
    write_file_atomic(path("documents.csv"), documents_csv(s, &corpus));
    double t_export = seconds_since(t0);
    for (const auto& t : s.topics) {
        std::printf("topic %2d (%lld docs):", t.id, (long long)t.size);
        for (size_t r = 0; r < std::min<size_t>(10, t.terms.size()); ++r)
            std::printf(" %s", t.terms[r].term.c_str());
        std::printf("\n");
    }
    std::fprintf(stderr,
                 "run: %zu documents, %lld terms, k=%d, relative error %.4f on %s\n"
                 "run: ingest %.2f s, vectorize %.2f s, topics %.2f s, export %.2f s; wrote %s\n",
                 corpus.size(), (long long)v.X.cols, model.nmf.k, model.nmf.relative_error,
                 ctx.description().c_str(), t_ingest, t_vec, t_nmf, t_export,
                 path("topics.json").c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
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

    auto* export_cmd = app.add_subcommand("export", "export a model's topics as JSON or CSV");
    export_cmd->add_option("model", input, "model directory (from tmine topics)")->required();
    export_cmd->add_option("--format", format, "json or csv")->capture_default_str();
    export_cmd->add_option("-o,--output", out, "file to write")->required();
    export_cmd->add_option("--documents", documents, "also write each document's dominant topic (CSV)");
    export_cmd->add_option("--corpus", corpus_path, "corpus file, to put ids and times in --documents");
    export_cmd->add_option("--top-terms", ta.top_terms, "terms listed per topic")->capture_default_str();
    add_common(export_cmd, common);  // export runs on the CPU whatever --device says

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

    auto* run_cmd = app.add_subcommand("run", "ingest, vectorize, fit topics and export in one go");
    add_ingest_flags(run_cmd, ia);
    add_vectorize_flags(run_cmd, va);
    add_topic_flags(run_cmd, ta, true);
    add_common(run_cmd, common);
    run_cmd->add_option("-o,--output", out, "output directory")->required();

    CLI11_PARSE(app, argc, argv);
    try {
        if (*ingest_cmd || *export_cmd) parse_device(common.device);  // validated, CPU stages
        if (*ingest_cmd) return cmd_ingest(ia, out, common.quiet);
        if (*vec_cmd) return cmd_vectorize(common, va, input, out);
        if (*topics_cmd) return cmd_topics(common, ta, input, out);
        if (*export_cmd) return cmd_export(input, format, out, documents, corpus_path, ta.top_terms);
        if (*transform_cmd) return cmd_transform(common, ta, input, corpus_in, out);
        if (*run_cmd) return cmd_run(common, ia, va, ta, out);
    } catch (const tmine::Error& e) {
        std::fprintf(stderr, "tmine: error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tmine: internal error: %s\n", e.what());
        return 2;
    }
    return 0;
}
