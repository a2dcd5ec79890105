// Repaints the whole window in a newly chosen language. Its own module so that the
// settings tab, which changes the language, need not import the window's entry.
import { t, applyI18n } from "../shared/i18n.js";
import { $ } from "./common.js";
import { wb, applyTarget, paintRecent } from "./toolbar.js";
import { bound, render, paintCounts, paintStates, updatePill } from "./calllog.js";
import { detail, paintDetail } from "./detail.js";

export { relocalize };

/* ---------- language ---------- */

function relocalize() {
  applyI18n();
  document.title = t("wbWindowTitle");
  applyTarget(wb.target);
  paintRecent(wb.recent);
  paintCounts();
  paintStates();
  updatePill();
  for (const n of bound.values()) n._sig = null;
  render();
  if (detail.entry) paintDetail(detail.entry, false);
  if (!$("account").value) $("account-status").textContent = t("noAccount");
}
