// The crate lives at the repository root (Cargo.toml there) with its sources in
// src-tauri/, so every path tauri-build looks for is spelled out here.
use std::path::Path;

/// Libraries the widget host page serves, from the npm lock (`npm install`);
/// copied into OUT_DIR and compiled into the binary, never committed.
const VENDOR: &[(&str, &str)] = &[
    ("node_modules/requirejs/require.js", "require.js"),
    ("node_modules/jquery/dist/jquery.min.js", "jquery.js"),
    ("node_modules/underscore/underscore-umd-min.js", "underscore.js"),
    ("node_modules/moment/min/moment.min.js", "moment.js"),
    ("node_modules/twig/twig.min.js", "twig.js"),
    ("node_modules/requirejs-text/text.js", "text.js"),
];

fn vendor() {
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("vendor");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/vendor");
    for (from, to) in VENDOR {
        println!("cargo:rerun-if-changed={from}");
        if let Err(e) = std::fs::copy(from, out.join(to)) {
            panic!(
                "{from}: {e}. The widget host page needs RequireJS, jQuery, underscore, moment, twig and requirejs-text from npm: \
                 run `npm install` in the repository (./dev.sh does it)."
            );
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    // Only when it exists: a missing path counts as changed, so every build
    // would rerun this script and recompile the whole crate.
    if Path::new("src-tauri/permissions").exists() {
        println!("cargo:rerun-if-changed=src-tauri/permissions");
    }
    println!("cargo:rerun-if-changed=ui");
    vendor();
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
                    "history_stats",
                    "history_open_link",
                    "workbench_state",
                    "workbench_open",
                    "workbench_pick",
                    "workbench_reload",
                    "workbench_playground",
                    "workbench_start_page",
                    "workbench_show_page",
                    "calllog_page",
                    "calllog_get",
                    "calllog_clear",
                    "calllog_export",
                    "calllog_resend",
                    "profile_set",
                    "crm_stubs",
                    "crm_stub_set",
                    "crm_stub_remove",
                ])
                .permissions_path_pattern("./src-tauri/permissions/app/**/*"),
        )
        .plugin(
            "notifications",
            tauri_build::InlinedPlugin::new()
                .commands(&["notify", "notify_batch", "open_link", "dismiss", "mode", "crm_post", "host_call", "web_permission", "web_notify", "browse", "page_failed", "permission_answer"])
                .default_permission(tauri_build::DefaultPermissionRule::AllowAllCommands),
        );
    tauri_build::try_build(attrs).expect("tauri-build failed");
}
