// Boolean keyword queries (CPU): parser, French-aware token matching, corpus masks.
#include "tmine/query.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "tmine/io.hpp"
#include "unicode_chars.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {
namespace {

/// 1-based code-point column of byte offset `pos`.
size_t column_of(std::string_view text, size_t pos) {
    size_t col = 1;
    for (size_t i = 0; i < pos && i < text.size(); ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
    return col;
}

}  // namespace

TokenizerOptions query_tokenizer(const QueryOptions& opts) {
    TokenizerOptions t;  // tmine's social tokenizer: NFKC, case folding, elisions, hyphens
    t.strip_accents = !opts.accent_sensitive;
    t.numbers = true;  // "2022", "4k": searchable
    t.elisions = true;
    return t;
}

void query_tokens(std::string_view text, const QueryOptions& opts, std::vector<std::string>& out) {
    out.clear();
    tokenize(text, out, query_tokenizer(opts));
    for (auto& t : out)
        if (t.size() > 1 && t[0] == '#') t.erase(0, 1);  // #netflix matches netflix
}

// ---- parser ----

class QueryParser {
public:
    QueryParser(std::string_view text, Query& q) : text_(text), q_(q) {}

    void run() {
        const size_t bad = utf8_error_at(text_);
        if (bad != std::string_view::npos) {
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text_[bad]));
            fail(std::string("invalid UTF-8 (byte ") + byte + ")", bad);
        }
        skip_space();
        if (pos_ >= text_.size()) fail("the query is empty", pos_);
        q_.root_ = parse_or();
        skip_space();
        if (pos_ < text_.size()) {
            if (text_[pos_] == ')') fail("')' without a matching '('", pos_);
            fail("unexpected text", pos_);
        }
    }

private:
    enum class Tok { End, LParen, RParen, Phrase, Word, And, Or, Not };

    [[noreturn]] void fail(const std::string& msg, size_t at) const {
        size_t col = column_of(text_, at);
        // The query under the message with a caret; a long one (a machine-written query) as
        // the 60 bytes either side of the place, cut at character boundaries.
        auto lead = [&](size_t i) {
            while (i > 0 && i < text_.size() && (static_cast<unsigned char>(text_[i]) & 0xC0) == 0x80) --i;
            return i;
        };
        const size_t from = at > 60 ? lead(at - 60) : 0;
        const size_t to = at + 60 < text_.size() ? lead(at + 60) : text_.size();
        const std::string_view shown = text_.substr(from, to - from);
        const size_t caret = (from > 0 ? 1 : 0) + column_of(shown, std::min(at, to) - from) - 1;
        std::string full = "query: " + msg + " at column " + std::to_string(col) + "\n  " +
                           (from > 0 ? "\u2026" : "") + std::string(shown) + (to < text_.size() ? "\u2026" : "") +
                           "\n  " + std::string(caret, ' ') + "^";
        throw QueryError(msg, col, full);
    }

    void skip_space() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    /// Looks at the next token without consuming it; sets start/end of its text.
    Tok peek(size_t& start, size_t& end) {
        skip_space();
        start = pos_;
        if (pos_ >= text_.size()) return end = pos_, Tok::End;
        char c = text_[pos_];
        // "-" before a term, a phrase or a group is NOT, as in web search: `game -play`. Not
        // inside a word (`e-mail`), and not alone.
        if (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] != ' ' && text_[pos_ + 1] != '\t' &&
            text_[pos_ + 1] != '\n' && text_[pos_ + 1] != '\r' && text_[pos_ + 1] != ')' && text_[pos_ + 1] != '-')
            return end = pos_ + 1, Tok::Not;
        if (c == '(') return end = pos_ + 1, Tok::LParen;
        if (c == ')') return end = pos_ + 1, Tok::RParen;
        if (c == '"') {
            size_t close = text_.find('"', pos_ + 1);
            if (close == std::string_view::npos) fail("unterminated quoted phrase", pos_);
            end = close + 1;
            return Tok::Phrase;
        }
        size_t e = pos_;
        while (e < text_.size() && text_[e] != ' ' && text_[e] != '\t' && text_[e] != '\n' &&
               text_[e] != '\r' && text_[e] != '(' && text_[e] != ')' && text_[e] != '"')
            ++e;
        end = e;
        std::string_view w = text_.substr(pos_, e - pos_);
        if (w == "AND") return Tok::And;
        if (w == "OR") return Tok::Or;
        if (w == "NOT") return Tok::Not;
        return Tok::Word;
    }

    int add(Query::Node n) {
        q_.nodes_.push_back(std::move(n));
        return static_cast<int>(q_.nodes_.size()) - 1;
    }
    int binary(Query::Node::Kind k, int a, int b) {
        Query::Node n;
        n.kind = k;
        n.a = a;
        n.b = b;
        return add(std::move(n));
    }

    int parse_or() {
        int left = parse_and();
        for (;;) {
            size_t s, e;
            if (peek(s, e) != Tok::Or) return left;
            pos_ = e;
            size_t s2, e2;
            Tok t = peek(s2, e2);
            if (t == Tok::End || t == Tok::RParen || t == Tok::Or || t == Tok::And)
                fail("OR needs a term after it", s2);
            left = binary(Query::Node::Or, left, parse_and());
        }
    }

    int parse_and() {
        int left = parse_not();
        for (;;) {
            size_t s, e;
            Tok t = peek(s, e);
            if (t == Tok::And) {
                pos_ = e;
                size_t s2, e2;
                Tok t2 = peek(s2, e2);
                if (t2 == Tok::End || t2 == Tok::RParen || t2 == Tok::Or || t2 == Tok::And)
                    fail("AND needs a term after it", s2);
            } else if (t != Tok::Word && t != Tok::Phrase && t != Tok::LParen && t != Tok::Not) {
                return left;
            }
            left = binary(Query::Node::And, left, parse_not());
        }
    }

    int parse_not() {
        size_t s, e;
        Tok t = peek(s, e);
        if (t == Tok::Not) {
            pos_ = e;
            size_t s2, e2;
            Tok t2 = peek(s2, e2);
            if (t2 == Tok::End || t2 == Tok::RParen || t2 == Tok::Or || t2 == Tok::And)
                fail("NOT needs a term after it", s2);
            Nest nest(*this, s);
            return binary(Query::Node::Not, parse_not(), -1);
        }
        return parse_primary();
    }

    /// Parentheses and NOTs nest at most kMaxDepth deep: the parser, the evaluation and the
    /// description recurse once per level, and a machine-written query of 20,000 '(' would
    /// otherwise exhaust the stack.
    static constexpr int kMaxDepth = 500;
    struct Nest {
        QueryParser& p;
        Nest(QueryParser& parser, size_t at) : p(parser) {
            if (++p.depth_ > kMaxDepth)
                p.fail("parentheses and NOTs nested deeper than " + std::to_string(kMaxDepth) + " levels", at);
        }
        ~Nest() { --p.depth_; }
    };

    int parse_primary() {
        size_t s, e;
        Tok t = peek(s, e);
        switch (t) {
            case Tok::LParen: {
                pos_ = e;
                size_t s2, e2;
                if (peek(s2, e2) == Tok::RParen) fail("empty parentheses", s2);
                Nest nest(*this, s);
                int inner = parse_or();
                if (peek(s2, e2) != Tok::RParen) {
                    if (s2 >= text_.size()) fail("'(' is never closed", s);
                    fail("expected ')' to close the '(' at column " +
                             std::to_string(column_of(text_, s)),
                         s2);
                }
                pos_ = e2;
                return inner;
            }
            case Tok::Phrase: {
                pos_ = e;
                return term(s + 1, e - 1, true);
            }
            case Tok::Word: {
                pos_ = e;
                // "netflix or hulu" searches the word "or": said, as the operators are capitals
                const std::string_view w = text_.substr(s, e - s);
                for (const char* op : {"AND", "OR", "NOT"})
                    if (w.size() == std::strlen(op) && w != op &&
                        std::equal(w.begin(), w.end(), op, [](char a, char b) {
                            return std::toupper(static_cast<unsigned char>(a)) == b;
                        }))
                        q_.warnings_.push_back("'" + std::string(w) + "' (column " +
                                               std::to_string(column_of(text_, s)) +
                                               ") is searched as a word: the operators are AND, OR, NOT in capitals");
                return term(s, e, false);
            }
            case Tok::End:
                fail("a term is missing", s);
            case Tok::RParen:
                fail("')' without a matching '(' or a term is missing", s);
            default:
                fail("a term is missing before this operator", s);
        }
    }

    /// A word or phrase text [b, e) compiled to token patterns.
    int term(size_t b, size_t e, bool quoted) {
        Query::Node n;
        std::vector<std::string> toks;
        size_t i = b;
        while (i < e) {
            while (i < e && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n')) ++i;
            size_t j = i;
            while (j < e && text_[j] != ' ' && text_[j] != '\t' && text_[j] != '\n') ++j;
            if (j == i) break;
            std::string_view piece = text_.substr(i, j - i);
            bool prefix = false;
            while (!piece.empty() && piece.back() == '*') {
                piece.remove_suffix(1);
                prefix = true;
            }
            size_t star = piece.find('*');
            if (star != std::string_view::npos)
                fail("'*' is only allowed at the end of a word", i + star);
            query_tokens(piece, q_.opts_, toks);
            if (toks.empty()) {
                if (prefix)
                    fail("the prefix '" + std::string(piece) +
                             "*' is too short (tokens have 2 or more letters or digits)",
                         i);
                if (!quoted)
                    fail("'" + std::string(piece) +
                             "' has no searchable token (tokens are runs of 2 or more letters or "
                             "digits)",
                         i);
                // in a phrase the words around it still match side by side, as in the posts,
                // whose tokens leave it out too; said for a letter or digit ("vitamin d" then
                // finds "vitamin c"), not for punctuation ("rock & roll")
                if (std::any_of(piece.begin(), piece.end(),
                                [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || (ch & 0x80); }))
                q_.warnings_.push_back("'" + std::string(piece) + "' (column " + std::to_string(i + 1) +
                                       ") in the phrase has no searchable token (tokens are runs of "
                                       "2 or more letters or digits): the phrase is matched without it");
            }
            // a domain: a post's link to it is one token (netflix.com), the name written out is
            // two (netflix com); the term matches either
            // (a host name only: no path, port or address, and a top-level domain of letters,
            // so reddit.com/r/x and 3.14 stay phrases)
            std::string_view host = piece;
            if (const size_t sch = host.find("://"); sch != std::string_view::npos) host.remove_prefix(sch + 3);
            while (!host.empty() && host.back() == '/') host.remove_suffix(1);
            const size_t last_dot = host.rfind('.');
            const bool tld = last_dot != std::string_view::npos && last_dot + 1 < host.size() &&
                             std::all_of(host.begin() + last_dot + 1, host.end(),
                                         [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); });
            if (!quoted && !prefix && b == i && j == e && tld && host.find_first_of("/?#@:") == std::string_view::npos) {
                std::vector<std::string> as_link, written;
                if (toks.size() == 1 && toks[0].find('.') != std::string::npos)
                    as_link = toks;  // written as a link already (www.…, https://…)
                else
                    query_tokens("http://" + std::string(piece), q_.opts_, as_link);
                if (as_link.size() == 1 && as_link[0].find('.') != std::string::npos) {
                    std::string name = as_link[0];
                    std::replace(name.begin(), name.end(), '.', ' ');
                    query_tokens(name, q_.opts_, written);
                    if (!written.empty() && written != as_link) {
                        Query::Node link, words;
                        link.patterns.push_back({as_link[0], false});
                        for (const std::string& t : written) words.patterns.push_back({t, false});
                        const int w = add(std::move(words));
                        return binary(Query::Node::Or, w, add(std::move(link)));
                    }
                }
            }
            for (size_t k = 0; k < toks.size(); ++k)
                n.patterns.push_back({toks[k], prefix && k + 1 == toks.size()});
            i = j;
        }
        if (n.patterns.empty())
            fail(quoted ? "the quoted phrase has no searchable token" : "a term is missing",
                 quoted ? b - 1 : b);
        return add(std::move(n));
    }

    std::string_view text_;
    Query& q_;
    size_t pos_ = 0;
    int depth_ = 0;  // parentheses and NOTs open around the parse
};

namespace {
/// The query with every non-ASCII space (U+00A0 NO-BREAK SPACE from a web page or a word
/// processor, U+2009, U+3000, U+0085, line and paragraph separators) as an ASCII space, so that
/// it separates words there too instead of joining two into one term.
std::string ascii_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    for (size_t i = 0; i < text.size();) {
        if (p[i] < 0x80) {
            out.push_back(text[i++]);
            continue;
        }
        utf8proc_int32_t cp;
        const utf8proc_ssize_t n = utf8proc_iterate(p + i, utf8proc_ssize_t(text.size() - i), &cp);
        if (n <= 0) {  // invalid UTF-8: left for the parser's own error
            out.push_back(text[i++]);
            continue;
        }
        if (is_unicode_space(cp))
            out.push_back(' ');
        else
            out.append(text.substr(i, size_t(n)));
        i += size_t(n);
    }
    return out;
}
}  // namespace

Query Query::parse(std::string_view text, const QueryOptions& opts) {
    Query q;
    q.opts_ = opts;
    const std::string spaced = ascii_spaces(text);
    QueryParser(spaced, q).run();
    return q;
}

// ---- evaluation ----

bool Query::eval(int id, const std::vector<std::string>& seq,
                 const std::vector<std::string>& sorted) const {
    const Node& n = nodes_[id];
    switch (n.kind) {
        case Node::And:
            return eval(n.a, seq, sorted) && eval(n.b, seq, sorted);
        case Node::Or:
            return eval(n.a, seq, sorted) || eval(n.b, seq, sorted);
        case Node::Not:
            return !eval(n.a, seq, sorted);
        case Node::Term:
            break;
    }
    auto match = [](const Pattern& p, const std::string& t) {
        return p.prefix ? t.compare(0, p.token.size(), p.token) == 0 : t == p.token;
    };
    // every token must occur somewhere (fast reject on the sorted distinct tokens)
    for (const Pattern& p : n.patterns) {
        auto it = std::lower_bound(sorted.begin(), sorted.end(), p.token);
        if (it == sorted.end() || !match(p, *it)) return false;
    }
    if (n.patterns.size() == 1) return true;
    const size_t L = n.patterns.size();
    for (size_t i = 0; i + L <= seq.size(); ++i) {
        size_t k = 0;
        while (k < L && match(n.patterns[k], seq[i + k])) ++k;
        if (k == L) return true;
    }
    return false;
}

bool Query::matches_tokens(const std::vector<std::string>& tokens) const {
    std::vector<std::string> sorted(tokens);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    return eval(root_, tokens, sorted);
}

bool Query::matches(std::string_view text) const {
    std::vector<std::string> toks;
    query_tokens(text, opts_, toks);
    return matches_tokens(toks);
}

std::string Query::describe(int id) const {
    const Node& n = nodes_[id];
    switch (n.kind) {
        case Node::And:
            return "(" + describe(n.a) + " AND " + describe(n.b) + ")";
        case Node::Or:
            return "(" + describe(n.a) + " OR " + describe(n.b) + ")";
        case Node::Not:
            return "NOT " + describe(n.a);
        case Node::Term:
            break;
    }
    std::string s;
    for (const Pattern& p : n.patterns) {
        if (!s.empty()) s += ' ';
        s += p.token;
        if (p.prefix) s += '*';
    }
    return n.patterns.size() > 1 ? "\"" + s + "\"" : s;
}

std::string Query::describe() const { return describe(root_); }

std::vector<uint8_t> query_mask(const Context& ctx, const Corpus& corpus, const Query& q) {
    const int64_t n = static_cast<int64_t>(corpus.size());
    std::vector<uint8_t> mask(static_cast<size_t>(n), 0);
#pragma omp parallel num_threads(ctx.cpu_threads())
    {
        std::vector<std::string> toks;
#pragma omp for schedule(dynamic, 256)
        for (int64_t i = 0; i < n; ++i) {
            query_tokens(corpus.text[static_cast<size_t>(i)], q.options(), toks);
            mask[static_cast<size_t>(i)] = q.matches_tokens(toks) ? 1 : 0;
        }
    }
    return mask;
}

void write_mask(const std::string& path, const std::vector<uint8_t>& mask) {
    std::string s;
    s.reserve(mask.size() * 2);
    for (uint8_t m : mask) {
        s.push_back(m ? '1' : '0');
        s.push_back('\n');
    }
    write_file_atomic(path, s);
}

std::vector<uint8_t> read_mask(const std::string& path) {
    std::ifstream in = open_input(path, path + ": cannot open the mask file");
    std::vector<uint8_t> mask;
    std::string line;
    size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        // white space around the value is allowed (docs/formats.md), as a CR line end is
        const size_t b = line.find_first_not_of(" \t\r");
        const size_t e = line.find_last_not_of(" \t\r");
        line = b == std::string::npos ? std::string() : line.substr(b, e - b + 1);
        if (line == "0" || line == "1")
            mask.push_back(line == "1");
        else
            throw InputError(path + ":" + std::to_string(lineno) + ": expected 0 or 1, got '" +
                             line.substr(0, 40) + "'");
    }
    return mask;
}

}  // namespace tmine
