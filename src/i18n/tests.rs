use super::*;

#[test]
fn accept_language_picks_the_best_language_we_have() {
    assert_eq!(Lang::negotiate("ja,en-US;q=0.9,en;q=0.8"), Lang::Ja);
    assert_eq!(Lang::negotiate("ja-JP"), Lang::Ja);
    assert_eq!(Lang::negotiate("en-GB,ja;q=0.5"), Lang::En);
    assert_eq!(Lang::negotiate("fr-FR,ja;q=0.7"), Lang::Ja);
    assert_eq!(Lang::negotiate("fr-FR,de"), Lang::En);
    assert_eq!(Lang::negotiate(""), Lang::En);
    assert_eq!(Lang::negotiate("*;q=0.1, garbage;;;"), Lang::En);
}

#[test]
fn catalogues_load_without_errors_and_have_the_same_keys() {
    assert_eq!(parse_errors(), Vec::<String>::new());
    let en = keys(Lang::En);
    let ja = keys(Lang::Ja);
    assert!(!en.is_empty());
    let only_en: Vec<_> = en.difference(&ja).collect();
    let only_ja: Vec<_> = ja.difference(&en).collect();
    assert!(only_en.is_empty() && only_ja.is_empty(), "only in en: {only_en:?}; only in ja: {only_ja:?}");
}

#[test]
fn messages_follow_the_scope_and_fall_back_to_english() {
    assert_eq!(text("lang-name"), "English");
    let ja = Locale { lang: Lang::Ja, zone: chrono_tz::Asia::Tokyo };
    assert_eq!(sync_scope(ja, || text("lang-name")), "日本語");
    // 2026-12-03 00:00:00 UTC is 09:00 in Tokyo.
    assert_eq!(sync_scope(ja, || local_time(1_796_256_000_000)), "2026-12-03 09:00:00");
    assert_eq!(local_time(1_796_256_000_000), "2026-12-03 00:00:00");
    assert_eq!(sync_scope(ja, zone_name), "Asia/Tokyo");
    assert_eq!(text("no-such-key-for-this-test"), "no-such-key-for-this-test");
    assert!(missing().iter().any(|m| m == "en: no-such-key-for-this-test"));
}

#[test]
fn whole_numbers_choose_plural_forms_and_ids_stay_text() {
    assert_eq!(text_with("test-count", &[("count", &1)]), "1 item");
    assert_eq!(text_with("test-count", &[("count", &3)]), "3 items");
    assert_eq!(text_with("test-count", &[("count", &"007")]), "007 items");
}

/// Every key a template or the Rust code asks for, found by reading the
/// sources: a page cannot ask for a message the catalogues lack, even one
/// no test happens to render.
#[test]
fn every_key_the_sources_use_exists() {
    let en = keys(Lang::En);
    let mut used = std::collections::BTreeSet::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["templates", "src"] {
        collect_keys(&root.join(dir), &mut used);
    }
    let missing: Vec<_> = used.iter().filter(|k| !en.contains(*k)).collect();
    assert!(missing.is_empty(), "keys used but not in the catalogues: {missing:?}");
}

fn collect_keys(dir: &std::path::Path, used: &mut std::collections::BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_keys(&path, used);
            continue;
        }
        let Ok(source) = std::fs::read_to_string(&path) else { continue };
        let is_template = path.extension().is_some_and(|e| e == "html");
        let is_rust = path.extension().is_some_and(|e| e == "rs");
        if is_template {
            // "key"|t, "key"|t1(…), …
            for (i, _) in source.match_indices("\"|t") {
                if let Some(start) = source[..i].rfind('"') {
                    used.insert(source[start + 1..i].to_owned());
                }
            }
        } else if is_rust && !path.ends_with("i18n/tests.rs") {
            // i18n::text("key") and i18n::text_with("key", …): callers name
            // the module, which also keeps other `text(…)` calls out of this.
            for pat in ["i18n::text(\"", "i18n::text_with(\""] {
                for (i, _) in source.match_indices(pat) {
                    let rest = &source[i + pat.len()..];
                    if let Some(end) = rest.find('"') {
                        used.insert(rest[..end].to_owned());
                    }
                }
            }
        }
    }
}
