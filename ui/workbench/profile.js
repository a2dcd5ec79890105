// The profile tab: the account, user and card a widget sees in the workspace
// (profile_set), with each field checked before it is saved.
import { parseJson } from "../shared/json.js";
import { t } from "../shared/i18n.js";
import { invoke, $, errText, isPlainObject } from "./common.js";

export { profile, fillProfile };

/* ---------- profile ---------- */

const profile = { saved: null, dirty: false };
const JSON_FIELDS = ["user", "account", "managers"];
const PROFILE_IDS = {
  lang: "profile-lang",
  area: "profile-area",
  entity: "profile-entity",
  card_id: "profile-card-id",
  user: "profile-user",
  account: "profile-account",
  managers: "profile-managers",
};

function fieldError(name, msg) {
  const input = $(PROFILE_IDS[name]);
  const p = $(`${PROFILE_IDS[name]}-error`);
  p.textContent = msg || "";
  if (msg) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function fillProfile(p) {
  profile.saved = p;
  profile.dirty = false;
  $("profile-lang").value = p.lang ?? "";
  $("profile-area").value = p.area ?? "";
  $("profile-entity").value = p.entity ?? "";
  $("profile-card-id").value = p.card_id == null ? "" : String(p.card_id);
  for (const f of JSON_FIELDS) $(PROFILE_IDS[f]).value = JSON.stringify(p[f] ?? {}, null, 2);
  for (const f of Object.keys(PROFILE_IDS)) fieldError(f, "");
  const st = $("profile-status");
  st.textContent = "";
  st.classList.remove("bad");
}

/** Checks one JSON field; returns the object or undefined (with the error shown). */
function checkJsonField(f) {
  const ta = $(PROFILE_IDS[f]);
  const r = parseJson(ta.value);
  if (!("value" in r)) {
    fieldError(f, r.line ? `${r.error} (${t("jsonAt", { line: r.line, col: r.col })})` : r.error);
    return { bad: true, offset: r.offset };
  }
  if (!isPlainObject(r.value)) {
    fieldError(f, t("jsonNotObject"));
    return { bad: true };
  }
  fieldError(f, "");
  return { value: r.value };
}

function checkCardId() {
  const v = $("profile-card-id").value.trim();
  if (!/^\d{1,16}$/.test(v)) {
    fieldError("card_id", t("profileCardIdBad"));
    return null;
  }
  fieldError("card_id", "");
  return Number(v);
}

function collectProfile() {
  let firstBad = null;
  const out = { ...(profile.saved || {}) };
  for (const f of ["lang", "area", "entity"]) {
    out[f] = $(PROFILE_IDS[f]).value.trim();
    fieldError(f, "");
  }
  const card = checkCardId();
  if (card == null) firstBad = firstBad || { f: "card_id" };
  else out.card_id = card;
  for (const f of JSON_FIELDS) {
    const r = checkJsonField(f);
    if (r.bad) firstBad = firstBad || { f, offset: r.offset };
    else out[f] = r.value;
  }
  return { profile: out, firstBad };
}

const jsonTimers = {};
for (const f of JSON_FIELDS) {
  $(PROFILE_IDS[f]).addEventListener("input", () => {
    markProfileDirty();
    clearTimeout(jsonTimers[f]);
    jsonTimers[f] = setTimeout(() => checkJsonField(f), 250);
  });
}
for (const f of ["lang", "area", "entity"]) {
  $(PROFILE_IDS[f]).addEventListener("input", () => {
    markProfileDirty();
    fieldError(f, "");
  });
}
$("profile-card-id").addEventListener("input", () => {
  markProfileDirty();
  if ($("profile-card-id-error").textContent) checkCardId();
});

function markProfileDirty() {
  profile.dirty = true;
  const st = $("profile-status");
  st.textContent = t("profileChanged");
  st.classList.remove("bad");
}

$("profile").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const st = $("profile-status");
  const { profile: p, firstBad } = collectProfile();
  if (firstBad) {
    st.textContent = t("profileInvalid");
    st.classList.add("bad");
    const input = $(PROFILE_IDS[firstBad.f]);
    input.focus();
    if (firstBad.offset != null && input.setSelectionRange) input.setSelectionRange(firstBad.offset, firstBad.offset + 1);
    return;
  }
  const btn = $("profile-save");
  btn.disabled = true;
  try {
    const saved = await invoke("profile_set", { profile: p });
    fillProfile(saved || p);
    st.textContent = t("profileSaved");
    st.classList.remove("bad");
  } catch (e) {
    const msg = errText(e);
    st.textContent = msg;
    st.classList.add("bad");
    // The backend names the field first ("area: …", "user.id: …").
    const m = /^([a-z_]+)[.:]/.exec(msg);
    if (m && PROFILE_IDS[m[1]]) {
      fieldError(m[1], msg);
      $(PROFILE_IDS[m[1]]).focus();
    }
  } finally {
    btn.disabled = false;
  }
});
$("profile-revert").addEventListener("click", () => {
  if (profile.saved) fillProfile(profile.saved);
});
