// The tokenizers: scikit-learn-compatible mode against scikit-learn's vocabularies on 20
// Newsgroups (fixtures from tests/fixtures/gen_vocab_fixture.py), and tmine's social-post
// tokenizer (French elisions, hyphens, URLs, mentions, hashtags, numbers, emoji, NFKC and case
// folding, accents), stop words, Snowball stemming, n-grams and vocabulary files.
#include <gtest/gtest.h>

#include <utf8proc.h>

#include <filesystem>
#include <optional>
#include <random>
#include <sstream>

#include "test_util.hpp"
#include "tmine/error.hpp"
#include "tmine/vectorize.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

std::vector<std::string> toks(std::string_view text, TokenizerOptions o = {}) {
    std::vector<std::string> out;
    tokenize(text, out, o);
    return out;
}
using V = std::vector<std::string>;

std::vector<std::string> fixture_lines(const std::string& name) {
    std::istringstream in(read_gunzipped(fixture(name)));
    std::vector<std::string> v;
    std::string line;
    while (std::getline(in, line)) v.push_back(line);
    return v;
}

Corpus corpus_of(std::initializer_list<const char*> texts) {
    Corpus c;
    c.sources.push_back("test");
    for (const char* t : texts) c.add(t, kNoTime, "", "", 0);
    return c;
}

}  // namespace

TEST(SklearnMode, VocabularyEqualsScikitLearnOn20NewsgroupsTrain) {
    TMINE_REQUIRE_DATA("20news-bydate.tar.gz");
    Corpus c = newsgroups_train_head(1u << 30);
    ASSERT_EQ(c.size(), 11314u);
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();
    Tokenized t = tokenize_corpus(Context::cpu(), c, o);
    EXPECT_EQ(t.vocab, fixture_lines("vocab_20news_train.txt.gz"));
}

TEST(SklearnMode, BigramVocabularyWithStopWordsEqualsScikitLearn) {
    TMINE_REQUIRE_DATA("20news-bydate.tar.gz");
    Corpus c = newsgroups_train_head(2000);
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();
    o.ngram_min = 1;
    o.ngram_max = 2;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("2", "--min-df");
    Vectorized v = vectorize(Context::cpu(), c, o);
    EXPECT_EQ(v.vocabulary, fixture_lines("vocab_20news_bigram.txt.gz"));
}

TEST(SocialTokenizer, FrenchElisionsBothApostrophes) {
    EXPECT_EQ(toks("L'été, j’aime l’idée qu'il vienne d'abord jusqu'à demain"),
              (V{"été", "aime", "idée", "il", "vienne", "abord", "demain"}));
    // every elided word of the list, capitalised too, with either apostrophe
    EXPECT_EQ(toks("N'oublie pas s’il te plaît, c'est m'ennuyer, t’inquiète, lorsqu'elle "
                   "puisqu'on quoiqu’il D'accord"),
              (V{"oublie", "pas", "il", "te", "plaît", "est", "ennuyer", "inquiète", "elle", "on", "il",
                 "accord"}));
    TokenizerOptions keep;
    keep.elisions = false;
    EXPECT_EQ(toks("l'été", keep), (V{"été"})) << "without elision handling 'l' is one letter";
    EXPECT_EQ(toks("qu'il lorsqu'elle", keep), (V{"qu", "il", "lorsqu", "elle"}));
    EXPECT_EQ(toks("I'll say it's John's, you've seen, don't, didn't, isn't, can't, won't"),
              (V{"say", "it", "john", "you", "seen", "do", "did", "is", "can", "will"}))
        << "English contractions: the clitic goes, n't leaves the verb";
    TokenizerOptions split;
    split.contractions = false;
    EXPECT_EQ(toks("don't stop", split), (V{"don", "stop"})) << "as scikit-learn without it";
    EXPECT_EQ(toks("rock'n'roll"), (V{"rock", "roll"})) << "other apostrophes split";
    // French words whose apostrophe is no elision stay whole, with one spelling whichever
    // apostrophe the text has.
    EXPECT_EQ(toks("Aujourd’hui quelqu'un aux prud’hommes de la presqu'île, aujourd'hui"),
              (V{"aujourd'hui", "quelqu'un", "aux", "prud'hommes", "de", "la", "presqu'île", "aujourd'hui"}));
    TokenizerOptions folded;
    folded.strip_accents = true;
    EXPECT_EQ(toks("presqu’île", folded), (V{"presqu'ile"}));
    EXPECT_EQ(toks("aujourd'hui", keep), (V{"aujourd", "hui"})) << "--no-elisions keeps the parts";
    // after an elision too
    EXPECT_EQ(toks("celui d'aujourd'hui, jusqu’aujourd’hui et l'aujourd'hui"),
              (V{"celui", "aujourd'hui", "aujourd'hui", "et", "aujourd'hui"}));
}

TEST(SocialTokenizer, HyphensUrlsMentionsHashtags) {
    EXPECT_EQ(toks("peut-être un e-mail, covid-19"), (V{"peut-être", "un", "e-mail", "covid-19"}));
    TokenizerOptions split;
    split.hyphens = false;
    EXPECT_EQ(toks("peut-être un e-mail", split), (V{"peut", "être", "un", "mail"}));
    EXPECT_EQ(toks("voir https://www.YouTube.com/watch?v=x et www.netflix.fr/series."),
              (V{"voir", "youtube.com", "et", "netflix.fr"}));
    TokenizerOptions drop;
    drop.urls = TokenizerOptions::Urls::Drop;
    EXPECT_EQ(toks("voir https://example.org/a et", drop), (V{"voir", "et"}));
    TokenizerOptions keep;
    keep.urls = TokenizerOptions::Urls::Keep;
    EXPECT_EQ(toks("see http://example.org/a-b?x=1.", keep), (V{"see", "http://example.org/a-b?x=1"}));
    EXPECT_EQ(toks("@Netflix_FR adore #LaCasaDePapel !"), (V{"@netflix_fr", "adore", "#lacasadepapel"}));
    TokenizerOptions no;
    no.mentions = false;
    no.hashtags = false;
    EXPECT_EQ(toks("@Netflix_FR adore #LaCasaDePapel", no), (V{"adore"}));
}

TEST(SocialTokenizer, NumbersEmojiNormalisationAccents) {
    EXPECT_EQ(toks("En 2021 j'ai vu 3 séries"), (V{"en", "ai", "vu", "séries"}));
    TokenizerOptions nums;
    nums.numbers = true;
    EXPECT_EQ(toks("En 2021 j'ai vu 3 séries", nums), (V{"en", "2021", "ai", "vu", "3", "séries"}));
    EXPECT_EQ(toks("top 😀😀 🔥!"), (V{"top", "😀", "😀", "🔥"}));
    // an emoji is its grapheme cluster: a flag, a skin tone, a ZWJ sequence, a flag of tags.
    // The normalisation removes the other default ignorables, so ❤️ (with its presentation
    // selector) is ❤, and 🤷🏽‍♂️ is 🤷🏽‍♂ in both spellings.
    EXPECT_EQ(toks("vive la 🇫🇷🇺🇸 👍🏽 👨‍👩‍👧 ❤️ ❤ ok🔥"),
              (V{"vive", "la", "🇫🇷", "🇺🇸", "👍🏽", "👨‍👩‍👧", "❤", "❤", "ok", "🔥"}));
    EXPECT_EQ(toks("🤷🏽‍♂️ 🤷🏽‍♂ ❤️‍🔥 🏴‍☠️ 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴"),
              (V{"🤷🏽\u200d♂", "🤷🏽\u200d♂", "❤\u200d🔥", "🏴\u200d☠", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "🏴"}));
    // a joiner that joins no two pictographs goes, as every other ignorable does
    EXPECT_EQ(toks("🔥\u200d \u200d🔥 a\u200db 🔥\u200d\u2122"), (V{"🔥", "🔥", "ab", "🔥", "tm"}));
    EXPECT_EQ(toks("🏽 alone"), (V{"alone"})) << "a skin tone alone is a modifier (Sk), no symbol";
    TokenizerOptions noemoji;
    noemoji.emoji = false;
    EXPECT_EQ(toks("top 😀 🔥", noemoji), (V{"top"}));
    EXPECT_EQ(toks("ﬁlm ＮＥＴＦＬＩＸ STRASSE Straße"), (V{"film", "netflix", "strasse", "strasse"}))
        << "NFKC folds the ligature and full-width letters; case folding maps ß to ss";
    TokenizerOptions strip;
    strip.strip_accents = true;
    EXPECT_EQ(toks("Été à Noël, ÇA VA", strip), (V{"ete", "noel", "ca", "va"}));
    EXPECT_EQ(toks("Été à Noël"), (V{"été", "noël"}));
}

TEST(SocialTokenizer, NgramsDoNotCrossSentencePunctuation) {
    Corpus c = corpus_of({"New York is big. York rocks!", "new york again"});
    VectorizeOptions o;
    o.ngram_min = 1;
    o.ngram_max = 2;
    Vectorized v = vectorize(Context::cpu(), c, o);
    auto has = [&](const std::string& t) {
        return std::find(v.vocabulary.begin(), v.vocabulary.end(), t) != v.vocabulary.end();
    };
    EXPECT_TRUE(has("new york"));
    EXPECT_TRUE(has("york rocks"));
    EXPECT_TRUE(has("is big"));
    EXPECT_FALSE(has("big york")) << "a bigram across a full stop";
    EXPECT_TRUE(has("york"));
    {
        // a full stop (! ? ;) right after a link ends its sentence too
        Corpus u = corpus_of({"look https://example.com. great video", "see www.example.org! nice one",
                              "read https://x.org/a; then go"});
        Vectorized vu = vectorize(Context::cpu(), u, o);
        auto in = [&](const std::string& t) {
            return std::find(vu.vocabulary.begin(), vu.vocabulary.end(), t) != vu.vocabulary.end();
        };
        EXPECT_TRUE(in("look example.com"));
        EXPECT_TRUE(in("great video"));
        EXPECT_FALSE(in("example.com great"));
        EXPECT_FALSE(in("example.org nice"));
        EXPECT_FALSE(in("x.org then"));
        EXPECT_TRUE(in("see example.org"));
    }
    o.ngram_min = 2;
    Vectorized only = vectorize(Context::cpu(), c, o);
    for (const auto& t : only.vocabulary) EXPECT_NE(t.find(' '), std::string::npos) << t;
    o.ngram_min = 3;
    o.ngram_max = 2;
    EXPECT_THROW(vectorize(Context::cpu(), c, o), InputError);
}

TEST(SocialTokenizer, FrenchStopWordsAndSnowballStemming) {
    auto fr = load_stop_words("french", TokenizerOptions{});
    Corpus c = corpus_of({"Le film est génial et les séries sont géniales",
                          "Running runs runner ran"});
    VectorizeOptions o;
    o.stop_words = load_stop_words("french,english", TokenizerOptions{});
    EXPECT_GT(o.stop_words.size(), fr.size());
    Vectorized plain = vectorize(Context::cpu(), c, o);
    EXPECT_EQ(plain.vocabulary, (V{"film", "génial", "géniales", "ran", "runner", "running", "runs", "séries"}));
    o.stem = "french";
    Vectorized fr_stem = vectorize(Context::cpu(), c, o);
    auto has = [](const Vectorized& v, const std::string& t) {
        return std::find(v.vocabulary.begin(), v.vocabulary.end(), t) != v.vocabulary.end();
    };
    EXPECT_TRUE(has(fr_stem, "génial")) << "génial and géniales share the Snowball stem";
    EXPECT_FALSE(has(fr_stem, "géniales"));
    o.stem = "english";
    Vectorized en = vectorize(Context::cpu(), c, o);
    EXPECT_TRUE(has(en, "run"));
    EXPECT_FALSE(has(en, "running"));
    // words are stemmed, a link's host is not, whichever the corpus shows first
    for (const char* first : {"http://running/x and running", "running and http://running/x"}) {
        Vectorized u = vectorize(Context::cpu(), corpus_of({first}), o);
        EXPECT_TRUE(has(u, "run")) << first;
        EXPECT_TRUE(has(u, "running")) << first;
    }
    EXPECT_EQ(std::count(fr.begin(), fr.end(), "etions") + std::count(fr.begin(), fr.end(), "etiez"), 2)
        << "the unaccented forms too";
    o.stem = "klingon";
    EXPECT_THROW(vectorize(Context::cpu(), c, o), InputError);
}

TEST(SocialTokenizer, RealFrenchProseHasNoElidedTokens) {
    // Debian's manpages-fr: real French prose (troff source; the markup only adds tokens).
    const std::string page = "/usr/share/man/fr/man1/apropos.1.gz";
    if (!std::filesystem::exists(page)) GTEST_SKIP() << page << " not installed (Debian manpages-fr)";
    std::string text = read_gunzipped(page);
    ASSERT_GT(text.size(), 1000u);
    std::vector<std::string> t = toks(text);
    ASSERT_GT(t.size(), 300u);
    size_t accented = 0;
    for (const auto& w : t) {
        for (const char* e : {"l'", "d'", "qu'", "l\u2019", "d\u2019"}) EXPECT_NE(w.rfind(e, 0), 0u) << w;
        accented += w.find_first_of("\xC3") != std::string::npos;
    }
    EXPECT_GT(accented, 10u) << "accented French words survive as they are";
}

TEST(Vocabulary, ExportImportRoundTripAndErrors) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus c = reddit_head(3000);
    VectorizeOptions o;
    o.ngram_max = 2;
    o.min_df = DfBound::parse("3", "--min-df");
    o.stop_words = load_stop_words("english", o.tokenizer);
    Vectorized v = vectorize(Context::cpu(), c, o);
    TempDir d;
    write_vocabulary_csv(v, d.file("vocab.csv"));
    std::vector<std::string> terms;
    std::vector<double> idf;
    read_vocabulary_csv(d.file("vocab.csv"), terms, idf);
    EXPECT_EQ(terms, v.vocabulary);
    EXPECT_EQ(idf, v.idf) << "idf written with 17 digits round-trips exactly";
    // The fixed vocabulary and its idf reproduce the matrix; without idf the corpus's own idf
    // (the same corpus here) does too.
    Vectorized fixed = vectorize_fixed(Context::cpu(), c, terms, idf, o);
    EXPECT_EQ(fixed.X.indices, v.X.indices);
    EXPECT_EQ(fixed.X.data, v.X.data);
    Vectorized own = vectorize_fixed(Context::cpu(), c, terms, {}, o);
    EXPECT_EQ(own.idf, v.idf);
    // The same file re-saved by a spreadsheet, with a byte-order mark: the header is still a
    // header and its idf is still read.
    write_bytes(d.file("bom.csv"), "\xEF\xBB\xBF" + read_bytes(d.file("vocab.csv")));
    std::vector<std::string> bom_terms;
    std::vector<double> bom_idf;
    read_vocabulary_csv(d.file("bom.csv"), bom_terms, bom_idf);
    EXPECT_EQ(bom_terms, v.vocabulary);
    EXPECT_EQ(bom_idf, v.idf);
    write_bytes(d.file("bad.csv"), "term,df,idf\nfoo,1,2.0\nbar,1,zero\n");
    try {
        read_vocabulary_csv(d.file("bad.csv"), terms, idf);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.csv:3: bad idf 'zero'"), std::string::npos) << e.what();
    }
    write_bytes(d.file("dup.csv"), "term\nfoo\nfoo\n");
    EXPECT_THROW(read_vocabulary_csv(d.file("dup.csv"), terms, idf), InputError);
}

TEST(Vocabulary, SettingsTravelWithTheMatrixAndReproduceIt) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus c = reddit_head(2000);
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();
    o.ngram_max = 2;
    o.stem = "english";
    o.sublinear_tf = true;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("2", "--min-df");
    Vectorized v = vectorize(Context::cpu(), c, o);
    TempDir d;
    write_matrix(v, d.file("m.tmx"));
    Vectorized back = read_matrix(d.file("m.tmx"));
    EXPECT_EQ(back.pipeline, pipeline_string(o));
    EXPECT_EQ(back.stop_words, o.stop_words);
    // Options rebuilt from the file give the same tokens: the fixed-vocabulary matrix of the
    // same documents equals the original (stop words matter for the bigrams).
    VectorizeOptions again;
    apply_pipeline_string(back.pipeline, again);
    again.stop_words = back.stop_words;
    EXPECT_TRUE(again.tokenizer.sklearn_compatible);
    EXPECT_EQ(again.ngram_max, 2);
    EXPECT_EQ(again.stem, "english");
    EXPECT_TRUE(again.sublinear_tf);
    Vectorized fixed = vectorize_fixed(Context::cpu(), c, back.vocabulary, back.idf, again);
    EXPECT_EQ(fixed.X.indices, v.X.indices);
    EXPECT_EQ(fixed.X.data, v.X.data);
    VectorizeOptions defaults;  // the default tokenizer without the stop words does not
    Vectorized other = vectorize_fixed(Context::cpu(), c, back.vocabulary, back.idf, defaults);
    EXPECT_NE(other.X.indices, v.X.indices);
    EXPECT_THROW(apply_pipeline_string("ngram=3:1", again), InputError);
    EXPECT_THROW(apply_pipeline_string("colour=blue", again), InputError);
}

namespace {

void expect_same_tokens(const Tokenized& a, const Tokenized& b, const std::string& what) {
    EXPECT_EQ(a.vocab, b.vocab) << what;
    EXPECT_EQ(a.doc_ptr, b.doc_ptr) << what;
    EXPECT_TRUE(a.tokens == b.tokens) << what;
    EXPECT_EQ(a.text_bytes, b.text_bytes) << what;
}

/// What normalize_text() must equal: utf8proc_map() of the whole text at once.
std::string whole_text_map(std::string_view text, bool strip_accents) {
    int options = UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
                  UTF8PROC_IGNORE;
    if (strip_accents) options |= UTF8PROC_STRIPMARK;
    utf8proc_uint8_t* mapped = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                            static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                                            static_cast<utf8proc_option_t>(options));
    std::string out;
    if (n < 0) {
        for (unsigned char c : text) out.push_back(c < 0x80 ? char(std::tolower(c)) : ' ');
        return out;
    }
    out.assign(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
    std::free(mapped);
    return out;
}

bool stable_pictograph(utf8proc_int32_t cp) {
    const utf8proc_property_t* q = utf8proc_get_property(cp);
    return q->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC &&
           q->decomp_seqindex == UINT16_MAX && q->casefold_seqindex == UINT16_MAX;
}

/// Checks the joiners and tag characters normalize_text() kept in `got` (the only code points
/// UTF8PROC_IGNORE would have removed that it keeps): each ZWJ has a pictograph after it and
/// one before it (across Extend code points: skin tones, marks), each tag character follows 🏴
/// or another tag. Returns `got` without them (what the whole-text mapping gives), and counts
/// the joiners and tags in *kept; an empty optional when one is out of place.
std::optional<std::string> drop_emoji_joins(const std::string& got, size_t* kept) {
    std::vector<utf8proc_int32_t> cps;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(got.data());
    for (utf8proc_ssize_t i = 0, n = utf8proc_ssize_t(got.size()); i < n;) {
        utf8proc_int32_t cp;
        const utf8proc_ssize_t m = utf8proc_iterate(p + i, n - i, &cp);
        if (m <= 0) return got;  // the invalid-UTF-8 fallback's spaces are checked by the caller
        cps.push_back(cp);
        i += m;
    }
    std::string out;
    for (size_t i = 0; i < cps.size(); ++i) {
        const utf8proc_int32_t cp = cps[i];
        if (cp == 0x200D) {
            size_t b = i;
            while (b > 0 && utf8proc_get_property(cps[b - 1])->boundclass == UTF8PROC_BOUNDCLASS_EXTEND) --b;
            if (b == 0 || !stable_pictograph(cps[b - 1]) || i + 1 == cps.size() ||
                !stable_pictograph(cps[i + 1]))
                return std::nullopt;
            ++*kept;
        } else if (cp >= 0xE0020 && cp <= 0xE007F) {
            if (i == 0 || !(cps[i - 1] == 0x1F3F4 || (cps[i - 1] >= 0xE0020 && cps[i - 1] <= 0xE007F)))
                return std::nullopt;
            ++*kept;
        } else {
            utf8proc_uint8_t buf[4];
            out.append(reinterpret_cast<const char*>(buf), size_t(utf8proc_encode_char(cp, buf)));
        }
    }
    return out;
}

}  // namespace

// The social tokenizer sends only the non-ASCII runs of a text through utf8proc (with the
// ASCII character before each run); that must equal mapping the whole text, but for the joiners
// and tags of emoji sequences, which it keeps (each checked in place). Random strings
// over an alphabet chosen to break a wrong cut: combining marks of several classes (reordered
// across each other), letters they compose with, ignorables between them, Hangul jamo that
// compose into syllables, compatibility characters that decompose into ASCII, and case foldings
// that change length. Then every Reddit comment, both ways.
TEST(Normalize, RunByRunEqualsTheWholeText) {
    const char* alphabet[] = {
        "a", "e", "E", "K", "o", "n", " ", "'", "-", "\n", "1",
        "\u0301", "\u0308", "\u0327", "\u0323", "\u0338", "\u0345", "\u3099", "\u00ad",
        "\u200b", "\u200d", "\ufe0f", "\u1100", "\u1161", "\u11a8", "\uac00", "\ufb01",
        "\uff21", "\u212b", "\u2126", "\u03a3", "\u0130", "\u1e9e", "\u00e9", "\u00c5",
        "\u304b", "\u0f73", "\u2019", "\u00df", "\U0001F600", "\U0001D15E", "\u0627", "\u0653",
        // emoji sequences: pictographs (♂, 🏴, ™ which NFKC makes "tm"), a skin tone, tags
        "\u2642", "\U0001F3F4", "\u2122", "\U0001F3FB", "\U000E0067", "\U000E007F", "\u200d",
    };
    const int letters = int(sizeof(alphabet) / sizeof(alphabet[0]));
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pick(0, letters - 1), length(0, 10), invalid(0, 99);
    int checked = 0;
    size_t kept = 0;
    for (int r = 0; r < 200000; ++r) {
        std::string s;
        for (int k = length(rng); k > 0; --k) s += alphabet[pick(rng)];
        if (invalid(rng) == 0) s.insert(s.size() / 2, "\xff");  // invalid UTF-8: the fallback
        for (bool strip : {false, true}) {
            const std::string want = whole_text_map(s, strip);
            const std::string got = normalize_text(s, strip);
            const auto rest = drop_emoji_joins(got, &kept);
            if (!rest || *rest != want) {
                ADD_FAILURE() << "text '" << s << "' strip " << strip << ": got '" << got
                              << "', whole-text utf8proc '" << want << "'"
                              << (rest ? "" : " (a joiner or tag out of place)");
                return;
            }
            ++checked;
        }
    }
    EXPECT_EQ(checked, 400000);
    EXPECT_GT(kept, 1000u) << "the random strings should hold emoji sequences";
    if (!have_data(kReddit)) GTEST_SKIP() << "shared data not present (random strings passed)";
    const Corpus reddit = reddit_head(480000);
    ASSERT_EQ(reddit.size(), 480000u);
    size_t non_ascii = 0, joined = 0;
    for (size_t d = 0; d < reddit.size(); ++d) {
        const std::string_view t = reddit.text[d];
        non_ascii += std::any_of(t.begin(), t.end(), [](char c) { return (unsigned char)c >= 0x80; });
        for (bool strip : {false, true}) {
            size_t k = 0;
            const auto rest = drop_emoji_joins(normalize_text(t, strip), &k);
            if (!rest || *rest != whole_text_map(t, strip)) {
                ADD_FAILURE() << "Reddit comment " << d << " strip " << strip << ": '" << t << "'";
                return;
            }
            joined += strip && k > 0;
        }
    }
    EXPECT_GT(non_ascii, 90000u);  // about a fifth of the comments have non-ASCII characters
    // 936 comments hold a ZWJ, nearly all in emoji (🤷‍♂️, ❤️‍🔥, 🏴‍☠️)
    EXPECT_GT(joined, 800u);
}

// The GPU tokenizer's split (chunks tokenised once each, then expanded) run on the CPU equals
// the direct tokenizer: on texts made to test the separators' edges, and on the real corpora.
TEST(ChunkedTokenizer, EqualsDirectOnEdgeCases) {
    Corpus c = corpus_of({
        "", "   ", "\n\n", "a", "Hello, World! (see https://www.example.com/x?y=1) [ok] \"quoted\"",
        "ΟΔΟΣ ΟΔΟΣ, \u0130stanbul K\u0130L\u0130M", "l\u2019\u00e9t\u00e9 qu'il didn't won't\nnew line\r\nx",
        "e\u0301t\u00e9 ( \u0301 ) <\u0338ab a\u0338 \uff2e\uff25\uff34 \ufb01n", "@user_1 #tag1 (#tag2) [@x]",
        "peut-\u00eatre e-mail covid-19 2021 \U0001F525\U0001F525 caf\u00e9s", "bad \xff\xfe utf8 \xc3",
        "Stop the words, the stop words.\tTab\tseparated", "x_y __init__ snake_case CamelCase",
    });
    c.add(std::string("nul\0byte here", 13), kNoTime, "", "", 0);
    for (bool sk : {false, true})
        for (int ng : {1, 2}) {
            VectorizeOptions o;
            o.tokenizer.sklearn_compatible = sk;
            o.tokenizer.numbers = ng == 2;
            o.ngram_max = ng;
            o.stop_words = load_stop_words("english", o.tokenizer);
            if (ng == 2) o.stem = "english";
            const std::string what = std::string(sk ? "sklearn" : "social") + " ngram 1:" + std::to_string(ng);
            expect_same_tokens(cpu_impl::tokenize_chunked(Context::cpu(), c, o),
                               tokenize_corpus(Context::cpu(), c, o), what);
        }
    // Invalid UTF-8 makes its document tokenised whole (the chunk cannot be normalised alone).
    std::vector<std::string> t;
    tokenize("bad \xff\xfe utf8", t, TokenizerOptions{});
    EXPECT_FALSE(t.empty());
}

// A document larger than a batch is tokenised whole on the host (the device's memory is sized
// for batches): the tokens are the same as the direct tokenizer's, with unigrams and n-grams,
// wherever the long documents fall (first, in the middle, last, two in a row).
TEST(ChunkedTokenizer, DocumentsLargerThanABatch) {
    TMINE_REQUIRE_DATA(kReddit);
    const Corpus head = reddit_head(3000);
    std::string longdoc;
    for (size_t i = 0; i < 600; ++i) longdoc.append(head.text[i]).append(i % 7 ? " " : "\n");
    ASSERT_GT(longdoc.size(), size_t(32) << 10);
    Corpus c;
    c.add(longdoc, kNoTime, "", "", 0);
    for (size_t i = 600; i < 2000; ++i) {
        c.add(head.text[i], kNoTime, "", "", 0);
        if (i == 1200) {
            c.add(longdoc, kNoTime, "", "", 0);
            c.add(longdoc.substr(100), kNoTime, "", "", 0);
        }
    }
    c.add(longdoc.substr(0, longdoc.size() / 2 + 40000), kNoTime, "", "", 0);
    for (int ng : {1, 2}) {
        VectorizeOptions o;
        o.ngram_max = ng;
        o.stop_words = load_stop_words("english", o.tokenizer);
        const Tokenized direct = tokenize_corpus(Context::cpu(), c, o);
        for (int threads : {1, 3})
            expect_same_tokens(cpu_impl::tokenize_chunked(Context::cpu(threads), c, o, 16 << 10), direct,
                               "ngram 1:" + std::to_string(ng) + ", 16 KiB batches, " + std::to_string(threads) +
                                   " threads");
    }
}

TEST(ChunkedTokenizer, EqualsDirectOnRedditAndNewsgroups) {
    if (!have_data(kReddit) || !have_data("20news-bydate.tar.gz")) GTEST_SKIP() << "shared data not present";
    const Corpus reddit = reddit_head(480000);
    ASSERT_EQ(reddit.size(), 480000u);
    for (bool sk : {false, true}) {
        VectorizeOptions o;
        o.tokenizer.sklearn_compatible = sk;
        o.stop_words = load_stop_words("english", o.tokenizer);
        const Context cpu = Context::cpu();
        Tokenized direct = tokenize_corpus(cpu, reddit, o);
        Tokenized chunked = cpu_impl::tokenize_chunked(cpu, reddit, o);
        EXPECT_GT(direct.vocab.size(), 100000u);
        expect_same_tokens(chunked, direct, sk ? "reddit sklearn" : "reddit social");
        // Unigrams are copied per batch in parallel parts: in 4 MiB batches (18 of them).
        expect_same_tokens(cpu_impl::tokenize_chunked(cpu, reddit, o, 4 << 20), direct,
                           sk ? "reddit sklearn, 4 MiB batches" : "reddit social, 4 MiB batches");
    }
    const Corpus news = newsgroups_train_head(3000);
    VectorizeOptions o;
    o.ngram_max = 3;
    o.stem = "english";
    o.stop_words = load_stop_words("english,french", o.tokenizer);
    const Tokenized news_direct = tokenize_corpus(Context::cpu(), news, o);
    expect_same_tokens(cpu_impl::tokenize_chunked(Context::cpu(), news, o), news_direct,
                       "20news social 1:3 stemmed");
    // In batches of about 64 KiB of text, as the GPU cuts a corpus larger than its memory.
    expect_same_tokens(cpu_impl::tokenize_chunked(Context::cpu(), news, o, 64 << 10), news_direct,
                       "20news social 1:3 stemmed, 64 KiB batches");
    // n-grams are built in parallel parts, each interning into its thread's own table: with
    // 5 threads, 5 mapper and 5 n-gram tables, in small and in whole batches.
    expect_same_tokens(cpu_impl::tokenize_chunked(Context::cpu(5), news, o, 64 << 10), news_direct,
                       "20news social 1:3 stemmed, 64 KiB batches, 5 threads");
    expect_same_tokens(cpu_impl::tokenize_chunked(Context::cpu(5), news, o), news_direct,
                       "20news social 1:3 stemmed, 5 threads");
    o.tokenizer.strip_accents = true;
    o.tokenizer.urls = TokenizerOptions::Urls::Keep;
    expect_same_tokens(cpu_impl::tokenize_chunked(Context::cpu(), news, o),
                       tokenize_corpus(Context::cpu(), news, o), "20news social strip-accents urls=keep");
}

namespace {
/// A document's terms built from text, as scikit-learn forms n-grams: its tokens (when lo is
/// 1), then for each length g from max(2, lo) to hi every run of g consecutive tokens joined
/// by spaces; in the order tmine emits them.
V text_built_terms(const V& toks, int lo, int hi) {
    V out;
    if (lo <= 1) out = toks;
    for (int g = std::max(2, lo); g <= hi; ++g)
        for (size_t i = 0; i + g <= toks.size(); ++i) {
            std::string t = toks[i];
            for (int j = 1; j < g; ++j) t += " " + toks[i + j];
            out.push_back(t);
        }
    return out;
}

/// Every document's terms equal the text-built ones, and the vocabulary is their sorted set.
void expect_text_built(const Tokenized& t, const Corpus& c, const TokenizerOptions& tok, int lo, int hi,
                       const std::string& what) {
    std::vector<std::string> all;
    for (size_t d = 0; d < c.size(); ++d) {
        V toks;
        if (tok.sklearn_compatible)
            tokenize(c.text[d], toks);
        else
            tokenize(c.text[d], toks, tok);
        const V want = text_built_terms(toks, lo, hi);
        V got;
        for (int64_t p = t.doc_ptr[d]; p < t.doc_ptr[d + 1]; ++p) got.push_back(t.vocab[t.tokens[p]]);
        ASSERT_EQ(got, want) << what << ", document " << d;
        all.insert(all.end(), want.begin(), want.end());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    if (lo > 1) {  // the unigrams are in the vocabulary too (their table's terms), unused
        V in_use;
        for (const auto& v : t.vocab)
            if (std::binary_search(all.begin(), all.end(), v)) in_use.push_back(v);
        EXPECT_EQ(in_use, all) << what;
        EXPECT_TRUE(std::is_sorted(t.vocab.begin(), t.vocab.end())) << what;
    } else {
        EXPECT_EQ(t.vocab, all) << what;
    }
}
}  // namespace

// n-grams are chains of ids ordered by their words' ranks (tokenize.cpp, order_grams): the
// terms and the sorted vocabulary must be what joining the texts gives, for n-grams whose
// ranks pack into 64 bits (1:2, 3:3) and whose do not (1:5, 4:5, more than 2^12 unigrams), on
// one thread and several, directly and through the chunked tokenizer; and, where URLs keep a
// control byte (which sorts below the space, so the texts are compared), in the social
// tokenizer.
TEST(NGrams, EqualTheTextBuiltTerms) {
    TMINE_REQUIRE_DATA(kReddit);
    const Corpus c = reddit_head(3000);
    for (auto [lo, hi] : {std::pair{1, 2}, {3, 3}, {1, 5}, {4, 5}})
        for (int threads : {1, 2, 5}) {
            VectorizeOptions o;
            o.tokenizer.sklearn_compatible = true;
            o.ngram_min = lo;
            o.ngram_max = hi;
            const std::string what = std::to_string(lo) + ":" + std::to_string(hi) + ", " +
                                     std::to_string(threads) + " threads";
            expect_text_built(tokenize_corpus(Context::cpu(threads), c, o), c, o.tokenizer, lo, hi, what);
            if (threads == 5)
                expect_text_built(cpu_impl::tokenize_chunked(Context::cpu(threads), c, o, 64 << 10), c,
                                  o.tokenizer, lo, hi, what + ", chunked");
        }
    Corpus low;
    low.sources.push_back("x");
    for (const char* t : {"see http://x.y/\x01z and http://x.y/a then go", "see http://x.y/a and http://x.y/\x01z then",
                          "http://x.y/\x01 http://x.y/ http://x.y/\x02" "b word", "go see http://x.y/a now", ""})
        low.add(t, kNoTime, "", "", 0);
    for (int threads : {1, 2}) {
        VectorizeOptions o;
        o.tokenizer.urls = TokenizerOptions::Urls::Keep;
        o.ngram_max = 3;
        const Tokenized t = tokenize_corpus(Context::cpu(threads), low, o);
        expect_text_built(t, low, o.tokenizer, 1, 3, "control bytes in URLs");
        EXPECT_TRUE(std::any_of(t.vocab.begin(), t.vocab.end(),
                                [](const std::string& v) { return v.find('\x01') != std::string::npos; }));
    }
}
