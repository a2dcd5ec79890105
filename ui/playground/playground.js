// The playground: a built-in page shown in the workspace window. Like any page
// there it has only APP.notifications (injected by Kolokol); every call it makes
// shows up in the workbench's call log. One form per method, the payload as
// editable JSON, prefilled with the examples of amoCRM's reference page.
import { EXAMPLES } from "../shared/examples.js";
import { parseJson } from "../shared/json.js";
import { DICT, t, setLang, applyI18n } from "../shared/i18n.js";

// No settings here (an untrusted-level page cannot read them): the system language.
setLang("auto");
applyI18n();
document.title = t("pgWindowTitle");

const METHODS = [
  ["show_message", "interface"],
  ["show_message_error", "interface"],
  ["show_notification", "interface"],
  ["add_error", "center"],
  ["add_call", "center"],
];

const api = () => {
  try {
    return window.APP?.notifications || window.AMOCRM?.notifications || null;
  } catch {
    return null;
  }
};

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const pretty = (v) => JSON.stringify(v, null, 2);

function kindOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v; // string | number | boolean
}

/* ---------- the forms ---------- */

const tpl = document.getElementById("pg-template");
const host = document.getElementById("pg-forms");

/** The label of an example from examples.js, translated when i18n.js knows it. */
function exampleLabel(label) {
  const key = `ex${String(label).replace(/[^A-Za-z]/g, "")}`;
  return DICT.en[key] ? t(key) : label;
}

function buildForm(method, kind) {
  const frag = tpl.content.cloneNode(true);
  const form = frag.querySelector("form");
  const q = (sel) => form.querySelector(sel);
  const id = `pg-${method}`;
  form.id = id;
  form.dataset.method = method;
  form.setAttribute("aria-labelledby", `${id}-title`);
  q("h2").id = `${id}-title`;
  q(".pg-method").textContent = `${method}()`;
  const kindEl = q(".pg-kind");
  kindEl.textContent = t(kind === "center" ? "pgKindCenter" : "pgKindInterface");
  kindEl.dataset.kind = kind;
  q(".pg-desc").textContent = t(`pgDesc_${method}`);

  const ta = q(".pg-payload");
  ta.id = `${id}-payload`;
  const payloadLabel = q(".pg-payload-label");
  payloadLabel.htmlFor = ta.id;
  payloadLabel.textContent = t("pgPayload");
  const err = q(".pg-error");
  err.id = `${id}-error`;
  const rawHelp = q(".pg-raw-help");
  rawHelp.id = `${id}-raw-help`;
  rawHelp.textContent = t("pgRawHelp");
  ta.setAttribute("aria-describedby", `${err.id} ${rawHelp.id}`);

  const raw = q(".pg-raw");
  raw.id = `${id}-raw`;
  q(".pg-raw-text").textContent = t("pgRaw");
  q(".pg-raw-label").title = t("pgRawHelp");
  q(".pg-format").textContent = t("pgFormat");
  q(".pg-reset").textContent = t("pgReset");
  const send = q(".pg-send");
  send.textContent = t("pgSend");
  send.title = t("pgSendHint");
  const result = q(".pg-result");
  result.id = `${id}-result`;
  result.htmlFor = ta.id;
  const dismiss = q(".pg-dismiss");
  dismiss.textContent = t("pgDismiss");
  dismiss.title = t("pgDismissTitle");

  const examples = EXAMPLES.filter((e) => e[0] === method);
  const select = q(".pg-example");
  if (examples.length > 1) {
    const row = q(".pg-example-row");
    row.hidden = false;
    select.id = `${id}-example`;
    const lab = q(".pg-example-label");
    lab.htmlFor = select.id;
    lab.textContent = t("pgExample");
    examples.forEach(([, label], i) => {
      const o = document.createElement("option");
      o.value = String(i);
      o.textContent = exampleLabel(label);
      select.append(o);
    });
  }
  const current = () => examples[Number(select.value) || 0]?.[2] ?? {};
  ta.value = pretty(current());

  /* checking the text */
  const showError = (msg) => {
    err.textContent = msg || "";
    if (msg) ta.setAttribute("aria-invalid", "true");
    else ta.removeAttribute("aria-invalid");
  };
  const check = () => {
    const p = parseJson(ta.value);
    if (raw.checked) {
      showError("");
      return { ok: true, value: "value" in p ? p.value : ta.value };
    }
    if (!("value" in p)) {
      showError(p.line ? `${p.error} (${t("jsonAt", { line: p.line, col: p.col })})` : p.error);
      return { ok: false, offset: p.offset };
    }
    if (!isPlainObject(p.value)) {
      showError(t("pgNotObject", { what: t(`pgWhat_${kindOf(p.value)}`) }));
      return { ok: false };
    }
    showError("");
    return { ok: true, value: p.value };
  };
  let timer = 0;
  ta.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 200);
  });
  ta.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  raw.addEventListener("change", () => {
    rawHelp.hidden = !raw.checked;
    form.classList.toggle("raw", raw.checked);
    check();
  });
  select.addEventListener("change", () => {
    ta.value = pretty(current());
    check();
  });
  q(".pg-reset").addEventListener("click", () => {
    ta.value = pretty(current());
    check();
    ta.focus();
  });
  q(".pg-format").addEventListener("click", () => {
    const p = parseJson(ta.value);
    if ("value" in p) ta.value = pretty(p.value);
    check();
  });

  /* sending */
  let lastId = null;
  const outcome = (state, text) => {
    result.dataset.outcome = state;
    result.textContent = text;
    form.dataset.outcome = state;
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearTimeout(timer);
    const c = check();
    if (!c.ok) {
      ta.focus();
      if (c.offset != null) ta.setSelectionRange(c.offset, Math.min(ta.value.length, c.offset + 1));
      return;
    }
    const n = api();
    if (!n || typeof n[method] !== "function") {
      outcome("refused", t("pgNoApi"));
      return;
    }
    dismiss.hidden = true;
    outcome("pending", t("pgSending"));
    let promise;
    try {
      promise = n[method](c.value);
    } catch (e) {
      promise = Promise.reject(e); // the contract says it never throws; show it if it does
    }
    Promise.resolve(promise).then(
      (res) => {
        lastId = res && res.id != null ? String(res.id) : null;
        outcome("accepted", t("pgAccepted", { id: lastId ?? "?" }));
        dismiss.hidden = !lastId || typeof n.dismiss !== "function";
        flash(result);
      },
      (e) => {
        const r = e && typeof e === "object" ? e : { message: String(e) };
        outcome(
          "refused",
          t("pgRefused", { code: r.code ?? "error", field: r.field ?? "payload", message: r.message ?? String(e) }),
        );
        flash(result);
      },
    );
  });
  dismiss.addEventListener("click", () => {
    const n = api();
    if (lastId && n && typeof n.dismiss === "function") n.dismiss(lastId);
    dismiss.hidden = true;
  });
  return frag;
}

/** Replays the highlight of a result, so sending the same thing twice is visible. */
function flash(node) {
  node.classList.remove("flash");
  void node.offsetWidth;
  node.classList.add("flash");
}

for (const [method, kind] of METHODS) host.append(buildForm(method, kind));
document.getElementById("pg-noapi").hidden = !!api();
document.body.dataset.ready = "true";
