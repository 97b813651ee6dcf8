#pragma once
/// Stage 4, vectorize: tokenise, build the vocabulary with document-frequency limits, and
/// weight with TF-IDF under scikit-learn TfidfVectorizer semantics (smooth idf, l2 rows).
/// The CPU path is the reference; the CUDA twin (kernels/vectorize_cuda.cu) must produce the
/// identical vocabulary and bit-identical values.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"

namespace tmine {

/// Compressed sparse rows, float32 values, column indices ascending within each row.
struct CsrMatrix {
    int64_t rows = 0, cols = 0;
    std::vector<int64_t> indptr{0};
    std::vector<int32_t> indices;
    std::vector<float> data;
    int64_t nnz() const { return static_cast<int64_t>(indices.size()); }
};

/// Where a matrix's rows are in a distributed fit (docs/architecture.md "Distributed NMF"):
/// process r holds rows [first[r], first[r + 1]) of the whole matrix, which has first.back()
/// rows and `nnz` non-zeros. Functions that take one are given this process's rows as their X.
struct RowSplit {
    std::vector<int64_t> first{0, 0};  ///< processes + 1 entries
    int64_t nnz = 0;
    int64_t rows() const { return first.back(); }
    int parts() const { return static_cast<int>(first.size()) - 1; }
};
/// Blocks of consecutive rows holding about nnz / parts non-zeros each (the sparse products'
/// work), at least one row each, from a CSR matrix's row offsets. InputError when there are
/// fewer rows than parts.
RowSplit split_rows(const std::vector<int64_t>& indptr, int parts);

/// A document-frequency bound as scikit-learn takes it: an absolute count or a proportion.
struct DfBound {
    bool proportion = true;
    double value = 1.0;
    /// "5" is a count, "0.5" or "1.0" a proportion (as in scikit-learn, int vs float).
    static DfBound parse(std::string_view s, const char* flag);
    /// Bound in documents; `lower` rounds a proportion up (min_df), else down (max_df).
    int64_t to_count(int64_t n_docs, bool lower) const;
};

/// How text becomes tokens. The default is tmine's tokenizer for social posts (English and
/// French): NFKC + case folding, French elisions removed (l', d', qu', ... with ' or ’),
/// hyphenated words kept whole, URLs reduced to their domain, @mentions and #hashtags kept as
/// tokens, numbers dropped, each emoji a token, sentence punctuation ending n-grams.
/// `sklearn_compatible` instead reproduces TfidfVectorizer's default exactly: str.lower()
/// then (?u)\b\w\w+\b (the other flags are ignored). docs/tokenizer.md has the details.
struct TokenizerOptions {
    enum class Urls { Domain, Drop, Keep };
    bool sklearn_compatible = false;
    bool strip_accents = false;  ///< été -> ete (after NFKC: removes combining marks)
    Urls urls = Urls::Domain;
    bool mentions = true;   ///< keep @user tokens
    bool hashtags = true;   ///< keep #tag tokens
    bool numbers = false;   ///< keep tokens made of digits only
    bool emoji = true;      ///< keep each emoji (a So symbol) as a token
    bool hyphens = true;    ///< keep "peut-être", "e-mail" as one token
    bool elisions = true;   ///< drop French elided articles/pronouns before ' or ’
    bool contractions = true;  ///< English: drop 'll 've 're 'd 'm 's; n't leaves the verb
    /// Parses "domain|drop|keep".
    static Urls parse_urls(std::string_view s);
    /// scikit-learn's default token rule.
    static TokenizerOptions sklearn() {
        TokenizerOptions t;
        t.sklearn_compatible = true;
        return t;
    }
};

struct VectorizeOptions {
    TokenizerOptions tokenizer;
    int ngram_min = 1, ngram_max = 1;  ///< word n-grams (joined by ' '), as ngram_range
    std::string stem;                  ///< "" or a Snowball language: "english", "french", ...
    DfBound min_df{false, 1.0};
    DfBound max_df{true, 1.0};
    int64_t max_features = 0;  ///< 0 = no limit; else keep the most frequent terms
    /// Tokens counted at a time (bounded device memory for corpora larger than the GPU's):
    /// 0 = automatic (the GPU: from its free memory; the CPU: one pass). The result is the same.
    int64_t chunk_tokens = 0;
    std::vector<std::string> stop_words;  ///< lower-cased terms dropped at tokenisation
    bool sublinear_tf = false;            ///< tf = 1 + ln(count)
    bool progress = false;
};

/// Loads stop words: a comma-separated list of "english" (scikit-learn's list), "french"
/// (tmine's list of French function words), "none", or file paths (one word per line; '#'
/// followed by a blank starts a comment, '#' before a word is a hashtag). Words are tokenised with `tok` so they match the documents' tokens. Throws
/// InputError naming the file.
std::vector<std::string> load_stop_words(std::string_view spec,
                                         const TokenizerOptions& tok = TokenizerOptions::sklearn());

/// The texts of a vocabulary with n-grams, made on demand: the unigrams' texts are held, and
/// each term is a unigram or an n-gram held as its words (unigram indices), joined by spaces
/// when its text is asked for. vectorize() asks only for the terms that survive pruning, so
/// the millions of rare n-grams it drops never get a text.
class TermTexts {
public:
    TermTexts() = default;
    /// `words` holds `max_words` slots per n-gram: unigram index + 1, 0 after the last word.
    /// `source[i]` is term i's unigram index, or -1 - g for n-gram g.
    TermTexts(std::vector<std::string> unigrams, int max_words, std::vector<uint32_t> words,
              std::vector<int64_t> source)
        : unigrams_(std::move(unigrams)), max_words_(max_words), words_(std::move(words)),
          source_(std::move(source)) {}
    int64_t size() const { return static_cast<int64_t>(source_.size()); }
    std::string text(int64_t id) const;
    /// Every text, in order (made by `threads` threads); leaves this empty.
    std::vector<std::string> take_all(int threads);

private:
    std::vector<std::string> unigrams_;
    int max_words_ = 1;
    std::vector<uint32_t> words_;
    std::vector<int64_t> source_;
};

/// Tokens of a corpus: per document, the vocabulary id of each token in order.
struct Tokenized {
    std::vector<int64_t> doc_ptr{0};  ///< n_docs + 1
    std::vector<int32_t> tokens;      ///< ids into vocab
    std::vector<std::string> vocab;   ///< every distinct token, sorted bytewise
    uint64_t text_bytes = 0;
    /// Only from detail::tokenize_terms() with n-grams: the vocabulary's texts on demand, and
    /// `vocab` empty.
    TermTexts texts;
    int64_t vocab_size() const { return texts.size() > 0 ? texts.size() : static_cast<int64_t>(vocab.size()); }
    /// Term id's text (moved out of `vocab` when `take`).
    std::string term(int64_t id, bool take = false) {
        if (texts.size() > 0) return texts.text(id);
        return take ? std::move(vocab[id]) : vocab[id];
    }
};

/// Documents to count: `doc_ptr` (documents + 1 offsets, from 0) into `tokens`, whose ids are
/// below `vocab_size`. A chunk of a corpus is a span over part of its Tokenized.
struct TokenSpan {
    std::vector<int64_t> doc_ptr{0};
    const int32_t* tokens = nullptr;
    int64_t vocab_size = 0;
    int64_t documents() const { return static_cast<int64_t>(doc_ptr.size()) - 1; }
    int64_t size() const { return doc_ptr.back(); }  ///< tokens
    /// Documents [first, last) of `t`.
    static TokenSpan of(const Tokenized& t, int64_t first, int64_t last);
};

/// Raw term counts, columns = Tokenized::vocab ids.
struct TermCounts {
    CsrMatrix counts;                 ///< data holds integer counts as float (exact < 2^24)
    std::vector<int32_t> df;          ///< documents containing each term
    std::vector<int64_t> total;       ///< occurrences of each term in the corpus
};

/// The result of vectorize: X is n_docs x |vocabulary|, rows in corpus order.
struct Vectorized {
    CsrMatrix X;
    std::vector<std::string> vocabulary;
    std::vector<int32_t> df;
    std::vector<double> idf;
    bool sublinear_tf = false;  ///< how X was weighted (new documents are weighted alike)
    std::string pipeline;       ///< pipeline_string() of the options that made X
    std::vector<std::string> stop_words;  ///< the stop words removed (they shape n-grams)
    std::string device;
    /// corpus_fingerprint() of its corpus, kept in the .tmx file; 0 unknown (older files).
    /// vectorize() leaves it 0 (it costs a pass over the texts); a caller that writes the
    /// matrix for later commands sets it, as the CLI does.
    uint64_t corpus_fingerprint = 0;
};

/// The settings that turn text into terms (tokenizer, n-grams, stemming, tf weighting) as one
/// line of key=value pairs, kept with matrices and models so that new documents are vectorized
/// exactly as the training ones (stop words are kept beside it as a list).
std::string pipeline_string(const VectorizeOptions& o);
/// Sets `o`'s tokenizer, n-grams, stemming and tf weighting from pipeline_string()'s line.
/// Throws InputError on an unknown key or value.
void apply_pipeline_string(std::string_view line, VectorizeOptions& o);

/// The scikit-learn token rule on lower-cased text: maximal runs of at least two word
/// characters (Unicode letters, numbers, '_'), i.e. the pattern (?u)\b\w\w+\b. Lower-casing
/// and classification use utf8proc.
void tokenize(std::string_view text, std::vector<std::string>& out);
/// Tokens of one text under `opts` (no stop words, stemming or n-grams).
void tokenize(std::string_view text, std::vector<std::string>& out, const TokenizerOptions& opts);
/// The social tokenizer's normalisation of a text (utf8proc: NFKC, case folding, default
/// ignorables removed, and accents with `strip_accents`), equal to utf8proc_map() of the whole
/// text. Invalid UTF-8: ASCII lower-cased and every other byte a space.
std::string normalize_text(std::string_view text, bool strip_accents = false);
/// Byte offset of the first sequence of `s` that is not UTF-8 as utf8proc reads it (no
/// overlong forms, surrogates or code points above U+10FFFF), or npos when all of `s` is.
/// The readers of user files and strings (stop words, vocabularies, labels, --keep-ids,
/// queries) reject such text, naming where it is.
size_t utf8_error_at(std::string_view s);


/// Tokenises every document (CPU, OpenMP) into vocabulary ids; stop words dropped.
Tokenized tokenize_corpus(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts);

namespace detail {
/// tokenize_corpus() for vectorize(): with n-grams the vocabulary's texts stay in
/// Tokenized::texts, made only for the terms asked for.
Tokenized tokenize_terms(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts);
}  // namespace detail

/// Which columns survive min_df / max_df / max_features: new index per old column, -1 dropped.
/// Throws InputError when none remain (names the bounds). Shared by CPU and CUDA.
std::vector<int32_t> prune_terms(const std::vector<int32_t>& df, const std::vector<int64_t>& total,
                                 int64_t n_docs, const VectorizeOptions& opts, int32_t& n_kept);

/// Smooth idf: ln((1 + n) / (1 + df)) + 1, computed in double.
std::vector<double> smooth_idf(const std::vector<int32_t>& df, int64_t n_docs);

/// Full pipeline on the context's device.
Vectorized vectorize(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts);

/// Vectorizes new documents against a fixed, bytewise-sorted vocabulary and its idf (those of
/// a fitted model): the same tokens and weighting as vectorize(), terms outside the
/// vocabulary dropped, no document-frequency pruning. How next month's posts are scored.
/// An empty `idf` means: compute it on this corpus (scikit-learn's `vocabulary=`).
Vectorized vectorize_fixed(const Context& ctx, const Corpus& corpus,
                           const std::vector<std::string>& vocabulary,
                           const std::vector<double>& idf, const VectorizeOptions& opts);

/// The tokenizer split in two (docs/tokenizer.md, "GPU tokenizer"). Every tokenizer setting
/// has separator bytes at which a text can be cut into chunks that tokenise independently: the
/// tokens of a text are the concatenation of its chunks' tokens. So the device cuts the corpus
/// into chunks and keeps one copy of each distinct chunk, the host tokenises each distinct
/// chunk once (Unicode, stop words, stemming: the CPU tokenizer itself), and the device expands
/// every occurrence into its terms.
namespace chunking {
/// What each byte is to the chunker: kInside a chunk, kSeparator (between chunks, dropped) or
/// kAlone (a chunk of its own: a line break, which ends a sentence).
enum : uint8_t { kInside = 0, kSeparator = 1, kAlone = 2 };
struct Plan {
    uint8_t cls[256];
};
/// The separators of the tokenizer `o` selects (tokenize.cpp says why each is one).
Plan plan(const TokenizerOptions& o);
/// A distinct chunk's items: term ids (of the mapper's table), kBoundary (a sentence ends:
/// n-grams stop there) or kFallback (the chunk cannot be tokenised alone, e.g. invalid UTF-8:
/// its document is tokenised whole on the host).
constexpr int32_t kBoundary = -1, kFallback = -2;
struct Items {
    std::vector<int64_t> ptr{0};
    std::vector<int32_t> items;
};
/// Tokenises distinct chunks: chunk i is bytes[offsets[i], offsets[i + 1]); appends one entry
/// per chunk to `out`.
using Mapper = std::function<void(const std::string& bytes, const std::vector<int64_t>& offsets,
                                  Items& out)>;
}  // namespace chunking

namespace cpu_impl {
/// The chunked tokenizer of the GPU path run on the CPU (a hash map where the device sorts):
/// equal to tokenize_corpus() (tested on the real corpora), which is what makes the split exact.
/// `batch_bytes` > 0 cuts the corpus into batches of about that much text, as the GPU does.
Tokenized tokenize_chunked(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts,
                           int64_t batch_bytes = 0);
/// The device half of tokenize_chunked on the CPU: documents [first, last) cut into chunks,
/// the distinct ones mapped once, every occurrence expanded. doc_ptr (last - first + 1 offsets
/// from 0) into items. Returns false when two different chunks hash alike (never on the CPU).
bool tokenize_chunks(const Context& ctx, const Corpus& corpus, int64_t first, int64_t last,
                     const chunking::Plan& plan, const chunking::Mapper& map,
                     std::vector<int64_t>& doc_ptr, std::vector<int32_t>& items);
TermCounts count_terms(const Context& ctx, const Tokenized& tok);
TermCounts count_terms(const Context& ctx, const TokenSpan& span);
/// The CPU path of vectorize(): sorts each document's tokens in place and counts document
/// frequencies and totals, without the term-count matrix count_terms() materialises.
void count_sorted(const Context& ctx, Tokenized& tok, std::vector<int32_t>& df,
                  std::vector<int64_t>& total);
/// TF-IDF straight from the sorted tokens of count_sorted(): bit for bit
/// tfidf(count_terms(tok), keep, n_kept, idf, sublinear_tf) (tested).
CsrMatrix tfidf_sorted(const Context& ctx, const Tokenized& tok, const std::vector<int32_t>& keep,
                       int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf);
/// Keeps columns with keep[c] >= 0 (renumbered), weights tf * idf[new col], l2-normalises rows.
CsrMatrix tfidf(const Context& ctx, const CsrMatrix& counts, const std::vector<int32_t>& keep,
                int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf);
}  // namespace cpu_impl

namespace cuda_impl {
/// kernels/tokenize_cuda.cu: cpu_impl::tokenize_chunks on the GPU (sort by chunk hash, the
/// distinct chunks copied to the host for `map`, occurrences expanded by a kernel). Returns
/// false when two different chunks hash alike; the caller then tokenises on the CPU.
bool tokenize_chunks(const Context& ctx, const Corpus& corpus, int64_t first, int64_t last,
                     const chunking::Plan& plan, const chunking::Mapper& map,
                     std::vector<int64_t>& doc_ptr, std::vector<int32_t>& items);
/// Text bytes tokenised at a time: what an eighth of the free device memory holds.
int64_t tokenize_batch_bytes(const Context& ctx);
TermCounts count_terms(const Context& ctx, const Tokenized& tok);
TermCounts count_terms(const Context& ctx, const TokenSpan& span);
/// Tokens the GPU counts in one chunk: what half of its free memory holds at the counting's
/// bytes per token.
int64_t count_chunk_tokens(const Context& ctx);
/// Given the document frequencies and totals of every term, chooses the columns to keep
/// (prune_terms()) and their idf: what vectorize() decides between counting and weighting.
using WeightChoice = std::function<void(const std::vector<int32_t>& df, const std::vector<int64_t>& total,
                                        std::vector<int32_t>& keep, int32_t& n_kept,
                                        std::vector<double>& idf)>;
/// tfidf(count_terms(tok), keep, n_kept, idf, sublinear_tf) with keep and idf from `choose`, the
/// counts staying on the device in between (only df and totals come to the host and the kept
/// columns and idf go up): the same matrix, without the counts' round trip.
CsrMatrix count_and_weigh(const Context& ctx, const TokenSpan& tok, const WeightChoice& choose,
                          bool sublinear_tf);
CsrMatrix tfidf(const Context& ctx, const CsrMatrix& counts, const std::vector<int32_t>& keep,
                int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf);
}  // namespace cuda_impl

/// Vocabulary CSV (`--export-vocabulary`): term,df,idf with a header, RFC 4180 quoting.
void write_vocabulary_csv(const Vectorized& v, const std::string& path);
/// Reads a vocabulary CSV (term[,df[,idf]]): terms sorted bytewise on return, with their idf
/// when the file has that column (else `idf` is left empty). Throws InputError naming the line.
void read_vocabulary_csv(const std::string& path, std::vector<std::string>& terms,
                         std::vector<double>& idf);

/// Matrix file (.tmx): X, vocabulary, df, idf. Written atomically; see docs/formats.md.
void write_matrix(const Vectorized& v, const std::string& path);
Vectorized read_matrix(const std::string& path);
/// A distributed fit's share of a .tmx: X holds only rows [first[part], first[part + 1]) of
/// split_rows(its row offsets, parts), which `split` receives; everything else is whole. The
/// file is read through (its checksum covers every byte), but only those rows are kept, and
/// only they are validated beyond the row offsets.
Vectorized read_matrix_rows(const std::string& path, int parts, int part, RowSplit& split);

}  // namespace tmine
