#pragma once
/// Boolean keyword queries, the language social-listening tools use to bootstrap weak labels
/// and pre-filter a corpus: `netflix OR (streaming AND NOT spotify) OR "séries en ligne"`.
///
/// Grammar (operators in capitals; NOT binds tightest, then AND, then OR):
///   query   := or
///   or      := and ("OR" and)*
///   and     := not (["AND"] not)*          two terms side by side mean AND
///   not     := "NOT" not | primary
///   primary := "(" or ")" | '"' phrase '"' | word
/// A word or phrase word ending in `*` matches every token starting with it (`stream*`).
/// Matching runs on the tokens of tmine's tokenizer (tmine::tokenize with TokenizerOptions, as
/// `tmine vectorize` uses by default): NFKC + case folding, French elided articles and pronouns
/// before an apostrophe (' or ’: l', d', j', qu', jusqu', lorsqu', ...) dropped, hyphenated words
/// one token, URLs reduced to their domain, numbers kept; accents folded (é -> e) unless
/// QueryOptions::accent_sensitive; a hashtag matches its word (#netflix = netflix), @mentions
/// stay distinct. The same steps apply to the posts and to the words of the query. A word that
/// splits into several tokens (`séries/films`) is a phrase.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"
#include "tmine/error.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {

/// A query that does not parse. what() holds the message, the query and a caret line.
class QueryError : public InputError {
public:
    QueryError(const std::string& message, size_t column, const std::string& full)
        : InputError(full), column_(column), message_(message) {}
    /// 1-based column (in code points) where the problem is.
    size_t column() const { return column_; }
    const std::string& message() const { return message_; }

private:
    size_t column_;
    std::string message_;
};

struct QueryOptions {
    bool accent_sensitive = false;  ///< false: "series" matches "séries" and the reverse
};

/// The matching tokens of a text (see above). Used for posts and for the words of a query.
/// The tokenizer settings queries use.
TokenizerOptions query_tokenizer(const QueryOptions& opts);
void query_tokens(std::string_view text, const QueryOptions& opts, std::vector<std::string>& out);

/// A parsed query; immutable, cheap to evaluate from many threads.
class Query {
public:
    /// Throws QueryError naming the column on a syntax error.
    static Query parse(std::string_view text, const QueryOptions& opts = {});

    /// True when a post with these tokens (from query_tokens) matches.
    bool matches_tokens(const std::vector<std::string>& tokens) const;
    /// True when the text matches.
    bool matches(std::string_view text) const;
    /// The parsed tree with explicit parentheses, e.g. (netflix OR (streaming AND NOT spotify)).
    std::string describe() const;
    const QueryOptions& options() const { return opts_; }
    /// What the parse accepted but a user should know (a word a phrase matches without).
    const std::vector<std::string>& warnings() const { return warnings_; }

private:
    struct Pattern {
        std::string token;
        bool prefix = false;
    };
    struct Node {
        enum Kind { Term, And, Or, Not } kind = Term;
        std::vector<Pattern> patterns;  ///< Term: one token, or a phrase of several
        int a = -1, b = -1;             ///< children
    };
    bool eval(int node, const std::vector<std::string>& seq,
              const std::vector<std::string>& sorted) const;
    std::string describe(int node) const;
    friend class QueryParser;

    std::vector<Node> nodes_;
    int root_ = -1;
    QueryOptions opts_;
    std::vector<std::string> warnings_;
};

/// One 0/1 per corpus row: whether the post matches (CPU, OpenMP over posts).
std::vector<uint8_t> query_mask(const Context& ctx, const Corpus& corpus, const Query& q);

/// Writes a mask file: one '0' or '1' line per row, atomically.
void write_mask(const std::string& path, const std::vector<uint8_t>& mask);
/// Reads a mask file; throws InputError naming the line on anything but 0/1.
std::vector<uint8_t> read_mask(const std::string& path);

}  // namespace tmine
