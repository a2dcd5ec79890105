//! The app's own commands, reachable only from Kolokol's local pages (see
//! capabilities/workspace.json): thin adapters over the settings store.

use tauri::State;

use crate::settings::Settings;
use crate::AppState;

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.settings.get()
}

#[tauri::command]
pub fn set_settings(state: State<'_, AppState>, settings: Settings) -> Result<Settings, String> {
    state.settings.set(settings)
}
