// The crate lives at the repository root (Cargo.toml there) with its sources in
// src-tauri/, so every path tauri-build looks for is spelled out here.
fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=src-tauri/permissions");
    println!("cargo:rerun-if-changed=ui");
    let attrs = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        // The app's own commands need an explicit grant: with a manifest, nothing
        // that is not listed in a capability is reachable from any page.
        .app_manifest(
            tauri_build::AppManifest::new()
                .commands(&[
                    "get_settings",
                    "set_settings",
                    "history_list",
                    "history_mark_read",
                    "history_mark_all_read",
                    "history_open_link",
                ])
                .permissions_path_pattern("./src-tauri/permissions/app/**/*"),
        )
        .plugin(
            "notifications",
            tauri_build::InlinedPlugin::new()
                .commands(&["notify", "notify_batch", "open_link", "dismiss"])
                .default_permission(tauri_build::DefaultPermissionRule::AllowAllCommands),
        );
    tauri_build::try_build(attrs).expect("tauri-build failed");
}
