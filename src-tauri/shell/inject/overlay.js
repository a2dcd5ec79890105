// The overlay: popups drawn inside the calling page, in a shadow root that the
// page's CSS cannot restyle. Hooks for tests: host <kolokol-overlay>; each popup
// has data-method, data-look, data-id (and data-tag), parts in data-part.
const overlay = (() => {
  const RU = /^ru\b/i.test(navigator.language || "");
  const T = RU
    ? { close: "Закрыть", card: "Открыть карточку", recording: "Запись", call: "Входящий звонок",
        more: (n) => `ещё ${n}`, region: "Уведомления Kolokol",
        noAccount: "Относительная ссылка: укажите адрес аккаунта в настройках Kolokol, чтобы её открыть",
        find: "Найти на странице", notFound: "Не найдено",
        wants: (o, d) => `${o} запрашивает ${({ microphone: "микрофон", camera: "камеру" })[d] || "микрофон и камеру"}`,
        allow: "Разрешить", block: "Запретить" }
    : { close: "Close", card: "Open card", recording: "Recording", call: "Incoming call",
        more: (n) => `+${n} more`, region: "Kolokol notifications",
        noAccount: "Relative link: set the account address in Kolokol's settings to open it",
        find: "Find in page", notFound: "Not found",
        wants: (o, d) => `${o} wants to use your ${({ microphone: "microphone", camera: "camera" })[d] || "microphone and camera"}`,
        allow: "Allow", block: "Block" };
  const MAX_VISIBLE = 5;
  const AUTO_CLOSE_MS = { message: 6000, error: 8000 };
  // Set through the CSSOM, one property at a time: a page's CSP (ours
  // included) blocks style attributes but not this. `all` first, then the rest.
  const HOST_STYLE = [["all", "initial"], ["position", "fixed"], ["top", "0"], ["right", "0"],
    ["left", "auto"], ["bottom", "auto"], ["display", "block"], ["visibility", "visible"], ["opacity", "1"],
    ["z-index", "2147483647"], ["pointer-events", "none"], ["transform", "none"]];
  const ICONS = {
    message: '<path d="M12 2a2 2 0 0 1 2 2v1h3a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V8a3 3 0 0 1 3-3h3V4a2 2 0 0 1 2-2zm-3 8a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm-6 5v1.5h6V15H9zM1 10h2v5H1zm20 0h2v5h-2z"/>',
    error: '<path d="M12 2 1 21h22L12 2zm-1 7h2v6h-2V9zm0 8h2v2h-2v-2z"/>',
    call: '<path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"/>',
  };
  let host = null, root = null, stack = null, more = null, findBar = null, findSheet = null, prompts = null;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  function svgIcon(look) {
    const s = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("class", "icon");
    s.setAttribute("aria-hidden", "true");
    s.innerHTML = ICONS[look] || ICONS.message; // our own constant markup
    return s;
  }

  function mount() {
    if (!host) {
      host = document.createElement("kolokol-overlay");
      root = host.attachShadow({ mode: "open" });
      try {
        // Constructed sheets are not subject to the page's style-src CSP.
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(OVERLAY_CSS);
        root.adoptedStyleSheets = [sheet];
      } catch (_) {
        root.append(el("style", {}, OVERLAY_CSS));
      }
      stack = el("div", { class: "stack", role: "log", "aria-live": "polite", "aria-label": T.region });
      more = el("div", { class: "more", "data-part": "more" });
      more.hidden = true;
      stack.append(more);
      root.append(stack);
    }
    for (const [k, v] of HOST_STYLE) host.style.setProperty(k, v, "important");
    if (!host.isConnected) {
      // Under <html>, not <body>: a page that rewrites its body keeps the overlay.
      (document.documentElement || document).appendChild(host);
    }
  }

  // One formatter for every popup: toLocaleString builds a new one per call,
  // which is most of a popup's cost in a burst.
  let dateFormat = null;
  function formatDate(ms) {
    try {
      dateFormat ??= new Intl.DateTimeFormat(RU ? "ru-RU" : undefined, { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit" });
      return dateFormat.format(new Date(ms));
    } catch (_) {
      return String(ms);
    }
  }

  function duration(s) {
    const m = Math.floor(s / 60), r = s % 60;
    return `${m}:${String(r).padStart(2, "0")}`;
  }

  // Popups beyond the visible ones wait as data, not DOM (newest first), so
  // a burst of thousands costs an array entry each; bounded like any queue.
  const MAX_WAITING = 1000;
  let waiting = [];
  let opener = null;

  function popups() {
    return Array.from(stack.querySelectorAll(":scope > .popup:not(.warm)"));
  }

  // Newest first; at most MAX_VISIBLE in the DOM, the rest counted in "+N more".
  function layout() {
    let all = popups();
    for (let i = all.length - 1; i >= MAX_VISIBLE; i--) {
      // The oldest visible steps back into the queue, ahead of older ones.
      const p = all[i];
      if (p._timer) p._timer.stop();
      p.remove();
      waiting.unshift(p._n);
    }
    while (all.length < MAX_VISIBLE && waiting.length) {
      stack.insertBefore(build(waiting.shift(), opener), more);
      all = popups();
    }
    if (waiting.length > MAX_WAITING) waiting.length = MAX_WAITING;
    for (const p of popups()) if (p._timer) p._timer.start();
    more.hidden = waiting.length === 0;
    more.textContent = T.more(waiting.length);
  }

  // Auto-close that runs only while the popup is visible and not hovered.
  function timer(p, ms) {
    let left = ms, started = 0, handle = 0, paused = false;
    const t = {
      start() {
        if (handle || paused || p.hidden) return;
        started = Date.now();
        handle = setTimeout(() => remove(p), left);
      },
      pause() {
        paused = true;
        if (!handle) return;
        clearTimeout(handle);
        handle = 0;
        left = Math.max(500, left - (Date.now() - started));
      },
      resume() {
        paused = false;
        t.start();
      },
      stop() {
        clearTimeout(handle);
        handle = 0;
      },
    };
    p.addEventListener("mouseenter", t.pause);
    p.addEventListener("mouseleave", t.resume);
    p.addEventListener("focusin", t.pause);
    p.addEventListener("focusout", t.resume);
    return t;
  }

  function remove(p) {
    if (p._timer) p._timer.stop();
    p.remove();
    layout();
  }

  function build(n, open) {
    const p = el("div", {
      class: `popup ${n.look}`,
      "data-method": n.method,
      "data-look": n.look,
      "data-id": n.id,
      role: n.look === "message" ? "status" : "alert",
    });
    if (n.tag != null) p.setAttribute("data-tag", n.tag);

    let icon;
    if (n.look === "message" && n.icon) {
      icon = el("img", { class: "icon", alt: "", src: n.icon, referrerpolicy: "no-referrer", "data-part": "icon" });
      icon.addEventListener("error", () => icon.replaceWith(svgIcon("message")), { once: true });
    } else {
      icon = svgIcon(n.look);
      icon.setAttribute("data-part", "icon");
    }

    const body = el("div", { class: "body" });
    if (n.look === "call" && n.method === "add_call") body.append(el("div", { class: "kind" }, T.call));
    if (n.header) {
      const h = el("div", { class: "header", "data-part": "header" });
      h.innerHTML = n.header; // sanitised in Rust to links, paragraphs, breaks, bold, italic
      body.append(h);
    }
    if (n.text) {
      const t = el("div", { class: "text", "data-part": "text" });
      t.innerHTML = n.text; // sanitised in Rust, as above
      body.append(t);
    }
    if (n.from || n.to || n.duration_s != null) {
      const meta = el("div", { class: "meta" });
      if (n.from) meta.append(el("span", { "data-part": "from" }, n.from));
      if (n.from && n.to) meta.append(" → ");
      if (n.to) meta.append(el("span", { "data-part": "to" }, n.to));
      if (n.duration_s != null) {
        if (n.from || n.to) meta.append(" · ");
        meta.append(el("span", { "data-part": "duration" }, duration(n.duration_s)));
      }
      body.append(meta);
    }
    const actions = el("div", { class: "actions" });
    if (n.look === "call" && n.click && n.click.href) {
      actions.append(el("button", { type: "button", "data-action": "click" }, T.card));
    }
    if (n.recording && n.recording.href) {
      actions.append(el("button", { type: "button", "data-action": "recording" }, T.recording));
    }
    if (actions.childNodes.length) body.append(actions);
    if ([n.click, n.recording].some((l) => l && !l.href)) {
      body.append(el("div", { class: "note", "data-part": "link-note" }, T.noAccount));
    }
    const date = el("time", { class: "date", "data-part": "date", datetime: new Date(n.date_ms).toISOString() }, formatDate(n.date_ms));
    body.append(date);

    const close = el("button", { type: "button", class: "close", "data-action": "close", "aria-label": T.close, title: T.close }, "×");
    p.append(icon, body, close);
    if (n.click && n.click.href) p.classList.add("clickable");

    p.addEventListener("click", (ev) => {
      const a = ev.target.closest("a");
      if (a) {
        // Links never navigate the page; the app opens them (http/https only),
        // and only for a person's click, never for a script's el.click().
        ev.preventDefault();
        const href = a.getAttribute("href");
        if (href && ev.isTrusted) open(n.id, href);
        return;
      }
      const action = ev.target.closest("[data-action]");
      const what = action ? action.getAttribute("data-action") : "click";
      if (what === "close") return remove(p);
      const link = what === "recording" ? n.recording : n.click;
      if (link && link.href && ev.isTrusted) open(n.id, link.given);
    });
    if (AUTO_CLOSE_MS[n.look] && n.look !== "call") p._timer = timer(p, AUTO_CLOSE_MS[n.look]);
    p._n = n;
    return p;
  }

  // Closes the popup or drops the waiting notification with this id or tag.
  function drop(match) {
    if (!stack) return false;
    const p = popups().find((p) => match(p._n));
    if (p) {
      remove(p);
      return true;
    }
    const i = waiting.findIndex(match);
    if (i < 0) return false;
    waiting.splice(i, 1);
    layout();
    return true;
  }

  // Popups shown in one task are drawn together at its end (a microtask):
  // only the newest five become DOM, the rest go straight to the queue.
  let pending = [];
  let scheduled = false;

  // In a burst new popups appear without the slide-in: animating five fresh
  // popups every frame is what made a burst's frames long.
  let lastRender = 0;

  // A lone popup is drawn at once (a microtask). A burst (several popups in
  // one task, or more while a burst's drawing waits) is drawn at most once per
  // BURST_MS, just before a frame: repainting five new popups every frame cost
  // 30-100 ms a frame in software GL, and no one reads popups at 60 a second.
  const BURST_MS = 100;
  let burstUntil = 0;
  function schedule() {
    const now = Date.now();
    if (pending.length === 1 && now >= burstUntil) return render();
    const wait = Math.max(0, burstUntil - now);
    const frame = () => (document.hidden ? render() : requestAnimationFrame(render));
    if (wait) setTimeout(frame, wait);
    else frame();
  }

  function render() {
    if (!scheduled) return;
    scheduled = false;
    unwarm();
    // Once per task, not per popup: "all: initial" alone expands to every
    // CSS property, which per call was most of a burst's cost in the page.
    mount();
    const batch = pending;
    pending = [];
    const now = Date.now();
    const still = batch.length > 1 || now - lastRender < 300;
    lastRender = now;
    if (batch.length > 1) burstUntil = now + BURST_MS;
    const fresh = batch.slice(-MAX_VISIBLE);
    const older = batch.slice(0, batch.length - fresh.length);
    for (const n of fresh) {
      const p = build(n, opener);
      if (still) p.classList.add("still");
      stack.prepend(p);
    }
    layout();
    if (older.length) {
      waiting.unshift(...older.reverse());
      layout();
    }
  }

  // Once per page, idle after loading, a popup is drawn for one frame at 1 %
  // opacity: the first popup a web process paints costs 100-150 ms here
  // (the shadow root, its styles, fonts and the renderer's first drawing of
  // shadows, rounded corners and text), which otherwise lands on the first
  // call. It takes no clicks, no screen reader reads it, and it leaves after
  // two frames, after 250 ms if no frame comes, or when a real popup arrives.
  let warming = null;
  function warm() {
    if (host) return;
    try {
      mount();
      const p = build({ id: "", look: "call", method: "add_call", header: "Ж", text: "Ж", from: "Ж", to: "Ж", duration_s: 0, date_ms: Date.now() }, null);
      for (const [k, v] of [["opacity", "0.01"], ["pointer-events", "none"], ["animation", "none"]]) p.style.setProperty(k, v, "important");
      p.setAttribute("aria-hidden", "true");
      p.removeAttribute("role");
      p.classList.add("warm");
      const still = p.cloneNode(true);
      still.classList.add("still");
      stack.prepend(p, still);
      more.style.setProperty("opacity", "0.01", "important");
      more.textContent = T.more(1);
      more.hidden = false;
      warming = [p, still];
      requestAnimationFrame(() => requestAnimationFrame(unwarm));
      setTimeout(unwarm, 250);
    } catch (_) {}
  }
  function unwarm() {
    if (!warming) return;
    for (const p of warming) p.remove();
    warming = null;
    more.style.removeProperty("opacity");
    more.hidden = waiting.length === 0;
    if (!popups().length && !waiting.length && !prompts && !findBar) host.remove();
  }
  // Not in Kolokol's own history and workbench windows: no popup is drawn
  // there, and the history's first rows would share the frame.
  const ownWindow = /^(tauri:|https?:\/\/tauri\.localhost)/.test(location.href) && /\/(history|workbench)\.html$/.test(location.pathname);
  if (window.top === window && !ownWindow) {
    const later = () => requestAnimationFrame(warm);
    if (document.readyState === "complete") later();
    else window.addEventListener("load", later, { once: true });
  }

  return {
    show(n, open) {
      opener = open;
      if (n.tag != null) {
        drop((o) => o.tag === n.tag);
        pending = pending.filter((o) => o.tag !== n.tag);
      }
      pending.push(n);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(schedule);
      }
    },
    // Ctrl+F: a find bar over the page. Matches are marked with the CSS
    // Custom Highlight API, so focus stays in the bar and the page's own
    // selection is untouched; Enter next, Shift+Enter previous, Escape closes.
    find() {
      mount();
      if (!findBar) {
        findBar = el("form", { class: "find", "data-part": "find", role: "search" });
        const input = el("input", { type: "search", "aria-label": T.find, placeholder: T.find, "data-part": "find-input" });
        const state = el("span", { class: "find-state", "data-part": "find-state", "aria-live": "polite" });
        findBar.append(input, state);
        findBar.addEventListener("submit", (ev) => ev.preventDefault());
        let matches = [], at = -1;
        const mark = () => {
          try {
            if (!window.CSS || !CSS.highlights) return;
            if (!findSheet) {
              findSheet = new CSSStyleSheet();
              findSheet.replaceSync("::highlight(kolokol-find) { background: #ffe066; color: inherit; } ::highlight(kolokol-find-current) { background: #ff9632; color: inherit; }");
              document.adoptedStyleSheets = [...document.adoptedStyleSheets, findSheet];
            }
            CSS.highlights.set("kolokol-find", new Highlight(...matches));
            CSS.highlights.set("kolokol-find-current", new Highlight(...(at >= 0 ? [matches[at]] : [])));
          } catch (_) {}
        };
        const search = () => {
          const q = input.value.toLocaleLowerCase();
          matches = [];
          at = -1;
          if (q) {
            const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node && matches.length < 1000; node = walker.nextNode()) {
              const p = node.parentElement;
              if (!p || p.closest("script, style, noscript, template")) continue;
              const text = node.data.toLocaleLowerCase();
              for (let i = text.indexOf(q); i >= 0 && matches.length < 1000; i = text.indexOf(q, i + q.length)) {
                const r = document.createRange();
                r.setStart(node, i);
                r.setEnd(node, i + q.length);
                matches.push(r);
              }
            }
          }
          step(1);
        };
        const step = (dir) => {
          if (matches.length) {
            at = at < 0 ? 0 : (at + dir + matches.length) % matches.length;
            const box = matches[at].startContainer.parentElement;
            if (box) box.scrollIntoView({ block: "center", inline: "nearest" });
          }
          state.textContent = !input.value ? "" : matches.length ? `${at + 1}/${matches.length}` : T.notFound;
          findBar.dataset.matches = String(matches.length);
          mark();
        };
        input.addEventListener("keydown", (ev) => {
          if (ev.key === "Enter") {
            ev.preventDefault();
            step(ev.shiftKey ? -1 : 1);
          } else if (ev.key === "Escape") {
            ev.preventDefault();
            input.value = "";
            search();
            findBar.hidden = true;
          }
        });
        input.addEventListener("input", search);
        root.insertBefore(findBar, stack);
      }
      findBar.hidden = false;
      const input = findBar.querySelector("input");
      input.focus();
      input.select();
    },
    // Kolokol's microphone/camera prompt: stays until a person answers it
    // (`answer(allow)` runs for a trusted click only).
    ask(detail, answer) {
      mount();
      const p = el("div", { class: "popup prompt", role: "alertdialog", "data-part": "permission", "data-device": String(detail.device) });
      const body = el("div", { class: "body" });
      body.append(el("div", { class: "text", "data-part": "text" }, T.wants(String(detail.origin), String(detail.device))));
      const actions = el("div", { class: "actions" });
      const button = (label, allow) => {
        const b = el("button", { type: "button", "data-part": allow ? "allow" : "block" }, label);
        b.addEventListener("click", (ev) => {
          if (!ev.isTrusted) return;
          p.remove();
          answer(allow);
        });
        return b;
      };
      actions.append(button(T.allow, true), button(T.block, false));
      body.append(actions);
      p.append(el("div", { class: "icon" }), body);
      // Above the popups, so arriving notifications never move it under the pointer.
      if (!prompts) {
        prompts = el("div", { class: "stack prompts" });
        root.insertBefore(prompts, stack);
      }
      prompts.append(p);
    },
    dismiss(idOrTag) {
      const key = String(idOrTag);
      const before = pending.length;
      pending = pending.filter((o) => o.id !== key && o.tag !== key);
      return drop((o) => o.id === key || o.tag === key) || pending.length < before;
    },
  };
})();
