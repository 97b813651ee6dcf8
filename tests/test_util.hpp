#pragma once
// Shared helpers for the test suite: where the real corpora are, temp dirs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tmine::test {

/// The shared real corpora (../shared/data), or $TMINE_DATA.
inline std::string data_dir() {
    if (const char* d = std::getenv("TMINE_DATA")) return d;
    return TMINE_SHARED_DATA;
}
inline std::string data_file(const std::string& name) { return data_dir() + "/" + name; }
inline bool have_data(const std::string& name) {
    return std::filesystem::exists(data_file(name));
}
inline std::string fixture(const std::string& name) {
    return std::string(TMINE_FIXTURES) + "/" + name;
}

/// A fresh temporary directory removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tmine-test-XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace tmine::test

/// Skips (with the reason) a test that needs a shared corpus when it is absent.
#define TMINE_REQUIRE_DATA(name)                                                     \
    do {                                                                            \
        if (!::tmine::test::have_data(name))                                        \
            GTEST_SKIP() << "real corpus " << ::tmine::test::data_file(name)        \
                         << " not found (set TMINE_DATA)";                          \
    } while (0)

#include <zlib.h>

#include <fstream>
#include <string_view>

#include "tmine/corpus.hpp"
#include "tmine/ingest.hpp"
#include "tmine/vectorize.hpp"

namespace tmine::test {

inline const char* kReddit = "reddit-comments-2020-08_2022-07.jsonl.gz";

/// A file's bytes as stored.
inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}
/// Whole decompressed content of a (possibly gzip) file, read with zlib directly.
inline std::string read_gunzipped(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    EXPECT_NE(f, nullptr) << path;
    std::string out;
    if (!f) return out;
    std::vector<char> buf(1 << 20);
    int n;
    while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.append(buf.data(), n);
    gzclose(f);
    return out;
}

/// Regular files of a tar archive (ustar), gzip'ed: calls `fn(name, content)` for each.
template <class Fn>
inline void walk_tar_gz(const std::string& path, Fn fn) {
    gzFile f = gzopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    gzbuffer(f, 1 << 20);
    char h[512];
    std::string content;
    while (gzread(f, h, 512) == 512 && h[0] != '\0') {
        const std::string name(h, strnlen(h, 100));
        const std::string prefix(h + 345, strnlen(h + 345, 155));
        const uint64_t size = std::strtoull(std::string(h + 124, 12).c_str(), nullptr, 8);
        content.resize((size + 511) / 512 * 512);
        if (!content.empty())
            ASSERT_EQ(gzread(f, content.data(), static_cast<unsigned>(content.size())),
                      static_cast<int>(content.size()));
        content.resize(size);
        if (h[156] == '0' || h[156] == '\0')
            if (!fn(prefix.empty() ? name : prefix + "/" + name, content)) break;
    }
    gzclose(f);
}

/// Latin-1 bytes as UTF-8.
inline std::string latin1_to_utf8(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c < 0x80) {
            out.push_back(char(c));
        } else {
            out.push_back(char(0xC0 | (c >> 6)));
            out.push_back(char(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

/// The first `n` posts under 20news-bydate-train/ in archive order, decoded as Latin-1
/// (as tests/fixtures/gen_nmf_fixture.py reads them).
inline Corpus newsgroups_train_head(size_t n) {
    Corpus c;
    c.sources.push_back("20news-bydate.tar.gz");
    walk_tar_gz(data_file("20news-bydate.tar.gz"), [&](const std::string& name, const std::string& body) {
        if (name.rfind("20news-bydate-train/", 0) != 0) return true;
        c.add(latin1_to_utf8(body), kNoTime, name, "", 0);
        return c.size() < n;
    });
    return c;
}

/// The first `n` lines of a gzip file, written to `out` as plain text.
inline void gz_head(const std::string& gz, size_t n, const std::string& out) {
    gzFile f = gzopen(gz.c_str(), "rb");
    ASSERT_NE(f, nullptr) << gz;
    std::ofstream o(out, std::ios::binary);
    std::vector<char> line(1 << 20);
    for (size_t i = 0; i < n && gzgets(f, line.data(), int(line.size())); ++i) o << line.data();
    gzclose(f);
}

/// The first `n` Reddit comments (field body) ingested into a Corpus.
inline Corpus reddit_head(size_t n) {
    TempDir dir;
    std::string path = dir.file("head.jsonl");
    gz_head(data_file(kReddit), n, path);
    IngestOptions o;
    o.text_field = "body";
    o.time_field = "created_utc";
    o.author_field = "subreddit";
    Corpus c;
    ingest({path}, o, c);
    return c;
}

}  // namespace tmine::test

#include "tmine/context.hpp"
#include "tmine/error.hpp"

namespace tmine::test {
/// A CUDA context, or the reason there is none.
inline bool cuda_context(Context& ctx, std::string& why) {
    try {
        ctx = Context::create(Device::Cuda, 0, true);
        return true;
    } catch (const DeviceError& e) {
        why = std::string("no usable GPU: ") + e.what();
        return false;
    }
}
}  // namespace tmine::test

/// Skips a CUDA-vs-CPU test with the reason when no GPU can be used here; fails it instead
/// when TMINE_REQUIRE_GPU=1 (scripts/gpu_check.sh on a lent GPU: a context that does not start
/// there, a driver too old or a library missing, must not pass as skipped tests).
#define TMINE_REQUIRE_CUDA(ctx)                                                     \
    ::tmine::Context ctx = ::tmine::Context::cpu();                                 \
    do {                                                                            \
        std::string why_;                                                           \
        if (!::tmine::test::cuda_context(ctx, why_)) {                              \
            const char* need_ = std::getenv("TMINE_REQUIRE_GPU");                    \
            if (need_ && std::string(need_) == "1") FAIL() << why_;                  \
            GTEST_SKIP() << why_;                                                   \
        }                                                                           \
    } while (0)

namespace tmine::test {
/// TF-IDF of the first 600 real comments (English stop words, min_df 3): small enough for a
/// dense float64 reference. Built once per test program.
inline const Vectorized& small_matrix() {
    static Vectorized v = [] {
        Corpus c = reddit_head(600);
        VectorizeOptions o;
        o.stop_words = load_stop_words("english");
        o.min_df = DfBound::parse("3", "--min-df");
        return vectorize(Context::cpu(), c, o);
    }();
    return v;
}
}  // namespace tmine::test
