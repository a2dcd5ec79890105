//! The app's own commands, reachable only from Kolokol's local pages (see
//! capabilities/): thin adapters over the settings store and the history.

use tauri::{AppHandle, State};

use super::state::AppState;
use crate::channels::history::{Page, Query, Stats};
use crate::core::settings::Settings;

fn history(state: &AppState) -> Result<&crate::channels::history::History, String> {
    state.history.as_ref().map_err(|e| format!("history unavailable: {e}"))
}

#[tauri::command]
pub async fn history_list(state: State<'_, AppState>, query: Query) -> Result<Page, String> {
    history(&state)?.list(&query)
}

/// Rows, size on disk and retention, for the window's footer.
#[tauri::command]
pub async fn history_stats(state: State<'_, AppState>) -> Result<Stats, String> {
    history(&state)?.stats()
}

#[tauri::command]
pub async fn history_mark_read(app: AppHandle, state: State<'_, AppState>, seqs: Vec<i64>) -> Result<usize, String> {
    let n = history(&state)?.mark_read(&seqs)?;
    super::app::center_changed(&app, None);
    Ok(n)
}

#[tauri::command]
pub async fn history_mark_all_read(app: AppHandle, state: State<'_, AppState>) -> Result<usize, String> {
    let n = history(&state)?.mark_all_read()?;
    super::app::center_changed(&app, None);
    Ok(n)
}

/// Opens one of a stored row's own links (`click`, `card`, `recording`).
#[tauri::command]
pub async fn history_open_link(app: AppHandle, state: State<'_, AppState>, seq: i64, which: String) -> Result<(), String> {
    let row = history(&state)?.get(seq)?.ok_or("no such history row")?;
    let link = match which.as_str() {
        "click" => row.click,
        "card" => row.card,
        "recording" => row.recording,
        other => return Err(format!("{other:?} is not a link of a history row")),
    };
    let href = link.and_then(|l| l.href).ok_or("this row has no link to open there")?;
    super::app::open_external(&app, &href);
    Ok(())
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.settings.get()
}

/// Saves the settings; the tray and the toasts follow a new language or
/// do-not-disturb at once.
#[tauri::command]
pub fn set_settings(app: AppHandle, state: State<'_, AppState>, settings: Settings) -> Result<Settings, String> {
    let dnd_before = state.settings.get().do_not_disturb;
    let saved = state.settings.set(settings)?;
    if saved.do_not_disturb != dnd_before {
        state.set_away(crate::core::away::Reason::DoNotDisturb, saved.do_not_disturb);
    }
    if let Ok(h) = &state.history {
        if let Err(e) = h.set_retention(crate::services::retention(&saved)) {
            tracing::warn!("history retention not applied: {e}");
        }
    }
    state.toasts.set_labels(crate::channels::toast::Labels::for_lang(crate::core::i18n::Lang::from_setting(&saved.language)));
    super::tray::refresh(&app);
    Ok(saved)
}
