// clean, step 1: text normalisation (HTML, entities, markdown, URLs, Unicode, whitespace).
// The rules are listed in docs/cleaning.md; each pass below is one of them, in that order.
#include <utf8proc.h>

#include <cstring>
#include <optional>
#include <string>

#include "clean_internal.hpp"
#include "unicode_chars.hpp"
#include "tmine/clean.hpp"
#include "tmine/error.hpp"

namespace tmine {
namespace {

bool ieq_prefix(std::string_view s, size_t i, const char* lit) {
    const size_t n = std::strlen(lit);
    if (i + n > s.size()) return false;
    for (size_t k = 0; k < n; ++k) {
        char c = s[i + k];
        if (c >= 'A' && c <= 'Z') c = char(c + 32);
        if (c != lit[k]) return false;
    }
    return true;
}

void append_utf8(std::string& out, int32_t cp) {
    uint8_t buf[4];
    const auto n = utf8proc_encode_char(cp, buf);
    out.append(reinterpret_cast<const char*>(buf), size_t(n));
}

/// Tags: <script>/<style> blocks go with their content; other tags (a '<' followed by a letter,
/// '/' or '!', closed by '>' within 2000 bytes) become a space. Anything else stays literal.
std::string strip_tags(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c != '<' || i + 1 >= s.size()) {
            out.push_back(c);
            ++i;
            continue;
        }
        const char d = s[i + 1];
        const bool tagish = (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || d == '/' || d == '!';
        const size_t close = tagish ? s.find('>', i + 1) : std::string_view::npos;
        if (close == std::string_view::npos || close - i > 2000) {
            out.push_back(c);
            ++i;
            continue;
        }
        for (const char* block : {"script", "style"}) {
            if (ieq_prefix(s, i + 1, block)) {
                const std::string end = std::string("</") + block;
                size_t e = i;
                bool found = false;
                while ((e = s.find("</", e + 1)) != std::string_view::npos)
                    if (ieq_prefix(s, e, end.c_str())) {
                        found = true;
                        break;
                    }
                if (found) {
                    const size_t gt = s.find('>', e);
                    i = gt == std::string_view::npos ? s.size() : gt + 1;
                    out.push_back(' ');
                    goto next;
                }
            }
        }
        out.push_back(' ');
        i = close + 1;
    next:;
    }
    return out;
}

struct Entity {
    const char* name;
    int32_t cp;
};
constexpr Entity kEntities[] = {
    {"amp", '&'},     {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},   {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"lsquo", 0x2018},
    {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"laquo", 0xAB},   {"raquo", 0xBB},
    {"copy", 0xA9},   {"reg", 0xAE},     {"trade", 0x2122}, {"euro", 0x20AC},  {"eacute", 0xE9},
    {"egrave", 0xE8}, {"agrave", 0xE0},  {"ccedil", 0xE7},  {"ecirc", 0xEA},   {"deg", 0xB0},
};

/// One pass of entity decoding: named entities above, &#NNN; and &#xHHHH; (valid scalar values).
std::string decode_entities_once(std::string_view s, bool& changed) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out.push_back(s[i]);
            continue;
        }
        const size_t semi = s.find(';', i + 1);
        if (semi == std::string_view::npos || semi - i > 12 || semi == i + 1) {
            out.push_back('&');
            continue;
        }
        const std::string_view name = s.substr(i + 1, semi - i - 1);
        int32_t cp = -1;
        if (name[0] == '#') {
            const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
            const std::string_view digits = name.substr(hex ? 2 : 1);
            int64_t v = 0;
            bool ok = !digits.empty() && digits.size() <= 8;
            for (char c : digits) {
                int dv = (c >= '0' && c <= '9') ? c - '0'
                         : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                         : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                       : -1;
                if (dv < 0) { ok = false; break; }
                v = v * (hex ? 16 : 10) + dv;
            }
            if (ok && v > 0 && utf8proc_codepoint_valid(utf8proc_int32_t(v))) cp = int32_t(v);
        } else {
            for (const Entity& e : kEntities)
                if (name == e.name) cp = e.cp;
        }
        if (cp < 0) {
            out.push_back('&');
            continue;
        }
        append_utf8(out, cp);
        i = semi;
        changed = true;
    }
    return out;
}

/// Decodes up to three times: crawls often escape twice ("&amp;#x200B;").
std::string decode_entities(std::string_view s) {
    std::string cur(s);
    for (int pass = 0; pass < 3; ++pass) {
        if (cur.find('&') == std::string::npos) break;
        bool changed = false;
        std::string next = decode_entities_once(cur, changed);
        cur.swap(next);
        if (!changed) break;
    }
    return cur;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (static_cast<unsigned char>(c) >= 0x80);
}

/// Markdown, line by line: quote markers, headers, list markers, rules and table separators;
/// then inline: [text](url) -> "text url", emphasis and code markers, escapes, superscripts.
std::string strip_markdown(std::string_view s) {
    std::string lines;
    lines.reserve(s.size());
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find('\n', start);
        if (end == std::string_view::npos) end = s.size();
        std::string_view line = s.substr(start, end - start);
        size_t i = 0;
        for (;;) {  // nested quotes "> > text", indentation
            while (i < line.size() && is_space(line[i])) ++i;
            if (i < line.size() && line[i] == '>') { ++i; continue; }
            break;
        }
        line.remove_prefix(i);
        // a rule (---, * * *, ___, === under a heading: three or more of one of these, spaces
        // allowed) or a table separator (|---|:--:|, |-|-|, - | -: '|' and '-' with ':' and spaces)
        // carries no text; an emoticon such as -_- or :-| is text
        size_t marks[4] = {0, 0, 0, 0};  // - * _ =
        size_t pipes = 0, colons = 0, other = 0;
        for (char c : line) {
            if (c == '-') ++marks[0];
            else if (c == '*') ++marks[1];
            else if (c == '_') ++marks[2];
            else if (c == '=') ++marks[3];
            else if (c == '|') ++pipes;
            else if (c == ':') ++colons;
            else if (!is_space(c)) ++other;
        }
        const size_t kinds = (marks[0] > 0) + (marks[1] > 0) + (marks[2] > 0) + (marks[3] > 0);
        const size_t total = marks[0] + marks[1] + marks[2] + marks[3];
        const bool one_rule = other == 0 && pipes == 0 && colons == 0 && kinds == 1 && total >= 3;
        const bool table = other == 0 && pipes > 0 && kinds == 1 && marks[0] >= 1;
        if (one_rule || table) line = {};
        size_t h = 0;
        while (h < line.size() && h < 6 && line[h] == '#') ++h;
        if (h > 0 && h < line.size() && line[h] == ' ') line.remove_prefix(h + 1);
        if (line.size() >= 2 && (line[0] == '*' || line[0] == '-' || line[0] == '+') && line[1] == ' ')
            line.remove_prefix(2);
        else {
            size_t d = 0;
            while (d < line.size() && d < 4 && line[d] >= '0' && line[d] <= '9') ++d;
            if (d > 0 && d + 1 < line.size() && (line[d] == '.' || line[d] == ')') && line[d + 1] == ' ')
                line.remove_prefix(d + 2);
        }
        lines.append(line.data(), line.size());
        lines.push_back('\n');
        if (end == s.size()) break;
        start = end + 1;
    }

    std::string out;
    out.reserve(lines.size());
    size_t open_bracket = std::string::npos;  // where the last '[' is in out (its '\0')
    for (size_t i = 0; i < lines.size(); ++i) {
        const char c = lines[i];
        if (c == '\\' && i + 1 < lines.size() && std::strchr("\\`*_{}[]()#+-.!|~^>&<", lines[i + 1]) &&
            lines[i + 1] != '\0') {
            out.push_back(lines[++i]);  // escaped punctuation is literal
            continue;
        }
        if (c == ']' && i + 1 < lines.size() && lines[i + 1] == '(') {
            // [text](url): an absolute url stays as a word so the URL pass sees it; a relative
            // one ("/r/sub/wiki", "#anchor") is dropped
            const size_t close = lines.find(')', i + 2);
            if (close != std::string::npos && lines.find('\n', i) > close) {
                const bool absolute = lines[i + 2] != '/' && lines[i + 2] != '#';
                // [https://x.org/a](https://x.org/a), Reddit's way to write a bare link: one
                // link, so the text that is itself a URL goes and the target stays
                const std::string_view target(lines.data() + i + 2, close - i - 2);
                const bool target_url = ieq_prefix(target, 0, "http://") || ieq_prefix(target, 0, "https://") ||
                                        ieq_prefix(target, 0, "www.");
                if (target_url && open_bracket != std::string::npos && open_bracket < out.size()) {
                    std::string label;
                    for (size_t k = open_bracket; k < out.size(); ++k)
                        if (out[k] != '\0') label.push_back(out[k]);
                    if (label.find_first_of(" \t\n") == std::string::npos &&
                        (ieq_prefix(label, 0, "http://") || ieq_prefix(label, 0, "https://") ||
                         ieq_prefix(label, 0, "www.")))
                        out.resize(open_bracket);
                }
                open_bracket = std::string::npos;
                out.push_back(' ');
                if (absolute) out.append(lines, i + 2, close - i - 2);
                out.push_back(' ');
                i = close;
                continue;
            }
        }
        if (c == '[') open_bracket = out.size();
        if (c == '[' || c == ']' || c == '*' || c == '`' || c == '|') {
            out.push_back(c == '|' ? ' ' : '\0');  // '\0' is dropped below
            continue;
        }
        if (c == '~' && i + 1 < lines.size() && lines[i + 1] == '~') {
            ++i;
            continue;
        }
        if (c == '^' && (i + 1 < lines.size() && (is_alnum(lines[i + 1]) || lines[i + 1] == '('))) {
            if (lines[i + 1] == '(') {  // ^(superscript text)
                const size_t close = lines.find(')', i + 2);
                if (close != std::string::npos) {
                    out.append(lines, i + 2, close - i - 2);
                    i = close;
                    continue;
                }
            }
            continue;
        }
        if (c == '_') {  // emphasis underscores sit at a word edge; snake_case and -_- stay
            size_t j = i;
            while (j < lines.size() && lines[j] == '_') ++j;
            const bool before = !out.empty() && is_alnum(out.back());
            const bool after = j < lines.size() && is_alnum(lines[j]);
            if (before != after) {
                i = j - 1;  // the run opens or closes emphasis: dropped
                continue;
            }
            out.append(lines, i, j - i);
            i = j - 1;
            continue;
        }
        out.push_back(c);
    }
    std::string clean;
    clean.reserve(out.size());
    for (char c : out)
        if (c != '\0') clean.push_back(c);
    return clean;
}

bool url_char(char c) {
    return !(static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '`' ||
             c == '{' || c == '}' || c == '|' || c == '\\' || c == '^');
}

}  // namespace

namespace detail {

size_t find_urls(std::string_view s, std::vector<std::pair<size_t, size_t>>* spans) {
    size_t count = 0;
    for (size_t i = 0; i < s.size();) {
        const bool boundary = i == 0 || !is_alnum(s[i - 1]);
        size_t skip = 0;
        if (boundary) {
            if (ieq_prefix(s, i, "https://")) skip = 8;
            else if (ieq_prefix(s, i, "http://")) skip = 7;
            else if (ieq_prefix(s, i, "www.")) skip = 4;
        }
        if (!skip || i + skip >= s.size() || !url_char(s[i + skip])) {
            ++i;
            continue;
        }
        size_t e = i + skip;
        int parens = 0;
        bool markdown_pair = false;
        for (; e < s.size(); ++e) {
            // Markdown's escape of a URL's '_' or '*' (Reddit writes wiki/Foo\_bar): part of it
            if (s[e] == '\\' && e + 1 < s.size() && (s[e + 1] == '_' || s[e + 1] == '*')) {
                ++e;
                continue;
            }
            if (!url_char(s[e])) break;
            if (s[e] == '(') ++parens;
            if (s[e] == ')' && --parens < 0) break;  // "(see http://x.org)"
            if (s[e] == ']' && e + 1 < s.size() && s[e + 1] == '(') {  // Markdown [url](target)
                markdown_pair = true;
                break;
            }
        }
        while (e > i + skip && std::strchr(".,;:!?'\")]*", s[e - 1])) --e;  // trailing punctuation
        if (markdown_pair && s[e] == ']') {
            // [https://x.org/a](https://x.org/a): one link, as the normalised text keeps one;
            // the span runs to the target's ')' when the target is absolute too
            size_t t = e + 2, close = e + 2;
            while (close < s.size() && s[close] != ')' && s[close] != '\n') ++close;
            if (close < s.size() && s[close] == ')' &&
                (ieq_prefix(s, t, "http://") || ieq_prefix(s, t, "https://") || ieq_prefix(s, t, "www.")))
                e = close + 1;
        }
        if (spans) spans->emplace_back(i, e);
        ++count;
        i = e;
    }
    return count;
}

std::string url_domain(std::string_view url) {
    // a Markdown pair [url](target) found as one link: the domain of its text
    if (const size_t pair = url.find("]("); pair != std::string_view::npos) url = url.substr(0, pair);
    size_t p = url.find("://");
    url.remove_prefix(p == std::string_view::npos ? 0 : p + 3);
    const size_t end = url.find_first_of("/?#");
    std::string_view host = url.substr(0, end);
    if (const size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
    if (const size_t colon = host.find(':'); colon != std::string_view::npos) host = host.substr(0, colon);
    std::string h;
    for (char c : host) h.push_back((c >= 'A' && c <= 'Z') ? char(c + 32) : c);
    if (h.rfind("www.", 0) == 0) h.erase(0, 4);
    while (!h.empty() && h.back() == '.') h.pop_back();
    return h;
}

}  // namespace detail

namespace {

std::string replace_urls(std::string_view s, UrlMode mode) {
    std::vector<std::pair<size_t, size_t>> spans;
    if (detail::find_urls(s, &spans) == 0) return std::string(s);
    std::string out;
    out.reserve(s.size());
    size_t at = 0;
    for (auto [b, e] : spans) {
        out.append(s.substr(at, b - at));
        out.push_back(' ');
        if (mode == UrlMode::Domain) out += detail::url_domain(s.substr(b, e - b));
        out.push_back(' ');
        at = e;
    }
    out.append(s.substr(at));
    return out;
}

/// Runs of more than kMaxMarks combining marks (code points of non-zero combining class, as in
/// "zalgo" text) cut to their first kMaxMarks, UAX #15's stream-safe limit: utf8proc orders a
/// run by exchanging neighbours, so a post of 100,000 marks took minutes. Nothing when there
/// is no such run (or invalid UTF-8, which the mapping reports).
constexpr int kMaxMarks = 30;
std::optional<std::string> cap_mark_runs(std::string_view s) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    const auto n = utf8proc_ssize_t(s.size());
    std::string out;
    bool capped = false;
    int run = 0;
    utf8proc_ssize_t copied = 0;  // bytes of s before this are in out (once capped)
    for (utf8proc_ssize_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            run = 0;
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        const utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
        if (len <= 0) return std::nullopt;
        run = utf8proc_get_property(cp)->combining_class != 0 ? run + 1 : 0;
        if (run > kMaxMarks) {  // dropped
            out.append(s.data() + copied, size_t(i - copied));
            copied = i + len;
            capped = true;
        }
        i += len;
    }
    if (!capped) return std::nullopt;
    out.append(s.data() + copied, size_t(n - copied));
    return out;
}

/// NFKC (when asked and the text is not pure ASCII), then: white space of any kind becomes one
/// space, control and invisible format characters (zero-width space, BOM, soft hyphen,
/// direction marks) are dropped, ends trimmed.
std::string unicode_and_space(std::string_view s, bool nfkc) {
    bool ascii = true;
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) { ascii = false; break; }
    std::string tmp;
    if (!ascii && nfkc) {
        std::optional<std::string> capped = cap_mark_runs(s);
        if (capped) {
            tmp = std::move(*capped);
            s = tmp;
        }
        utf8proc_uint8_t* mapped = nullptr;
        const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    utf8proc_ssize_t(s.size()), &mapped,
                                    utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
        if (n >= 0) {
            tmp.assign(reinterpret_cast<const char*>(mapped), size_t(n));
            std::free(mapped);
            s = tmp;
        }  // invalid UTF-8 (not from ingest): left as is
    }
    std::string out;
    out.reserve(s.size());
    bool pending_space = false;
    bool flag_tags = false;  // after 🏴 and its tag characters so far
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    const utf8proc_ssize_t n = utf8proc_ssize_t(s.size());
    for (utf8proc_ssize_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            flag_tags = false;
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
                pending_space = !out.empty();
            } else if (c >= 0x20 && c != 0x7f) {
                if (pending_space) out.push_back(' ');
                pending_space = false;
                out.push_back(char(c));
            }
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        const auto len = utf8proc_iterate(p + i, n - i, &cp);
        if (len <= 0) {  // invalid byte: dropped
            flag_tags = false;
            ++i;
            continue;
        }
        const auto cat = utf8proc_category(cp);
        const bool tag = is_tag_character(cp);
        if (is_unicode_space(cp)) {
            pending_space = !out.empty();
        } else if (cat == UTF8PROC_CATEGORY_CC ||
                   (cat == UTF8PROC_CATEGORY_CF && cp != kZeroWidthJoiner && !(tag && flag_tags))) {
            // dropped. Format characters that build emoji stay: U+200D ZERO WIDTH JOINER, and
            // the tag characters right after 🏴 (the flags of England, Scotland and Wales).
        } else {
            if (pending_space) out.push_back(' ');
            pending_space = false;
            out.append(reinterpret_cast<const char*>(p + i), size_t(len));
        }
        flag_tags = cp == kBlackFlag || (tag && flag_tags);
        i += len;
    }
    return out;
}

}  // namespace

UrlMode parse_url_mode(std::string_view s) {
    if (s == "domain") return UrlMode::Domain;
    if (s == "drop") return UrlMode::Drop;
    if (s == "keep") return UrlMode::Keep;
    throw InputError("--urls: expected domain, drop or keep, got '" + std::string(s) + "'");
}

std::string normalize_text(std::string_view text, const NormalizeOptions& o) {
    std::string s(text);
    if (o.strip_html) {
        if (s.find('<') != std::string::npos) s = strip_tags(s);
        s = decode_entities(s);
        // tags written as entities (&lt;br&gt;) are tags once decoded
        if (s.find('<') != std::string::npos) s = strip_tags(s);
    }
    if (o.strip_markdown) s = strip_markdown(s);
    if (o.urls != UrlMode::Keep) s = replace_urls(s, o.urls);
    return unicode_and_space(s, o.nfkc);
}

}  // namespace tmine
