//! JavaScript rule projects: `new --lang js` writes one from the embedded template
//! (`plugins/template-js`, one rule per hook), and `build` and `test` run npm on a folder
//! with a `package.json` (componentize-js into `dist/rule.wasm`, `node --test`).

use std::path::{Path, PathBuf};

use super::{Error, local};
use crate::plugins::Hook;

const PACKAGE: &str = include_str!("../../../plugins/template-js/package.json");
const LOCK: &str = include_str!("../../../plugins/template-js/package-lock.json");
const README: &str = include_str!("../../../plugins/template-js/README.md");
const GITIGNORE: &str = include_str!("../../../plugins/template-js/.gitignore");
const WIT: &str = include_str!("../../../wit/v0.2/rules.wit");
/// Imported first by every hook's `src/component.js`: `Date.now()`, `new Date()` and
/// `Math.random()` throw (the engine would answer them with made-up values).
const GUARD: &str = include_str!("../../../plugins/template-js/hooks/guard.js");

/// The template's name in `package.json` and its lock, replaced by the plugin's.
const TEMPLATE_NAME: &str = "\"name\": \"edgecart-rule\"";

/// `src/rule.js`, `src/component.js` and `test/rule.test.js` of `hook`'s template.
fn sources(hook: Hook) -> [(&'static str, &'static str); 3] {
    macro_rules! hook_files {
        ($world:literal) => {
            [
                (
                    "src/rule.js",
                    include_str!(concat!(
                        "../../../plugins/template-js/hooks/",
                        $world,
                        "/rule.js"
                    )),
                ),
                (
                    "src/component.js",
                    include_str!(concat!(
                        "../../../plugins/template-js/hooks/",
                        $world,
                        "/component.js"
                    )),
                ),
                (
                    "test/rule.test.js",
                    include_str!(concat!(
                        "../../../plugins/template-js/hooks/",
                        $world,
                        "/rule.test.js"
                    )),
                ),
            ]
        };
    }
    match hook {
        Hook::ChargeValidate => hook_files!("charge-validate"),
        Hook::OrderValidate => hook_files!("order-validate"),
        Hook::OrderPrice => hook_files!("order-price"),
    }
}

/// Whether `dir` is a JavaScript project (it has a `package.json`).
pub(super) fn is_project(dir: &Path) -> bool {
    dir.join("package.json").is_file()
}

/// The files of the JavaScript project `name` for `hook`, path and text.
pub(super) fn files(name: &str, hook: Hook) -> Vec<(&'static str, String)> {
    let named = format!("\"name\": \"{name}\"");
    let package = PACKAGE
        .replace(TEMPLATE_NAME, &named)
        .replace("WORLD", hook.world());
    let mut files = vec![
        ("package.json", package),
        ("package-lock.json", LOCK.replace(TEMPLATE_NAME, &named)),
        ("README.md", README.replace("HOOK", hook.as_str())),
        (".gitignore", GITIGNORE.to_owned()),
        ("wit/rules.wit", WIT.to_owned()),
        ("src/guard.js", GUARD.to_owned()),
    ];
    files.extend(sources(hook).map(|(path, text)| (path, text.to_owned())));
    files
}

/// Builds the project in `dir` (`npm ci` first when it has no `node_modules`) and returns
/// the component's path.
pub(super) fn build(dir: &Path) -> Result<PathBuf, Error> {
    install(dir)?;
    local::tool(dir, "npm", &["run", "build"])?;
    let wasm = dir.join("dist/rule.wasm");
    if wasm.exists() {
        Ok(wasm)
    } else {
        Err(Error::NotBuilt(wasm))
    }
}

/// Runs the project's `node --test` suite (`npm test`).
pub(super) fn test(dir: &Path) -> Result<(), Error> {
    install(dir)?;
    local::tool(dir, "npm", &["test"])
}

/// `npm ci` when the project has no `node_modules` yet.
fn install(dir: &Path) -> Result<(), Error> {
    if dir.join("node_modules").exists() {
        return Ok(());
    }
    local::tool(dir, "npm", &["ci", "--no-audit", "--no-fund"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_names_its_package_and_targets_the_hooks_world() {
        for hook in Hook::ALL {
            let files = files("my-rule", hook);
            let text = |path: &str| {
                files
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default()
            };
            let package: serde_json::Value =
                serde_json::from_str(&text("package.json")).unwrap_or_default();
            assert_eq!(package["name"], "my-rule");
            let build = package["scripts"]["build"].as_str().unwrap_or_default();
            assert!(
                build.contains(&format!("--world-name {} ", hook.world())),
                "{build}"
            );
            let lock: serde_json::Value =
                serde_json::from_str(&text("package-lock.json")).unwrap_or_default();
            assert_eq!(lock["name"], "my-rule");
            assert_eq!(lock["packages"][""]["name"], "my-rule");
            assert!(text("src/component.js").contains("from './rule.js'"));
        }
    }
}
