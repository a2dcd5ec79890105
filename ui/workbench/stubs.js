// The crm_post responses (Profile tab): what a widget's self.crm_post(url)
// is answered with, per URL, set from here and kept for the session.
import { t } from "../shared/i18n.js";
import { invoke, $, el, errText } from "./common.js";

export { startStubs };

function show(list) {
  const ul = $("stubs-list");
  ul.textContent = "";
  for (const s of list) {
    const li = el("li", "stub");
    li.dataset.url = s.url;
    li.append(el("code", "stub-url", s.url), el("span", "stub-code", String(s.status)), el("span", "stub-body", s.body.slice(0, 120)));
    const rm = el("button", "stub-remove", t("stubRemove"));
    rm.type = "button";
    rm.addEventListener("click", async () => show(await invoke("crm_stub_remove", { url: s.url })));
    li.append(rm);
    ul.append(li);
  }
}

async function startStubs() {
  const form = $("stubs-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const line = $("stub-status-line");
    const stub = { url: $("stub-url").value, status: Number($("stub-status").value), body: $("stub-body").value };
    try {
      show(await invoke("crm_stub_set", { stub }));
      line.textContent = t("stubSaved");
      line.classList.remove("bad");
    } catch (e) {
      line.textContent = errText(e);
      line.classList.add("bad");
    }
  });
  try {
    show(await invoke("crm_stubs"));
  } catch (e) {
    console.warn("workbench: crm_post responses", e);
  }
}
