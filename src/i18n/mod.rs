//! What the user reads, in English or Japanese: messages come from Fluent
//! catalogues (`locales/{en,ja}/*.ftl`, embedded in the binary), never from
//! strings in templates, so a translator edits one file per area and a test
//! can prove that both languages have every key a page asks for.
//!
//! The language and time zone of the request being served live in a task
//! local ([`scope`]): the browser middleware sets them once from the user's
//! setting, else `Accept-Language`, else English, and every template and
//! message below it reads them without each handler passing them along.

mod catalogue;
mod zone;

use std::fmt::Display;

pub use catalogue::{keys, missing, parse_errors};
pub use zone::{ZONES, local_day, local_time, parse_zone};

/// The languages hawaf speaks. English is the fallback for everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The BCP 47 tag, as `<html lang>` and the catalogue folders name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language's name in itself, as a language switch shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
        }
    }

    /// `en`, `ja`, and regional tags such as `ja-JP` or `en-GB`.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The best of ours for an `Accept-Language` header, by its q-values
    /// (fluent-langneg does the parsing and matching); English when none fits.
    pub fn negotiate(accept_language: &str) -> Lang {
        use fluent_langneg::{NegotiationStrategy, accepted_languages, negotiate_languages};
        let requested = accepted_languages::parse(accept_language);
        let available: Vec<fluent_langneg::LanguageIdentifier> =
            Lang::ALL.iter().filter_map(|l| l.as_str().parse().ok()).collect();
        let default = available.first().cloned();
        negotiate_languages(&requested, &available, default.as_ref(), NegotiationStrategy::Lookup)
            .first()
            .and_then(|id| Lang::parse(&id.to_string()))
            .unwrap_or_default()
    }
}

impl Lang {
    /// The command line's language, from the POSIX locale variables in
    /// their order of precedence (`LC_ALL`, `LC_MESSAGES`, `LANG`):
    /// `ja_JP.UTF-8` is Japanese; `C`, `POSIX` and anything else English.
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|v| !v.is_empty())
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is reading: their language and the time zone times are shown in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Locale {
    pub lang: Lang,
    pub zone: chrono_tz::Tz,
}

tokio::task_local! {
    static CURRENT: Locale;
}

/// The locale of the request being served; English and UTC outside one
/// (background work, the CLI before it chooses).
pub fn current() -> Locale {
    CURRENT.try_with(|l| *l).unwrap_or_default()
}

/// Runs `f` (a request, a live stream's next event) in `locale`.
pub async fn scope<F: Future>(locale: Locale, f: F) -> F::Output {
    CURRENT.scope(locale, f).await
}

/// Runs `f` in `locale`, for rendering outside any request.
pub fn sync_scope<R>(locale: Locale, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(locale, f)
}

/// The message `key` in the current language.
pub fn text(key: &str) -> String {
    text_with(key, &[])
}

/// The message `key` with its variables, in the current language. Every
/// message may also use `$zone`, the name of the reader's time zone.
pub fn text_with(key: &str, args: &[(&str, &dyn Display)]) -> String {
    let locale = current();
    catalogue::message(locale.lang, key, args, locale.zone.name())
}

/// The name of the reader's time zone, as shown next to times.
pub fn zone_name() -> &'static str {
    current().zone.name()
}

#[cfg(test)]
mod tests;
