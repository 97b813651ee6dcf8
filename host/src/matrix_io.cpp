// .tmx matrix file: TF-IDF CSR + vocabulary + df + idf (format in docs/formats.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tmine/error.hpp"
#include "tmine/io.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {
namespace {
constexpr char kMagic[4] = {'T', 'M', 'X', '1'};
constexpr uint32_t kVersion = 4;  // 4: the corpus fingerprint and the checksum
}  // namespace

void write_matrix(const Vectorized& v, const std::string& path) {
    AtomicFile f(path);
    f.write(kMagic, 4);
    f.write_pod(kVersion);
    f.write_pod<int64_t>(v.X.rows);
    f.write_pod<int64_t>(v.X.cols);
    f.write_vector(v.X.indptr);
    f.write_vector(v.X.indices);
    f.write_vector(v.X.data);
    StringColumn vocab;
    for (auto& t : v.vocabulary) vocab.push_back(t);
    f.write_vector(vocab.offsets);
    f.write_vector(std::vector<char>(vocab.arena.begin(), vocab.arena.end()));
    f.write_vector(v.df);
    f.write_vector(v.idf);
    f.write_pod<int32_t>(v.sublinear_tf ? 1 : 0);
    f.write_vector(std::vector<char>(v.pipeline.begin(), v.pipeline.end()));
    StringColumn stop;
    for (auto& w : v.stop_words) stop.push_back(w);
    f.write_vector(stop.offsets);
    f.write_vector(std::vector<char>(stop.arena.begin(), stop.arena.end()));
    f.write_pod<uint64_t>(v.corpus_fingerprint);
    f.write_checksum();  // last: XXH3 of every byte before it
    f.commit();
}

RowSplit split_rows(const std::vector<int64_t>& indptr, int parts) {
    const int64_t n = int64_t(indptr.size()) - 1;
    if (parts < 1) throw InputError("split_rows: " + std::to_string(parts) + " parts");
    if (n < parts)
        throw InputError("topics: " + std::to_string(parts) + " processes but only " + std::to_string(std::max<int64_t>(n, 0)) +
                         " documents: start fewer processes");
    RowSplit s;
    s.nnz = indptr.back();
    s.first.assign(size_t(parts) + 1, 0);
    s.first[parts] = n;
    for (int r = 1; r < parts; ++r) {
        const int64_t target = int64_t((__int128)s.nnz * r / parts);
        int64_t row = std::upper_bound(indptr.begin(), indptr.end(), target) - indptr.begin() - 1;
        s.first[r] = std::clamp(row, s.first[r - 1] + 1, n - (parts - r));
    }
    return s;
}

namespace {

/// read_matrix(), keeping only part `part` of `parts` row blocks when `split` is given.
Vectorized read_matrix_impl(const std::string& path, int parts, int part, RowSplit* split) {
    BinaryReader r(path);
    char magic[4];
    r.read(magic, 4, "magic");
    if (std::memcmp(magic, kMagic, 4) != 0)
        throw InputError(path + ": not a tmine matrix file (expected a .tmx from tmine vectorize)");
    auto version = r.read_pod<uint32_t>("version");
    if (version < 3 || version > kVersion)
        throw InputError(path + ": matrix format version " + std::to_string(version) +
                         " is not supported (this tmine reads versions 3 and 4; vectorize again)");
    Vectorized v;
    const int64_t rows = r.read_pod<int64_t>("rows");
    v.X.rows = rows;
    v.X.cols = r.read_pod<int64_t>("cols");
    v.X.indptr = r.read_vector<int64_t>("indptr");
    // The row offsets, whole, before any row is taken: a share is cut from them.
    bool ok = rows >= 0 && v.X.cols >= 0 && v.X.indptr.size() == size_t(rows) + 1 && v.X.indptr[0] == 0;
    for (int64_t i = 0; ok && i < rows; ++i) ok = v.X.indptr[i] <= v.X.indptr[i + 1];
    if (!ok) throw InputError(path + ": corrupt matrix file (inconsistent sizes or indices)");
    int64_t first_row = 0;
    if (split) {
        *split = split_rows(v.X.indptr, parts);
        first_row = split->first[part];
        const int64_t end_row = split->first[part + 1];
        const int64_t from = v.X.indptr[first_row], to = v.X.indptr[end_row];
        uint64_t n_indices = 0, n_values = 0;
        v.X.indices = r.read_vector_part<int32_t>("indices", uint64_t(from), uint64_t(to), &n_indices);
        v.X.data = r.read_vector_part<float>("values", uint64_t(from), uint64_t(to), &n_values);
        if (n_indices != uint64_t(v.X.indptr.back()) || n_values != n_indices)
            throw InputError(path + ": corrupt matrix file (inconsistent sizes or indices)");
        std::vector<int64_t> mine(v.X.indptr.begin() + first_row, v.X.indptr.begin() + end_row + 1);
        for (auto& p : mine) p -= from;
        v.X.indptr = std::move(mine);
        v.X.rows = end_row - first_row;
    } else {
        v.X.indices = r.read_vector<int32_t>("indices");
        v.X.data = r.read_vector<float>("values");
    }
    StringColumn vocab;
    vocab.offsets = r.read_vector<uint64_t>("vocabulary offsets");
    auto arena = r.read_vector<char>("vocabulary");
    vocab.arena.assign(arena.begin(), arena.end());
    v.df = r.read_vector<int32_t>("document frequencies");
    v.idf = r.read_vector<double>("idf");
    v.sublinear_tf = r.read_pod<int32_t>("tf weighting") != 0;
    auto pipeline = r.read_vector<char>("vectorize settings");
    v.pipeline.assign(pipeline.begin(), pipeline.end());
    StringColumn stop;
    stop.offsets = r.read_vector<uint64_t>("stop word offsets");
    auto stop_arena = r.read_vector<char>("stop words");
    stop.arena.assign(stop_arena.begin(), stop_arena.end());
    if (stop.offsets.empty() || stop.offsets[0] != 0 || stop.offsets.back() != stop.arena.size() ||
        !std::is_sorted(stop.offsets.begin(), stop.offsets.end()))
        throw InputError(path + ": corrupt matrix file (stop words)");
    for (size_t i = 0; i < stop.size(); ++i) v.stop_words.emplace_back(stop[i]);
    if (version >= 4) {
        v.corpus_fingerprint = r.read_pod<uint64_t>("corpus fingerprint");
        r.verify_checksum();
    }
    // Validate the structure so later stages can index without checks (a share: its rows).
    const auto& X = v.X;
    ok = X.indptr.back() == X.nnz() && X.data.size() == X.indices.size() &&
         vocab.offsets.size() == size_t(X.cols) + 1 && vocab.offsets[0] == 0 &&
         vocab.offsets.back() == vocab.arena.size() && v.df.size() == size_t(X.cols) &&
         v.idf.size() == size_t(X.cols);
    for (int64_t i = 0; ok && i < X.rows; ++i)
        for (int64_t p = X.indptr[i]; ok && p < X.indptr[i + 1]; ++p)
            ok = X.indices[p] >= 0 && X.indices[p] < X.cols;
    for (int64_t c = 0; ok && c < X.cols; ++c) ok = vocab.offsets[c] <= vocab.offsets[c + 1];
    if (!ok) throw InputError(path + ": corrupt matrix file (inconsistent sizes or indices)");
    // Values: finite, non-negative and below 1e18, so that the NMF's products
    // of a few hundred of them in float32 cannot overflow (tmine's TF-IDF rows have norm 1).
    for (int64_t i = 0; i < X.rows; ++i)
        for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p)
            if (!(X.data[p] >= 0.0f && X.data[p] < 1e18f)) {
                char value[32];
                std::snprintf(value, sizeof value, "%g", double(X.data[p]));
                throw InputError(path + ": corrupt matrix file (row " + std::to_string(first_row + i) + ", column " +
                                 std::to_string(X.indices[p]) + " holds " + value +
                                 ", not a weight in [0, 1e18))");
            }
    for (int64_t c = 0; c < X.cols; ++c)
        if (!std::isfinite(v.idf[c]) || v.idf[c] < 0)
            throw InputError(path + ": corrupt matrix file (the idf of column " + std::to_string(c) +
                             " is " + std::to_string(v.idf[c]) + ")");
    v.vocabulary.reserve(X.cols);
    for (int64_t c = 0; c < X.cols; ++c) v.vocabulary.emplace_back(vocab[c]);
    return v;
}

}  // namespace

Vectorized read_matrix(const std::string& path) { return read_matrix_impl(path, 1, 0, nullptr); }

Vectorized read_matrix_rows(const std::string& path, int parts, int part, RowSplit& split) {
    if (part < 0 || part >= parts) throw InputError("read_matrix_rows: part " + std::to_string(part) + " of " + std::to_string(parts));
    return read_matrix_impl(path, parts, part, &split);
}

}  // namespace tmine
