// tmine's French stop words: function words that carry no topic (articles, pronouns,
// prepositions, conjunctions, negation, forms of être/avoir/faire/aller, frequent adverbs),
// with and without accents as social posts write them, and the elided forms' full words.
#include "stopwords.hpp"

namespace tmine::detail {

const std::vector<std::string>& french_stop_words() {
    static const std::vector<std::string> words = {
        // articles, determiners
        "le", "la", "les", "un", "une", "des", "du", "de", "au", "aux", "ce", "cet", "cette", "ces",
        "mon", "ma", "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "nos", "votre", "vos",
        "leur", "leurs", "quel", "quelle", "quels", "quelles", "chaque", "tout", "tous", "toute",
        "toutes", "autre", "autres", "même", "meme", "mêmes", "memes", "aucun", "aucune",
        "plusieurs", "quelque", "quelques",
        // pronouns
        "je", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "me", "moi", "te", "toi",
        "se", "soi", "lui", "eux", "en", "y", "qui", "que", "quoi", "dont", "où", "ou", "ça", "ca",
        "cela", "ceci", "celui", "celle", "ceux", "celles", "rien",
        // prepositions, conjunctions
        "à", "a", "dans", "par", "pour", "sur", "sous", "avec", "sans", "chez", "vers", "entre",
        "contre", "depuis", "pendant", "avant", "après", "apres", "et", "mais", "donc", "or", "ni",
        "car", "si", "comme", "quand", "lorsque", "puisque", "parce", "alors",
        // negation, adverbs
        "ne", "pas", "plus", "moins", "très", "tres", "trop", "peu", "bien", "aussi", "encore",
        "déjà", "deja", "toujours", "jamais", "ici", "là", "oui", "non", "tant",
        // être
        "être", "etre", "suis", "es", "est", "sommes", "êtes", "etes", "sont", "étais", "etais",
        "était", "etait", "étions", "etions", "étiez", "etiez", "étaient", "etaient", "été", "ete", "serai", "sera",
        "serons", "seront", "serait", "seraient", "sois", "soit", "soient",
        // avoir
        "avoir", "ai", "as", "avons", "avez", "ont", "avais", "avait", "avions", "aviez",
        "avaient", "eu", "aurai", "aura", "aurons", "auront", "aurait", "auraient", "ait", "aient",
        // faire, aller
        "fait", "faire", "fais", "font", "vais", "va", "vont", "aller",
        // elided forms when written without the apostrophe, and short particles
        "c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu",
    };
    return words;
}

}  // namespace tmine::detail
