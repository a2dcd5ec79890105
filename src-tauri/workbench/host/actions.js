// The workbench's own controls for what amoCRM starts from its interface:
// "click to call" (the widget's add_action("phone") with a number you type)
// and the callbacks amoCRM calls from elsewhere (digital pipeline, advanced
// settings, list selections), each with a fake selection.

import { host, state, $id, el, addError, describe } from "./core.js";
import { runCallback } from "./lifecycle.js";

const TRIGGERS = ["contacts.selected", "leads.selected", "tasks.selected", "dpSettings", "advancedSettings"];

const SELECTIONS = {
  contacts: [
    { id: 18221265, type: "contact", name: "Петрова Анна", emails: ["anna@example.com"], phones: ["+79161234567"] },
    { id: 18221266, type: "contact", name: "Сидоров Олег", emails: ["oleg@example.com"], phones: ["+79031234567"] },
  ],
  leads: [
    { id: 3001, type: "lead", name: "Сделка №3001", price: 15000 },
    { id: 3002, type: "lead", name: "Сделка №3002", price: 7000 },
  ],
  tasks: [{ id: 501, type: "task", text: "Перезвонить клиенту" }],
};

function selection(entity) {
  const selected = SELECTIONS[entity] || [];
  const summary = { items: selected.length, emails: 0, phones: 0 };
  selected.forEach((s) => {
    summary.emails += (s.emails || []).length;
    summary.phones += (s.phones || []).length;
  });
  return { count: selected.length, selected: JSON.parse(JSON.stringify(selected)), summary };
}

// Fires the widget's phone action as amoCRM's click on a phone number does.
export function callPhone(number) {
  const fn = host.actions.phone;
  if (typeof fn !== "function") return false;
  const entry = { action: "phone", value: String(number), at: Date.now() };
  state.actionsFired.push(entry);
  try {
    fn.call(host.widget, { value: String(number), element: { id: 18221265, type: "contact" } });
  } catch (e) {
    const d = describe(e);
    entry.error = d.message;
    addError("add_action(phone)", d.message, d.stack);
  }
  return true;
}

export function trigger(name) {
  const entity = name.split(".")[0];
  if (SELECTIONS[entity]) host.selection = selection(entity);
  if (name === "advancedSettings" || name === "dpSettings") {
    let area = document.getElementById("work-area-" + host.code);
    if (!area) {
      area = el("div", "work-area kk-work-area");
      area.id = "work-area-" + host.code;
      $id("kolokol-page-body").append(area);
    }
  }
  return runCallback(name, []);
}

export function showActions() {
  const T = host.T;
  const bar = $id("kolokol-actions");
  if (!bar || !host.widget) return;
  bar.hidden = false;
  let call = $id("kolokol-call");
  if (host.actions.phone && !call) {
    call = el("form", "kk-call");
    call.id = "kolokol-call";
    call.title = T.callHint;
    const input = el("input", "kk-input kk-call__number");
    input.id = "kolokol-call-number";
    input.type = "tel";
    input.value = "+79161234567";
    input.setAttribute("aria-label", T.callHint);
    const go = el("button", "kk-button", T.call);
    go.type = "submit";
    go.id = "kolokol-call-button";
    call.append(input, go);
    call.addEventListener("submit", (ev) => {
      ev.preventDefault();
      callPhone(input.value);
    });
    bar.prepend(call);
  }
  if (!$id("kolokol-trigger")) {
    const form = el("form", "kk-trigger");
    form.id = "kolokol-trigger";
    const select = el("select", "kk-input");
    select.id = "kolokol-trigger-name";
    select.setAttribute("aria-label", T.triggerLabel);
    TRIGGERS.forEach((t) => select.append(new Option(t, t)));
    const go = el("button", "kk-button", T.trigger);
    go.type = "submit";
    go.id = "kolokol-trigger-button";
    form.append(select, go);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      trigger(select.value);
    });
    bar.append(form);
  }
}
