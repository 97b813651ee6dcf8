// Guided topics: reading a seed-terms file against a matrix's vocabulary
// (host/include/tmine/topics.hpp, docs/architecture.md "Guided topics").
#include <fstream>
#include <unordered_map>

#include "tmine/io.hpp"
#include "tmine/error.hpp"
#include "tmine/topics.hpp"

namespace tmine {

SeedTerms read_seed_terms(const std::string& path, const Vectorized& v) {
    std::ifstream in = open_argument_file(path, path + ": cannot open the seed-terms file");
    VectorizeOptions vo;
    apply_pipeline_string(v.pipeline, vo);
    vo.stop_words = v.stop_words;
    // The entries' words one by one (their n-gram is formed below), whatever n-gram range the
    // matrix has: with --ngram 2:3 the tokenizer would give no single words at all.
    vo.ngram_min = vo.ngram_max = 1;
    std::unordered_map<std::string, int32_t> column;
    for (size_t c = 0; c < v.vocabulary.size(); ++c) column.emplace(v.vocabulary[c], int32_t(c));

    // Every entry becomes one document, tokenised by the matrix's own pipeline.
    struct Entry {
        int line;
        std::string text;
    };
    std::vector<Entry> entries;
    std::vector<int> topic_lines;
    std::string line;
    for (int no = 1; std::getline(in, line); ++no) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        topic_lines.push_back(no);
        for (size_t p = 0; p <= line.size();) {
            size_t q = line.find(',', p);
            if (q == std::string::npos) q = line.size();
            std::string e = line.substr(p, q - p);
            const size_t a = e.find_first_not_of(" \t"), b = e.find_last_not_of(" \t");
            if (a != std::string::npos) entries.push_back({no, e.substr(a, b - a + 1)});
            p = q + 1;
        }
    }
    if (topic_lines.empty()) throw InputError(path + ": no seed terms (one line of terms per guided topic)");
    Corpus docs;
    for (const auto& e : entries) docs.add(e.text, kNoTime, "", "", 0);
    docs.sources.push_back(path);
    const Tokenized tok = tokenize_corpus(Context::cpu(1), docs, vo);

    SeedTerms out;
    out.ids.resize(topic_lines.size());
    out.terms.resize(topic_lines.size());
    size_t topic = 0;
    for (size_t d = 0; d < entries.size(); ++d) {
        while (topic_lines[topic] != entries[d].line) ++topic;
        // The entry's words (tokens without a space) and the n-gram they make.
        std::vector<std::string> words;
        for (int64_t t = tok.doc_ptr[d]; t < tok.doc_ptr[d + 1]; ++t) {
            const std::string& w = tok.vocab[tok.tokens[t]];
            if (w.find(' ') == std::string::npos) words.push_back(w);
        }
        std::string joined;
        for (const auto& w : words) joined += (joined.empty() ? "" : " ") + w;
        std::vector<std::string> found;
        if (words.size() > 1 && column.count(joined)) {
            found.push_back(joined);
        } else {
            for (const auto& w : words)
                if (column.count(w)) found.push_back(w);
                else
                    out.warnings.push_back(path + ":" + std::to_string(entries[d].line) + ": '" + w +
                                           "' (from '" + entries[d].text + "') is not in the vocabulary");
        }
        if (words.empty())
            out.warnings.push_back(path + ":" + std::to_string(entries[d].line) + ": '" +
                                   entries[d].text + "' gives no term (a stop word or no word)");
        for (const auto& f : found) {
            const int32_t c = column.at(f);
            bool seen = false;
            for (int32_t x : out.ids[topic]) seen = seen || x == c;
            if (seen) continue;
            out.ids[topic].push_back(c);
            out.terms[topic].push_back(f);
        }
    }
    for (size_t j = 0; j < topic_lines.size(); ++j)
        if (out.ids[j].empty())
            throw InputError(path + ":" + std::to_string(topic_lines[j]) +
                             ": none of this line's terms is in the matrix's vocabulary (" +
                             std::to_string(v.vocabulary.size()) + " terms)");
    return out;
}

}  // namespace tmine
