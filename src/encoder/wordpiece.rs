//! BERT's WordPiece tokenizer (Wu et al. 2016; Devlin et al. 2019), giving the ids Hugging
//! Face's `tokenizers` gives for an uncased BERT `tokenizer.json` (tested against the
//! library's own output on a reference corpus, `tests/fixtures/minilm/tokens.jsonl`).
//!
//! Why not the `tokenizers` crate itself: built for wasm32 (default features off, its
//! `unstable_wasm` feature) it adds 2.75 MB to the module (854 KB gzipped; 2.17 MB and
//! 715 KB at `opt-level = "z"`), more than the whole core. This file with its two Unicode
//! table crates adds about 170 KB (71 KB gzipped). The table crates are the ones
//! `tokenizers` uses, so "is this a control character, a punctuation mark, an accent"
//! has the same answer, character for character.
//!
//! The steps, in Hugging Face's order:
//! 1. special tokens (`[CLS]`, `[SEP]`, …) written in the text are matched on the raw text
//!    and kept as their ids;
//! 2. normalisation: NUL, U+FFFD and control or unassigned characters dropped, whitespace
//!    made a space, CJK ideographs surrounded by spaces, accents stripped (NFD, then
//!    non-spacing marks dropped), lower-cased;
//! 3. words: split at whitespace (dropped) and around each punctuation character (kept);
//! 4. each word, greedy longest match first, into pieces of the vocabulary (`##` before a
//!    piece inside a word); a word with no match, or over 100 characters, is `[UNK]`;
//! 5. truncated to `max_tokens` − 2, then `[CLS] … [SEP]`.

use std::collections::HashMap;

use serde::Deserialize;
use unicode_categories::UnicodeCategories;
use unicode_normalization_alignments::UnicodeNormalization;

use crate::{Error, Result};

/// The settings the conversion script reads from `tokenizer.json` into the weight file.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub lowercase: bool,
    pub strip_accents: bool,
    pub unk: String,
    pub prefix: String,
    pub max_chars_per_word: usize,
    pub cls: String,
    pub sep: String,
    pub specials: Vec<String>,
    pub max_tokens: usize,
}

/// A tokenizer with its vocabulary.
pub struct WordPiece {
    vocab: HashMap<String, u32>,
    settings: Settings,
    unk: u32,
    cls: u32,
    sep: u32,
    /// Special tokens with their ids, longest first (the longest match wins).
    specials: Vec<(String, u32)>,
}

/// One text's ids, `[CLS]` and `[SEP]` included.
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    /// How many tokens the text had before truncation (specials included).
    pub full_len: usize,
}

impl Tokens {
    pub fn truncated(&self) -> bool {
        self.full_len > self.ids.len()
    }
}

impl WordPiece {
    /// From the vocabulary (one token per line, line i has id i) and the settings.
    pub fn new(vocab: &str, settings: Settings) -> Result<WordPiece> {
        let vocab: HashMap<String, u32> = vocab.split('\n').enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect();
        let id = |t: &str| vocab.get(t).copied().ok_or_else(|| Error::Format { what: "tokenizer".into(), msg: format!("the vocabulary has no '{t}'") });
        let (unk, cls, sep) = (id(&settings.unk)?, id(&settings.cls)?, id(&settings.sep)?);
        let mut specials = settings.specials.iter().map(|t| Ok((t.clone(), id(t)?))).collect::<Result<Vec<_>>>()?;
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        if settings.max_tokens < 3 {
            return Err(Error::Format { what: "tokenizer".into(), msg: format!("max_tokens {} leaves no room for a word", settings.max_tokens) });
        }
        Ok(WordPiece { vocab, settings, unk, cls, sep, specials })
    }

    /// Vocabulary size.
    pub fn len(&self) -> usize {
        self.vocab.len()
    }

    /// `true` when the vocabulary is empty (never, for a file that loaded).
    pub fn is_empty(&self) -> bool {
        self.vocab.is_empty()
    }

    /// The ids of one text, truncated to `max_tokens`.
    pub fn encode(&self, text: &str) -> Tokens {
        let mut ids = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (before, special) = self.next_special(rest);
            self.encode_plain(&rest[..before], &mut ids);
            match special {
                Some((len, id)) => {
                    ids.push(id);
                    rest = &rest[before + len..];
                }
                None => break,
            }
        }
        let full_len = ids.len() + 2;
        ids.truncate(self.settings.max_tokens - 2);
        let mut out = Vec::with_capacity(ids.len() + 2);
        out.push(self.cls);
        out.extend(ids);
        out.push(self.sep);
        Tokens { ids: out, full_len }
    }

    /// Where the first special token starts in `text` (its byte length and id), or the
    /// whole length when there is none.
    fn next_special(&self, text: &str) -> (usize, Option<(usize, u32)>) {
        if !self.specials.is_empty() {
            for (at, _) in text.match_indices('[') {
                if let Some((t, id)) = self.specials.iter().find(|(t, _)| text[at..].starts_with(t.as_str())) {
                    return (at, Some((t.len(), *id)));
                }
            }
        }
        (text.len(), None)
    }

    fn encode_plain(&self, text: &str, ids: &mut Vec<u32>) {
        let normal = self.normalize(text);
        let mut word = String::new();
        let flush = |word: &mut String, ids: &mut Vec<u32>| {
            if !word.is_empty() {
                self.word_pieces(word, ids);
                word.clear();
            }
        };
        for c in normal.chars() {
            if c.is_whitespace() {
                flush(&mut word, ids);
            } else if c.is_ascii_punctuation() || c.is_punctuation() {
                flush(&mut word, ids);
                word.push(c);
                flush(&mut word, ids);
            } else {
                word.push(c);
            }
        }
        flush(&mut word, ids);
    }

    /// Steps 2's clean-up, CJK spacing, accent stripping and lower-casing.
    fn normalize(&self, text: &str) -> String {
        let mut clean = String::with_capacity(text.len());
        for c in text.chars() {
            if c == '\0' || c == '\u{fffd}' || is_control(c) {
                continue;
            }
            if is_whitespace(c) {
                clean.push(' ');
            } else if is_cjk(c) {
                clean.push(' ');
                clean.push(c);
                clean.push(' ');
            } else {
                clean.push(c);
            }
        }
        if self.settings.strip_accents {
            clean = clean.as_str().nfd().map(|(c, _)| c).filter(|c| !c.is_mark_nonspacing()).collect();
        }
        if self.settings.lowercase {
            clean = clean.chars().flat_map(char::to_lowercase).collect();
        }
        clean
    }

    /// Step 4 for one word.
    fn word_pieces(&self, word: &str, ids: &mut Vec<u32>) {
        if word.chars().count() > self.settings.max_chars_per_word {
            ids.push(self.unk);
            return;
        }
        let first = ids.len();
        let mut start = 0;
        let mut piece = String::new();
        while start < word.len() {
            let mut end = word.len();
            let found = loop {
                piece.clear();
                if start > 0 {
                    piece.push_str(&self.settings.prefix);
                }
                piece.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(&piece) {
                    break Some(id);
                }
                // One character shorter.
                match word[start..end].char_indices().next_back() {
                    Some((i, _)) if i > 0 => end = start + i,
                    _ => break None,
                }
            };
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(first);
                    ids.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// Tab, newline and carriage return count as whitespace, not as control characters.
fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Control, format, private-use, surrogate and unassigned characters (categories C*).
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// The CJK Unified Ideographs blocks and their extensions and compatibility blocks: BERT
/// treats each ideograph as a word (Japanese kana and Korean Hangul are not in them).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B920..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> WordPiece {
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "cafe", ",", "中", "!"].join("\n");
        let settings = Settings {
            lowercase: true,
            strip_accents: true,
            unk: "[UNK]".into(),
            prefix: "##".into(),
            max_chars_per_word: 9,
            cls: "[CLS]".into(),
            sep: "[SEP]".into(),
            specials: vec!["[PAD]".into(), "[UNK]".into(), "[CLS]".into(), "[SEP]".into()],
            max_tokens: 6,
        };
        WordPiece::new(&vocab, settings).unwrap()
    }

    #[test]
    fn greedy_longest_pieces_accents_and_unknown_words() {
        let t = tiny();
        assert_eq!(t.encode("UNAFFABLE, Café!").ids, [2, 4, 5, 6, 8, 3], "truncated to 6");
        assert_eq!(t.encode("Café!中").ids, [2, 7, 10, 9, 3]);
        assert_eq!(t.encode("unaffablex").ids, [2, 1, 3], "no piece for the end: the whole word is unknown");
        assert_eq!(t.encode("unaffableunaff").ids, [2, 1, 3], "over 9 characters");
        let long = t.encode("un un un un un");
        assert_eq!((long.ids.len(), long.full_len, long.truncated()), (6, 7, true));
    }

    #[test]
    fn special_tokens_in_the_text_keep_their_ids() {
        let t = tiny();
        assert_eq!(t.encode("un[SEP]cafe").ids, [2, 4, 3, 7, 3]);
        assert_eq!(t.encode("[sep]").ids, [2, 1, 1, 1, 3], "case matters: [ sep ] are three words");
        assert_eq!(t.encode("").ids, [2, 3]);
        assert_eq!(t.encode("\u{200b}\u{0}\t").ids, [2, 3]);
    }
}
