//! The widget host page's files, served under `/__kolokol/` of a widget
//! target: the page and its ES modules (one per amoCRM surface, in `host/`)
//! and the npm libraries build.rs copies from the lock (never committed).

const JS: &str = "text/javascript; charset=utf-8";

macro_rules! host {
    ($name:literal) => {
        include_bytes!(concat!("host/", $name)) as &[u8]
    };
}

macro_rules! vendor {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/vendor/", $name)) as &[u8]
    };
}

/// (MIME type, body) of `/__kolokol/<name>`, if it is one of the host's files.
pub fn host_asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match name {
        "host.html" => ("text/html; charset=utf-8", host!("host.html")),
        "host.css" => ("text/css; charset=utf-8", host!("host.css")),
        "main.js" => (JS, host!("main.js")),
        "core.js" => (JS, host!("core.js")),
        "loader.js" => (JS, host!("loader.js")),
        "modules.js" => (JS, host!("modules.js")),
        "globals.js" => (JS, host!("globals.js")),
        "widget.js" => (JS, host!("widget.js")),
        "lifecycle.js" => (JS, host!("lifecycle.js")),
        "settings.js" => (JS, host!("settings.js")),
        "actions.js" => (JS, host!("actions.js")),
        "require.js" => (JS, vendor!("require.js")),
        "jquery.js" => (JS, vendor!("jquery.js")),
        "underscore.js" => (JS, vendor!("underscore.js")),
        "moment.js" => (JS, vendor!("moment.js")),
        "twig.js" => (JS, vendor!("twig.js")),
        "text.js" => (JS, vendor!("text.js")),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let (_, main) = host_asset("main.js").unwrap();
        let mut modules = vec!["main.js".to_owned()];
        let mut i = 0;
        while i < modules.len() {
            let (mime, body) = host_asset(&modules[i]).unwrap_or_else(|| panic!("{} is imported but not served", modules[i]));
            assert_eq!(mime, JS);
            let text = std::str::from_utf8(body).unwrap();
            for part in text.split("from \"./").skip(1) {
                let name = part.split('"').next().unwrap().to_owned();
                if !modules.contains(&name) {
                    modules.push(name);
                }
            }
            i += 1;
        }
        assert!(modules.len() >= 9, "{modules:?}");
        assert!(!main.is_empty());
        for lib in ["require.js", "jquery.js", "underscore.js", "moment.js", "twig.js", "text.js"] {
            assert!(host_asset(lib).is_some_and(|(_, b)| b.len() > 1000), "{lib}");
        }
        assert!(host_asset("../secret").is_none());
    }
}
