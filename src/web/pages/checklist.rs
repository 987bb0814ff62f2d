//! The stacks page's first-run checklist: define, build, watch, drill.

use crate::SharedApp;
use crate::i18n;
use crate::stack;
use crate::web::error::Error;

/// One step of the first run: define, build, watch, drill.
pub struct ChecklistItem {
    pub title: String,
    pub text: String,
    pub done: bool,
    /// Where to do it (the first stack that still needs it).
    pub href: String,
}

/// Define, build, watch, drill: done when any stack has got that far.
/// Hidden once all four are done.
pub(super) async fn checklist(app: &SharedApp, stacks: &[stack::Stack]) -> Result<Vec<ChecklistItem>, Error> {
    let built: Vec<&stack::Stack> = stacks.iter().filter(|s| s.is_built()).collect();
    let mut watched = false;
    let mut drilled = false;
    for s in &built {
        watched |= !app.store.health_events(s.row.id, 1).await?.is_empty();
        drilled |= !app.store.drills_of(s.row.id, 1).await?.is_empty();
    }
    let first = stacks.first().map(|s| s.row.name.clone());
    let first_built = built.first().map(|s| s.row.name.clone());
    let items = vec![
        ChecklistItem {
            title: i18n::text("stacks-checklist-define"),
            text: i18n::text("stacks-checklist-define-text"),
            done: !stacks.is_empty(),
            href: "/stacks/new".into(),
        },
        ChecklistItem {
            title: i18n::text("stacks-checklist-build"),
            text: i18n::text("stacks-checklist-build-text"),
            done: !built.is_empty(),
            href: first.as_ref().map_or("/stacks/new".into(), |n| format!("/stacks/{n}/build")),
        },
        ChecklistItem {
            title: i18n::text("stacks-checklist-watch"),
            text: i18n::text("stacks-checklist-watch-text"),
            done: watched,
            href: first_built.as_ref().map_or("/stacks".into(), |n| format!("/stacks/{n}")),
        },
        ChecklistItem {
            title: i18n::text("stacks-checklist-drill"),
            text: i18n::text("stacks-checklist-drill-text"),
            done: drilled,
            href: first_built.as_ref().map_or("/stacks".into(), |n| format!("/stacks/{n}/drills")),
        },
    ];
    Ok(if items.iter().all(|i| i.done) { Vec::new() } else { items })
}
