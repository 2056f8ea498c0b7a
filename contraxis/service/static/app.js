// The Contraxis intake page: builds the form from /intake/form and /terminology/labs, turns it
// into a native case, posts it to /report and shows what was not read as given, the clinician
// report and the patient handout. A pasted note is read by POST /note into the form, each filled
// item showing the words it came from; the finding search asks /terminology/findings. Drug suggestions and readings come from /terminology/drugs:
// no clinical fact (drug name, unit factor, plausible range) is written in this file.
// No framework and no network beyond this server: clinics are often offline.
"use strict";

(function () {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  let form = null;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function options(select, values, { unknown = "not known" } = {}) {
    select.replaceChildren(el("option", { value: "", text: unknown }));
    for (const value of values) select.append(el("option", { value, text: value.replace(/[-_]/g, " ") }));
  }

  function tristate(container, name) {
    const legend = container.closest("fieldset").querySelector("legend").textContent;
    for (const [value, text] of [["true", "yes"], ["false", "no"], ["", "not known"]]) {
      const id = `${name}-${value || "unknown"}`;
      const input = el("input", { type: "radio", name, value, id, checked: value === "" });
      container.append(el("label", { for: id }, input, text));
    }
    container.setAttribute("role", "radiogroup");
    container.setAttribute("aria-label", legend);
  }

  // -- body map --

  function regionLabel(code) {
    const region = form.regions.find((r) => r.code === code);
    return region ? region.name : code;
  }

  function updateRegions() {
    const chosen = $$(".region[aria-checked=true]").map((r) => regionLabel(r.dataset.region));
    $("#selected-regions").textContent = chosen.length ? `Selected: ${chosen.join(", ")}.` : "No region selected.";
  }

  function setRegion(node, on) {
    node.setAttribute("aria-checked", on ? "true" : "false");
  }

  function initBodyMap() {
    for (const node of $$(".region")) {
      const label = regionLabel(node.dataset.region);
      node.setAttribute("role", "checkbox");
      node.setAttribute("tabindex", "0");
      node.setAttribute("aria-checked", "false");
      node.setAttribute("aria-label", label);
      node.append(el("title", { text: label }));
      node.addEventListener("click", () => { setRegion(node, node.getAttribute("aria-checked") !== "true"); updateRegions(); });
      node.addEventListener("keydown", (event) => {
        if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          setRegion(node, node.getAttribute("aria-checked") !== "true");
          updateRegions();
        }
      });
    }
  }

  // -- findings --

  function findingRow(finding, group) {
    const name = `f-${finding.code}`;
    const labelId = `label-${finding.code.replace(/[^A-Za-z0-9]/g, "-")}`;
    const tri = el("div", { class: "tri", role: "radiogroup", "aria-labelledby": labelId });
    for (const [value, text] of [["present", "Present"], ["absent", "Absent"], ["unknown", "Not known"]]) {
      const id = `${name}-${value}`.replace(/[^A-Za-z0-9-]/g, "-");
      const input = el("input", { type: "radio", name, value, id, checked: value === "unknown", "data-code": finding.code });
      tri.append(el("label", { for: id }, input, text));
    }
    const code = el("code", { text: finding.code });
    return el("div", { class: "finding", "data-code": finding.code, "data-name": finding.name.toLowerCase(), "data-group": group },
      el("span", { class: "name", id: labelId }, `${finding.name} `, code), tri);
  }

  function initFindings() {
    const container = $("#finding-groups");
    container.replaceChildren();
    form.finding_groups.forEach((group, i) => {
      const details = el("details", { class: "group", open: i === 0, "data-group": group.id });
      details.append(el("summary", { text: group.label }));
      for (const finding of group.findings) details.append(findingRow(finding, group.id));
      container.append(details);
    });
    $("#finding-filter").addEventListener("input", (event) => filterFindings(event.target.value));
  }

  // Show the form's findings whose name or code holds the words typed (all, for none).
  function filterFindings(text) {
    const container = $("#finding-groups");
    {
      const query = text.trim().toLowerCase();
      for (const details of $$("details.group", container)) {
        let shown = 0;
        for (const row of $$(".finding", details)) {
          const match = !query || row.dataset.name.includes(query) || row.dataset.code.toLowerCase().includes(query);
          row.hidden = !match;
          if (match) shown += 1;
        }
        details.hidden = shown === 0;
        if (query && shown) details.open = true;
      }
    }
  }

  // -- laboratory results: a unit selector and the plausibility check before submitting --

  let analytes = [];
  const labChecks = new Map();  // row -> the pending or last server check of its value
  let keptLabs = [];  // results of a loaded case the form has no place for, sent unchanged
  const COMPARATORS = [["", "="], ["<", "<"], ["<=", "≤"], [">", ">"], [">=", "≥"]];

  const fmt = (x) => String(Number(x.toPrecision(3)));

  // The message the page shows at once, from the limits the server serves; the server's own
  // words (the same check it makes when the case is sent, with the likely intended unit)
  // replace it when they arrive. A bound (< 20) is left to the server.
  function localLabProblem(analyte, text, unit, comparator) {
    const value = Number(text);
    const accepted = analyte.units.find((u) => u.unit === unit);
    if (!Number.isFinite(value)) return `${text} is not a number`;
    if (comparator || !accepted || (value >= accepted.low && value <= accepted.high)) return null;
    return `${text} ${accepted.label} is not a possible ${analyte.name} (plausible: ${fmt(accepted.low)} to ${fmt(accepted.high)} ${accepted.label})`;
  }

  function labRow(analyte) {
    const id = `lab-${analyte.loinc}`;
    const comparator = el("select", { id: `${id}-comparator`, class: "lab-comparator", "aria-label": `${analyte.label}: exact value or bound` });
    for (const [value, text] of COMPARATORS) comparator.append(el("option", { value, text }));
    const unit = el("select", { id: `${id}-unit`, class: "lab-unit", "aria-label": `${analyte.label}: unit` });
    for (const u of analyte.units) unit.append(el("option", { value: u.unit, text: u.label }));
    unit.value = analyte.unit;
    const message = el("p", { id: `${id}-message`, class: "lab-message", "aria-live": "polite" });
    const input = el("input", { id, type: "number", step: "any", inputmode: "decimal", class: "lab-value",
      "data-loinc": analyte.loinc, "data-name": analyte.id, "aria-describedby": `${id}-message` });
    const row = el("div", { class: "field lab", "data-analyte": analyte.id, "data-loinc": analyte.loinc, "data-codes": analyte.loinc_codes.join(" ") },
      el("label", { for: id, text: `${analyte.label} · LOINC ${analyte.loinc}` }),
      el("div", { class: "lab-entry" }, comparator, input, unit), message);
    const recheck = () => checkLab(row, { server: true });
    input.addEventListener("input", () => { delete row.dataset.given; checkLab(row, { server: false }); });
    input.addEventListener("change", recheck);
    unit.addEventListener("change", recheck);
    comparator.addEventListener("change", recheck);
    return row;
  }

  function setLabMessage(row, text) {
    const input = $(".lab-value", row);
    $(".lab-message", row).textContent = text || "";
    row.classList.toggle("invalid", Boolean(text));
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  // Check one value: at once against the served limits, then (with server) by the server,
  // whose verdict is the one the case will meet. Resolves to the problem, or null.
  function checkLab(row, { server }) {
    const analyte = analytes.find((a) => a.id === row.dataset.analyte);
    const input = $(".lab-value", row);
    const unit = $(".lab-unit", row).value;
    const comparator = $(".lab-comparator", row).value;
    const text = input.value.trim();
    labChecks.delete(row);
    if (input.validity.badInput) {
      const problem = "not a number: write the value with digits and a decimal point";
      setLabMessage(row, problem);
      return Promise.resolve(problem);
    }
    if (text === "") {
      setLabMessage(row, "");
      return Promise.resolve(null);
    }
    const local = localLabProblem(analyte, text, unit, comparator);
    setLabMessage(row, local);
    if (!server) return Promise.resolve(local);
    const params = new URLSearchParams({ loinc: row.dataset.loinc, value: text, unit });
    if (comparator) params.set("comparator", comparator);
    const check = fetch(`/terminology/labs/check?${params}`, { headers: { accept: "application/json" } })
      .then(async (response) => {
        if (response.status >= 500) return local;
        const body = await response.json();
        if (labChecks.get(row) !== check) return labChecks.get(row) || null;  // a newer check decides
        const problem = body.accepted ? null : (body.problems || []).map((p) => p.message).join("; ") || "not accepted";
        setLabMessage(row, problem);
        return problem;
      })
      .catch(() => local);  // unreachable: the server checks again when the case is sent
    labChecks.set(row, check);
    return check;
  }

  // Hold the case while a value is implausible: check every value, mark each, focus the first.
  async function labsReady() {
    const rows = $$("#labs .lab");
    const problems = await Promise.all(rows.map((row) => checkLab(row, { server: true })));
    const bad = rows.filter((row, i) => problems[i]);
    if (bad.length) $(".lab-value", bad[0]).focus();
    return bad.length === 0;
  }

  function initLabs() {
    $("#labs").replaceChildren(...analytes.map(labRow));
  }

  function labRowFor(loinc) {
    const analyte = analytes.find((a) => a.loinc === loinc || a.loinc_codes.includes(loinc));
    return analyte ? $(`#labs .lab[data-analyte="${CSS.escape(analyte.id)}"]`) : null;
  }

  function labsOfForm() {
    return $$("#labs .lab").filter((row) => $(".lab-value", row).value.trim() !== "").map((row) => {
      const input = $(".lab-value", row);
      const lab = { loinc: row.dataset.loinc, name: input.dataset.name, value: Number(input.value), unit: $(".lab-unit", row).value };
      const comparator = $(".lab-comparator", row).value;
      if (comparator) lab.comparator = comparator;
      // The date of a loaded result stays with it until its value is changed.
      if (row.dataset.given) Object.assign(lab, JSON.parse(row.dataset.given));
      return lab;
    });
  }

  // A loaded case's results: the latest of each test goes into its row; the others (earlier
  // results, results given only as an interpretation, tests the form does not offer) are
  // listed under the form and sent unchanged, never dropped.
  function fillLabs(labs) {
    const age = (lab) => (lab && typeof lab.days_ago === "number" ? lab.days_ago
      : lab && lab.date ? (Date.now() - Date.parse(lab.date)) / 864e5 : 0);
    const placed = new Set();
    keptLabs = [];
    for (const lab of [...labs].sort((a, b) => age(a) - age(b))) {
      const row = lab && typeof lab === "object" ? labRowFor(String(lab.loinc)) : null;
      if (!row || placed.has(row) || typeof lab.value !== "number" || lab.interpretation) {
        keptLabs.push(lab);
        continue;
      }
      placed.add(row);
      const input = $(".lab-value", row);
      const unit = $(".lab-unit", row);
      input.value = lab.value;
      row.dataset.loinc = input.dataset.loinc = String(lab.loinc);  // sent as given: the server reads every code of the test
      if (lab.unit && !$$("option", unit).some((o) => o.value === lab.unit)) {
        unit.append(el("option", { value: lab.unit, text: lab.unit, "data-given": "true" }));
      }
      if (lab.unit) unit.value = lab.unit;
      $(".lab-comparator", row).value = COMPARATORS.some(([v]) => v === lab.comparator) ? lab.comparator : "";
      const given = {};
      for (const key of ["days_ago", "date"]) if (lab[key] !== undefined) given[key] = lab[key];
      if (Object.keys(given).length) row.dataset.given = JSON.stringify(given);
      checkLab(row, { server: true });
    }
    showKeptLabs();
  }

  function showKeptLabs() {
    const describe = (lab) => {
      if (!lab || typeof lab !== "object") return String(lab);
      const value = lab.value !== undefined ? `${lab.comparator || ""}${lab.value} ${lab.unit || ""}`.trim() : lab.interpretation || "no value";
      const when = lab.days_ago !== undefined ? `, ${lab.days_ago} days ago` : lab.date ? `, ${lab.date}` : "";
      return `${lab.name || "LOINC"} ${lab.loinc}: ${value}${when}`;
    };
    $("#labs-kept ul").replaceChildren(...keptLabs.map((lab) => el("li", { text: describe(lab) })));
    $("#labs-kept").hidden = keptLabs.length === 0;
  }

  // -- medications: suggestions over generic and brand names, and the start-date prompt --

  const DEBOUNCE_MS = 150;

  async function getJson(url, signal) {
    const response = await fetch(url, { headers: { accept: "application/json" }, signal });
    if (!response.ok) throw new Error(`${response.status}`);
    return response.json();
  }

  // An ARIA 1.2 combobox with a list of suggestions: arrows move, Enter chooses, Escape closes.
  // `fetchItems(query, signal)` answers the items to list (null: the query asks for none),
  // `render(item, i)` an item's option, `choose(option)` what picking one does;
  // `arrowOpens`: ArrowDown on a closed list asks for suggestions; `blurDelay`: milliseconds
  // the list stays after the input loses the focus (0: closed at once, its request dropped).
  function combobox(input, list, { fetchItems, render, choose, arrowOpens = false, blurDelay = 0 }) {
    let timer = null;
    let controller = null;
    let active = -1;
    const optionsOf = () => $$("[role=option]", list);

    function close() {
      list.hidden = true;
      list.replaceChildren();
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      const all = optionsOf();
      if (!all.length) return;
      active = (i + all.length) % all.length;
      all.forEach((option, j) => option.setAttribute("aria-selected", j === active ? "true" : "false"));
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function pick(option) {
      close();
      choose(option);
    }

    function show(items) {
      list.replaceChildren();
      items.forEach((item, i) => {
        const option = render(item, i);
        option.addEventListener("mousedown", (event) => event.preventDefault());  // keep the focus in the input
        option.addEventListener("click", () => pick(option));
        list.append(option);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    async function suggest() {
      const query = input.value.trim();
      if (controller) controller.abort();
      controller = new AbortController();
      try {
        const items = await fetchItems(query, controller.signal);
        if (items === null) close();
        else if (document.activeElement === input && input.value.trim() === query) show(items);
      } catch (error) {
        if (error.name !== "AbortError") close();
      }
    }

    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, DEBOUNCE_MS); });
    input.addEventListener("keydown", (event) => {
      const open = !list.hidden;
      if (event.key === "ArrowDown" && (open || arrowOpens)) {
        event.preventDefault();
        if (open) highlight(active + 1); else suggest();
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();  // choose, do not submit the form
        pick(optionsOf()[active]);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => {
      if (blurDelay) { setTimeout(close, blurDelay); return; }
      clearTimeout(timer);
      if (controller) controller.abort();
      close();
    });
  }

  // Drug names as the server knows them (brands, generics), from two letters typed.
  function drugCombobox(input, list, onChoose) {
    combobox(input, list, {
      arrowOpens: true,
      fetchItems: async (query, signal) => {
        if (query.length < 2) return null;
        const body = await getJson(`/terminology/drugs?${new URLSearchParams({ q: query, limit: "10" })}`, signal);
        return body.drugs;
      },
      render: (drug, i) => el("li", { role: "option", id: `${list.id}-${i}`, "aria-selected": "false", "data-name": drug.name },
        el("span", { class: "drug-name", text: drug.name }),
        el("span", { class: "drug-ingredient", text: drug.ingredient && drug.ingredient.toLowerCase() !== drug.name.toLowerCase() ? drug.ingredient : "generic name" })),
      choose: (option) => {
        input.value = option.dataset.name;
        onChoose();
      },
    });
  }

  // What the server reads the drug as, and, for a drug that can cause the movement, the prompt
  // for its start date and last dose increase, saying why (the knowledge base's words).
  async function readDrug(row) {
    const name = $(".med-name", row).value.trim();
    const { rxnorm } = JSON.parse(row.dataset.extra);
    const reading = $(".med-reading", row);
    const prompt = $(".med-prompt", row);
    row.dataset.reading = name;
    if (!name && !rxnorm) {
      reading.textContent = "";
      prompt.hidden = true;
      delete row.dataset.causes;
      return;
    }
    let body;
    try {
      const query = new URLSearchParams();
      if (name) query.set("name", name);
      if (rxnorm) query.set("rxnorm", String(rxnorm));
      body = await getJson(`/terminology/drugs/resolve?${query}`);
    } catch (error) {
      return;  // the server reads the drug again when the case is sent
    }
    if (row.dataset.reading !== name) return;  // a newer name was typed meanwhile
    const ingredients = body.ingredients.join(" and ");
    if (!body.ingredients.length) reading.textContent = "Not recognised: it will be sent as written and listed as not read.";
    else if (ingredients.toLowerCase() === name.toLowerCase() && body.how === "generic") reading.textContent = "";
    else reading.textContent = `Read as ${ingredients}.`;
    row.dataset.causes = body.can_cause_movement ? "true" : "false";
    prompt.hidden = !body.can_cause_movement;
    if (body.can_cause_movement) {
      prompt.replaceChildren(
        el("strong", { text: `${body.question} ` }),
        el("span", { text: body.classes.map((c) => `It is one of the ${c.label}, which can cause ${c.causes.join(", ")}.`).join(" ") + " " }),
        el("span", { text: `${body.why} ` }),
        el("span", { class: "hint", text: "Give the days since it was started and since the dose was last raised, or leave them blank: the assessment will then ask." }));
    }
  }

  let rowCount = 0;
  function addMedication(med = {}) {
    rowCount += 1;
    const n = rowCount;
    const value = (v) => (v === undefined || v === null ? "" : String(v));
    const name = el("input", { id: `med-name-${n}`, type: "text", class: "med-name", value: value(med.name), autocomplete: "off",
      role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": `med-list-${n}`,
      "aria-describedby": `med-reading-${n}` });
    const list = el("ul", { id: `med-list-${n}`, role: "listbox", class: "suggestions", hidden: true, "aria-label": "Suggested drugs" });
    // Fields of a loaded drug the form does not show (its RxNorm code, days since it was
    // stopped) are sent back unchanged.
    const { name: _name, days_since_start: _start, days_since_dose_increase: _raised, ...extra } = med;
    const row = el("div", { class: "row medication", "data-extra": JSON.stringify(extra) },
      el("div", { class: "field" }, el("label", { for: `med-name-${n}`, text: "Drug (generic or brand name)" }),
        el("div", { class: "combobox" }, name, list)),
      el("div", { class: "field" }, el("label", { for: `med-days-${n}`, text: "Started, days ago" }),
        el("input", { id: `med-days-${n}`, type: "number", min: "0", step: "1", class: "med-days", value: value(med.days_since_start),
          "aria-describedby": `med-prompt-${n}` })),
      el("div", { class: "field" }, el("label", { for: `med-raised-${n}`, text: "Dose raised, days ago" }),
        el("input", { id: `med-raised-${n}`, type: "number", min: "0", step: "1", class: "med-raised", value: value(med.days_since_dose_increase),
          "aria-describedby": `med-prompt-${n}` })));
    const remove = el("button", { type: "button", text: "Remove", "aria-label": `Remove drug ${n}` });
    remove.addEventListener("click", () => row.remove());
    row.append(remove, el("p", { id: `med-reading-${n}`, class: "med-reading", "aria-live": "polite" }),
      el("div", { id: `med-prompt-${n}`, class: "med-prompt", role: "note", hidden: true }));
    drugCombobox(name, list, () => readDrug(row));
    name.addEventListener("change", () => readDrug(row));
    name.addEventListener("input", () => {  // a name typed anew is read as typed, not by an old code
      const kept = JSON.parse(row.dataset.extra);
      delete kept.rxnorm;
      row.dataset.extra = JSON.stringify(kept);
    });
    $("#medications").append(row);
    $("#no-medication").checked = false;
    updateNoMedication();
    if (med.name || med.rxnorm) readDrug(row);
    return row;
  }

  // "Takes no medication" means none (medications: []); an empty list means not known.
  function updateNoMedication() {
    const none = $("#no-medication").checked;
    $("#medications").hidden = none;
    $("#add-medication").disabled = none;
  }

  function addTreatment(treatment = "", response = "") {
    rowCount += 1;
    const n = rowCount;
    const which = el("select", { id: `tx-${n}`, class: "tx-name" });
    which.append(el("option", { value: "", text: "choose" }));
    for (const t of form.treatments) which.append(el("option", { value: t.code, text: t.name }));
    which.value = treatment;
    const how = el("select", { id: `tx-response-${n}`, class: "tx-response" });
    options(how, form.responses, { unknown: "choose" });
    how.value = response;
    const row = el("div", { class: "row treatment" },
      el("div", { class: "field" }, el("label", { for: `tx-${n}`, text: "Treatment" }), which),
      el("div", { class: "field" }, el("label", { for: `tx-response-${n}`, text: "Response" }), how));
    const remove = el("button", { type: "button", text: "Remove", "aria-label": `Remove treatment ${n}` });
    remove.addEventListener("click", () => row.remove());
    row.append(remove);
    $("#treatments").append(row);
    return row;
  }

  function initChoices() {
    options($("#sex"), form.sexes.filter((s) => s !== "unknown"));
    options($("#course"), form.courses);
    options($("#severity"), form.severities);
    tristate($("[data-tristate=disabling]"), "disabling");
    tristate($("[data-tristate=family_history]"), "family_history");
    for (const item of form.history) {
      const id = `hx-${item.code.replace(/[^A-Za-z0-9]/g, "-")}`;
      $("#history").append(el("label", { for: id }, el("input", { type: "checkbox", id, value: item.code, class: "history" }), item.name));
    }
    const mri = $("#mri");
    mri.setAttribute("role", "radiogroup");
    mri.setAttribute("aria-label", "Brain MRI result");
    for (const [value, text] of [["", "not known"], ["normal", "normal"], ["abnormal", "abnormal"], ["not_done", "not done"]]) {
      const id = `mri-${value || "unknown"}`;
      mri.append(el("label", { for: id }, el("input", { type: "radio", name: "mri_brain", id, value, checked: value === "" }), text));
    }
    for (const finding of form.imaging_findings) {
      const id = `mri-f-${finding.code.replace(/[^A-Za-z0-9]/g, "-")}`;
      $("#mri-findings").append(el("label", { for: id }, el("input", { type: "checkbox", id, value: finding.code, class: "mri-finding" }), `${finding.name} (${finding.code})`));
    }
  }

  // -- the case --

  const splitList = (text) => text.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);

  function number(selector) {
    const value = $(selector).value.trim();
    return value === "" ? undefined : Number(value);
  }

  function buildCase() {
    const c = {};
    const age = number("#age"); if (age !== undefined) c.age = age;
    if ($("#sex").value) c.sex = $("#sex").value;
    const onset = number("#onset_age"); if (onset !== undefined) c.onset_age = onset;
    if ($("#course").value) c.course = $("#course").value;
    c.regions = $$(".region[aria-checked=true]").map((r) => r.dataset.region);
    c.findings = [];
    c.absent = [];
    for (const input of $$("#finding-groups input[type=radio]:checked")) {
      if (input.value === "present") c.findings.push(input.dataset.code);
      if (input.value === "absent") c.absent.push(input.dataset.code);
    }
    for (const code of splitList($("#extra-findings").value)) if (!c.findings.includes(code)) c.findings.push(code);
    c.labs = [...labsOfForm(), ...keptLabs];
    const none = $("#no-medication").checked;
    c.medications = none ? [] : $$("#medications .medication").map((row) => {
      const item = { ...JSON.parse(row.dataset.extra) };
      const name = $(".med-name", row).value.trim();
      if (name) item.name = name;
      const start = $(".med-days", row).value.trim();
      const raised = $(".med-raised", row).value.trim();
      if (start !== "") item.days_since_start = Number(start);
      if (raised !== "") item.days_since_dose_increase = Number(raised);
      return item;
    }).filter((m) => m.name || m.rxnorm);
    c.history = $$("#history input:checked").map((i) => i.value);
    const mri = $("input[name=mri_brain]:checked").value;
    const mriFindings = $$("#mri-findings input:checked").map((i) => i.value);
    if (mri || mriFindings.length) {
      c.imaging = {};
      if (mri) c.imaging.mri_brain = mri;
      if (mriFindings.length) c.imaging.findings = mriFindings;
    }
    const tested = splitList($("#genes-tested").value.toUpperCase());
    const positive = splitList($("#genes-positive").value.toUpperCase());
    if (tested.length || positive.length) c.genetics = { tested: [...new Set([...tested, ...positive])], positive };
    for (const name of ["disabling", "family_history"]) {
      const value = $(`input[name=${name}]:checked`).value;
      if (value) c[name] = value === "true";
    }
    c.treatment_history = $$("#treatments .treatment").map((row) => ({
      treatment: $(".tx-name", row).value, response: $(".tx-response", row).value }))
      .filter((t) => t.treatment || t.response);
    if ($("#severity").value) c.severity = $("#severity").value;
    for (const key of Object.keys(c)) if (Array.isArray(c[key]) && c[key].length === 0) delete c[key];
    if (none) c.medications = [];
    return c;
  }

  // The parts of the form that a native reset does not know: regions and added rows.
  function clearCustom() {
    const added = $('#finding-groups details.group[data-group="added"]');
    if (added) added.remove();
    clearNoteMarks();
    for (const node of $$(".region")) setRegion(node, false);
    updateRegions();
    $("#medications").replaceChildren();
    $("#treatments").replaceChildren();
    for (const row of $$("#labs .lab")) {
      const unit = $(".lab-unit", row);
      for (const option of $$("option[data-given]", unit)) option.remove();
      row.dataset.loinc = $(".lab-value", row).dataset.loinc = analytes.find((a) => a.id === row.dataset.analyte).loinc;
      $(".lab-comparator", row).value = "";
      delete row.dataset.given;
      setLabMessage(row, "");
    }
    labChecks.clear();
    keptLabs = [];
    showKeptLabs();
    $("#no-medication").checked = false;
    updateNoMedication();
  }

  function resetForm() {
    $("#intake").reset();
    clearCustom();
  }

  function fillForm(data) {
    const c = data && typeof data === "object" && data.case ? data.case : data;
    resetForm();
    const set = (selector, value) => { if (value !== undefined && value !== null) $(selector).value = String(value); };
    set("#age", c.age); set("#sex", c.sex === "unknown" ? "" : c.sex); set("#onset_age", c.onset_age);
    set("#course", c.course); set("#severity", c.severity);
    for (const code of c.regions || []) {
      const node = $(`.region[data-region="${CSS.escape(code)}"]`);
      if (node) setRegion(node, true);
    }
    updateRegions();
    const extra = [];
    for (const [list, value] of [[c.findings || [], "present"], [c.absent || [], "absent"]]) {
      for (const code of list) {
        const input = $(`#finding-groups input[data-code="${CSS.escape(code)}"][value=${value}]`);
        if (input) input.checked = true;
        else if (value === "present") extra.push(code);
      }
    }
    $("#extra-findings").value = extra.join(", ");
    fillLabs(Array.isArray(c.labs) ? c.labs : []);
    for (const med of c.medications || []) addMedication(med);
    if (Array.isArray(c.medications) && c.medications.length === 0) {
      $("#no-medication").checked = true;
      updateNoMedication();
    }
    for (const code of c.history || []) {
      const input = $(`#history input[value="${CSS.escape(code)}"]`);
      if (input) input.checked = true;
    }
    const imaging = c.imaging || {};
    const mri = $(`input[name=mri_brain][value="${imaging.mri_brain || ""}"]`);
    if (mri) mri.checked = true;
    for (const code of imaging.findings || []) {
      const input = $(`#mri-findings input[value="${CSS.escape(code)}"]`);
      if (input) input.checked = true;
    }
    const genetics = c.genetics || {};
    $("#genes-tested").value = (genetics.tested || []).join(", ");
    $("#genes-positive").value = (genetics.positive || []).join(", ");
    for (const name of ["disabling", "family_history"]) {
      const value = c[name] === true ? "true" : c[name] === false ? "false" : "";
      $(`input[name=${name}][value="${value}"]`).checked = true;
    }
    for (const t of c.treatment_history || []) addTreatment(t.treatment, t.response);
  }

  // -- the note: read into the form, each filled item shows the words it came from --

  let noteFacts = [];  // the facts of the last note read: path, value, label, evidence (the words)

  function noteFieldOf(fact) {
    const top = fact.path.replace(/\[\d+\]$/, "");
    const index = Number((/\[(\d+)\]$/.exec(fact.path) || [])[1]);
    if (["age", "sex", "onset_age", "course", "severity"].includes(top)) return $(`#${top}`).closest(".field");
    if (top === "regions") return $("#selected-regions");
    if (top === "findings" || top === "absent") return $(`#finding-groups .finding[data-code="${CSS.escape(fact.value)}"]`);
    if (top === "labs") {
      const row = labRowFor(String(fact.value.loinc));
      return row && !fact.value.interpretation ? row : $("#labs-kept");
    }
    if (top === "medications") return Number.isNaN(index) ? $("#no-medication").closest(".choices") : $$("#medications .medication")[index];
    if (top === "history") return $(`#history input[value="${CSS.escape(fact.value)}"]`)?.closest("label");
    if (top === "imaging") return $("#mri");
    if (top === "genetics") return $("#genes-tested").closest(".field");
    if (top === "family_history" || top === "disabling") return $(`[data-tristate=${top}]`).closest("fieldset");
    if (top === "treatment_history") return $$("#treatments .treatment")[index];
    return null;
  }

  // Rows for findings the form's groups do not list (found in the note or by the search).
  function addedGroup() {
    let group = $('#finding-groups details.group[data-group="added"]');
    if (!group) {
      group = el("details", { class: "group", open: true, "data-group": "added" },
        el("summary", { text: "Added: from the note or the search" }));
      $("#finding-groups").append(group);
    }
    return group;
  }

  function addFindingRow(code, name) {
    let row = $(`#finding-groups .finding[data-code="${CSS.escape(code)}"]`);
    if (!row) {
      row = findingRow({ code, name }, "added");
      addedGroup().append(row);
    }
    row.closest("details").open = true;
    return row;
  }

  function quote(fact) {
    return fact.evidence.map((e) => `“${e.text}”`).join(", ");
  }

  function showInNote(index) {
    const marks = $$(`#note-highlighted mark[data-facts~="${index}"]`);
    for (const mark of $$("#note-highlighted mark.active")) mark.classList.remove("active");
    for (const item of $$("#note-facts li.active")) item.classList.remove("active");
    for (const mark of marks) mark.classList.add("active");
    const item = $(`#note-facts li[data-fact="${index}"]`);
    if (item) item.classList.add("active");
    if (marks.length) marks[0].scrollIntoView({ block: "nearest" });
  }

  function fromNoteNote(index, fact) {
    const button = el("button", { type: "button", class: "from-note-link", "data-fact": String(index),
      "aria-label": `Show the words of ${fact.label} in the note` }, "show in the note");
    button.addEventListener("click", () => showInNote(index));
    return el("span", { class: "from-note", "data-fact": String(index) }, `From the note: ${quote(fact)} `, button);
  }

  function clearNoteMarks() {
    for (const node of $$(".from-note")) node.remove();
    for (const node of $$("[data-from-note]")) node.removeAttribute("data-from-note");
  }

  // The note with the words read highlighted; each mark lists the facts it holds.
  function renderNote(text, facts, unused) {
    const spans = [];
    facts.forEach((fact, i) => {
      const kind = fact.path.startsWith("absent") ? "absent" : "read";
      for (const e of fact.evidence) if (e.end > e.start) spans.push({ start: e.start, end: e.end, fact: i, kind });
    });
    for (const u of unused) if (u.end > u.start) spans.push({ start: u.start, end: u.end, fact: null, kind: "unused", reason: u.reason });
    const cuts = [...new Set([0, text.length, ...spans.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
    const box = $("#note-highlighted");
    box.replaceChildren();
    for (let i = 0; i + 1 < cuts.length; i += 1) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      const piece = text.slice(a, b);
      const over = spans.filter((s) => s.start <= a && b <= s.end);
      if (!over.length) { box.append(piece); continue; }
      const read = over.filter((s) => s.fact !== null);
      const kind = read.some((s) => s.kind === "read") ? "read" : read.length ? "absent" : "unused";
      const titles = read.map((s) => facts[s.fact].label).concat(over.filter((s) => s.fact === null).map((s) => `not used: ${s.reason}`));
      const mark = el("mark", { class: `note-mark ${kind}`, "data-facts": [...new Set(read.map((s) => s.fact))].join(" "), title: titles.join("; ") }, piece);
      if (read.length) mark.addEventListener("click", () => showInNote(read[0].fact));
      box.append(mark);
    }
  }

  function describeFact(fact) {
    const top = fact.path.replace(/\[\d+\]$/, "");
    const names = { findings: "present", absent: "absent", regions: "region", medications: "drug", labs: "result",
      history: "history", treatment_history: "treatment tried", onset_age: "onset age", family_history: "relatives affected" };
    const value = typeof fact.value === "object" && fact.value !== null ? fact.label : String(fact.label);
    return `${names[top] || top.replace(/_/g, " ")}: ${value}`;
  }

  function showNoteFacts(facts, unused) {
    $("#note-facts").replaceChildren(...facts.map((fact, i) => {
      const button = el("button", { type: "button", class: "fact-link", "data-fact": String(i) }, describeFact(fact));
      button.addEventListener("click", () => showInNote(i));
      return el("li", { "data-fact": String(i), "data-path": fact.path }, button, el("span", { class: "words", text: ` ${quote(fact)}` }));
    }));
    $("#note-count").textContent = `${facts.length} item${facts.length === 1 ? "" : "s"}`;
    $("#note-unused ul").replaceChildren(...unused.map((u) => el("li", {}, el("span", { class: "words", text: `“${u.text}” ` }), `${u.what}: ${u.reason}`)));
    $("#note-unused-count").textContent = `${unused.length}`;
    $("#note-unused").hidden = unused.length === 0;
  }

  async function readNote() {
    const text = $("#note-text").value;
    const status = $("#note-status");
    if (!text.trim()) {
      status.textContent = "Paste a note first.";
      $("#note-text").focus();
      return;
    }
    status.textContent = "Reading the note…";
    let response;
    try {
      response = await fetch("/note", { method: "POST", headers: { "content-type": "text/plain; charset=utf-8", accept: "application/json", ...credential() }, body: text });
    } catch (error) {
      status.textContent = "The note could not be sent to the server.";
      return;
    }
    const body = await response.json().catch(() => null);
    if (response.status === 401 || response.status === 403) askCredential();
    if (!response.ok || !body) {
      status.textContent = `Not read: ${((body && body.problems) || []).map((p) => p.message).join("; ") || "the server could not read it"}`;
      return;
    }
    noteFacts = body.facts;
    clearNoteMarks();
    fillForm(body.case);
    $("#note-text").value = text;  // the form's reset does not take the note away
    // findings the form's groups do not list get a row of their own, named as HPO names them
    for (const fact of body.facts) {
      const top = fact.path.replace(/\[\d+\]$/, "");
      if (top !== "findings" && top !== "absent") continue;
      const row = addFindingRow(fact.value, fact.label);
      const input = $(`input[value=${top === "findings" ? "present" : "absent"}]`, row);
      input.checked = true;
    }
    const extra = new Set(body.facts.filter((f) => f.path.startsWith("findings")).map((f) => f.value));
    $("#extra-findings").value = splitList($("#extra-findings").value).filter((code) => !extra.has(code)).join(", ");
    body.facts.forEach((fact, i) => {
      const field = noteFieldOf(fact);
      if (!field) return;
      field.setAttribute("data-from-note", "true");
      if (fact.path.startsWith("regions")) {
        const node = $(`.region[data-region="${CSS.escape(fact.value)}"]`);
        if (node) node.setAttribute("data-from-note", "true");
      }
      if (field.id === "selected-regions") field.after(fromNoteNote(i, fact));  // its text is rewritten on each click
      else field.append(fromNoteNote(i, fact));
      const group = field.closest("details.group");
      if (group) group.open = true;
    });
    renderNote(text, body.facts, body.unused);
    showNoteFacts(body.facts, body.unused);
    $("#note-view").hidden = false;
    status.textContent = body.message || `Read ${body.facts.length} item${body.facts.length === 1 ? "" : "s"} into the form. Check each one against its words, correct what is wrong, then choose Assess.`;
  }

  function clearNote() {
    $("#note-text").value = "";
    $("#note-status").textContent = "";
    $("#note-view").hidden = true;
    noteFacts = [];
    clearNoteMarks();
  }

  // -- finding search: every HPO term and synonym, the knowledge base's first --

  function findingSearch() {
    const input = $("#finding-filter");
    combobox(input, $("#finding-search"), {
      blurDelay: 150,
      fetchItems: async (query, signal) => {
        // an id is found by the filter of the form's rows; words are searched in all of HPO
        if (query.length < 3 || /^(HP:|CX:|\d)/i.test(query)) return null;
        const body = await getJson(`/terminology/findings?${new URLSearchParams({ q: query, limit: "12" })}`, signal);
        return body.findings;
      },
      render: (f, i) => el("li", { role: "option", id: `finding-search-${i}`, "aria-selected": "false", "data-code": f.code, "data-name": f.name },
        el("span", { class: "drug-name", text: f.name }), el("code", { text: ` ${f.code}` }),
        el("span", { class: "drug-ingredient", text: [f.matched.toLowerCase() !== f.name.toLowerCase() ? `“${f.matched}”` : "", f.knowledge_base ? "read by the knowledge base" : "HPO"].filter(Boolean).join(" · ") })),
      choose: (option) => {
        input.value = "";
        filterFindings("");
        const row = addFindingRow(option.dataset.code, option.dataset.name);
        row.scrollIntoView({ block: "nearest" });
        $("input[value=present]", row).focus();
      },
    });
  }

  // -- results --

  function showErrors(body) {
    const box = $("#errors");
    box.replaceChildren();
    const problems = (body && body.problems) || [{ field: "", message: "The server could not be reached." }];
    const list = el("ul");
    for (const p of problems) list.append(el("li", { text: p.field ? `${p.field}: ${p.message}` : p.message }));
    box.append(el("div", { class: "errors" }, el("strong", { text: "The case could not be assessed:" }), list));
  }

  function selectTab(which) {
    for (const name of ["report", "handout"]) {
      const on = name === which;
      const tab = $(`#tab-${name}`);
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $(`#panel-${name}`).hidden = !on;
    }
  }

  // A path such as case.medications[0].name, breakable after each dot.
  function pathCode(path) {
    const code = el("code");
    String(path).split(".").forEach((part, i) => {
      if (i) code.append(".", el("wbr"));
      code.append(part);
    });
    return code;
  }

  // What the server did not read as given (a brand name read as its ingredient, an unknown
  // drug, a replaced HPO id...), shown above the reports; nothing is left out silently.
  function showNotRead(items) {
    const panel = $("#not-read");
    const body = $("#not-read tbody");
    body.replaceChildren(...items.map((item) => el("tr", {},
      el("td", {}, pathCode(item.path)), el("td", { text: item.value }), el("td", { text: item.reason }))));
    $("#not-read-count").textContent = `${items.length} item${items.length === 1 ? "" : "s"}`;
    panel.hidden = items.length === 0;
  }

  // The laboratory results as the rules read them (in the knowledge base's units), with the series.
  function showLabs(labs) {
    const list = $("#labs-read ul");
    list.replaceChildren(...labs.map((lab) => el("li", { "data-test": lab.test },
      `${lab.test.replace(/-/g, " ")}: `, el("strong", { text: lab.latest }),
      ...(lab.series && lab.series.length > 1 ? [el("span", { class: "series", text: ` (latest first: ${lab.series.join("; ")})` })] : []))));
    $("#labs-read").hidden = labs.length === 0;
  }

  function clearResults() {
    showNotRead([]);
    showLabs([]);
  }

  async function assess(event) {
    if (event) event.preventDefault();
    const status = $("#status");
    $("#errors").replaceChildren();
    status.textContent = "Checking the laboratory values…";
    if (!(await labsReady())) {
      status.textContent = "Not assessed: correct the laboratory values marked in the form (value or unit).";
      $("#results").dataset.held = "true";
      return;
    }
    delete $("#results").dataset.held;
    status.textContent = "Assessing…";
    let response;
    try {
      response = await fetch("/report?differential=true", {
        method: "POST", headers: { "content-type": "application/json", accept: "application/json", ...credential() },
        body: JSON.stringify(buildCase()),
      });
    } catch (error) {
      status.textContent = "Not assessed.";
      showErrors(null);
      return;
    }
    const body = await response.json().catch(() => null);
    if (response.status === 401 || response.status === 403) askCredential();
    if (!response.ok || !body) {
      status.textContent = "Not assessed.";
      clearResults();
      showErrors(body);
      return;
    }
    const a = body.assessment;
    showNotRead(a.not_read || []);
    showLabs(a.labs || []);
    $("#panel-report").innerHTML = body.report_html;
    $("#panel-handout").innerHTML = body.handout_html;
    $("#result-tabs").hidden = false;
    selectTab("report");
    const alerts = a.alerts.length ? `${a.alerts.length} alert${a.alerts.length > 1 ? "s" : ""}` : "no alert";
    const unread = a.not_read && a.not_read.length ? `; ${a.not_read.length} item${a.not_read.length > 1 ? "s" : ""} not read as given` : "";
    status.textContent = `Assessed: ${a.diagnosis || a.summary.phenomenology || "see the report"}; ${alerts}${unread}.`;
    $("#results").dataset.assessed = "true";
  }

  // -- who is asking: where the service asks for it, an access token or API key, kept in this tab --

  const CREDENTIAL_KEY = "contraxis.credential";

  function credential() {
    const given = $("#credential-input").value.trim() || sessionStorage.getItem(CREDENTIAL_KEY) || "";
    if (given) sessionStorage.setItem(CREDENTIAL_KEY, given);
    return given ? { authorization: `Bearer ${given}` } : {};
  }

  function askCredential() {
    sessionStorage.removeItem(CREDENTIAL_KEY);
    $("#credential-input").value = "";
    $("#credential").hidden = false;
    $("#credential-input").focus();
  }

  function printOne(which) {
    selectTab(which);
    document.body.classList.add(`print-${which}`);
    window.print();
    document.body.classList.remove(`print-${which}`);
  }

  function initResults() {
    $("#tab-report").addEventListener("click", () => selectTab("report"));
    $("#tab-handout").addEventListener("click", () => selectTab("handout"));
    $("#result-tabs").addEventListener("keydown", (event) => {
      if (event.target.getAttribute("role") !== "tab") return;
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        const next = event.target.id === "tab-report" ? "handout" : "report";
        selectTab(next);
        $(`#tab-${next}`).focus();
        event.preventDefault();
      }
    });
    $("#print-report").addEventListener("click", () => printOne("report"));
    $("#print-handout").addEventListener("click", () => printOne("handout"));
  }

  function caseFromHash() {
    const match = /^#case=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
    if (!match) return null;
    try {
      const b64 = match[1].replace(/-/g, "+").replace(/_/g, "/");
      const text = new TextDecoder().decode(Uint8Array.from(atob(b64 + "===".slice((b64.length + 3) % 4)), (ch) => ch.charCodeAt(0)));
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  async function init() {
    try {
      const [formResponse, labsResponse] = await Promise.all([
        fetch("/intake/form", { headers: { accept: "application/json" } }),
        fetch("/terminology/labs", { headers: { accept: "application/json" } }),
      ]);
      form = await formResponse.json();
      analytes = (await labsResponse.json()).analytes.filter((a) => a.rules_read);
    } catch (error) {
      $("#status").textContent = "The form could not be loaded from the server.";
      return;
    }
    initChoices();
    initBodyMap();
    initFindings();
    initLabs();
    initResults();
    $("#add-medication").addEventListener("click", () => $(".med-name", addMedication()).focus());
    $("#add-treatment").addEventListener("click", () => $(".tx-name", addTreatment()).focus());
    $("#no-medication").addEventListener("change", updateNoMedication);
    $("#intake").addEventListener("submit", assess);
    $("#intake").addEventListener("reset", clearCustom);
    $("#read-note").addEventListener("click", readNote);
    $("#clear-note").addEventListener("click", clearNote);
    findingSearch();
    $("#load-json").addEventListener("click", () => {
      try {
        fillForm(JSON.parse($("#case-json").value));
        $("#errors").replaceChildren();
      } catch (error) {
        showErrors({ problems: [{ field: "case", message: `not valid JSON: ${error.message}` }] });
      }
    });
    document.body.dataset.ready = "true";
    openLinkedCase();
    window.addEventListener("hashchange", openLinkedCase);
  }

  // A link such as those of the CDS Hooks cards (/#case=<base64url JSON>) opens that case.
  function openLinkedCase() {
    const linked = caseFromHash();
    if (linked) {
      fillForm(linked);
      assess();
    }
  }

  document.addEventListener("DOMContentLoaded", init);
})();
